"""CampaignStatusSensor in poke, reschedule and deferrable mode, over mocked HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from unittest import mock

import pytest
import responses
from airflow.providers.common.compat.sdk import AirflowSensorTimeout, AirflowSkipException, TaskDeferred

try:
    from airflow.sdk.exceptions import AirflowRescheduleException
except ImportError:  # Airflow 3.1; common-compat does not map this one
    from airflow.exceptions import AirflowRescheduleException

from airflow_campaign_provider.exceptions import CampaignServerError, InvalidCampaignArgumentError
from airflow_campaign_provider.sensors.campaign import CampaignStatusSensor
from airflow_campaign_provider.triggers.campaign import (
    CampaignStatusTrigger,
    CampaignWaitError,
    CampaignWaitFailedError,
    CampaignWaitTimeoutError,
)
from tests.hooks.conftest import BASE

CAMPAIGN_ID = "cd-e7110489-a30a-5d1e-80ee-f246cc800000"
STATUS = f"{BASE}/{CAMPAIGN_ID}/status"


def sensor(**overrides: object) -> CampaignStatusSensor:
    arguments: dict[str, object] = {
        "task_id": "wait",
        "campaign_id": CAMPAIGN_ID,
        "poke_interval": 0,
        **overrides,
    }
    return CampaignStatusSensor(**arguments)  # type: ignore[arg-type]


def answer(mocked: responses.RequestsMock, *statuses: str) -> None:
    for status in statuses:
        mocked.add("POST", STATUS, json={"status": "success", "data": {"id": CAMPAIGN_ID, "status": status}})


def messages(logs: list[dict[str, object]], level: str) -> list[str]:
    return [str(entry["event"]) for entry in logs if entry["log_level"] == level]


# --- construction --------------------------------------------------------------------------------


def test_defaults_wait_for_completed_and_fail_on_stopped():
    waiting = sensor()
    assert waiting.target_statuses == ("Completed",)
    assert waiting.failure_statuses == ("Stopped",)
    assert waiting.kore_conn_id == "kore_campaign_default"
    assert waiting.campaign_type == "sms"
    assert waiting.deferrable is False
    assert set(waiting.template_fields) == {"campaign_id", "campaign_type", "kore_conn_id", "stream_id"}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"target_statuses": ["Complete"]}, "target_statuses"),
        ({"target_statuses": []}, "target_statuses"),
        ({"failure_statuses": ["Completed"]}, "failure_statuses"),
    ],
)
def test_bad_statuses_are_refused_when_the_dag_is_parsed(overrides, field):
    with pytest.raises(InvalidCampaignArgumentError) as caught:
        sensor(**overrides)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"campaign_id": "a/b"}, "campaign_id"), ({"campaign_type": "fax"}, "campaign_type")],
)
def test_templated_arguments_are_checked_before_any_call(kore_connection, mocked, overrides, field):
    with pytest.raises(InvalidCampaignArgumentError) as caught:
        sensor(**overrides).execute({})
    assert caught.value.field == field
    assert len(mocked.calls) == 0


def test_the_deferrable_default_comes_from_airflow_config() -> None:
    """The default is read when the module is imported, so a fresh interpreter imports it (reloading
    it here would leave the other tests of this worker holding a stale class)."""
    script = (
        "from airflow_campaign_provider.sensors.campaign import CampaignStatusSensor\n"
        "print(CampaignStatusSensor(task_id='t', campaign_id='cd-1').deferrable)"
    )

    def deferrable_by_default(setting: str) -> str:
        env = {**os.environ, "AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": setting}
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        return done.stdout.strip().splitlines()[-1]

    assert deferrable_by_default("true") == "True"
    assert deferrable_by_default("false") == "False"


# --- poke mode ----------------------------------------------------------------------------------


def test_poke_mode_returns_the_status_and_logs_each_change_once(hook, mocked, logs):
    answer(mocked, "Ready", "Active", "Active", "Active", "Completed")
    assert sensor().execute({}) == "Completed"
    assert len(mocked.calls) == 5
    changes = [m for m in messages(logs, "info") if m.startswith(f"Campaign {CAMPAIGN_ID} is ")]
    assert changes == [f"Campaign {CAMPAIGN_ID} is {s}." for s in ("Ready", "Active", "Completed")]


def test_a_failure_status_fails_at_once_naming_it(hook, mocked):
    answer(mocked, "Active", "Stopped")
    with pytest.raises(CampaignWaitFailedError, match="failure status 'Stopped'"):
        sensor().execute({})
    assert len(mocked.calls) == 2


def test_a_deleted_campaign_fails_at_once(hook, mocked, sleeps):
    mocked.add("POST", STATUS, status=404, json={"errors": [{"msg": "Campaign not found"}]})
    with pytest.raises(CampaignWaitFailedError, match="404"):
        sensor().execute({})
    assert len(mocked.calls) == 1
    assert sleeps == []


def test_an_unknown_status_is_logged_and_waited_on(hook, mocked, logs):
    answer(mocked, "Archived", "Archived", "Completed")
    assert sensor().execute({}) == "Completed"
    assert len([m for m in messages(logs, "warning") if "'Archived'" in m]) == 1


def test_transient_errors_are_retried_by_the_hook_without_failing(hook, mocked, sleeps):
    mocked.add("POST", STATUS, status=503)
    mocked.add("POST", STATUS, status=429, headers={"Retry-After": "2"})
    answer(mocked, "Active")
    mocked.add("POST", STATUS, status=502)
    answer(mocked, "Completed")
    assert sensor().execute({}) == "Completed"
    assert len(sleeps) == 3


def test_errors_past_the_retry_policy_fail_the_poke_so_task_retries_apply(hook, mocked, sleeps):
    mocked.add("POST", STATUS, status=503)
    with pytest.raises(CampaignServerError):
        sensor().execute({})
    assert len(mocked.calls) == 6


def test_a_soft_failing_sensor_is_skipped_on_a_failure_status(hook, mocked):
    answer(mocked, "Stopped")
    with pytest.raises(AirflowSkipException):
        sensor(soft_fail=True).execute({})


def test_poke_mode_times_out(hook, mocked):
    answer(mocked, "Active", "Active")
    with pytest.raises(AirflowSensorTimeout):
        sensor(timeout=0).execute({})


def test_reschedule_mode_frees_the_slot_between_pokes(hook, mocked):
    answer(mocked, "Active")
    ti = mock.Mock()
    ti.get_first_reschedule_date.return_value = None
    with pytest.raises(AirflowRescheduleException):
        sensor(mode="reschedule", poke_interval=60).execute({"ti": ti})
    assert len(mocked.calls) == 1


def test_reschedule_mode_returns_the_status_when_done(hook, mocked):
    answer(mocked, "Completed")
    ti = mock.Mock()
    ti.get_first_reschedule_date.return_value = None
    assert sensor(mode="reschedule").execute({"ti": ti}) == "Completed"


def test_other_targets_and_failures(hook, mocked):
    answer(mocked, "Preparing", "Ready")
    assert sensor(target_statuses=["Ready", "Active"], failure_statuses=[]).execute({}) == "Ready"


# --- deferrable mode ----------------------------------------------------------------------------


def test_deferrable_returns_at_once_when_the_first_poke_is_done(hook, mocked):
    answer(mocked, "Completed")
    assert sensor(deferrable=True).execute({}) == "Completed"


def test_deferrable_fails_at_once_on_a_failure_status(hook, mocked):
    answer(mocked, "Stopped")
    with pytest.raises(CampaignWaitFailedError):
        sensor(deferrable=True).execute({})


def test_deferrable_pokes_once_then_defers_with_a_deadline_from_timeout(hook, mocked):
    answer(mocked, "Active")
    waiting = sensor(
        deferrable=True,
        timeout=3600,
        poke_interval=45,
        campaign_type="voice",
        kore_conn_id="kore_campaign_default",
    )
    before = time.time()
    with pytest.raises(TaskDeferred) as deferred:
        waiting.execute({})
    after = time.time()

    assert len(mocked.calls) == 1
    trigger = deferred.value.trigger
    assert isinstance(trigger, CampaignStatusTrigger)
    path, kwargs = trigger.serialize()
    assert path == "airflow_campaign_provider.triggers.campaign.CampaignStatusTrigger"
    assert before + 3600 <= kwargs.pop("end_time") <= after + 3600
    assert kwargs == {
        "campaign_id": CAMPAIGN_ID,
        "target_statuses": ["Completed"],
        "failure_statuses": ["Stopped"],
        "campaign_type": "voice",
        "kore_conn_id": "kore_campaign_default",
        "poll_interval": 45.0,
    }
    assert deferred.value.method_name == "execute_complete"
    assert deferred.value.timeout is not None
    assert deferred.value.timeout > timedelta(seconds=3600)


def test_execute_complete_returns_the_status_of_a_success_event():
    event = {
        "status": "success",
        "campaign_id": CAMPAIGN_ID,
        "campaign_status": "Completed",
        "message": "done",
    }
    assert sensor().execute_complete({}, event) == "Completed"


@pytest.mark.parametrize(
    ("status", "error"),
    [
        ("failure", CampaignWaitFailedError),
        ("timeout", CampaignWaitTimeoutError),
        ("error", CampaignWaitError),
    ],
)
def test_execute_complete_raises_what_the_event_says(status, error):
    event = {"status": status, "campaign_id": CAMPAIGN_ID, "campaign_status": "Active", "message": "why"}
    with pytest.raises(error, match="why"):
        sensor().execute_complete({}, event)


def test_execute_complete_refuses_an_event_about_another_campaign():
    event = {"status": "success", "campaign_id": "cd-other", "campaign_status": "Completed", "message": "m"}
    with pytest.raises(CampaignWaitError, match="cd-other"):
        sensor().execute_complete({}, event)


def test_a_timeout_event_soft_fails_through_airflows_resume_path():
    event = {"status": "timeout", "campaign_id": CAMPAIGN_ID, "campaign_status": "Active", "message": "late"}
    with pytest.raises(AirflowSkipException):
        sensor(soft_fail=True).resume_execution("execute_complete", {"event": event}, {})
