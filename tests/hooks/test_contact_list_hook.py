"""CampaignHook's contact-list methods against the sandbox: every call a real HTTP round trip.

The sandbox's own record (its request log and its lists) proves the exactly-once claims: one
list per name, each number once in a list, a batch resent only where that is harmless.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from airflow_campaign_provider.api import ApiRequest, transport_error
from airflow_campaign_provider.exceptions import (
    CampaignNotFoundError,
    CampaignServerError,
    ContactImportTimeoutError,
    ContactListConflictError,
    ContactListInUseError,
    ContactUploadError,
    InvalidCampaignArgumentError,
)
from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.lifecycle.contacts import BatchSizer, Waits, wait_for_contact_count
from airflow_campaign_provider.phones import phone_key
from airflow_campaign_provider.sandbox import SandboxServer, sample_create_body

PHONES = [f"+1415555{n:04d}" for n in range(1000, 1025)]
FAST = {"poll_interval": 0.02, "count_timeout": 10.0, "settle_seconds": 0.1}


@pytest.fixture
def hook(kore_sandbox: SandboxServer) -> Iterator[CampaignHook]:
    campaign_hook = CampaignHook()
    yield campaign_hook
    campaign_hook.close()


def add_calls(sandbox: SandboxServer) -> list[dict[str, Any]]:
    return [r for r in sandbox.admin.requests() if r["path"].endswith("/addContacts")]


def held(hook: CampaignHook, list_id: str) -> list[str]:
    """The list's numbers as E.164 (Kore writes them without ``+``)."""
    return [phone_key(c["phoneNumber"]) for c in hook.iter_contacts(list_id)]


def lose_answers(
    hook: CampaignHook, monkeypatch: pytest.MonkeyPatch, lost: set[int], *, act: bool = True
) -> list[int]:
    """Make the listed addContacts calls (counting from 1) lose their answer: Kore acts on them
    (unless ``act`` is False, then they fail with a 503 unsent), the hook hears nothing."""
    real_send = hook._send
    seen: list[int] = []

    def send(request: ApiRequest) -> requests.Response:
        if not request.path.endswith("/addContacts"):
            return real_send(request)
        seen.append(len(seen) + 1)
        if seen[-1] not in lost:
            return real_send(request)
        if not act:
            raise CampaignServerError(
                "Service unavailable", status_code=503, method="POST", path=request.path
            )
        real_send(request)
        raise transport_error(request, requests.ReadTimeout("read timed out"), sent=True)

    monkeypatch.setattr(hook, "_send", send)
    return seen


def test_create_once_reuses_a_matching_list_and_refuses_a_differing_one(
    hook: CampaignHook, kore_sandbox: SandboxServer
) -> None:
    first, created = hook.create_contact_list_once("Gold 2025-01", "Gold customers")
    again, created_again = hook.create_contact_list_once("gold 2025-01", "Gold customers")

    assert (created, created_again) == (True, False)
    assert again["_id"] == first["_id"]
    with pytest.raises(ContactListConflictError, match=r"description is 'Gold customers', wanted 'Other'"):
        hook.create_contact_list_once("Gold 2025-01", "Other")
    with pytest.raises(ContactListConflictError, match=r"allowDuplicates is False, wanted True"):
        hook.create_contact_list_once("Gold 2025-01", "Gold customers", allow_duplicates=True)
    creates = [r for r in kore_sandbox.admin.requests() if r["path"].endswith("/createContactList")]
    assert len(creates) == 1


def test_a_create_whose_answer_was_lost_is_settled_by_name(
    hook: CampaignHook, kore_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_send = hook._send

    def send(request: ApiRequest) -> requests.Response:
        response = real_send(request)
        if request.path.endswith("/createContactList"):
            raise transport_error(request, requests.ReadTimeout("lost"), sent=True)
        return response

    monkeypatch.setattr(hook, "_send", send)

    contact_list, created = hook.create_contact_list_once("Lost answer", "A list")

    assert created is True
    assert [cl["_id"] for cl in hook.iter_contact_lists() if cl["name"] == "Lost answer"] == [
        contact_list["_id"]
    ]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"name": "x" * 49, "description": "A list"}, "name"),
        ({"name": "  ", "description": "A list"}, "name"),
        ({"name": "ok", "description": "d" * 257}, "description"),
        ({"name": "ok", "description": ""}, "description"),
    ],
)
def test_bad_list_settings_are_refused_before_any_call(
    hook: CampaignHook, kore_sandbox: SandboxServer, arguments: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidCampaignArgumentError) as raised:
        hook.create_contact_list_once(**arguments)

    assert raised.value.field == field
    assert kore_sandbox.admin.requests() == []


