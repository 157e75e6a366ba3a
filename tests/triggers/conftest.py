"""Fixtures of the trigger tests: a mocked Kore (respx), no back-off waits, fast poller options, and
the virtual clock (``pytestmark = pytest.mark.virtual_clock``: see :mod:`tests.virtual_clock`)."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import respx
from limits.aio.storage import memory as limits_memory
from structlog.testing import capture_logs

from airflow_campaign_provider import clock
from airflow_campaign_provider.api import RetryPolicy
from airflow_campaign_provider.sandbox import SandboxServer
from airflow_campaign_provider.triggers.campaign import CampaignStatusTrigger
from airflow_campaign_provider.triggers.poller import PollerOptions, PollerRegistry, poller_registry
from tests.hooks.conftest import BASE, connection_json
from tests.virtual_clock import VirtualClockLoop, VirtualTime

STATUS_URL = BASE + "/{campaign_id}/status"
LIST_URL = f"{BASE}/getAllCampaignDetails"
#: Retries without waiting: the back-off seam records the waits instead.
FAST_RETRIES = RetryPolicy(max_attempts=3)


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, Any]:
    """Tests marked ``virtual_clock`` run on the virtual-clock loop, the others on asyncio's own."""
    if item.get_closest_marker("virtual_clock"):
        return {"virtual_clock": VirtualClockLoop}
    return {"asyncio": asyncio.new_event_loop}


