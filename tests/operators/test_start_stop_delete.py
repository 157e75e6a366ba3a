"""Start, Stop and Delete operators with the hook mocked: never twice, and idempotent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock
from urllib.parse import parse_qsl, urlsplit

import pytest
import responses
from airflow.providers.common.compat.sdk import TaskDeferred

from airflow_campaign_provider.exceptions import (
    CampaignAuthError,
    CampaignError,
    CampaignNotFoundError,
    CampaignOutcomeUnknownError,
    CampaignServerError,
    CampaignValidationError,
    CampaignWaitError,
    CampaignWaitFailedError,
    CampaignWaitTimeoutError,
    InvalidCampaignArgumentError,
)
from airflow_campaign_provider.models.settings import HookParams
from airflow_campaign_provider.operators.campaign import (
    CampaignNotStartableError,
    DeleteCampaignOperator,
    StartCampaignOperator,
    StopCampaignOperator,
)
from airflow_campaign_provider.payload import CampaignArgumentsError
from airflow_campaign_provider.triggers.campaign import CampaignStatusTrigger
from tests.hooks.conftest import BASE

from .conftest import FakeClock

CAMPAIGN_ID = "cd-e7110489-a30a-5d1e-80ee-f246cc800000"
STARTED = {"status": "Active", "message": "Campaign Started", "updatedAt": "2025-12-05T12:07:54.225Z"}
STOPPED = {"status": "Stopped", "message": "Campaign Stopped", "updatedAt": "2025-12-05T12:07:54.225Z"}


def not_found() -> CampaignNotFoundError:
    return CampaignNotFoundError("Campaign not found", status_code=404, method="DELETE", path="/campaign/x")


def start(**kwargs: Any) -> StartCampaignOperator:
    return StartCampaignOperator(task_id="start", campaign_id=CAMPAIGN_ID, **kwargs)


# --- arguments -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "operator_class", [StartCampaignOperator, StopCampaignOperator, DeleteCampaignOperator]
)
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"campaign_id": ""}, "campaign_id"),
        ({"campaign_id": "cd-1/../other"}, "campaign_id"),
        ({"campaign_id": 42}, "campaign_id"),
        ({"campaign_id": CAMPAIGN_ID, "campaign_type": "email"}, "campaign_type"),
    ],
)
def test_bad_targets_are_refused_at_construction(
    operator_class: type, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidCampaignArgumentError) as raised:
        operator_class(task_id="t", **kwargs)
    assert field in str(raised.value)


@pytest.mark.parametrize(
    "operator_class", [StartCampaignOperator, StopCampaignOperator, DeleteCampaignOperator]
)
def test_a_templated_id_is_checked_after_rendering_before_any_http(
    operator_class: type, no_http: responses.RequestsMock, context: dict[str, Any]
) -> None:
    operator = operator_class(task_id="t", campaign_id="{{ ti.xcom_pull('create') }}")
    operator.campaign_id = "  "  # what the template rendered to
    with pytest.raises(CampaignArgumentsError, match="campaign_id"):
        operator.execute(context)
    assert len(no_http.calls) == 0


@pytest.mark.parametrize(
    ("kwargs", "field"), [({"timeout": 0}, "timeout"), ({"poll_interval": -5}, "poll_interval")]
)
def test_start_waiting_settings_are_checked(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(CampaignArgumentsError) as raised:
        start(**kwargs)
    assert raised.value.fields == (field,)


# --- start -----------------------------------------------------------------------------------


def test_a_ready_campaign_is_started(hook: mock.MagicMock, context: dict[str, Any]) -> None:
    hook.get_campaign_status.return_value = "Ready"
    hook.start_campaign.return_value = STARTED
    assert start(campaign_type="VOICE").execute(context) == "Active"
    hook.start_campaign.assert_called_once_with(CAMPAIGN_ID, "voice")


def test_an_active_campaign_is_not_played_again(
    hook: mock.MagicMock, context: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    hook.get_campaign_status.return_value = "Active"
    operator = start()
    assert operator.execute(context) == "Active"
    hook.start_campaign.assert_not_called()
    assert "already Active; not triggering play again" in capsys.readouterr().out
    operator.on_kill()  # it did not start it, so it does not stop it
    hook.stop_campaign.assert_not_called()


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("Preparing", "still being prepared"),
        ("Completed", "already run"),
        ("Stopped", "was stopped"),
        ("Paused", "paused"),
        ("Scheduled", "own schedule"),
        ("Rescheduled", "own schedule"),
        ("Archived", "only a Ready campaign is started"),
    ],
)
def test_a_campaign_that_is_not_startable_is_refused_naming_its_status(
    status: str, reason: str, hook: mock.MagicMock, context: dict[str, Any]
) -> None:
    hook.get_campaign_status.return_value = status
    with pytest.raises(CampaignNotStartableError, match=f"is {status}, not Ready: .*{reason}"):
        start().execute(context)
    hook.start_campaign.assert_not_called()


@pytest.mark.parametrize("settled", ["Active", "Completed"])
def test_an_unanswered_play_that_took_effect_is_not_resent(
    settled: str, hook: mock.MagicMock, context: dict[str, Any]
) -> None:
    hook.get_campaign_status.side_effect = ["Ready", settled]
    hook.start_campaign.side_effect = CampaignOutcomeUnknownError(
        "ReadTimeout", method="POST", path="/trigger", request_sent=True
    )
    operator = start()
    assert operator.execute(context) == settled
    hook.start_campaign.assert_called_once()
    operator.on_kill()  # the play took effect: this task started it
    hook.stop_campaign.assert_called_once_with(CAMPAIGN_ID, "sms")


def test_an_unanswered_play_is_resent_only_while_the_campaign_stays_ready(
    hook: mock.MagicMock, context: dict[str, Any], clock: FakeClock
) -> None:
    hook.get_campaign_status.side_effect = ["Ready", "Ready", "Ready"]
    hook.start_campaign.side_effect = [CampaignServerError("Bad Gateway", status_code=502), STARTED]
    assert start().execute(context) == "Active"
    assert hook.start_campaign.call_count == 2
    assert clock.sleeps == [HookParams().ambiguity_recheck_seconds]


def test_starting_gives_up_after_a_bounded_number_of_unanswered_plays(
    hook: mock.MagicMock, context: dict[str, Any], clock: FakeClock
) -> None:
    hook.get_campaign_status.return_value = "Ready"
    hook.start_campaign.side_effect = CampaignServerError("Bad Gateway", status_code=502)
    with pytest.raises(CampaignError, match=r"Gave up starting campaign .* still Ready"):
        start().execute(context)
    assert hook.start_campaign.call_count == HookParams().max_attempts


def test_a_refused_play_on_a_campaign_someone_else_started_is_success(
    hook: mock.MagicMock, context: dict[str, Any]
) -> None:
    hook.get_campaign_status.side_effect = ["Ready", "Active"]
    hook.start_campaign.side_effect = CampaignValidationError("status: campaign is Active", status_code=412)
    operator = start()
    assert operator.execute(context) == "Active"
    operator.on_kill()
    hook.stop_campaign.assert_not_called()


def test_a_refused_play_is_reported_with_kores_reason(hook: mock.MagicMock, context: dict[str, Any]) -> None:
    hook.get_campaign_status.side_effect = ["Ready", "Ready"]
    hook.start_campaign.side_effect = CampaignValidationError("no contacts to message", status_code=412)
    with pytest.raises(CampaignNotStartableError, match=r"refused to start .* no contacts to message"):
        start().execute(context)


def test_other_errors_are_not_swallowed(hook: mock.MagicMock, context: dict[str, Any]) -> None:
    hook.get_campaign_status.side_effect = CampaignAuthError("Scope is incorrect!", status_code=401)
    with pytest.raises(CampaignAuthError):
        start().execute(context)


def test_waiting_for_completion_polls_until_completed(
    hook: mock.MagicMock, context: dict[str, Any], clock: FakeClock
) -> None:
    hook.get_campaign_status.side_effect = ["Ready", "Active", "Paused", "Active", "Completed"]
    hook.start_campaign.return_value = STARTED
    assert start(wait_for_completion=True, poll_interval=10).execute(context) == "Completed"
    assert clock.sleeps == [10, 10, 10]


def test_a_campaign_stopped_while_awaited_fails_the_task(
    hook: mock.MagicMock, context: dict[str, Any]
) -> None:
    hook.get_campaign_status.side_effect = ["Active", "Stopped"]
    with pytest.raises(
        CampaignWaitFailedError, match=r"reached failure status 'Stopped' while waiting for \['Completed'\]"
    ):
        start(wait_for_completion=True).execute(context)


def test_waiting_for_completion_is_bounded(
    hook: mock.MagicMock, context: dict[str, Any], clock: FakeClock
) -> None:
    hook.get_campaign_status.return_value = "Active"
    with pytest.raises(
        CampaignWaitTimeoutError, match=r"did not reach \['Completed'\] .* last status was 'Active'"
    ):
        start(wait_for_completion=True, timeout=100, poll_interval=30).execute(context)
    assert clock.sleeps == [30, 30, 30, 10]


def test_on_kill_failures_are_logged_not_raised(
    hook: mock.MagicMock, context: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    hook.get_campaign_status.return_value = "Ready"
    hook.start_campaign.return_value = STARTED
    hook.stop_campaign.side_effect = CampaignServerError("down", status_code=503)
    operator = start()
    operator.execute(context)
    operator.on_kill()
    assert f"Could not stop campaign {CAMPAIGN_ID}" in capsys.readouterr().out


def test_on_kill_before_starting_does_nothing(hook: mock.MagicMock) -> None:
    start().on_kill()
    hook.stop_campaign.assert_not_called()


# --- start, deferrable -----------------------------------------------------------------------


def test_deferrable_start_checks_once_then_defers_to_the_trigger(
    hook: mock.MagicMock, context: dict[str, Any], clock: FakeClock
) -> None:
    hook.get_campaign_status.side_effect = ["Ready", "Active"]
    hook.start_campaign.return_value = STARTED
    operator = start(
        wait_for_completion=True, deferrable=True, timeout=600, poll_interval=15, campaign_type="voice"
    )
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)
    assert deferred.value.method_name == "execute_complete"
    assert deferred.value.timeout == timedelta(seconds=600 + 15 + 60)
    trigger = deferred.value.trigger
    assert isinstance(trigger, CampaignStatusTrigger)
    assert trigger.serialize()[1] == {
        "campaign_id": CAMPAIGN_ID,
        "target_statuses": ["Completed"],
        "failure_statuses": ["Stopped"],
        "campaign_type": "voice",
        "kore_conn_id": "kore_campaign_default",
        "poll_interval": 15.0,
        "end_time": clock.time() + 600,
        "stop_on_kill": True,
    }
    hook.start_campaign.assert_called_once()


@pytest.mark.parametrize(
    ("statuses", "kwargs"),
    [
        (["Active", "Active"], {}),  # it was running already: not this task's to stop
        (["Ready", "Active"], {"stop_on_kill": False}),  # the flag turns it off
    ],
)
def test_a_deferred_wait_stops_on_kill_only_what_its_task_started(
    hook: mock.MagicMock, context: dict[str, Any], statuses: list[str], kwargs: dict[str, Any]
) -> None:
    hook.get_campaign_status.side_effect = statuses
    hook.start_campaign.return_value = STARTED
    operator = start(wait_for_completion=True, deferrable=True, **kwargs)
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)
    assert "stop_on_kill" not in deferred.value.trigger.serialize()[1]
    operator.on_kill()
    hook.stop_campaign.assert_not_called()


def test_deferrable_start_does_not_defer_a_campaign_that_already_completed(
    hook: mock.MagicMock, context: dict[str, Any]
) -> None:
    hook.get_campaign_status.side_effect = ["Ready", "Completed"]
    hook.start_campaign.return_value = STARTED
    assert start(wait_for_completion=True, deferrable=True).execute(context) == "Completed"


def test_deferrable_start_fails_at_once_on_a_stopped_campaign(
    hook: mock.MagicMock, context: dict[str, Any]
) -> None:
    hook.get_campaign_status.side_effect = ["Active", "Stopped"]
    with pytest.raises(CampaignWaitFailedError, match="'Stopped'"):
        start(wait_for_completion=True, deferrable=True).execute(context)


def test_deferrable_without_waiting_does_not_defer(hook: mock.MagicMock, context: dict[str, Any]) -> None:
    hook.get_campaign_status.return_value = "Ready"
    hook.start_campaign.return_value = STARTED
    assert start(deferrable=True).execute(context) == "Active"
    assert hook.get_campaign_status.call_count == 1


def _event(status: str, campaign_status: str | None, campaign_id: str = CAMPAIGN_ID) -> dict[str, Any]:
    return {"status": status, "campaign_id": campaign_id, "campaign_status": campaign_status, "message": "m"}


def test_execute_complete_returns_the_final_status() -> None:
    assert start().execute_complete({}, _event("success", "Completed")) == "Completed"


@pytest.mark.parametrize(
    ("event", "error"),
    [
        (_event("failure", "Stopped"), CampaignWaitFailedError),
        (_event("timeout", "Active"), CampaignWaitTimeoutError),
        (_event("error", None), CampaignWaitError),
        (_event("success", "Completed", campaign_id="cd-other"), CampaignWaitError),
        ({"status": "success"}, CampaignWaitError),
    ],
)
def test_execute_complete_refuses_events_that_are_not_a_completion(
    event: dict[str, Any], error: type
) -> None:
    with pytest.raises(error):
        start().execute_complete({}, event)


def test_a_stream_override_is_handed_to_the_trigger(
    hook: mock.MagicMock, context: dict[str, Any], clock: FakeClock
) -> None:
    hook.get_campaign_status.side_effect = ["Ready", "Active"]
    hook.start_campaign.return_value = STARTED
    operator = start(wait_for_completion=True, deferrable=True, stream_id="st-other")
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)
    trigger = deferred.value.trigger
    assert trigger.serialize()[1]["stream_id"] == "st-other"
    assert type(trigger)(**trigger.serialize()[1]).stream_id == "st-other"


# --- stop ------------------------------------------------------------------------------------


def test_an_active_campaign_is_stopped(hook: mock.MagicMock, context: dict[str, Any]) -> None:
    hook.get_campaign_status.return_value = "Active"
    hook.stop_campaign.return_value = STOPPED
    operator = StopCampaignOperator(task_id="stop", campaign_id=CAMPAIGN_ID, campaign_type="voice")
    assert operator.execute(context) == "Stopped"
    hook.stop_campaign.assert_called_once_with(CAMPAIGN_ID, "voice")


@pytest.mark.parametrize(
    ("status", "said"),
    [
        ("Stopped", "already Stopped; nothing to stop"),
        ("Completed", "already Completed; nothing to stop"),
        ("Ready", "never started; nothing to stop"),
        ("Preparing", "never started; nothing to stop"),
    ],
)
def test_stopping_a_campaign_that_is_not_running_succeeds_and_says_so(
    status: str, said: str, hook: mock.MagicMock, context: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    hook.get_campaign_status.return_value = status
    assert StopCampaignOperator(task_id="stop", campaign_id=CAMPAIGN_ID).execute(context) == status
    hook.stop_campaign.assert_not_called()
    assert said in capsys.readouterr().out


def test_a_campaign_that_completes_while_being_stopped_is_fine(
    hook: mock.MagicMock, context: dict[str, Any]
) -> None:
    hook.get_campaign_status.side_effect = ["Active", "Completed"]
    hook.stop_campaign.side_effect = CampaignValidationError("status: campaign is Completed", status_code=412)
    assert StopCampaignOperator(task_id="stop", campaign_id=CAMPAIGN_ID).execute(context) == "Completed"


def test_a_refused_stop_of_a_running_campaign_is_raised(
    hook: mock.MagicMock, context: dict[str, Any]
) -> None:
    hook.get_campaign_status.side_effect = ["Active", "Active"]
    hook.stop_campaign.side_effect = CampaignValidationError("nope", status_code=412)
    with pytest.raises(CampaignValidationError):
        StopCampaignOperator(task_id="stop", campaign_id=CAMPAIGN_ID).execute(context)


# --- delete ----------------------------------------------------------------------------------

DELETED = {
    "status": "success",
    "message": "Campaign Spring deleted successfully",
    "data": {"_id": CAMPAIGN_ID, "name": "Spring", "status": "Ready", "dialingStrategy": {"callerId": {}}},
}


def delete(**kwargs: Any) -> DeleteCampaignOperator:
    return DeleteCampaignOperator(task_id="delete", campaign_id=CAMPAIGN_ID, **kwargs)


def test_delete_returns_a_small_summary(hook: mock.MagicMock, context: dict[str, Any]) -> None:
    hook.get_campaign_status.return_value = "Ready"
    hook.delete_campaign.return_value = DELETED
    assert delete().execute(context) == {
        "campaign_id": CAMPAIGN_ID,
        "campaign_type": "sms",
        "name": "Spring",
        "status": "Ready",
        "deleted": True,
        "message": "Campaign Spring deleted successfully",
    }
    hook.stop_campaign.assert_not_called()


def test_an_active_campaign_is_stopped_before_it_is_deleted(
    hook: mock.MagicMock, context: dict[str, Any]
) -> None:
    hook.get_campaign_status.return_value = "Active"
    hook.stop_campaign.return_value = STOPPED
    hook.delete_campaign.return_value = DELETED
    delete(campaign_type="voice").execute(context)
    assert [call[0] for call in hook.method_calls] == [
        "get_campaign_status",
        "get_campaign_status",
        "stop_campaign",
        "delete_campaign",
    ]
    hook.delete_campaign.assert_called_once_with(CAMPAIGN_ID, "voice")


def test_without_stop_first_it_deletes_straight_away(hook: mock.MagicMock, context: dict[str, Any]) -> None:
    hook.delete_campaign.return_value = DELETED
    delete(stop_first=False).execute(context)
    assert [call[0] for call in hook.method_calls] == ["delete_campaign"]


def test_a_missing_campaign_counts_as_deleted(
    hook: mock.MagicMock, context: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    hook.delete_campaign.side_effect = not_found()
    hook.get_campaign_status.side_effect = not_found()
    result = delete(stop_first=False).execute(context)
    assert result["deleted"] is False
    assert result["campaign_id"] == CAMPAIGN_ID
    assert "does not exist (already deleted?)" in capsys.readouterr().out


def test_a_missing_campaign_fails_without_missing_ok(hook: mock.MagicMock, context: dict[str, Any]) -> None:
    hook.get_campaign_status.side_effect = not_found()
    with pytest.raises(CampaignNotFoundError):
        delete(missing_ok=False).execute(context)
    hook.delete_campaign.assert_not_called()


def test_a_campaign_of_the_other_type_is_not_mistaken_for_a_missing_one(
    hook: mock.MagicMock, context: dict[str, Any]
) -> None:
    hook.delete_campaign.side_effect = not_found()
    hook.get_campaign_status.return_value = "Ready"
    with pytest.raises(InvalidCampaignArgumentError, match=r"campaign_type: .* no voice campaign"):
        delete(campaign_type="voice").execute(context)


def test_delete_sends_the_documented_voice_request(kore_connection: None, context: dict[str, Any]) -> None:
    with responses.RequestsMock() as rsps:
        rsps.post(f"{BASE}/{CAMPAIGN_ID}/status", json={"status": "success", "data": {"status": "Ready"}})
        deleted = rsps.delete(f"{BASE}/{CAMPAIGN_ID}", json=DELETED)
        delete(campaign_type="voice").execute(context)
    query = dict(parse_qsl(urlsplit(deleted.calls[0].request.url).query))
    assert query["campaignType"] == "voice"
