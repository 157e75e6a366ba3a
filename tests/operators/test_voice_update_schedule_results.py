"""Updates, schedules and result exports against the sandbox: a real HTTP round trip each.

The sandbox's request log proves what was (and was not) sent: no PUT to an Active campaign,
no schedule call for a bad or repeated schedule, one ``view=contacts`` call per page.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest

from airflow_campaign_provider.exceptions import CampaignStateError, InvalidCampaignArgumentError
from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.operators.campaign import StartCampaignOperator
from airflow_campaign_provider.operators.results import ExportCampaignResultsOperator
from airflow_campaign_provider.operators.schedule import (
    DisableCampaignScheduleOperator,
    EnableCampaignScheduleOperator,
)
from airflow_campaign_provider.operators.update import UpdateCampaignOperator
from airflow_campaign_provider.phones import phone_key
from airflow_campaign_provider.sandbox import sample_voice_body
from airflow_campaign_provider.sandbox.dialer import call_plan
from airflow_campaign_provider.sandbox.run_dag import request_kind
from airflow_campaign_provider.sandbox.seed import SAMPLE_CONTACTS

if TYPE_CHECKING:
    from pathlib import Path

    from airflow_campaign_provider.sandbox import SandboxServer

VOICE_NAME = sample_voice_body()["name"]
DIALED = [p for p in SAMPLE_CONTACTS if p != "+14155550104"]  # the voice DNC list's number
KOLKATA = ZoneInfo("Asia/Kolkata")


def voice_campaign(sandbox: SandboxServer, **changes: Any) -> str:
    """A Ready voice campaign made through the hook, as the create operator does."""
    campaign = CampaignHook().create_voice_campaign({**sample_voice_body(), **changes})
    assert campaign["status"] == "Preparing"
    assert "_id" not in campaign
    campaign_id = str(campaign["id"])
    while CampaignHook().get_campaign_status(campaign_id) == "Preparing":
        pass
    return campaign_id


def played(sandbox: SandboxServer, campaign_id: str) -> str:
    start = StartCampaignOperator(
        task_id="start",
        campaign_id=campaign_id,
        campaign_type="voice",
        wait_for_completion=True,
        poll_interval=0.02,
    )
    return start.execute({})


def kinds(sandbox: SandboxServer, method: str) -> list[dict[str, Any]]:
    return [r for r in sandbox.admin.requests() if r["method"] == method]


def test_voice_results_are_exported_as_csv_with_a_summary(
    kore_sandbox: SandboxServer, tmp_path: Path
) -> None:
    campaign_id = voice_campaign(kore_sandbox)
    assert played(kore_sandbox, campaign_id) == "Completed"
    target = tmp_path / "results.csv"

    summary = ExportCampaignResultsOperator(
        task_id="export", campaign_id=campaign_id, campaign_type="voice", path=str(target), page_size=3
    ).execute({})

    plans = {phone: call_plan(phone, 3) for phone in DIALED}
    with target.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    # Kore's sample writes numbers as digits without "+"; the file keeps what Kore sent.
    assert sorted(phone_key(row["phoneNumber"]) for row in rows) == sorted(DIALED)
    for row in rows:
        assert (row["dialerOutcome"], int(row["numberOfAttemptsSoFar"])) == (
            plans[phone_key(row["phoneNumber"])].outcome,
            plans[phone_key(row["phoneNumber"])].attempts,
        )
    outcomes: dict[str, int] = {}
    for plan in plans.values():
        outcomes[plan.outcome] = outcomes.get(plan.outcome, 0) + 1
    assert summary["rows"] == len(DIALED)
    assert summary["per_contact"] is True
    assert summary["by_dialer_outcome"] == dict(sorted(outcomes.items()))
    assert summary["total_attempts"] == sum(p.attempts for p in plans.values())
    pages = [r for r in kore_sandbox.admin.requests() if "view=contacts" in r["query"]]
    assert [r["body"] for r in pages] == [{"page": 1, "limit": 3}, {"page": 2, "limit": 3}]
    json.dumps(summary)  # fit for XCom


def test_an_sms_export_writes_only_total_messages_sent(kore_sandbox: SandboxServer, tmp_path: Path) -> None:
    campaign_id = kore_sandbox.admin.seed_campaign("Completed", fields={"totalMessagesSent": 4})
    target = tmp_path / "not yet made" / "sms.jsonl"  # the export makes its local folder

    summary = ExportCampaignResultsOperator(
        task_id="export", campaign_id=campaign_id, path=str(target), file_format="jsonl"
    ).execute({})

    assert summary["per_contact"] is False
    record = json.loads(target.read_text())
    assert record["campaign_id"] == campaign_id
    assert "totalMessagesSent" in record
    assert not [r for r in kore_sandbox.admin.requests() if "view=contacts" in r["query"]]


def test_per_contact_rows_of_an_sms_campaign_are_refused_before_any_call(kore_sandbox: SandboxServer) -> None:
    with pytest.raises(InvalidCampaignArgumentError, match="per_contact"):
        ExportCampaignResultsOperator(task_id="x", campaign_id="cd-1", path="/tmp/x.csv", per_contact=True)
    with pytest.raises(InvalidCampaignArgumentError, match="page_size"):
        ExportCampaignResultsOperator(
            task_id="x", campaign_id="cd-1", campaign_type="voice", path="/tmp/x", page_size=101
        )
    assert kore_sandbox.admin.requests() == []


def test_an_update_reads_merges_and_sends_the_full_object(kore_sandbox: SandboxServer) -> None:
    campaign_id = voice_campaign(kore_sandbox)

    summary = UpdateCampaignOperator(
        task_id="update",
        campaign_id=campaign_id,
        campaign_type="voice",
        changes={
            "description": "Now with a longer ring",
            "dialingStrategy": {"maxRingTime": 45},
            "experienceFlowName": "Voice Survey Entry Flow",  # the GET answer shows only its id
        },
    ).execute({})

    assert summary["changed"] == ["description", "dialingStrategy", "experienceFlowName"]
    stored = CampaignHook().get_campaign(campaign_id)
    assert stored["description"] == "Now with a longer ring"
    assert stored["dialingStrategy"]["maxRingTime"] == 45
    assert stored["dialingStrategy"]["maxAttemptsPerRecord"] == 3  # kept from the read
    (put,) = kinds(kore_sandbox, "PUT")
    assert put["body"]["enableMachineDetect"] == "no"  # the GET's false, written as a PUT takes it
    assert "_id" not in put["body"]
    assert "status" not in put["body"]


def test_an_update_missing_what_the_read_cannot_give_says_why(kore_sandbox: SandboxServer) -> None:
    campaign_id = voice_campaign(kore_sandbox)

    with pytest.raises(
        InvalidCampaignArgumentError, match=r"changes\.experienceFlowName: .*only the flow's id"
    ):
        CampaignHook().update_campaign(campaign_id, "voice", {"description": "x"})
    assert kinds(kore_sandbox, "PUT") == []


def test_an_update_of_an_active_campaign_or_a_bad_one_sends_nothing(kore_sandbox: SandboxServer) -> None:
    kore_sandbox.admin.update_config(send_interval_seconds=5)
    campaign_id = voice_campaign(kore_sandbox)

    with pytest.raises(InvalidCampaignArgumentError, match=r"changes\.dialingStrategy\.maxRingTime"):
        CampaignHook().update_campaign(campaign_id, "voice", {"dialingStrategy": {"maxRingTime": 200}})
    StartCampaignOperator(task_id="start", campaign_id=campaign_id, campaign_type="voice").execute({})
    with pytest.raises(CampaignStateError, match="is Active"):
        UpdateCampaignOperator(
            task_id="update", campaign_id=campaign_id, campaign_type="voice", changes={"description": "x"}
        ).execute({})
    assert kinds(kore_sandbox, "PUT") == []


def schedule_calls(sandbox: SandboxServer) -> list[str]:
    return [r["query"] for r in sandbox.admin.requests() if r["path"].endswith("/schedule")]


def test_a_schedule_is_enabled_once_and_disabled_once(kore_sandbox: SandboxServer) -> None:
    campaign_id = voice_campaign(kore_sandbox)
    start = datetime.now(timezone.utc) + timedelta(hours=1)
    enable = EnableCampaignScheduleOperator(
        task_id="schedule",
        campaign_name=VOICE_NAME,
        campaign_type="voice",
        start=start,
        end=start + timedelta(days=30),
        recurrence="weekly",
        weekdays=["Mon", "Wed"],
    )

    first = enable.execute({})
    again = enable.execute({})

    assert first["changed"] is True
    assert again["changed"] is False
    assert first["startDateTime"] == start.astimezone(KOLKATA).strftime("%Y-%m-%d %H:%M:%S")
    assert CampaignHook().get_campaign_status(campaign_id) == "Scheduled"
    disable = DisableCampaignScheduleOperator(task_id="off", campaign_name=VOICE_NAME, campaign_type="voice")
    assert disable.execute({})["status"] == "Ready"
    assert disable.execute({})["changed"] is False
    assert [q.split("&")[1:2] for q in schedule_calls(kore_sandbox)] == [
        ["enableSchedule=true"],
        ["enableSchedule=false"],
    ]


def test_bad_schedules_are_refused_naming_the_argument(kore_sandbox: SandboxServer) -> None:
    voice_campaign(kore_sandbox)
    args = {"task_id": "s", "campaign_name": VOICE_NAME, "campaign_type": "voice"}

    with pytest.raises(InvalidCampaignArgumentError, match="weekdays"):
        EnableCampaignScheduleOperator(
            **args,
            start="2030-01-01 09:00:00",
            end="2030-02-01 09:00:00",
            recurrence="weekly",
            weekdays=["Funday"],
        )
    with pytest.raises(InvalidCampaignArgumentError, match="end"):
        EnableCampaignScheduleOperator(**args, start="2030-01-01 09:00:00", end="2029-02-01 09:00:00")
    past = EnableCampaignScheduleOperator(**args, start="2020-01-01 09:00:00", end="2020-02-01 09:00:00")
    with pytest.raises(InvalidCampaignArgumentError, match="end: must be after now"):
        past.execute({})
    with pytest.raises(InvalidCampaignArgumentError, match="campaign_name"):
        EnableCampaignScheduleOperator(
            **{**args, "campaign_name": "Nobody"}, start="2030-01-01 09:00:00", end="2030-02-01 09:00:00"
        ).execute({})
    assert schedule_calls(kore_sandbox) == []
    assert {request_kind(r) for r in kore_sandbox.admin.requests()} <= {"create", "status", "list", "read"}