def test_upload_sends_each_number_once_in_batches_and_waits_for_the_count(
    hook: CampaignHook, kore_sandbox: SandboxServer
) -> None:
    contact_list, _ = hook.create_contact_list_once("Upload", "A list")

    report = hook.upload_contacts_once(contact_list["_id"], [*PHONES, PHONES[0]], batch_size=10, **FAST)

    assert (report.sent, report.already_present, report.repeated_in_input) == (25, 0, 1)
    assert (report.add_calls, report.total_in_list) == (3, 25)
    assert held(hook, contact_list["_id"]) == PHONES
    assert [len(r["body"]["data"]) for r in add_calls(kore_sandbox)] == [10, 10, 5]


def test_a_batch_refused_as_too_large_is_split_and_the_size_settles_at_the_cap(
    hook: CampaignHook, kore_sandbox: SandboxServer
) -> None:
    kore_sandbox.admin.update_config(max_contacts_per_add=4)
    contact_list, _ = hook.create_contact_list_once("Capped", "A list")

    report = hook.upload_contacts_once(contact_list["_id"], PHONES, batch_size=10, **FAST)

    sizes = [(len(r["body"]["data"]), r["status"]) for r in add_calls(kore_sandbox)]
    assert sizes[:5] == [(10, 413), (5, 413), (2, 200), (3, 200), (4, 200)]  # halved, then back up
    assert all(status == 200 and size <= 4 for size, status in sizes[5:])
    assert report.batch_size == 4
    assert sorted(held(hook, contact_list["_id"])) == PHONES


