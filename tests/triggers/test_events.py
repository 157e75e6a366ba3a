"""CampaignEventTrigger: one event per campaign per change into a watched status, none twice, also
across a restart with its cursor kept; one list call per poll for every watcher of an account."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from airflow_campaign_provider.exceptions import InvalidCampaignArgumentError
from airflow_campaign_provider.sandbox import SandboxServer
from airflow_campaign_provider.sandbox.run_dag import request_kind
from airflow_campaign_provider.triggers import events as events_module
from airflow_campaign_provider.triggers.events import (
    AIRFLOW_3_3_PLUS,
    CampaignEventTrigger,
    CampaignSnapshot,
    CampaignWatch,
)
from tests.figures import add_figures

POLL = 0.2


class MemoryStateStore:
    """The one-asset ``asset_state_store`` Airflow 3.3 injects, kept in a dict (it survives restarts)."""

    _total = 1

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self.writes = 0

    async def aget(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    async def aset(self, key: str, value: Any) -> None:
        self.values[key] = value
        self.writes += 1


def watcher(store: MemoryStateStore | None = None, **kwargs: Any) -> CampaignEventTrigger:
    trigger = CampaignEventTrigger(poll_interval=POLL, **{"statuses": ["Completed"], **kwargs})
    trigger.asset_state_store = store
    return trigger


async def collect(trigger: CampaignEventTrigger, until: int, seconds: float) -> list[dict[str, Any]]:
    """The payloads the trigger fires, until ``until`` of them or ``seconds`` pass."""
    fired: list[dict[str, Any]] = []

    async def run() -> None:
        async for event in trigger.run():
            fired.append(event.payload)
            if len(fired) >= until:
                return

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(run(), seconds)
    return fired


def snapshot(at: float, *campaigns: tuple[str, str, str]) -> CampaignSnapshot:
    return CampaignSnapshot(at, tuple((cid, name, status, None) for cid, name, status in campaigns), 1)


# --- the cursor -------------------------------------------------------------------------------


def test_a_campaign_fires_once_per_change_into_a_watched_status() -> None:
    watch = CampaignWatch("sms", ("Completed", "Stopped"), None, None, include_existing=False)

    assert watch.observe(snapshot(0, ("a", "A", "Completed"), ("b", "B", "Active")))[0] == []  # baseline
    assert (
        watch.observe(snapshot(1, ("a", "A", "Completed"), ("b", "B", "Completed")))[0][0]["campaign_id"]
        == "b"
    )
    assert watch.observe(snapshot(2, ("a", "A", "Completed"), ("b", "B", "Completed")))[0] == []  # it holds
    fired, _ = watch.observe(snapshot(3, ("a", "A", "Stopped"), ("b", "B", "Completed")))
    assert [(e["campaign_id"], e["status"]) for e in fired] == [("a", "Stopped")]  # a new watched status
    watch.observe(snapshot(4, ("a", "A", "Active"), ("b", "B", "Completed")))
    assert [e["campaign_id"] for e in watch.observe(snapshot(5, ("a", "A", "Stopped")))[0]] == ["a"]
    assert "b" not in watch.cursor  # gone from the list: forgotten


def test_include_existing_fires_the_baseline_too() -> None:
    watch = CampaignWatch("sms", ("Completed",), None, None, include_existing=True)

    fired, _ = watch.observe(snapshot(0, ("a", "A", "Completed"), ("b", "B", "Active")))

    assert [e["campaign_id"] for e in fired] == ["a"]


def test_active_longer_than_fires_once_when_the_time_is_up() -> None:
    watch = CampaignWatch("sms", (), "flash *", 10, include_existing=False)
    watch.observe(snapshot(0, ("a", "Flash sale", "Ready"), ("b", "Other", "Active")))

    assert watch.observe(snapshot(60, ("a", "Flash sale", "Active"), ("b", "Other", "Active")))[0] == []
    assert watch.observe(snapshot(600, ("a", "Flash sale", "Active")))[0] == []  # 9 minutes Active
    (event,) = watch.observe(snapshot(661, ("a", "Flash sale", "Active")))[0]
    assert (event["campaign_id"], event["reason"]) == ("a", "active_longer_than")
    assert event["changed_at"].startswith("1970-01-01T00:01:00")  # when it became Active
    assert watch.observe(snapshot(9000, ("a", "Flash sale", "Active")))[0] == []


def test_bad_arguments_are_refused_naming_them() -> None:
    with pytest.raises(InvalidCampaignArgumentError, match="statuses"):
        CampaignEventTrigger(statuses=["Done"])
    with pytest.raises(InvalidCampaignArgumentError, match="active_longer_than_minutes"):
        CampaignEventTrigger(statuses=[])
    with pytest.raises(InvalidCampaignArgumentError, match="poll_interval"):
        CampaignEventTrigger(poll_interval=0)


def test_serialize_rebuilds_an_equal_trigger() -> None:
    trigger = CampaignEventTrigger(statuses="Stopped", active_longer_than_minutes=30, name_pattern="x*")
    path, kwargs = trigger.serialize()

    assert path == "airflow_campaign_provider.triggers.events.CampaignEventTrigger"
    assert CampaignEventTrigger(**kwargs).serialize() == (path, kwargs)


def test_the_shared_stream_is_an_airflow_3_3_feature(monkeypatch: pytest.MonkeyPatch) -> None:
    trigger = CampaignEventTrigger()
    monkeypatch.setattr(events_module, "AIRFLOW_3_3_PLUS", False)
    assert trigger.shared_stream_key() is None  # 3.1, 3.2: each watcher polls on its own
    monkeypatch.setattr(events_module, "AIRFLOW_3_3_PLUS", True)
    other = CampaignEventTrigger(statuses=["Stopped"], name_pattern="Promo *")
    assert trigger.shared_stream_key() == other.shared_stream_key() is not None


# --- against the sandbox ----------------------------------------------------------------------


async def test_three_campaigns_completing_fire_three_events_none_twice_across_a_restart(
    kore_sandbox: SandboxServer,
) -> None:
    admin = kore_sandbox.admin
    admin.seed_many(2, {"status": "Completed"})  # completed before the watch began: not fired
    store = MemoryStateStore()
    first = asyncio.ensure_future(collect(watcher(store), until=1, seconds=20))
    await asyncio.sleep(3 * POLL)  # the baseline poll is done
    ids = admin.seed_campaigns([{"status": "Active", "complete_in_seconds": s} for s in (0.5, 2.5, 3.0)])

    before_restart = await first
    assert [e["campaign_id"] for e in before_restart] == ids[:1]

    # The triggerer restarts: a new trigger instance, the same state store.
    after_restart = await collect(watcher(store), until=2, seconds=20)
    assert [e["campaign_id"] for e in after_restart] == ids[1:]
    assert await collect(watcher(store), until=1, seconds=6 * POLL) == []  # none again
    event = after_restart[0]
    assert set(event) == {
        "campaign_id",
        "name",
        "campaign_type",
        "status",
        "changed_at",
        "observed_at",
        "reason",
    }
    assert (event["status"], event["campaign_type"], event["reason"]) == ("Completed", "sms", "status")


async def test_without_a_state_store_a_restart_starts_a_new_baseline(kore_sandbox: SandboxServer) -> None:
    (campaign_id,) = kore_sandbox.admin.seed_campaigns([{"status": "Active", "complete_in_seconds": 0.8}])
    assert [e["campaign_id"] for e in await collect(watcher(), until=1, seconds=20)] == [campaign_id]

    assert await collect(watcher(), until=1, seconds=6 * POLL) == []  # Completed at the baseline: not fired


async def watch_together(admin: Any, watchers: int) -> tuple[list[str], list[int], list[str]]:
    """``watchers`` triggers on one shared stream for ten polls, a campaign of watcher 0's
    completing meanwhile: the Kore calls, the snapshots each watcher got, the names fired."""
    from airflow.triggers.shared_stream import SharedStreamManager

    admin.clear_requests()
    manager = SharedStreamManager()
    triggers = [watcher(MemoryStateStore(), name_pattern=f"Watch {n} *") for n in range(watchers)]
    fired: list[str] = []
    snapshots = [0] * watchers

    async def counted(trigger_id: int, stream: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for item in stream:
            snapshots[trigger_id] += 1
            yield item

    async def follow(trigger_id: int, trigger: CampaignEventTrigger) -> None:
        stream = manager.subscribe(trigger_id=trigger_id, trigger=trigger, key=trigger.shared_stream_key())
        async for event in trigger.filter_shared_stream(counted(trigger_id, stream)):
            fired.append(event.payload["name"])

    tasks = [asyncio.ensure_future(follow(i, t)) for i, t in enumerate(triggers)]
    await asyncio.sleep(2 * POLL)
    admin.seed_many(1, {"status": "Active", "complete_in_seconds": 0.2}, name_prefix=f"Watch 0 ({watchers}) ")
    await asyncio.sleep(8 * POLL)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await manager.stop_all()
    return [request_kind(r) for r in admin.requests()], snapshots, fired


@pytest.mark.skipif(not AIRFLOW_3_3_PLUS, reason="shared streams came with Airflow 3.3")
async def test_every_watcher_of_an_account_shares_one_list_call_per_poll(kore_sandbox: SandboxServer) -> None:
    admin = kore_sandbox.admin
    admin.seed_many(60, {"status": "Completed"}, name_prefix="Old ")
    rows: list[tuple[str, str]] = []
    for watchers in (1, 10, 100):
        calls, snapshots, fired = await watch_together(admin, watchers)
        polls = max(snapshots)  # a poll is one snapshot, handed to every watcher

        assert set(calls) == {"list"}
        assert fired == [f"Watch 0 ({watchers}) 1"]  # the one watcher whose pattern it matches, once
        assert min(snapshots) >= polls - 1  # every watcher saw (about) every poll
        assert polls >= 4
        assert polls <= len(calls) <= polls + 1  # one list call a poll (61 campaigns: one page)
        rows.append(
            (
                f"{watchers} watcher(s) on one account",
                f"{len(calls)} list calls for {polls} polls: {len(calls) / polls:.2f} per poll",
            )
        )
    add_figures("Calls per poll of CampaignEventTrigger watchers (tests/triggers/test_events.py)", rows)
