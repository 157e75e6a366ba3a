"""Triggers and the shared poller against the sandbox: real HTTP, real lifecycle, real rate limit."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime
from typing import Any

from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.sandbox import SandboxServer

from .conftest import start


def seed_active(sandbox: SandboxServer, completing_in: list[float]) -> list[str]:
    return sandbox.admin.seed_campaigns(
        [{"status": "Active", "complete_in_seconds": seconds} for seconds in completing_in]
    )


def kore_requests(sandbox: SandboxServer) -> list[dict[str, Any]]:
    return [r for r in sandbox.admin.requests() if r["path"].startswith("/campaign/api/v2/public/")]


async def test_200_waiters_share_a_handful_of_calls(sandbox_registry, kore_sandbox):
    waited = seed_active(kore_sandbox, [0.5 + 0.005 * n for n in range(200)])
    began = time.monotonic()
    results = await asyncio.wait_for(start(waited, poll_interval=0.2), 30)

    assert [event["status"] for event in results] == ["success"] * 200
    assert {event["campaign_status"] for event in results} == {"Completed"}
    requests = kore_requests(kore_sandbox)
    cycles = (time.monotonic() - began) / 0.2
    assert len(requests) <= 4 * cycles  # about two pages a cycle, never one call per waiter
    assert len(requests) < 200 / 4
    assert all(r["status"] == 200 for r in requests)


async def test_deleted_stopped_and_undocumented_statuses(sandbox_registry, kore_sandbox):
    admin = kore_sandbox.admin
    deleted, stopped, odd, fine = seed_active(kore_sandbox, [60, 60, 60, 60])
    events = start([deleted, stopped, odd, fine], poll_interval=0.2)
    await asyncio.sleep(0.5)
    await asyncio.to_thread(admin.force_status, odd, "Archived")
    hook = CampaignHook()
    await asyncio.to_thread(hook.delete_campaign, deleted)
    await asyncio.to_thread(hook.stop_campaign, stopped)
    await asyncio.sleep(0.6)
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
