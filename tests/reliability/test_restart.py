"""Restarts in the middle of a deferred wait: Kore's (the sandbox, with ``--db``) and the triggerer's.

* The sandbox process is killed while a deferred start waits for its campaign, and started again
  on the same port and database a few seconds later. The trigger keeps polling through the
  connection errors (retried within its policy's bound) and fires when the campaign completes;
  every contact got exactly one SMS across the crash.
* When Kore stays down past that bound, the trigger fires an error instead of hanging, and the
  task's retry resumes the wait without playing the campaign again.
* The triggerer itself restarts (its trigger cancelled, then rebuilt in a new event loop from the
  serialized kwargs Airflow stored), while the sandbox is down too: the wait resumes, with its
  original deadline, and fires correctly.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import TaskDeferred

from airflow_campaign_provider.api import RetryPolicy
from airflow_campaign_provider.hooks.campaign import CampaignHookBase
from airflow_campaign_provider.hooks.campaign_async import CampaignAsyncHook
from airflow_campaign_provider.sandbox import SandboxConfig, SandboxServer, Seed
from airflow_campaign_provider.sandbox.seed import default_seed
from airflow_campaign_provider.triggers.campaign import CampaignStatusTrigger
from airflow_campaign_provider.triggers.poller import PollerOptions
from tests.waiting import wait_until

from .conftest import add_figures
from .harness import (
    FakeTaskInstance,
    Tally,
    deferred_start,
    rebuild_trigger,
    run_task,
    running_triggerer,
    task_context,
)

CONTACTS = [f"+1555777{n:04d}" for n in range(12)]
SEND_INTERVAL = 0.5  # twelve contacts: about 6 s of sending, long enough to crash in the middle
DOWN_SECONDS = 3.0
TITLE = "Restarts during a deferred wait"
#: Patient enough to poll through the outage and the sandbox's restart, however slow a loaded
#: machine makes it: retries for up to 3 minutes (the bound itself is the next test's).
PATIENT = PollerOptions(
    budget_window_seconds=1.0,
    retry_policy=RetryPolicy(
        max_attempts=200, base_wait_seconds=0.2, max_wait_seconds=1.0, max_total_seconds=180
    ),
    timeout=(1.0, 2.0),
)
#: Gives up after about one second of outage.
IMPATIENT = PollerOptions(
    budget_window_seconds=1.0,
    retry_policy=RetryPolicy(
        max_attempts=3, base_wait_seconds=0.2, max_wait_seconds=0.4, max_total_seconds=1.0
    ),
    timeout=(1.0, 2.0),
)


@pytest.fixture
def durable_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxServer]:
    """A sandbox in its own process keeping its state in SQLite (``--db``), one contact list of 12."""
    seed = default_seed()
    seed = Seed(contact_lists={"Restart list": CONTACTS}, dnc_lists={}, templates=seed.templates)
    config = SandboxConfig(
        rate_limit_per_window=None, preparing_seconds=0.1, send_interval_seconds=SEND_INTERVAL, seed=seed
    )
    server = SandboxServer(config, subprocess=True, db_path=str(tmp_path / "sandbox.db")).start()
    try:
        for name, value in server.connection_env().items():
            monkeypatch.setenv(name, value)
        yield server
    finally:
        server.stop()


@pytest.fixture
def retries(monkeypatch: pytest.MonkeyPatch) -> Tally:
    """The triggerer's retries, by the error's class name."""
    counts = Tally()
    log_retry = CampaignHookBase._log_retry

    def counting(hook: CampaignHookBase, state: Any) -> None:
        if isinstance(hook, CampaignAsyncHook) and state.outcome is not None:
            counts.add(type(state.outcome.exception()).__name__)
        log_retry(hook, state)

    monkeypatch.setattr(CampaignHookBase, "_log_retry", counting)
    return counts


def crash(server: SandboxServer) -> None:
    """Kill the sandbox process outright (no graceful shutdown), and reap it."""
    os.kill(server.pid, signal.SIGKILL)
    server.stop()


def seed_active(server: SandboxServer) -> str:
    return server.admin.seed_campaign("Active", fields={"contactLists": ["Restart list"]})


def ready_campaign(server: SandboxServer) -> str:
    return server.admin.seed_campaign("Ready", fields={"contactLists": ["Restart list"]})


def each_contact_once(server: SandboxServer, campaign_id: str) -> None:
    assert Counter(m["phone"] for m in server.admin.messages(campaign_id)) == dict.fromkeys(CONTACTS, 1)


def plays_since_start(server: SandboxServer) -> int:
    """Plays the sandbox received since it last started (its request log lives in memory)."""
    return sum(1 for r in server.admin.requests() if "trigger=play" in r["query"])


def test_a_deferred_wait_survives_the_sandbox_crashing_and_coming_back(
    durable_sandbox: SandboxServer, retries: Tally
) -> None:
    server = durable_sandbox
    campaign_id = ready_campaign(server)
    context = task_context()
    with pytest.raises(TaskDeferred) as deferred:
        deferred_start(campaign_id, poll_interval=0.3).execute(context)
    with running_triggerer(PATIENT) as triggerer:
        waiting = triggerer.start(deferred.value.trigger)
        wait_until(lambda: triggerer.poller_cycles() >= 2)
        crash(server)
        down_since = time.monotonic()
        time.sleep(DOWN_SECONDS)
        server.start()
        outage = time.monotonic() - down_since
        event = waiting.result(timeout=240)

    assert event["status"] == "success", event
    assert (
        deferred_start(campaign_id, poll_interval=0.3).resume_execution(
            deferred.value.method_name, {"event": event}, context
        )
        == "Completed"
    )
    each_contact_once(server, campaign_id)
    assert retries["CampaignTransportError"] >= 1
    add_figures(
        TITLE,
        [
            ("sandbox killed mid-send, back after", f"{outage:.1f} s (same port, same --db)"),
            (
                "  triggerer retries through the outage (connection refused)",
                str(retries["CampaignTransportError"]),
            ),
            (
                "  the wait's event / contacts texted exactly once",
                f"{event['status']} / {len(CONTACTS)} of {len(CONTACTS)}",
            ),
        ],
    )


def test_an_outage_past_the_bound_ends_the_wait_with_an_error_and_the_retry_resumes_it(
    durable_sandbox: SandboxServer,
) -> None:
    server = durable_sandbox
    campaign_id = ready_campaign(server)
    retried: list[BaseException] = []
    events: list[float] = []

    with running_triggerer(IMPATIENT) as triggerer:
        original_run = triggerer.run

        def run_during_outage(trigger: Any, timeout: float) -> dict[str, Any]:
            if events:  # the retry's wait: Kore is back
                return original_run(trigger, timeout)
            crash(server)
            began = time.monotonic()
            try:
                return original_run(trigger, timeout)
            finally:
                events.append(time.monotonic() - began)
                server.start()

        triggerer.run = run_during_outage  # type: ignore[method-assign]
        result = run_task(
            lambda: deferred_start(campaign_id, poll_interval=0.3),
            task_context(FakeTaskInstance()),
            tries=2,
            triggerer=triggerer,
            on_retry=retried.append,
        )

    assert result == "Completed"
    assert plays_since_start(server) == 0  # the retry found it Active: not played again
    assert len(retried) == 1
    assert "Waiting for campaign" in str(retried[0])
    assert "CampaignTransportError" in str(retried[0])
    assert events[0] < IMPATIENT.retry_policy.max_total_seconds + 5  # bounded: no hang
    each_contact_once(server, campaign_id)
    add_figures(
        TITLE,
        [
            ("outage past the retry bound: the trigger's error event came after", f"{events[0]:.1f} s"),
            ("  the task's retry resumed the wait; plays it sent", "0"),
        ],
    )


def test_the_triggerer_restarting_during_an_outage_resumes_the_wait_from_serialized_kwargs(
    durable_sandbox: SandboxServer,
) -> None:
    server = durable_sandbox
    campaign_id = seed_active(server)
    trigger = CampaignStatusTrigger(
        campaign_id=campaign_id, target_statuses=["Completed"], poll_interval=0.3, end_time=time.time() + 120
    )
    # The first triggerer runs the wait, then shuts down (its trigger cancelled) while Kore is down.
    with running_triggerer(PATIENT) as first:
        waiting = first.start(trigger)
        wait_until(lambda: first.poller_cycles() >= 2)
        crash(server)
        waiting.cancel()
        wait_until(lambda: first.pollers_left() == 0)

    # A new triggerer (a new process: new loop, new pollers) rebuilds it from what Airflow stored.
    rebuilt = rebuild_trigger(trigger)
    assert rebuilt is not trigger
    assert rebuilt.serialize() == trigger.serialize()  # the same deadline, not a new one
    with running_triggerer(PATIENT) as second:
        resumed = second.start(trigger)
        time.sleep(DOWN_SECONDS)
        server.start()
        event = resumed.result(timeout=60)

    assert event["status"] == "success", event
    assert event["campaign_status"] == "Completed"
    each_contact_once(server, campaign_id)
    add_figures(
        TITLE,
        [
            ("triggerer restarted during an outage: the rebuilt trigger's kwargs", "equal, deadline kept"),
            ("  the resumed wait's event", f"{event['status']} ({event['campaign_status']})"),
        ],
    )
