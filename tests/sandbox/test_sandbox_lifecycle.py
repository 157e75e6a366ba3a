"""Lifecycle: Preparing -> Ready -> Active -> Completed | Stopped; messages, DNC, resume, delete."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from airflow_campaign_provider.sandbox.config import SandboxConfig
from airflow_campaign_provider.sandbox.seed import SAMPLE_CONTACTS, SAMPLE_DNC_CONTACTS
from airflow_campaign_provider.sandbox.store import Store
from tests.sandbox.testkit import error_messages, parse_iso
from tests.waiting import wait_until

if TYPE_CHECKING:
    from airflow_campaign_provider.sandbox import SandboxServer
    from tests.sandbox.testkit import KoreClient

REACHABLE = [p for p in SAMPLE_CONTACTS if p not in SAMPLE_DNC_CONTACTS]


def _phones(sandbox: SandboxServer, campaign_id: str) -> list[str]:
    return [m["phone"] for m in sandbox.admin.messages(campaign_id)]


def test_a_campaign_runs_to_completion(kore: KoreClient, sample_body: dict[str, Any]) -> None:
    campaign_id = kore.create_ok(sample_body)["_id"]
    assert kore.status_of(campaign_id) == "Preparing"
    kore.wait_for(campaign_id, ["Ready"], timeout=2)

    kore.trigger(campaign_id, "play")
    kore.wait_for(campaign_id, ["Completed"], timeout=5)

    data = kore.get(campaign_id).json()["data"]
    assert data["totalMessagesSent"] == len(REACHABLE)
    assert data["updatedAt"] > data["createdAt"]
    messages = kore.sandbox.admin.messages(campaign_id)
    assert [m["phone"] for m in messages] == REACHABLE  # in list order, the DNC number skipped
    assert {m["contactList"] for m in messages} == {"CL Only 2020 Dec 4"}
    assert [m["sentAt"] for m in messages] == sorted(m["sentAt"] for m in messages)
    assert messages[-1]["sentAt"] <= data["updatedAt"]


def test_messages_are_paced_by_the_send_interval(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    interval = 0.25
    kore_sandbox.admin.update_config(send_interval_seconds=interval)
    campaign_id = kore_sandbox.admin.seed_campaign("Ready")
    before_play = time.time()
    kore.trigger(campaign_id, "play")
    after_play = time.time()

    wait_until(lambda: len(kore_sandbox.admin.messages(campaign_id)) >= 2)  # the event, not a sleep
    before_read = time.time()
    messages = kore_sandbox.admin.messages(campaign_id)
    after_read = time.time()

    assert (
        int((before_read - after_play) / interval)
        <= len(messages)
        <= int((after_read - before_play) / interval)
    )
    assert kore.get(campaign_id).json()["data"]["totalMessagesSent"] >= len(messages) >= 2
    sent_at = [parse_iso(m["sentAt"]) for m in messages]
    assert before_play + interval <= sent_at[0] <= after_play + interval + 0.001
    assert all(abs(b - a - interval) < 0.002 for a, b in itertools.pairwise(sent_at))


def test_without_a_dnc_list_everybody_gets_one(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    kore_sandbox.admin.put_contact_list("Overlap", [SAMPLE_CONTACTS[0], "+14155550999"])
    campaign_id = kore_sandbox.admin.seed_campaign(
        "Ready", fields={"contactLists": ["CL Only 2020 Dec 4", "Overlap"], "dncLists": None}
    )

    kore.trigger(campaign_id, "play")
    kore.wait_for(campaign_id, ["Completed"])

    phones = _phones(kore_sandbox, campaign_id)
    assert phones == [*SAMPLE_CONTACTS, "+14155550999"]  # the number on both lists only once


@pytest.mark.parametrize("status", ["Preparing", "Active", "Completed", "Scheduled", "Rescheduled"])
def test_play_is_refused_naming_the_status(
    kore: KoreClient, kore_sandbox: SandboxServer, status: str
) -> None:
    spec: dict[str, Any] = {"ready_in_seconds": 60} if status == "Preparing" else {}
    if status == "Active":
        spec = {"complete_in_seconds": 60}
    campaign_id = kore_sandbox.admin.seed_campaign(status, **spec)

    answer = kore.trigger(campaign_id, "play")

    assert answer.status_code == 412
    assert error_messages(answer) == [
        f"status: campaign is {status}; it can be started only when Ready, Stopped, Paused"
    ]
    assert kore.status_of(campaign_id) == status


@pytest.mark.parametrize("status", ["Preparing", "Ready", "Completed", "Stopped"])
def test_stop_is_refused_naming_the_status(
    kore: KoreClient, kore_sandbox: SandboxServer, status: str
) -> None:
    campaign_id = kore_sandbox.admin.seed_campaign(status)

    answer = kore.trigger(campaign_id, "stop")

    assert answer.status_code == 412
    assert f"campaign is {status}" in error_messages(answer)[0]


@pytest.mark.parametrize("status", ["Paused", "Scheduled", "Rescheduled"])
def test_stop_from_other_running_states(kore: KoreClient, kore_sandbox: SandboxServer, status: str) -> None:
    campaign_id = kore_sandbox.admin.seed_campaign(status)

    assert kore.trigger(campaign_id, "stop").status_code == 200
    assert kore.status_of(campaign_id) == "Stopped"


def test_stop_then_play_resumes_without_sending_twice(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    kore_sandbox.admin.update_config(send_interval_seconds=1.0)  # the rest of the list takes 3 s more
    campaign_id = kore_sandbox.admin.seed_campaign("Ready")

    kore.trigger(campaign_id, "play")
    wait_until(lambda: len(_phones(kore_sandbox, campaign_id)) >= 1)
    assert kore.trigger(campaign_id, "stop").status_code == 200
    stopped_at = _request_time(kore_sandbox, "stop")
    before = _phones(kore_sandbox, campaign_id)
    assert 1 <= len(before) < len(REACHABLE)

    kore_sandbox.admin.update_config(send_interval_seconds=0.01)  # the resumed run goes fast
    resumed = kore.trigger(campaign_id, "play")
    assert resumed.status_code == 200
    resumed_at = _request_time(kore_sandbox, "play", last=True)
    kore.wait_for(campaign_id, ["Completed"], timeout=5)

    messages = kore_sandbox.admin.messages(campaign_id)
    # A stopped campaign sends nothing: every message went out before the stop or after the resume.
    assert [m for m in messages if stopped_at < parse_iso(m["sentAt"]) < resumed_at] == []
    phones = [m["phone"] for m in messages]
    assert phones[: len(before)] == before
    assert sorted(phones) == sorted(REACHABLE)
    assert Counter(phones).most_common(1)[0][1] == 1
    assert kore.get(campaign_id).json()["data"]["totalMessagesSent"] == len(REACHABLE)


def test_paused_campaigns_resume(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    campaign_id = kore_sandbox.admin.seed_campaign("Paused")

    assert kore.trigger(campaign_id, "play").status_code == 200

    kore.wait_for(campaign_id, ["Completed"])


def test_deleting_an_active_campaign_stops_it_at_once(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    kore_sandbox.admin.update_config(send_interval_seconds=0.3)
    campaign_id, later = kore_sandbox.admin.seed_campaigns([{"status": "Ready"}, {"status": "Ready"}])
    kore.trigger(campaign_id, "play")
    wait_until(lambda: len(_phones(kore_sandbox, campaign_id)) >= 1)

    deleted = kore.delete(campaign_id)

    assert deleted.json()["data"]["status"] == "Active"
    sent = _phones(kore_sandbox, campaign_id)
    # The event that shows the deleted run's time has passed: a run started after the delete
    # sends its whole list, as long as the deleted one had left to send, and completes.
    kore.trigger(later, "play")
    kore.wait_for(later, ["Completed"], timeout=10)
    assert _phones(kore_sandbox, campaign_id) == sent
    assert 1 <= len(sent) < len(REACHABLE)
    summary = kore_sandbox.admin.campaigns()
    assert (summary["liveCount"], summary["deletedCount"]) == (1, 1)


def test_seeded_preparing_campaign_becomes_ready(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    campaign_id = kore_sandbox.admin.seed_campaign("Preparing", ready_in_seconds=0.2)

    assert kore.status_of(campaign_id) == "Preparing"

    kore.wait_for(campaign_id, ["Ready"], timeout=2)


def test_a_thousand_active_campaigns_complete_on_their_own_schedule(
    kore: KoreClient, kore_sandbox: SandboxServer
) -> None:
    admin = kore_sandbox.admin
    durations = [0.5 + (i % 11) / 10 for i in range(1000)]  # 0.5 s .. 1.5 s
    start = time.monotonic()
    ids = admin.seed_campaigns([{"status": "Active", "complete_in_seconds": d} for d in durations])
    seeded = time.monotonic()

    def completed_between(read: Callable[[], int]) -> None:
        before = time.monotonic()
        count = read()
        after = time.monotonic()
        # a campaign seeded at some moment in [start, seeded] completes d seconds later
        assert (
            sum(d <= before - seeded for d in durations)
            <= count
            <= sum(d <= after - start for d in durations)
        )

    completed_between(
        lambda: 1000 - kore.list({"filters": {"status": ["Active"]}}).json()["data"]["totalResults"]
    )
    time.sleep(max(0.0, 1.0 - (time.monotonic() - start)))
    completed_between(lambda: admin.campaigns()["byStatus"].get("Completed", 0))

    kore.wait_for(ids[10], ["Completed"], timeout=5)  # ids[10] has the longest run
    wait_until(lambda: admin.campaigns()["byStatus"] == {"Completed": 1000})
    summary = admin.campaigns()
    assert summary["messageCount"] == 1000 * len(REACHABLE)


def test_idle_active_campaigns_cost_no_work_per_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    """The store wakes only for campaigns with something due: a thousand idle Active campaigns
    cost no step at all over many ticks (the store's clock is the ``now`` it is given)."""
    store = Store(SandboxConfig())
    now = 1_000.0
    store.seed_campaigns([{"status": "Active", "complete_in_seconds": 600} for _ in range(1000)], now)
    steps: list[str] = []
    step = store._step
    monkeypatch.setattr(store, "_step", lambda c, at, sent: (steps.append(c.id), step(c, at, sent)))

    for tick in range(1, 101):  # 10 s of 0.1 s ticks
        store.advance(now + tick / 10)
    assert steps == []
    store.advance(now + 600)
    assert len(steps) == 1000  # each wakes once, to complete
    assert store.summary(now + 600)["byStatus"] == {"Completed": 1000}


def _request_time(sandbox: SandboxServer, trigger: str, *, last: bool = False) -> float:
    """When the sandbox received the (first or last) trigger of that kind, from its request log."""
    times = [parse_iso(r["time"]) for r in sandbox.admin.requests() if f"trigger={trigger}" in r["query"]]
    return times[-1] if last else times[0]
