"""Voice campaigns, per-contact results, start/stop path shapes, updates and schedules."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

from airflow_campaign_provider.sandbox import SandboxConfig, sample_create_body, sample_voice_body
from airflow_campaign_provider.sandbox.dialer import call_plan
from airflow_campaign_provider.sandbox.seed import SAMPLE_CONTACTS, default_seed
from airflow_campaign_provider.sandbox.store import Store
from tests.sandbox.testkit import error_messages

if TYPE_CHECKING:
    from tests.sandbox.testkit import KoreClient

VOICE_DNC = default_seed().dnc_lists["DNC CL Dec 4"]
DIALED = [p for p in SAMPLE_CONTACTS if p not in VOICE_DNC]
TRIGGER_PATHS = {
    "sms_start": "/{id}",
    "double_slash": "//trigger/{id}",
}


def voice_trigger(kore: KoreClient, campaign_id: str, action: str, campaign_type: str = "voice") -> Any:
    """The voice pages' path: no /campaign root, a single slash."""
    return kore.http.post(
        f"/api/v2/public/{kore.sandbox.stream_id}/campaign/trigger/{campaign_id}",
        params={"accountId": kore.sandbox.account_id, "campaignType": campaign_type, "trigger": action},
        json={},
        headers=kore.headers(),
    )


def contacts(kore: KoreClient, campaign_id: str, **page: Any) -> Any:
    return kore.call("POST", f"/{campaign_id}/status", params={"view": "contacts"}, json=page)


@pytest.mark.parametrize("mode", ["Agentless", "Progressive", "Preview"])
def test_a_voice_campaign_answers_id_and_starts_preparing(kore: KoreClient, mode: str) -> None:
    answer = kore.create(sample_voice_body(f"Voice {mode}", mode), "voice")

    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert "_id" not in data
    assert data["id"].startswith("cd-")
    assert data["status"] == "Preparing"
    assert data["dncLists"]["name"] == "DNC CL Dec 4"
    assert data["dncLists"]["id"].startswith("cl-")
    assert kore.get(data["id"]).json()["data"]["_id"] == data["id"]  # the get answer says _id


def test_voice_rules_are_named_in_one_answer(kore: KoreClient) -> None:
    body = sample_voice_body(dialing_mode="Preview")
    del body["dncLists"], body["queue_name"]
    body["dialingStrategy"] |= {"maxAttemptsPerRecord": 101, "defaultRetryPeriod": 0, "maxRingTime": 121}

    answer = kore.create(body, "voice")

    assert answer.status_code == 412
    fields = [m.split(":")[0] for m in error_messages(answer)]
    assert fields == [
        "dncLists",
        "dialingStrategy.maxAttemptsPerRecord",
        "dialingStrategy.defaultRetryPeriod",
        "dialingStrategy.maxRingTime",
    ]
    body = sample_voice_body(dialing_mode="Preview")
    del body["queue_name"]
    assert error_messages(kore.create(body, "voice")) == [
        "queue_name: is required when dialingMode is Preview"
    ]


def test_a_voice_run_reports_each_contact_with_its_attempts(kore: KoreClient) -> None:
    campaign_id = kore.create(sample_voice_body(), "voice").json()["data"]["id"]
    kore.wait_for(campaign_id, ["Ready"], timeout=5)

    started = voice_trigger(kore, campaign_id, "play")
    assert started.json()["status"] == "Active"
    assert started.json()["campaignInstanceId"].startswith("ci-")
    kore.wait_for(campaign_id, ["Completed"], timeout=10)

    page = contacts(kore, campaign_id, page=1, limit=100).json()["data"]
    rows = {"+" + row["phoneNumber"]: row for row in page["results"]}  # Kore's sample: no "+"
    assert sorted(rows) == sorted(DIALED)
    assert page["totalResults"] == len(DIALED)
    assert page["totalPages"] == 1
    for phone, row in rows.items():
        plan = call_plan(phone, 3)
        assert (row["dialerOutcome"], row["numberOfAttemptsSoFar"]) == (plan.outcome, plan.attempts)
    assert sorted(m["phone"] for m in kore.sandbox.admin.messages(campaign_id)) == sorted(DIALED)


def test_the_contacts_view_pages_and_refuses_what_kore_refuses(kore: KoreClient) -> None:
    voice_id = kore.create(sample_voice_body(), "voice").json()["data"]["id"]
    sms_id = kore.create_ok(sample_create_body())["_id"]
    assert contacts(kore, voice_id).json()["data"]["totalResults"] == 0  # nobody dialed before a start
    kore.wait_for(voice_id, ["Ready"], timeout=5)
    voice_trigger(kore, voice_id, "play")

    second = contacts(kore, voice_id, page=2, limit=1).json()["data"]
    assert second["page"] == 2
    assert second["limit"] == 1
    assert second["totalPages"] == len(DIALED)
    assert [m.split(":")[0] for m in error_messages(contacts(kore, voice_id, page=0, limit=101))] == [
        "page",
        "limit",
    ]
    assert contacts(kore, sms_id).status_code == 412


