"""The sandbox's contact-list endpoints against Kore's pages: shapes, the asynchronous import,
the duplicates rule, the batch cap, and campaigns texting exactly what their lists hold."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from airflow_campaign_provider.sandbox import SandboxServer, sample_create_body
from tests.sandbox.testkit import KoreClient, error_messages

CAP = 5


@pytest.fixture
def lists(kore_sandbox: SandboxServer) -> SandboxServer:
    kore_sandbox.admin.update_config(contact_import_seconds=0.2, max_contacts_per_add=CAP)
    return kore_sandbox


def create_list(kore: KoreClient, name: str = "Renewal Due - July 2025", **extra: Any) -> dict[str, Any]:
    body = {"name": name, "description": "Customers renewing in July", "source": "passiveApi", **extra}
    response = kore.call("POST", "/contactList/createContactList", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


def add(kore: KoreClient, name: str, phones: list[str], iid: str | None = None) -> httpx.Response:
    return kore.http.post(
        f"/api/1.1/public/{iid or kore.sandbox.iid}/campaign/contactList/addContacts",
        json={"contact_list_name": name, "data": [{"phoneNumber": p} for p in phones]},
        headers=kore.headers(),
    )


def get_list(kore: KoreClient, list_id: str) -> dict[str, Any]:
    response = kore.call("GET", f"/contactList/{list_id}")
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


def wait_for_count(kore: KoreClient, list_id: str, count: int) -> None:
    deadline = time.monotonic() + 10
    while get_list(kore, list_id)["totalRecordCount"] != count:
        assert time.monotonic() < deadline, f"list {list_id} never held {count} contacts"
        time.sleep(0.02)


def test_create_answers_the_documented_shape_and_refuses_a_second_list_of_that_name(
    lists: SandboxServer, kore: KoreClient
) -> None:
    created = create_list(kore)

    assert created["_id"].startswith("cl-")
    assert created["totalRecordCount"] == 0
    assert created["status"] == "Ready"
    assert created["allowDuplicates"] is False
    assert created["source"] == "passiveApi"
    again = kore.call(
        "POST",
        "/contactList/createContactList",
        json={"name": "renewal due - july 2025", "description": "Again", "source": "passiveApi"},
    )
    assert again.status_code == 412
    assert error_messages(again) == ["name: a contact list named 'renewal due - july 2025' already exists"]


def test_create_names_every_broken_rule(lists: SandboxServer, kore: KoreClient) -> None:
    body = {"name": "x" * 49, "description": "d" * 257, "source": "csv", "allowDuplicates": "yes"}

    response = kore.call("POST", "/contactList/createContactList", json=body)

    assert response.status_code == 412
    fields = [message.partition(":")[0] for message in error_messages(response)]
    assert fields == ["name", "description", "source", "allowDuplicates"]


def test_added_contacts_join_the_list_later_and_duplicates_are_skipped(
    lists: SandboxServer, kore: KoreClient
) -> None:
    created = create_list(kore)

    answer = add(kore, created["name"], ["+14155550301", "+14155550302", "+14155550301"])

    assert answer.status_code == 200
    assert answer.json() == {"message": "Adding contacts to public list is in progress"}
    assert get_list(kore, created["_id"])["totalRecordCount"] == 0  # asynchronous: not there yet
    wait_for_count(kore, created["_id"], 2)
    assert add(kore, created["name"], ["+14155550302", "+14155550303"]).status_code == 200
    wait_for_count(kore, created["_id"], 3)
    page = kore.call("GET", f"/contactList/{created['_id']}/getAllContacts").json()["data"]
    # Kore's sample writes a list's numbers as digits without "+"
    assert [c["phoneNumber"] for c in page["results"]] == ["14155550301", "14155550302", "14155550303"]
    assert all(c["_id"].startswith("cc-") for c in page["results"])
    assert (page["hasMore"], page["totalResults"], page["limit"]) == (False, 3, 50)


def test_a_list_that_allows_duplicates_keeps_them(lists: SandboxServer, kore: KoreClient) -> None:
    created = create_list(kore, allowDuplicates=True)

    add(kore, created["name"], ["+14155550301", "+14155550301"])

    wait_for_count(kore, created["_id"], 2)


def test_a_batch_over_the_cap_is_refused_whole_as_too_large(lists: SandboxServer, kore: KoreClient) -> None:
    created = create_list(kore)
    phones = [f"+1415555040{i}" for i in range(CAP + 1)]

    response = add(kore, created["name"], phones)

    assert response.status_code == 413
    assert error_messages(response) == [f"data: at most {CAP} contacts per request (got {CAP + 1})"]
    time.sleep(0.3)
    assert get_list(kore, created["_id"])["totalRecordCount"] == 0


def test_add_names_each_bad_number_and_the_unknown_list(lists: SandboxServer, kore: KoreClient) -> None:
    created = create_list(kore)

    bad = add(kore, created["name"], ["+14155550301", "415-555-0302"])
    unknown = add(kore, "No such list", ["+14155550301"])
    other_app = add(kore, created["name"], ["+14155550301"], iid="st-someone-else")

    assert bad.status_code == 412
    assert [m.partition(":")[0] for m in error_messages(bad)] == ["data[1].phoneNumber"]
    assert unknown.status_code == 404
    assert other_app.status_code == 401


def test_contacts_page_by_skip_and_limit(lists: SandboxServer, kore: KoreClient) -> None:
    created = create_list(kore)
    phones = [f"+1415555050{i}" for i in range(CAP)]
    add(kore, created["name"], phones)
    wait_for_count(kore, created["_id"], CAP)

    pages = [
        kore.call(
            "GET", f"/contactList/{created['_id']}/getAllContacts", params={"skip": str(s), "limit": "2"}
        ).json()["data"]
        for s in (0, 2, 4)
    ]

    shown = [p.lstrip("+") for p in phones]
    assert [[c["phoneNumber"] for c in p["results"]] for p in pages] == [shown[0:2], shown[2:4], shown[4:]]
    assert [p["hasMore"] for p in pages] == [True, True, False]


def test_a_campaign_texts_exactly_its_list_minus_the_dnc_list(lists: SandboxServer, kore: KoreClient) -> None:
    created = create_list(kore, name="API list")
    dnc = "+14155550103"  # the default seed's "testdnc" list
    add(kore, "API list", ["+14155550601", dnc, "+14155550602"])
    wait_for_count(kore, created["_id"], 3)
    body = {**sample_create_body("From an API list"), "contactLists": ["API list"]}
    campaign = kore.create_ok(body)
    kore.wait_for(campaign["_id"], ["Ready"])

    assert kore.trigger(campaign["_id"], "play").status_code == 200
    kore.wait_for(campaign["_id"], ["Completed"])

    sent = [m["phone"] for m in lists.admin.messages(campaign["_id"])]
    assert sorted(sent) == ["+14155550601", "+14155550602"]
    in_use = get_list(kore, created["_id"])
    assert in_use["campaignInUse"] == [{"name": campaign["name"], "id": campaign["_id"]}]  # Kore's sample
    assert in_use["isListInUse"] is True


def test_a_list_a_running_campaign_uses_cannot_be_deleted(lists: SandboxServer, kore: KoreClient) -> None:
    lists.admin.update_config(send_interval_seconds=5)
    created = create_list(kore, name="API list")
    add(kore, "API list", ["+14155550601"])
    wait_for_count(kore, created["_id"], 1)
    campaign = kore.create_ok({**sample_create_body("Uses the list"), "contactLists": ["API list"]})
    kore.wait_for(campaign["_id"], ["Ready"])
    kore.trigger(campaign["_id"], "play")

    refused = kore.call("DELETE", f"/contactList/{created['_id']}")
    kore.trigger(campaign["_id"], "stop")
    deleted = kore.call("DELETE", f"/contactList/{created['_id']}")

    assert refused.status_code == 412
    assert campaign["_id"] in error_messages(refused)[0]
    assert deleted.status_code == 200
    assert deleted.json()["data"]["_id"] == created["_id"]
    assert kore.call("GET", f"/contactList/{created['_id']}").status_code == 404


def test_list_update_and_all_lists(lists: SandboxServer, kore: KoreClient) -> None:
    created = create_list(kore)

    updated = kore.call("PUT", f"/contactList/{created['_id']}", json={"description": "Now for August"})
    every = kore.call("GET", "/contactList/getAllListDetails", params={"type": "call"}).json()["data"]
    posted = kore.call("POST", "/contactList/getAllListDetails", params={"type": "call"}).json()["data"]
    empty = kore.call("PUT", f"/contactList/{created['_id']}", json={})

    assert updated.status_code == 200
    assert updated.json()["data"]["contactListId"] == created["_id"]
    mine = next(item for item in every if item["_id"] == created["_id"])
    assert mine["description"] == "Now for August"
    assert "CL Only 2020 Dec 4" in {item["name"] for item in every}  # seeded lists are lists too
    assert every == posted
    assert empty.status_code == 412


def test_api_lists_survive_a_restart_with_their_pending_imports(tmp_path: Any) -> None:
    from airflow_campaign_provider.sandbox import SandboxConfig

    config = SandboxConfig(rate_limit_per_window=None, contact_import_seconds=0.5)
    server = SandboxServer(config, db_path=str(tmp_path / "sandbox.db"))
    with server:
        kore = KoreClient(server)
        created = create_list(kore)
        add(kore, created["name"], ["+14155550301", "+14155550302"])
        kore.close()
    server.start()
    try:
        kore = KoreClient(server)
        wait_for_count(kore, created["_id"], 2)
        assert get_list(kore, created["_id"])["name"] == created["name"]
        kore.close()
    finally:
        server.stop()