def test_a_lost_answer_is_settled_from_the_list_not_resent(
    hook: CampaignHook, kore_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    contact_list, _ = hook.create_contact_list_once("Lost batch", "A list")
    lose_answers(hook, monkeypatch, {2})

    report = hook.upload_contacts_once(contact_list["_id"], PHONES, batch_size=10, **FAST)

    assert [len(r["body"]["data"]) for r in add_calls(kore_sandbox)] == [10, 10, 5]
    assert (report.settled, report.sent, report.total_in_list) == (1, 25, 25)
    assert held(hook, contact_list["_id"]) == PHONES


def test_a_5xx_batch_that_never_lands_is_resent_to_a_list_refusing_duplicates_once_settled(
    hook: CampaignHook, kore_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    contact_list, _ = hook.create_contact_list_once("Refused batch", "A list")
    lose_answers(hook, monkeypatch, {2}, act=False)

    report = hook.upload_contacts_once(
        contact_list["_id"], PHONES, batch_size=10, poll_interval=0.02, count_timeout=0.3, settle_seconds=0.1
    )

    assert [len(r["body"]["data"]) for r in add_calls(kore_sandbox)] == [10, 10, 5]  # 2nd never left
    assert (report.settled, report.add_calls, report.total_in_list) == (1, 4, 25)
    assert held(hook, contact_list["_id"]) == PHONES


def test_a_lost_answer_on_a_list_keeping_duplicates_waits_for_the_batch_instead(
    hook: CampaignHook, kore_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    contact_list, _ = hook.create_contact_list_once("Keeps duplicates", "A list", allow_duplicates=True)
    lose_answers(hook, monkeypatch, {2})

    report = hook.upload_contacts_once(contact_list["_id"], PHONES, batch_size=10, **FAST)

    assert [len(r["body"]["data"]) for r in add_calls(kore_sandbox)] == [10, 10, 5]
    assert report.sent == 25
    assert held(hook, contact_list["_id"]) == PHONES


def test_a_lost_batch_that_never_lands_on_a_list_keeping_duplicates_stops_saying_how_far(
    hook: CampaignHook, kore_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    contact_list, _ = hook.create_contact_list_once("Keeps duplicates", "A list", allow_duplicates=True)
    lose_answers(hook, monkeypatch, {2}, act=False)

    with pytest.raises(ContactUploadError, match=r"stopped after sending 10 contacts") as raised:
        hook.upload_contacts_once(
            contact_list["_id"],
            PHONES,
            batch_size=10,
            poll_interval=0.02,
            count_timeout=0.3,
            settle_seconds=0.1,
        )

    assert raised.value.sent == 10


def test_a_retry_after_a_failed_upload_sends_only_the_rest(
    hook: CampaignHook, kore_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    contact_list, _ = hook.create_contact_list_once("Retried", "A list", allow_duplicates=True)
    lose_answers(hook, monkeypatch, {2}, act=False)
    with pytest.raises(ContactUploadError, match=r"stopped after sending 10 contacts"):
        hook.upload_contacts_once(
            contact_list["_id"],
            PHONES,
            batch_size=10,
            poll_interval=0.02,
            count_timeout=0.3,
            settle_seconds=0.1,
        )
    monkeypatch.undo()
    wait_for_contact_count(hook, contact_list["_id"], 10, Waits(10.0, 0.02))
    kore_sandbox.admin.clear_requests()

    report = hook.upload_contacts_once(contact_list["_id"], PHONES, batch_size=10, **FAST)

    assert (report.sent, report.already_present) == (15, 10)
    sent_again = [r["body"]["data"] for r in add_calls(kore_sandbox)]
    assert [c["phoneNumber"] for batch in sent_again for c in batch] == PHONES[10:]
    assert held(hook, contact_list["_id"]) == PHONES


def test_an_import_slower_than_the_timeout_is_reported_with_the_counts(
    hook: CampaignHook, kore_sandbox: SandboxServer
) -> None:
    kore_sandbox.admin.update_config(contact_import_seconds=30)
    contact_list, _ = hook.create_contact_list_once("Slow import", "A list")

    with pytest.raises(ContactImportTimeoutError, match=r"holds 0 of the 25 contacts expected") as raised:
        hook.upload_contacts_once(
            contact_list["_id"], PHONES, batch_size=25, poll_interval=0.02, count_timeout=0.2
        )

    assert raised.value.sent == 25


def running_campaign_on(sandbox: SandboxServer, list_name: str) -> str:
    return sandbox.admin.seed_campaign(
        "Active", complete_in_seconds=600, fields={"name": "Uses it", "contactLists": [list_name]}
    )


def test_delete_refuses_a_list_a_running_campaign_uses_unless_told_to_stop_it(
    hook: CampaignHook, kore_sandbox: SandboxServer
) -> None:
    contact_list, _ = hook.create_contact_list_once("In use", "A list")
    campaign_id = running_campaign_on(kore_sandbox, "In use")

    with pytest.raises(ContactListInUseError, match=campaign_id):
        hook.delete_contact_list_once(contact_list["_id"])
    deleted = hook.delete_contact_list_once(contact_list["_id"], stop_running_campaigns=True)

    assert deleted is not None
    assert deleted["_id"] == contact_list["_id"]
    assert hook.get_campaign_status(campaign_id) == "Stopped"
    assert hook.delete_contact_list_once(contact_list["_id"], missing_ok=True) is None
    with pytest.raises(CampaignNotFoundError):
        hook.delete_contact_list_once(contact_list["_id"])


def test_list_update_get_and_iteration(hook: CampaignHook, kore_sandbox: SandboxServer) -> None:
    contact_list, _ = hook.create_contact_list_once("Renamed", "before")

    hook.update_contact_list(contact_list["_id"], description="after")

    assert hook.get_contact_list(contact_list["_id"])["description"] == "after"
    assert hook.find_contact_list_by_name("RENAMED") is not None
    with pytest.raises(InvalidCampaignArgumentError, match="give a name, a description or both"):
        hook.update_contact_list(contact_list["_id"])


def test_a_campaign_from_an_uploaded_list_texts_each_number_once_minus_the_dnc_list(
    hook: CampaignHook, kore_sandbox: SandboxServer
) -> None:
    contact_list, _ = hook.create_contact_list_once("Campaign audience", "A list")
    dnc = "+14155550103"  # the default seed's "testdnc" list
    hook.upload_contacts_once(contact_list["_id"], [*PHONES[:3], dnc], **FAST)
    campaign = hook.create_sms_campaign(
        {**sample_create_body("Audience"), "contactLists": ["Campaign audience"]}
    )
    campaign_id = campaign["_id"]
    wait_for_status(hook, campaign_id, "Ready")
    hook.start_campaign(campaign_id)
    wait_for_status(hook, campaign_id, "Completed")

    assert sorted(m["phone"] for m in kore_sandbox.admin.messages(campaign_id)) == PHONES[:3]


def wait_for_status(hook: CampaignHook, campaign_id: str, status: str) -> None:
    for _ in range(500):
        if hook.get_campaign_status(campaign_id) == status:
            return
        time.sleep(0.02)
    raise AssertionError(f"campaign {campaign_id} never became {status}")


def test_the_batch_size_settles_within_a_tenth_of_an_undocumented_cap() -> None:
    for cap in (1, 7, 400, 999):
        sizer = BatchSizer(1000)
        for _ in range(40):
            size = sizer.size
            (sizer.accepted_at if size <= cap else sizer.refused_at)(size)
        assert cap * 0.9 <= sizer.size <= cap, cap
