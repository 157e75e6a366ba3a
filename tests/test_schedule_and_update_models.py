"""The schedule body's rules and next run, and the read-merge of an update: pure functions."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from airflow_campaign_provider.models.checks import validate
from airflow_campaign_provider.models.schedule import ScheduleBody, schedule_body, schedule_window_problems
from airflow_campaign_provider.models.update import editable_body, merged, wire_differences

WEEKLY = {
    "startDateTime": "2026-01-1 18:29:00",  # the weekly page's sample writes a one-digit day
    "endDateTime": "2026-01-27 18:29:00",
    "recurrenceObject": {
        "recurType": "Weekly",
        "weeklyDetails": {"onceEveryNweeks": 2, "whichDays": ["Mon", "Fri"]},
    },
}


def test_a_weekly_schedule_runs_on_its_days_of_every_nth_week() -> None:
    body, problems = validate(ScheduleBody, WEEKLY)
    assert problems == []
    assert body is not None
    assert body.next_run_at(datetime(2026, 1, 1)) == datetime(2026, 1, 2, 18, 29)  # Friday of week 0
    assert body.next_run_at(datetime(2026, 1, 3)) == datetime(2026, 1, 12, 18, 29)  # week 1 is skipped
    assert body.next_run_at(datetime(2026, 1, 27)) is None  # past the end


def test_a_daily_schedule_runs_every_n_days_from_its_start() -> None:
    body = ScheduleBody.model_validate(
        {**WEEKLY, "recurrenceObject": {"recurType": "Daily", "dailyDetails": {"onceEveryNdays": 3}}}
    )
    assert body.next_run_at(datetime(2025, 12, 1)) == datetime(2026, 1, 1, 18, 29)
    assert body.next_run_at(datetime(2026, 1, 2)) == datetime(2026, 1, 4, 18, 29)


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"end": "2025-01-01 00:00:00"}, ["end"]),
        ({"recurrence": "weekly", "weekdays": ["Mon", "Funday"]}, ["weekdays[1]"]),
        ({"recurrence": "hourly"}, ["recurrence"]),
        ({"every": 0}, ["every"]),
        ({"weekdays": ["Mon"]}, ["weekdays"]),
        ({"start": "tomorrow"}, ["start"]),
    ],
)
def test_schedule_arguments_are_named_in_their_problems(arguments: dict, named: list[str]) -> None:
    given = {
        "start": "2026-01-05 09:00:00",
        "end": "2026-02-01 09:00:00",
        "recurrence": "daily",
        "every": 1,
        "weekdays": None,
    }
    body, problems = schedule_body(**{**given, **arguments}, zone=timezone.utc)
    assert body is None
    assert [argument for argument, _ in problems] == named


def test_an_aware_start_is_written_in_the_campaign_s_zone() -> None:
    from zoneinfo import ZoneInfo

    body, _ = schedule_body(
        start=datetime(2026, 1, 5, 3, 30, tzinfo=timezone.utc),
        end="2026-02-01 10:00:00",
        recurrence="daily",
        every=1,
        weekdays=None,
        zone=ZoneInfo("Asia/Kolkata"),
    )
    assert body is not None
    assert body.startDateTime == "2026-01-05 09:00:00"
    assert schedule_window_problems(body, datetime(2026, 3, 1))[0][0] == "endDateTime"


def test_an_update_keeps_what_it_does_not_change_and_drops_what_the_server_owns() -> None:
    stored = {
        "_id": "cd-1",
        "name": "Reminder",
        "status": "Ready",
        "dncLists": {"id": "cl-9", "name": "DNC"},
        "dialingStrategy": {"maxRingTime": 30, "maxAttemptsPerRecord": 3, "useSystemMappings": False},
        "enableMachineDetect": False,
        "schedule": {"isSchedulingEnabled": False, "isRecurrenceEnabled": False},
    }
    body = merged(editable_body(stored, "voice"), {"dialingStrategy": {"maxRingTime": 45}, "name": None})
    assert body == {
        "dncLists": {"name": "DNC"},
        "dialingStrategy": {"maxRingTime": 45, "maxAttemptsPerRecord": 3},
        "enableMachineDetect": "no",
        "schedule": {"isSchedulingEnabled": False},
        "campaignType": "voice",
    }
    differing, unchecked = wire_differences({"name": "Reminder", "experienceFlowName": "F"}, stored, "voice")
    assert differing == []
    assert unchecked == ["experienceFlowName"]
