"""CampaignStatusTrigger over mocked HTTP: one event per run, every path, exact serialization.

The asynchronous tests run on the virtual clock: deadlines and poll intervals are exact."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from airflow_campaign_provider.exceptions import InvalidCampaignArgumentError
from airflow_campaign_provider.status import CampaignStatus
from airflow_campaign_provider.triggers.campaign import CampaignStatusTrigger
from tests.hooks.conftest import BASE

from .conftest import fire, logged, now, status_answer

pytestmark = pytest.mark.virtual_clock

CAMPAIGN_ID = "cd-0b5a3a6e-0000-4000-8000-000000000001"
STATUS = f"{BASE}/{CAMPAIGN_ID}/status"
PATH = "airflow_campaign_provider.triggers.campaign.CampaignStatusTrigger"


def trigger(**overrides: object) -> CampaignStatusTrigger:
    arguments: dict[str, object] = {
        "campaign_id": CAMPAIGN_ID,
        "target_statuses": ["Completed"],
        "failure_statuses": ["Stopped"],
        "poll_interval": 0.05,
        "end_time": now() + 10,
        **overrides,
    }
    return CampaignStatusTrigger(**arguments)  # type: ignore[arg-type]


def statuses(*sequence: str) -> list[httpx.Response]:
    return [status_answer(CAMPAIGN_ID, status) for status in sequence]


# --- serialization -----------------------------------------------------------------------------


def test_serialize_is_json_safe_and_round_trips_exactly():
    original = trigger(campaign_type="VOICE", kore_conn_id="other", end_time=1_800_000_000.5)
    path, kwargs = original.serialize()
    assert path == PATH
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert kwargs == {
        "campaign_id": CAMPAIGN_ID,
        "target_statuses": ["Completed"],
        "failure_statuses": ["Stopped"],
        "campaign_type": "voice",
        "kore_conn_id": "other",
        "poll_interval": 0.05,
        "end_time": 1_800_000_000.5,
    }
    assert CampaignStatusTrigger(**kwargs).serialize() == (path, kwargs)


statuses_strategy = st.lists(st.sampled_from([status.value for status in CampaignStatus]), unique=True)


# No per-example deadline or too-slow check: wall time on a loaded CI machine is not a property.
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    targets=statuses_strategy.filter(bool),
    failures=statuses_strategy,
    interval=st.floats(min_value=0.001, max_value=1e6),
    end_time=st.floats(min_value=0, max_value=4e9),
    kind=st.sampled_from(["sms", "voice", "SMS"]),
)
def test_any_valid_trigger_round_trips(targets, failures, interval, end_time, kind):
    failures = [status for status in failures if status not in targets]
    path, kwargs = CampaignStatusTrigger(
        CAMPAIGN_ID, targets, failures, kind, "c", interval, end_time
    ).serialize()
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert CampaignStatusTrigger(**kwargs).serialize() == (path, kwargs)


def test_defaults_have_a_deadline_and_fail_on_other_terminal_statuses():
    before = time.time()
    _, kwargs = CampaignStatusTrigger(CAMPAIGN_ID, "Completed").serialize()
    assert kwargs["failure_statuses"] == ["Stopped"]
    assert kwargs["kore_conn_id"] == "kore_campaign_default"
    assert kwargs["poll_interval"] == 30.0
    assert before + 7 * 24 * 3600 <= kwargs["end_time"] <= time.time() + 7 * 24 * 3600


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"campaign_id": "a/b"}, "campaign_id"),
        ({"campaign_id": ""}, "campaign_id"),
        ({"target_statuses": ["Done"]}, "target_statuses"),
        ({"campaign_type": "fax"}, "campaign_type"),
        ({"poll_interval": 0}, "poll_interval"),
        ({"poll_interval": float("nan")}, "poll_interval"),
        ({"end_time": float("inf")}, "end_time"),
    ],
)
def test_bad_arguments_are_refused_naming_the_field(overrides, field):
    with pytest.raises(InvalidCampaignArgumentError) as caught:
        trigger(**overrides)
    assert caught.value.field == field


# --- the paths of run() ------------------------------------------------------------------------


async def test_success_after_waiting_logs_each_change_once(registry, kore, logs):
    kore.post(STATUS).mock(side_effect=statuses("Active", "Active", "Active", "Completed"))
    event = await fire(trigger())
    assert event == {
        "status": "success",
        "campaign_id": CAMPAIGN_ID,
        "campaign_status": "Completed",
        "message": f"Campaign {CAMPAIGN_ID} reached status 'Completed'.",
    }
    assert logged(logs, "info", "Campaign") == [
        f"Campaign {CAMPAIGN_ID} is Active.",
        f"Campaign {CAMPAIGN_ID} is Completed.",
    ]


async def test_a_failure_status_ends_the_wait_at_once(registry, kore):
    kore.post(STATUS).mock(side_effect=statuses("Active", "Stopped"))
    event = await fire(trigger())
    assert event["status"] == "failure"
    assert event["campaign_status"] == "Stopped"
    assert "'Stopped'" in str(event["message"])


async def test_a_deleted_campaign_is_a_failure(registry, kore):
    kore.post(STATUS).mock(return_value=httpx.Response(404, json={"errors": [{"msg": "Campaign not found"}]}))
    event = await fire(trigger())
    assert event["status"] == "failure"
    assert event["campaign_status"] is None
    assert "404" in str(event["message"])


async def test_an_unknown_status_is_logged_and_waited_on(registry, kore, logs):
    route = kore.post(STATUS).mock(side_effect=statuses("Archived", "Archived", "Completed"))
    event = await fire(trigger())
    assert event["status"] == "success"
    assert route.call_count == 3
    assert len(logged(logs, "warning", "'Archived', which Kore.ai does not document")) == 1


async def test_the_deadline_gives_a_timeout_with_the_last_status(registry, kore):
    kore.post(STATUS).mock(return_value=status_answer(CAMPAIGN_ID, "Active"))
    began = now()
    event = await fire(trigger(end_time=began + 0.3))
    assert event["status"] == "timeout"
    assert event["campaign_status"] == "Active"
    assert now() - began == pytest.approx(0.3)  # ended by the deadline itself, not a later poll


async def test_a_deadline_already_past_times_out_without_a_call(registry, kore):
    route = kore.post(STATUS).mock(return_value=status_answer(CAMPAIGN_ID, "Active"))
    event = await fire(trigger(end_time=now() - 1))
    assert event["status"] == "timeout"
    assert event["campaign_status"] is None
    assert route.call_count == 0


async def test_errors_past_the_retry_policy_become_an_error_event(registry, kore, backoffs):
    route = kore.post(STATUS).mock(return_value=httpx.Response(503, text="down"))
    event = await fire(trigger())
    assert event["status"] == "error"
    assert "503" in str(event["message"])
    assert route.call_count == registry.options.retry_policy.max_attempts


async def test_transient_errors_within_the_policy_do_not_end_the_wait(registry, kore, backoffs):
    kore.post(STATUS).mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(429),
            *statuses("Active"),
            httpx.ReadTimeout("slow"),
            *statuses("Completed"),
        ]
    )
    event = await fire(trigger())
    assert event["status"] == "success"
    assert len(backoffs) == 3


async def test_a_missing_connection_is_an_error_event(registry, kore):
    event = await fire(trigger(kore_conn_id="no_such_connection"))
    assert event["status"] == "error"
    assert "no_such_connection" in str(event["message"])


async def test_an_incomplete_connection_is_an_error_event_naming_the_field(registry, kore, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_HALF", json.dumps({"conn_type": "kore_campaign", "host": "https://x.test"})
    )
    event = await fire(trigger(kore_conn_id="half"))
    assert event["status"] == "error"
    assert "stream_id" in str(event["message"])


async def test_it_always_sleeps_a_poll_interval_between_reads(registry, kore):
    times: list[float] = []

    def answer(request: httpx.Request) -> httpx.Response:
        times.append(asyncio.get_running_loop().time())
        return status_answer(CAMPAIGN_ID, "Completed" if len(times) == 4 else "Active")

    kore.post(STATUS).mock(side_effect=answer)
    began = asyncio.get_running_loop().time()
    await fire(trigger(poll_interval=0.1))
    gaps = [later - earlier for earlier, later in zip([began, *times], times, strict=False)]
    assert gaps == [pytest.approx(0.1)] * 4  # one poll interval after joining, then after each read


async def test_cancelling_stops_the_wait_touches_nothing_and_tears_the_poller_down(registry, kore):
    route = kore.post(STATUS).mock(return_value=status_answer(CAMPAIGN_ID, "Active"))
    campaign_trigger = trigger()
    task = asyncio.ensure_future(fire(campaign_trigger))
    for _ in range(200):  # until the wait has polled once (10 s at most)
        if route.called:
            break
        await asyncio.sleep(0.05)
    assert not task.done(), task.result()
    assert [p.waiters for p in registry.pollers()] == [1]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await campaign_trigger.cleanup()
    if hasattr(campaign_trigger, "on_kill"):  # Airflow 3.3+ calls it when a user kills the task
        await campaign_trigger.on_kill()
    await asyncio.sleep(0.1)
    assert registry.pollers() == []
    assert {call.request.url.path for call in kore.calls} == {route.calls.last.request.url.path}
    assert all(
        call.request.method == "POST" and "trigger" not in call.request.url.path for call in kore.calls
    )