def test_each_documented_path_shape_plays_and_stops(kore: KoreClient) -> None:
    kore.sandbox.admin.update_config(send_interval_seconds=5)  # still Active when it is stopped
    sms_id = kore.create_ok(sample_create_body())["_id"]
    kore.wait_for(sms_id, ["Ready"], timeout=5)
    start = kore.call("POST", f"/{sms_id}", params={"campaignType": "sms", "trigger": "play"}, json={})
    assert start.json()["status"] == "Active"
    assert kore.trigger(sms_id, "stop").json()["campaignExecutionType"] == "NORMAL"


def test_a_strict_sandbox_routes_only_the_documented_shapes(kore: KoreClient) -> None:
    kore.sandbox.admin.update_config(strict_trigger_paths=True)
    sms_id = kore.create_ok(sample_create_body())["_id"]
    kore.wait_for(sms_id, ["Ready"], timeout=5)

    assert kore.trigger(sms_id, "play").status_code == 404  # the stop page's shape
    assert voice_trigger(kore, sms_id, "play", "sms").status_code == 404
    assert kore.status_of(sms_id) == "Ready"  # a 404 played nothing
    assert (
        kore.call(
            "POST", f"/{sms_id}", params={"campaignType": "sms", "trigger": "play"}, json={}
        ).status_code
        == 200
    )


def test_an_update_replaces_the_object_but_not_while_active(kore: KoreClient) -> None:
    campaign_id = kore.create(sample_voice_body(), "voice").json()["data"]["id"]
    kore.wait_for(campaign_id, ["Ready"], timeout=5)
    body = sample_voice_body() | {"description": "Updated"}

    answer = kore.call("PUT", f"/{campaign_id}", params={"campaignType": "voice"}, json=body)

    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == campaign_id
    assert answer.json()["data"]["description"] == "Updated"
    voice_trigger(kore, campaign_id, "play")
    refused = kore.call("PUT", f"/{campaign_id}", params={"campaignType": "voice"}, json=body)
    assert refused.status_code == 412
    assert "Active" in error_messages(refused)[0]


def _scheduled_store() -> tuple[Store, Any, float]:
    store = Store(SandboxConfig(preparing_seconds=0, send_interval_seconds=1, retry_minute_seconds=0))
    now = datetime(2026, 1, 5, 8, 0, tzinfo=ZoneInfo("Asia/Kolkata")).timestamp()
    store.reset(default_seed(), now)
    from airflow_campaign_provider.models.voice import VoiceCampaignBody
    from airflow_campaign_provider.sandbox.campaign_routes import voice_fields

    campaign = store.create_voice(voice_fields(VoiceCampaignBody.model_validate(sample_voice_body())), now)
    store.advance(now)
    return store, campaign, now


def test_a_schedule_makes_a_campaign_scheduled_and_plays_it_at_its_time() -> None:
    store, campaign, now = _scheduled_store()
    schedule = {
        "startDateTime": "2026-01-05 09:00:00",  # one hour after now, in the campaign's Asia/Kolkata
        "endDateTime": "2026-01-20 18:00:00",
        "recurrenceObject": {
            "recurType": "Weekly",
            "weeklyDetails": {"onceEveryNweeks": 1, "whichDays": ["Mon"]},
        },
    }

    store.enable_schedule(campaign, schedule, now)

    assert campaign.status == "Scheduled"
    store.advance(now + 3599)
    assert campaign.status == "Scheduled"
    store.advance(now + 3600)
    assert campaign.status == "Active"
    store.advance(now + 3600 + len(DIALED))
    assert campaign.status == "Scheduled"  # next Monday's run awaits
    assert campaign.starts_at == now + 3600 + timedelta(days=7).total_seconds()
    store.disable_schedule(campaign, now + 4000)
    assert campaign.status == "Ready"
    assert campaign.starts_at is None
    assert Counter(m.phone for m in store.messages) == Counter(DIALED)  # nobody called twice


def test_schedule_bodies_are_checked(kore: KoreClient) -> None:
    campaign_id = kore.create(sample_voice_body(), "voice").json()["data"]["id"]
    kore.wait_for(campaign_id, ["Ready"], timeout=5)
    params = {"enableSchedule": "true", "campaignName": sample_voice_body()["name"]}
    past = {
        "startDateTime": "2020-01-01 09:00:00",
        "endDateTime": "2020-02-01 09:00:00",
        "recurrenceObject": {
            "recurType": "Weekly",
            "weeklyDetails": {"onceEveryNweeks": 1, "whichDays": ["Funday"]},
        },
    }

    refused = kore.call("POST", "/schedule", params=params, json=past)

    assert [m.split(":")[0] for m in error_messages(refused)] == [
        "recurrenceObject.weeklyDetails.whichDays[0]"
    ]
    past["recurrenceObject"]["weeklyDetails"]["whichDays"] = ["Mon"]
    assert [
        m.split(":")[0] for m in error_messages(kore.call("POST", "/schedule", params=params, json=past))
    ] == ["endDateTime"]
    unknown = kore.call("POST", "/schedule", params={**params, "campaignName": "nope"}, json=past)
    assert unknown.status_code == 404
    assert kore.status_of(campaign_id) == "Ready"
