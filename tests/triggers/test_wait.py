"""WaitGoal, WaitOutcome and the event validator every execute_complete uses."""

from __future__ import annotations

import json

import pytest
from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSensorTimeout

from airflow_campaign_provider.exceptions import CampaignError, InvalidCampaignArgumentError
from airflow_campaign_provider.status import WaitGoal, WaitOutcome, is_documented
from airflow_campaign_provider.triggers.campaign import (
    CampaignWaitError,
    CampaignWaitFailedError,
    CampaignWaitTimeoutError,
    campaign_status_from_event,
)

CAMPAIGN_ID = "cd-1"


def test_by_default_a_wait_fails_on_terminal_statuses_it_does_not_target():
    assert WaitGoal.of(["Completed"]) == WaitGoal(("Completed",), ("Stopped",))
    assert WaitGoal.of("Active").failures == ("Completed", "Stopped")
    assert WaitGoal.of(["Completed", "Stopped"]).failures == ()
    assert WaitGoal.of(["Completed"], []).failures == ()


def test_duplicates_are_dropped_in_order():
    assert WaitGoal.of(["Stopped", "Completed", "Stopped"], ["Paused", "Paused"]) == WaitGoal(
        ("Stopped", "Completed"), ("Paused",)
    )


@pytest.mark.parametrize(
    ("targets", "failures", "field"),
    [
        ([], None, "target_statuses"),
        (["Complete"], None, "target_statuses"),
        (["Completed"], ["Stoped"], "failure_statuses"),
        (["Completed"], ["Completed"], "failure_statuses"),
        ([1], None, "target_statuses"),
    ],
)
def test_bad_statuses_are_refused_naming_the_field(targets, failures, field):
    with pytest.raises(InvalidCampaignArgumentError) as caught:
        WaitGoal.of(targets, failures)
    assert caught.value.field == field


def test_judge():
    goal = WaitGoal.of(["Completed"], ["Stopped", "Paused"])
    assert goal.judge(CAMPAIGN_ID, "Active") is None
    assert goal.judge(CAMPAIGN_ID, "Archived") is None
    success = goal.judge(CAMPAIGN_ID, "Completed")
    assert success == WaitOutcome("success", "Completed", "Campaign cd-1 reached status 'Completed'.")
    failure = goal.judge(CAMPAIGN_ID, "Paused")
    assert failure is not None
    assert failure.status == "failure"
    assert "'Paused'" in failure.message
    assert "['Completed']" in failure.message


def test_undocumented_statuses_are_told_apart():
    assert is_documented("Active")
    assert is_documented("Stopped")
    assert not is_documented("Archived")


def _event(**changes):
    return {
        "status": "success",
        "campaign_id": CAMPAIGN_ID,
        "campaign_status": "Completed",
        "message": "m",
        **changes,
    }


def test_a_success_event_gives_the_status():
    assert campaign_status_from_event(_event(), CAMPAIGN_ID) == "Completed"
    assert campaign_status_from_event(_event()) == "Completed"


def test_every_outcome_event_is_json_safe_and_validates_as_its_kind():
    goal = WaitGoal.of(["Completed"])
    outcomes = [
        goal.judge(CAMPAIGN_ID, "Completed"),
        goal.judge(CAMPAIGN_ID, "Stopped"),
        WaitOutcome.not_found(CAMPAIGN_ID),
        goal.timed_out(CAMPAIGN_ID, "Active"),
        goal.timed_out(CAMPAIGN_ID, None),
        WaitOutcome.error(CAMPAIGN_ID, RuntimeError("boom"), "Active"),
    ]
    expected = [
        None,
        CampaignWaitFailedError,
        CampaignWaitFailedError,
        CampaignWaitTimeoutError,
        CampaignWaitTimeoutError,
        CampaignWaitError,
    ]
    for outcome, error in zip(outcomes, expected, strict=True):
        assert outcome is not None
        event = json.loads(json.dumps(outcome.event(CAMPAIGN_ID)))
        assert set(event) == {"status", "campaign_id", "campaign_status", "message"}
        if error is None:
            assert campaign_status_from_event(event, CAMPAIGN_ID) == "Completed"
        else:
            with pytest.raises(error, match="cd-1"):
                campaign_status_from_event(event, CAMPAIGN_ID)


def test_messages_say_what_happened():
    goal = WaitGoal.of(["Completed"])
    assert "never read" in goal.timed_out(CAMPAIGN_ID, None).message
    assert "'Active'" in goal.timed_out(CAMPAIGN_ID, "Active").message
    assert "404" in WaitOutcome.not_found(CAMPAIGN_ID).message
    assert WaitOutcome.not_found(CAMPAIGN_ID).campaign_status is None
    assert "RuntimeError: boom" in WaitOutcome.error(CAMPAIGN_ID, RuntimeError("boom")).message


def test_error_kinds_fit_airflow():
    """A failure must not be retried, a timeout is a sensor timeout (soft_fail applies), an error retries."""
    assert issubclass(CampaignWaitFailedError, AirflowFailException)
    assert issubclass(CampaignWaitTimeoutError, AirflowSensorTimeout)
    assert not issubclass(CampaignWaitError, AirflowException)
    for error in (CampaignWaitFailedError, CampaignWaitTimeoutError, CampaignWaitError):
        assert issubclass(error, CampaignError)


@pytest.mark.parametrize(
    ("event", "match"),
    [
        (None, "mapping"),
        ("success", "mapping"),
        (_event(status="done"), "malformed"),
        (_event(message=None), "malformed"),
        (_event(campaign_status=None), "without a campaign status"),
        (_event(campaign_status=""), "without a campaign status"),
        (_event(campaign_id="cd-2"), "not 'cd-1'"),
    ],
)
def test_malformed_events_are_errors(event, match):
    with pytest.raises(CampaignWaitError, match=match):
        campaign_status_from_event(event, CAMPAIGN_ID)
