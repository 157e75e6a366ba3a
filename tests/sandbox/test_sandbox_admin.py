"""The admin endpoints: request log, messages, seeding, resources, config, reset."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from airflow_campaign_provider.models.common import encode_message
from airflow_campaign_provider.sandbox.admin import SandboxAdminError
from airflow_campaign_provider.sandbox.seed import SAMPLE_CONTACT_LIST, WELCOME_BODY

if TYPE_CHECKING:
    from airflow_campaign_provider.sandbox import SandboxServer
    from tests.sandbox.testkit import KoreClient


def test_request_log_records_what_was_sent(
    kore: KoreClient, kore_sandbox: SandboxServer, sample_body: dict[str, Any]
) -> None:
    campaign_id = kore.create_ok(sample_body)["_id"]
    kore.call("POST", "", params={"campaignType": "sms"}, content=b"{oops")
    kore.trigger(campaign_id, "stop")

    log = kore_sandbox.admin.requests()

    assert [(r["method"], r["status"]) for r in log] == [("POST", 200), ("POST", 400), ("POST", 412)]
    create, broken, stop = log
    assert create["path"] == kore.base
    assert create["query"] == f"accountId={kore_sandbox.account_id}&campaignType=sms"
    assert create["body"] == sample_body
    assert create["headers"]["iid"] == kore_sandbox.iid
    assert create["headers"]["accountid"] == kore_sandbox.account_id
    assert (broken["body"], broken["rawBody"]) == (None, "{oops")
    assert stop["path"] == f"{kore.base}//trigger/{campaign_id}"
    assert stop["query"].endswith("campaignType=sms&trigger=stop")
    assert stop["body"] == {}
    for record in log:
        assert "auth" not in record["headers"]
        assert kore.token()[:20] not in str(record)

    kore_sandbox.admin.clear_requests()
    assert kore_sandbox.admin.requests() == []


def test_admin_and_docs_requests_are_not_logged(kore_sandbox: SandboxServer) -> None:
    httpx.get(f"{kore_sandbox.url}/openapi.json")
    kore_sandbox.admin.campaigns()

    assert kore_sandbox.admin.requests() == []


def test_messages_per_campaign(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    first, second = kore_sandbox.admin.seed_campaigns([{}, {}])
    kore.trigger(first, "play")
    kore.trigger(second, "play")
    kore.wait_for(first, ["Completed"])
    kore.wait_for(second, ["Completed"])

    everything = kore_sandbox.admin.messages()
    mine = kore_sandbox.admin.messages(first)

    assert len(everything) == 2 * len(mine) == 8
    assert {m["campaignId"] for m in mine} == {first}
    assert set(mine[0]) == {"campaignId", "phone", "contactList", "channel", "sentAt", "text"}
    assert mine[0]["text"] == WELCOME_BODY  # what the phone got, as text


def test_seeding_sets_every_field_given(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    campaign_id = kore_sandbox.admin.seed_campaign(
        "Completed", fields={"_id": "cd-mine", "name": "Mine", "priority": "2", "experienceFlow": "cf-1"}
    )

    data = kore.get(campaign_id).json()["data"]

    assert campaign_id == "cd-mine"
    assert (data["status"], data["name"], data["lname"], data["priority"]) == (
        "Completed",
        "Mine",
        "mine",
        "2",
    )
    assert data["experienceFlow"] == "cf-1"


@pytest.mark.parametrize(
    ("specs", "problem"),
    [
        ([{"status": "Finished"}], "campaigns[0].status"),
        ([{"campaign_type": "fax"}], "campaigns[0].campaign_type"),
        ([{"colour": "red"}], "campaigns[0].colour: unknown key"),
        ([{"complete_in_seconds": 5}], "campaigns[0].complete_in_seconds"),
        ([{"status": "Active", "complete_in_seconds": -1}], "campaigns[0].complete_in_seconds"),
        ([{"fields": {"name": "Twin"}}, {"fields": {"name": "twin"}}], "campaigns[1].fields.name"),
        ([{"fields": {"contactLists": ["Nope"]}}], "campaigns[0].fields.contactLists"),
        ([{"fields": {"dncLists": {"name": "Nope"}}}], "campaigns[0].fields.dncLists"),
        ([{"fields": {"_id": ""}}], "campaigns[0].fields._id"),
        ([{"fields": []}], "campaigns[0].fields"),
        (["x"], "campaigns[0]: must be an object"),
    ],
)
def test_bad_seeds_are_refused_whole(kore_sandbox: SandboxServer, specs: list[Any], problem: str) -> None:
    with pytest.raises(SandboxAdminError, match="400") as info:
        kore_sandbox.admin.seed_campaigns([{}, *specs])

    shifted = re.sub(r"campaigns\[(\d+)\]", lambda m: f"campaigns[{int(m[1]) + 1}]", problem)  # after the {}
    assert shifted in str(info.value)
    assert kore_sandbox.admin.campaigns()["liveCount"] == 0


def test_seeding_costs_no_rate_budget(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    kore_sandbox.admin.update_config(rate_limit_per_window=1, rate_limit_window_seconds=60.0)

    kore_sandbox.admin.seed_campaigns([{} for _ in range(50)])

    assert kore.list().json()["data"]["totalResults"] == 50


def test_resources_can_be_replaced(
    kore: KoreClient, kore_sandbox: SandboxServer, sample_body: dict[str, Any]
) -> None:
    admin = kore_sandbox.admin
    admin.put_template("Welcome", "Hi <First Name>!", "cmt-new")
    admin.put_contact_list("VIP list", ["+441632960001"])
    admin.put_dnc_list("testdnc", [])

    assert kore.create(sample_body).status_code == 412  # the old body no longer matches the template
    sample_body["message"]["message"] = encode_message("Hi <First Name>!")
    sample_body["contactLists"] = [SAMPLE_CONTACT_LIST, "VIP list"]
    created = kore.create_ok(sample_body)
    assert created["message"]["templateId"] == "cmt-new"
    resources = admin.resources()
    assert resources["templates"]["Welcome"] == {"body": "Hi <First Name>!", "id": "cmt-new"}
    assert resources["contact_lists"]["VIP list"] == ["+441632960001"]

    admin.delete_resource("contact-lists", "VIP list")
    with pytest.raises(SandboxAdminError, match="404"):
        admin.delete_resource("contact-lists", "VIP list")
    with pytest.raises(SandboxAdminError, match=r"E\.164"):
        admin.put_contact_list("Bad", ["12345"])
    with pytest.raises(SandboxAdminError, match="400"):
        admin.delete_resource("phone-books", "x")


def test_config_changes_and_refusals(kore_sandbox: SandboxServer) -> None:
    admin = kore_sandbox.admin

    config = admin.update_config(preparing_seconds=0.5, rate_limit_per_window=None)

    assert config.preparing_seconds == 0.5
    assert admin.config().preparing_seconds == 0.5
    for bad in ({"port": 1}, {"preparing_seconds": -1}, {"rate_limit_per_window": "many"}, {"nope": True}):
        with pytest.raises(SandboxAdminError, match="400"):
            admin.update_config(**bad)


def test_reset_restores_the_start(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    admin = kore_sandbox.admin
    admin.seed_campaigns([{}, {}])
    admin.put_template("Welcome", "changed")
    admin.update_config(client_secret="x" * 40)
    admin.set_faults(latency_seconds=0.01)
    kore.list()

    admin.reset()

    assert admin.campaigns()["liveCount"] == 0
    assert admin.campaigns()["deletedCount"] == 0
    assert admin.resources()["templates"]["Welcome"]["body"] == WELCOME_BODY
    assert kore_sandbox.client_secret != "x" * 40
    assert admin.faults().latency_seconds == 0
    assert admin.requests() == []
    assert kore.list().status_code == 200


def test_admin_errors_use_the_kore_error_shape(kore_sandbox: SandboxServer) -> None:
    answer = httpx.put(f"{kore_sandbox.url}/_sandbox/campaigns/cd-nope/forced-status", json={"status": "X"})

    assert answer.status_code == 404
    assert answer.json() == {"errors": [{"msg": "Campaign not found", "code": 404}]}
    unknown = httpx.get(f"{kore_sandbox.url}/_sandbox/nothing-here")
    assert unknown.status_code == 404
    assert unknown.json()["errors"][0]["code"] == 404