@pytest.fixture(autouse=True)
def virtual_time(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the virtual clock, the poller and the trigger read it too (through ``clock``), and so does every account
    budget the poller registry makes: budget.py's own reads and the in-memory moving window of
    ``limits`` that keeps the per-process budget (both read ``time.time()``)."""
    if request.node.get_closest_marker("virtual_clock") is None or not inspect.iscoroutinefunction(
        request.function
    ):
        return  # a synchronous test has no loop: it reads the real clock
    monkeypatch.setattr(clock, "monotonic", VirtualTime.monotonic)
    monkeypatch.setattr(clock, "wall", VirtualTime.time)
    monkeypatch.setattr(limits_memory, "time", VirtualTime)


def status_answer(campaign_id: str, status: str) -> httpx.Response:
    return httpx.Response(
        200, json={"status": "success", "data": {"id": campaign_id, "status": status, "name": "n"}}
    )


def page_answer(campaigns: list[dict[str, Any]], skip: int, limit: int) -> httpx.Response:
    """The list page of ``limit`` campaigns from ``skip`` on, the way Kore pages them."""
    chunk = campaigns[skip : skip + limit]
    return httpx.Response(
        200,
        json={
            "status": "success",
            "data": {
                "results": chunk,
                "hasMore": skip + len(chunk) < len(campaigns),
                "totalPages": -(-len(campaigns) // limit),
                "totalResults": len(campaigns),
            },
        },
    )


def request_body(request: httpx.Request) -> dict[str, Any]:
    return json.loads(request.content) if request.content else {}


@pytest.fixture
def kore_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT", connection_json())


@pytest.fixture
def backoffs(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Back-off waits the async hook asked for, without waiting."""
    recorded: list[float] = []

    async def record(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(clock, "backoff_async", record)
    return recorded


@pytest.fixture
def kore() -> Iterator[respx.MockRouter]:
    """Mocked Kore.ai; every request not routed by a test fails it."""
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
async def registry(kore_connection: None, backoffs: list[float]) -> AsyncIterator[PollerRegistry]:
    """This test's event-loop registry with fast options; every poller must be gone at the end."""
    current = poller_registry()
    current.options = PollerOptions(budget_window_seconds=1.0, retry_policy=FAST_RETRIES)
    yield current
    assert current.pollers() == [], "a poller outlived its waiters"


#: Real back-off against the sandbox, with Kore's 60 s window scaled down to 1 s.
SCALED_RETRIES = RetryPolicy(
    max_attempts=4,
    base_wait_seconds=0.05,
    max_wait_seconds=0.5,
    rate_limit_window_seconds=1.0,
    max_retry_after_seconds=2.0,
)


@pytest.fixture
async def sandbox_registry(kore_sandbox: SandboxServer) -> AsyncIterator[PollerRegistry]:
    """The registry against the sandbox, the budget window scaled to 1 s."""
    current = poller_registry()
    current.options = PollerOptions(budget_window_seconds=1.0, retry_policy=SCALED_RETRIES)
    yield current
    assert current.pollers() == [], "a poller outlived its waiters"


@pytest.fixture
def logs() -> Iterator[list[dict[str, Any]]]:
    """Everything logged through structlog (Airflow's loggers), as ``{"event", "log_level"}`` dicts."""
    with capture_logs() as captured:
        yield captured


def logged(captured: list[dict[str, Any]], level: str, text: str) -> list[str]:
    """The messages at ``level`` that contain ``text``."""
    return [
        entry["event"] for entry in captured if entry["log_level"] == level and text in str(entry["event"])
    ]


class FakeAccount:
    """A Kore account behind respx: campaigns by id, the status view and the filtered, paged list.

    Each answer is recorded as ``(loop time, "list" | "status", detail)``; ``delay`` slows
    every answer down, ``list_error`` answers every list call with that response, and pages hold
    at most ``max_page_size`` campaigns whatever the request asks.
    """

    def __init__(self, router: respx.MockRouter) -> None:
        self.campaigns: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[float, str, Any]] = []
        self.delay = 0.0
        self.list_error: httpx.Response | None = None
        self.max_page_size = 100
        router.post(LIST_URL).mock(side_effect=self._list)
        router.post(url__regex=rf"{BASE}/(?P<campaign_id>[^/]+)/status").mock(side_effect=self._status)

    def add(self, campaign_ids: list[str] | str, status: str, kind: str = "sms") -> None:
        for campaign_id in [campaign_ids] if isinstance(campaign_ids, str) else campaign_ids:
            self.campaigns[campaign_id] = {
                "_id": campaign_id,
                "name": campaign_id,
                "status": status,
                "type": kind,
            }

    def set(self, campaign_ids: list[str] | str, status: str) -> None:
        for campaign_id in [campaign_ids] if isinstance(campaign_ids, str) else campaign_ids:
            self.campaigns[campaign_id]["status"] = status

    def count(self, kind: str) -> int:
        return sum(1 for _, call, _ in self.calls if call == kind)

    async def _list(self, request: httpx.Request) -> httpx.Response:
        body = request_body(request)
        self.calls.append((_loop_time(), "list", body.get("filters", {}).get("status")))
        await asyncio.sleep(self.delay)
        if self.list_error is not None:
            return self.list_error
        wanted = body.get("filters", {}).get("status")
        rows = [
            {key: value for key, value in campaign.items() if key != "type"}
            for campaign in self.campaigns.values()
            if campaign["type"] == body["type"] and (wanted is None or campaign["status"] in wanted)
        ]
        return page_answer(rows, body["skip"], min(body["limit"], self.max_page_size))

    async def _status(self, request: httpx.Request, campaign_id: str) -> httpx.Response:
        self.calls.append((_loop_time(), "status", campaign_id))
        await asyncio.sleep(self.delay)
        campaign = self.campaigns.get(campaign_id)
        if campaign is None:
            return httpx.Response(404, json={"errors": [{"msg": "Campaign not found"}]})
        return status_answer(campaign_id, campaign["status"])


def _loop_time() -> float:
    """The running loop's clock: ``time.monotonic`` on asyncio's loop, virtual on the virtual one."""
    return asyncio.get_running_loop().time()


@pytest.fixture
def account(kore: respx.MockRouter) -> FakeAccount:
    return FakeAccount(kore)


async def fire(campaign_trigger: CampaignStatusTrigger) -> dict[str, Any]:
    """Run a trigger to its end; it must yield exactly one event."""
    events = [event async for event in campaign_trigger.run()]
    assert len(events) == 1
    return dict(events[0].payload)


def now() -> float:
    """Epoch seconds on the clock the trigger reads: the virtual one on the virtual clock."""
    return float(clock.wall())


def start(campaign_ids: list[str], **overrides: Any) -> asyncio.Future[list[dict[str, Any]]]:
    """Run one trigger per campaign (waiting for Completed, every 0.1 s, for at most 30 s) in
    this loop; the future gives their events in order."""
    arguments = {
        "target_statuses": ["Completed"],
        "poll_interval": 0.1,
        "end_time": now() + 30,
        **overrides,
    }
    return asyncio.gather(
        *(fire(CampaignStatusTrigger(campaign_id=cid, **arguments)) for cid in campaign_ids)
    )
