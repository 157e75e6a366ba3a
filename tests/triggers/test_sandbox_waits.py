"""Triggers and the shared poller against the sandbox: real HTTP, real lifecycle, real rate limit."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.sandbox import SandboxServer
from airflow_campaign_provider.triggers.poller import PollerRegistry, SharedPoller

from .conftest import start


def seed_active(sandbox: SandboxServer, completing_in: list[float]) -> list[str]:
    return sandbox.admin.seed_campaigns(
        [{"status": "Active", "complete_in_seconds": seconds} for seconds in completing_in]
    )


def kore_requests(sandbox: SandboxServer) -> list[dict[str, Any]]:
    return [r for r in sandbox.admin.requests() if r["path"].startswith("/campaign/api/v2/public/")]


async def poller_of(registry: PollerRegistry) -> SharedPoller:
    """The one poller, once the waiters have made it."""
    for _ in range(1000):
        if registry.pollers():
            return registry.pollers()[0]
        await asyncio.sleep(0.01)
    raise AssertionError("no poller started")


async def cycles(poller: SharedPoller, count: int) -> None:
    """Wait until ``poller`` has run ``count`` cycles: the event, however slow the machine."""
    for _ in range(3000):
        if poller.cycles >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the poller did not run {count} cycles")


async def test_200_waiters_share_a_handful_of_calls(sandbox_registry, kore_sandbox):
    waited = seed_active(kore_sandbox, [0.5 + 0.005 * n for n in range(200)])
    events = start(waited, poll_interval=0.2)
    poller = await poller_of(sandbox_registry)
    results = await asyncio.wait_for(events, 30)

    assert [event["status"] for event in results] == ["success"] * 200
    assert {event["campaign_status"] for event in results} == {"Completed"}
    requests = kore_requests(kore_sandbox)
    assert len(requests) <= 4 * poller.cycles  # about two pages a cycle, never one call per waiter
    assert len(requests) < 200 / 4
    assert all(r["status"] == 200 for r in requests)


async def test_deleted_stopped_and_undocumented_statuses(sandbox_registry, kore_sandbox):
    admin = kore_sandbox.admin
    deleted, stopped, odd, fine = seed_active(kore_sandbox, [60, 60, 60, 60])
    events = start([deleted, stopped, odd, fine], poll_interval=0.2)
    poller = await poller_of(sandbox_registry)
    await cycles(poller, 1)  # every one seen Active
    await asyncio.to_thread(admin.force_status, odd, "Archived")
    hook = CampaignHook()
    await asyncio.to_thread(hook.delete_campaign, deleted)
    await asyncio.to_thread(hook.stop_campaign, stopped)
    await cycles(poller, poller.cycles + 2)  # a whole cycle after the changes: every one read
    await asyncio.to_thread(admin.force_status, odd, "Completed")
    await asyncio.to_thread(admin.force_status, fine, "Completed")
    results = await asyncio.wait_for(events, 20)

    assert [(event["status"], event["campaign_status"]) for event in results] == [
        ("failure", None),
        ("failure", "Stopped"),
        ("success", "Completed"),
        ("success", "Completed"),
    ]


async def test_the_rate_limited_sandbox_never_answers_429(sandbox_registry, kore_sandbox, monkeypatch):
    admin = kore_sandbox.admin
    await asyncio.to_thread(admin.update_config, rate_limit_per_window=10, rate_limit_window_seconds=1.0)
    connection = json.loads(kore_sandbox.connection_json())
    connection["extra"]["requests_per_minute"] = 10  # per (scaled) window
    monkeypatch.setenv("AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT", json.dumps(connection))
    # 2,000 other Active campaigns make any list dear: 20 status calls a cycle want 200 calls/s.
    await asyncio.to_thread(admin.seed_campaigns, [{"status": "Active", "complete_in_seconds": 600}] * 2000)
    # Completions from 3 s on, so a slow start on a loaded machine still meets Active campaigns.
    waited = seed_active(kore_sandbox, [3.0 + 0.05 * n for n in range(20)])
    results = await asyncio.wait_for(start(waited, poll_interval=0.1), 30)

    assert [event["status"] for event in results] == ["success"] * 20
    requests = kore_requests(kore_sandbox)
    assert [r for r in requests if r["status"] == 429] == []
    times = sorted(datetime.fromisoformat(r["time"]).timestamp() for r in requests)
    assert times[-1] - times[0] > 2.0  # the budget, not the poll interval, set the pace
    assert max(sum(1 for t in times if at - 1.0 < t <= at) for at in times) <= 10


def list_filters(sandbox: SandboxServer) -> list[tuple[list[str], int, int]]:
    """Each list request's status filter, skip and limit, oldest first."""
    return [
        (r["body"]["filters"]["status"], r["body"]["skip"], r["body"]["limit"])
        for r in kore_requests(sandbox)
        if r["path"].endswith("/getAllCampaignDetails")
    ]


async def test_a_large_history_is_scanned_only_where_the_campaigns_are(sandbox_registry, kore_sandbox):
    """Over real HTTP: 3,000 finished campaigns make a wide scan dear, so once the totals are
    learnt the poller reads the two Active campaigns from one narrow page a cycle."""
    admin = kore_sandbox.admin
    await asyncio.to_thread(admin.seed_campaigns, [{"status": "Completed"}] * 3000)
    waited = seed_active(kore_sandbox, [600, 600])
    events = start(waited, poll_interval=0.1)
    poller = await poller_of(sandbox_registry)
    await cycles(poller, 5)
    for campaign_id in waited:
        await asyncio.to_thread(admin.force_status, campaign_id, "Completed")
    results = await asyncio.wait_for(events, 30)

    assert [event["status"] for event in results] == ["success"] * 2
    scans = list_filters(kore_sandbox)
    assert scans[-1][0] == ["Active"]  # the narrow filter won
    assert all(skip == 0 for _, skip, _ in scans)  # never a second page of the 3,000
    assert [r for r in kore_requests(kore_sandbox) if r["status"] != 200] == []


async def test_a_sandbox_that_caps_pages_lower_is_followed(sandbox_registry, kore_sandbox):
    """The sandbox serves at most 40 campaigns a page: the poller follows its size from page 2 on
    and finds all 250 waited campaigns in the pages, without a status call."""
    await asyncio.to_thread(kore_sandbox.admin.update_config, max_page_size=40)
    waited = seed_active(kore_sandbox, [1.0] * 250)  # seeded together: all complete at one moment
    results = await asyncio.wait_for(start(waited, poll_interval=0.2), 30)

    assert [event["status"] for event in results] == ["success"] * 250
    requests = kore_requests(kore_sandbox)
    assert [r for r in requests if r["path"].endswith("/status")] == []
    limits = [limit for _, _, limit in list_filters(kore_sandbox)]
    assert limits[0] == 100  # asked for the poller's size once
    assert set(limits[1:]) == {40}  # then the server's
