"""The account budget: one window in a real Redis for every sender, pauses, outages, settings."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import redis
import responses
import respx

from airflow_campaign_provider import clock
from airflow_campaign_provider.api import RetryPolicy
from airflow_campaign_provider.budget import (
    AsyncRequestBudget,
    BudgetSettings,
    RequestBudget,
    StoreDownPolicy,
    redacted,
)
from airflow_campaign_provider.exceptions import (
    CampaignBudgetStoreError,
    CampaignConnectionConfigError,
    CampaignRateLimitError,
)
from airflow_campaign_provider.hooks.campaign import CampaignHook
from airflow_campaign_provider.hooks.campaign_async import CampaignAsyncHook
from airflow_campaign_provider.models.connection import KoreConnectionSettings
from tests.hooks.conftest import ACCOUNT_ID, BASE, HOST, connection_json
from tests.servers import RedisServer, free_port, redis_server

ACCOUNT = ("https://kore.example.test", "acct-1")
BUDGET = 4


@pytest.fixture(scope="module")
def store() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture
def store_url(store: RedisServer) -> Iterator[str]:
    yield store.url
    redis.Redis.from_url(store.url).flushdb()


def shared(url: str | None, **overrides: object) -> BudgetSettings:
    settings: dict[str, object] = {
        "requests": BUDGET,
        "window_seconds": 1,
        "store_url": url,
        "slack_seconds": 0,
    }
    return BudgetSettings(**{**settings, **overrides})  # type: ignore[arg-type]


def busiest_window(times: list[float], window: float) -> int:
    return max(sum(1 for other in times if at <= other < at + window) for at in times)


def test_senders_in_many_processes_share_one_window(store_url):
    # Each budget has its own Redis connections, as separate processes would.
    settings = shared(store_url)
    budgets = [RequestBudget(settings, *ACCOUNT) for _ in range(3)]
    taken: list[float] = []
    lock = threading.Lock()

    def send(budget: RequestBudget) -> None:
        for _ in range(4):
            budget.take()
            with lock:
                taken.append(time.time())

    threads = [threading.Thread(target=send, args=(budget,)) for budget in budgets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(taken) == 12
    # Times are noted just after each take, a few ms late: a hair less than the window.
    assert busiest_window(taken, 0.95) <= BUDGET
    assert sum(budget.sent for budget in budgets) == 12


async def test_sync_and_async_senders_share_the_window(store_url):
    settings = shared(store_url)
    sync_budget = RequestBudget(settings, *ACCOUNT)
    for _ in range(BUDGET):
        sync_budget.take()
    last_sync = time.time()
    async_budget = AsyncRequestBudget(settings, *ACCOUNT)
    await async_budget.take()
    await async_budget.aclose()
    assert time.time() - last_sync >= 0.9  # the async sender waited for the sync one's window
    assert async_budget.waited_seconds > 0


async def test_a_pause_from_one_process_holds_every_other(store_url):
    settings = shared(store_url)
    RequestBudget(settings, *ACCOUNT).pause(0.5)
    paused_until = redis.Redis.from_url(store_url).zscore("KORE-BUDGET/pause/" + "/".join(ACCOUNT), "until")
    assert paused_until is not None
    other = AsyncRequestBudget(settings, *ACCOUNT)
    await other.take()
    await other.aclose()
    assert time.time() >= paused_until


def test_a_pause_is_capped_and_never_shortened(store_url):
    budget = RequestBudget(shared(store_url, max_pause_seconds=2.0), *ACCOUNT)
    client = redis.Redis.from_url(store_url)
    key = "KORE-BUDGET/pause/" + "/".join(ACCOUNT)
    budget.pause(3600)
    capped = client.zscore(key, "until")
    assert capped is not None
    assert capped <= time.time() + 2.0
    budget.pause(0.1)
    assert client.zscore(key, "until") == capped
    assert 0 < client.ttl(key) <= 3  # gone soon after the longest pause could end


def test_a_budget_without_room_fails_like_a_429_after_its_wait_limit(store_url):
    budget = RequestBudget(shared(store_url, max_wait_seconds=0.2), *ACCOUNT)
    budget.pause(30)
    with pytest.raises(CampaignRateLimitError, match="no room in the budget of 4 requests per 1s"):
        budget.take()


@pytest.fixture
def silent_store() -> Iterator[str]:
    """A port that accepts connections and never answers: the store that hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


@pytest.mark.parametrize("kind", ["refused", "silent"])
def test_a_store_that_is_down_falls_back_to_a_per_process_budget_with_a_warning(kind, silent_store, caplog):
    url = silent_store if kind == "silent" else f"redis://127.0.0.1:{free_port()}/0"
    budget = RequestBudget(shared(url, store_timeout_seconds=0.2), *ACCOUNT)
    began = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="airflow_campaign_provider.budget"):
        for _ in range(BUDGET):
            budget.take()
    assert time.monotonic() - began < 0.2 * 3  # one timeout, then the process's own window
    assert budget.store_failures == 1
    (warning,) = [record.getMessage() for record in caplog.records]
    assert "falls back to its own budget of 4 requests per 1s" in warning
    # The per-process window holds: the fifth slot is a window away.
    with pytest.raises(CampaignRateLimitError):
        RequestBudget.take(budget_with_wait_limit(budget, 0.05))


def budget_with_wait_limit(budget: RequestBudget, seconds: float) -> RequestBudget:
    from dataclasses import replace

    budget.settings = replace(budget.settings, max_wait_seconds=seconds)
    return budget


def test_a_store_that_comes_back_is_used_again(store_url):
    budget = RequestBudget(shared(store_url), *ACCOUNT)
    budget._store_failed(ConnectionError("gone for a moment"))  # as a failed call would
    budget.take()
    assert window_entries(store_url) == 0  # counted in this process only
    deadline = time.monotonic() + 5
    while not window_entries(store_url):
        assert time.monotonic() < deadline, "the store was not asked again a window later"
        budget.take()
    assert budget.store_failures == 1


async def test_a_store_that_is_down_fails_the_call_when_the_setting_says_so(silent_store):
    url = silent_store.replace("redis://", "redis://:hunter2-pass@")
    budget = AsyncRequestBudget(
        shared(url, on_store_down=StoreDownPolicy.FAIL, store_timeout_seconds=0.2), *ACCOUNT
    )
    with pytest.raises(CampaignBudgetStoreError, match="budget_store_down = fail") as caught:
        await budget.take()
    await budget.aclose()
    assert "hunter2" not in str(caught.value)
    assert ":***@127.0.0.1" in str(caught.value)


def test_redacted_hides_only_the_password():
    assert redacted("redis://user:pw@h:1/2") == "redis://user:***@h:1/2"
    assert redacted("redis://h:1/2") == "redis://h:1/2"


async def test_a_per_process_budget_lets_a_burst_through_then_waits_a_window():
    budget = AsyncRequestBudget(shared(None), *ACCOUNT)
    taken = []
    for _ in range(BUDGET + 1):
        await budget.take()
        taken.append(time.time())
    assert taken[BUDGET - 1] - taken[0] < 0.5
    assert taken[BUDGET] - taken[0] >= 1.0 - 0.05


async def test_concurrent_senders_never_exceed_a_per_process_budget():
    budget = AsyncRequestBudget(shared(None), *ACCOUNT)
    taken: list[float] = []

    async def send() -> None:
        await budget.take()
        taken.append(time.time())

    await asyncio.gather(*(send() for _ in range(10)))
    assert len(taken) == 10
    assert busiest_window(taken, 0.95) <= BUDGET


async def test_a_pause_without_retry_after_holds_a_quarter_window():
    budget = AsyncRequestBudget(shared(None, window_seconds=2), *ACCOUNT)
    began = time.time()
    await budget.pause(None)
    await budget.take()
    assert time.time() - began >= 0.5 - 0.02


def test_connections_of_one_account_share_the_smallest_budget():
    from airflow_campaign_provider.budget import budget_for

    first = budget_for(BudgetSettings(requests=30), *ACCOUNT)
    second = budget_for(BudgetSettings(requests=10), *ACCOUNT)
    assert second is first
    assert first.settings.requests == 10
    budget_for(BudgetSettings(requests=50), *ACCOUNT)
    assert first.settings.requests == 10


# --- settings ---------------------------------------------------------------------------------


def test_settings_come_from_the_provider_section_and_the_connection_overrides_them(monkeypatch):
    monkeypatch.setenv("AIRFLOW__KORE_CAMPAIGN__BUDGET_STORE_URL", "redis://127.0.0.1:1/3")
    monkeypatch.setenv("AIRFLOW__KORE_CAMPAIGN__BUDGET_WINDOW_SECONDS", "6")
    monkeypatch.setenv("AIRFLOW__KORE_CAMPAIGN__BUDGET_STORE_DOWN", "fail")
    monkeypatch.setenv("AIRFLOW__KORE_CAMPAIGN__BUDGET_SLACK_SECONDS", "0")
    from_config = BudgetSettings.from_config(30)
    assert (from_config.store_url, from_config.window_seconds, from_config.on_store_down) == (
        "redis://127.0.0.1:1/3",
        6,
        StoreDownPolicy.FAIL,
    )
    assert (from_config.requests, from_config.slack_seconds, from_config.wait_limit) == (30, 0, 30.0)
    overrides = connection_settings(
        {"budget_store_url": "off", "budget_window_seconds": 60, "budget_store_down": "fallback"}
    ).budget
    mine = BudgetSettings.from_config(30, overrides)
    assert (mine.store_url, mine.window_seconds, mine.on_store_down) == (None, 60, StoreDownPolicy.FALLBACK)


def test_without_settings_the_budget_is_per_process_with_kore_s_window():
    settings = BudgetSettings.from_config(60)
    assert (settings.store_url, settings.window_seconds, settings.slack_seconds) == (None, 60, 1)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"budget_store_url": "http://cache:6379"}, "extra.budget_store_url: must be a redis://"),
        ({"budget_window_seconds": "1.5"}, "extra.budget_window_seconds: must be a whole number"),
        ({"budget_window_seconds": 0}, "extra.budget_window_seconds: must be a whole number of seconds >= 1"),
        ({"budget_store_down": "ignore"}, "extra.budget_store_down: must be one of ['fallback', 'fail']"),
    ],
)
def test_a_bad_connection_setting_names_the_field(extra, message):
    with pytest.raises(CampaignConnectionConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        connection_settings(extra)


def connection_settings(extra: dict[str, object]) -> KoreConnectionSettings:
    return KoreConnectionSettings.from_connection(
        host=HOST,
        port=None,
        login="cs-id",
        password="secret",
        extra={"account_id": "a", "stream_id": "st-1", **extra},
    )


def test_a_bad_provider_setting_names_the_option(monkeypatch):
    monkeypatch.setenv("AIRFLOW__KORE_CAMPAIGN__BUDGET_STORE_TIMEOUT_SECONDS", "soon")
    with pytest.raises(
        ValueError, match=r"\[kore_campaign\] budget_store_timeout_seconds: must be a positive"
    ):
        BudgetSettings.from_config(60)


# --- the hooks --------------------------------------------------------------------------------


@pytest.fixture
def shared_connection(monkeypatch, store_url) -> str:
    monkeypatch.setenv(
        "AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT",
        connection_json(
            extra={"budget_store_url": store_url, "budget_window_seconds": 60, "requests_per_minute": 3}
        ),
    )
    monkeypatch.setenv("AIRFLOW__KORE_CAMPAIGN__BUDGET_SLACK_SECONDS", "0")
    return store_url


def window_entries(url: str) -> int:
    client = redis.Redis.from_url(url)
    return sum(client.llen(key) for key in client.keys("LIMITS:KORE-BUDGET/*"))


def test_every_send_of_the_sync_hook_takes_a_shared_slot_retries_included(shared_connection, monkeypatch):

    monkeypatch.setattr(clock, "backoff", lambda seconds: None)
    hook = CampaignHook(retry_policy=RetryPolicy(max_attempts=3))
    status = f"{BASE}/cd-1/status"
    with responses.RequestsMock() as mocked:
        mocked.post(status, status=503, json={"errors": [{"msg": "busy"}]})
        mocked.post(status, json={"status": "success", "data": {"id": "cd-1", "status": "Active"}})
        assert hook.get_campaign_status("cd-1") == "Active"
    assert hook.budget.shared
    assert hook.budget.sent == 2
    assert window_entries(shared_connection) == 2


def test_a_429_seen_by_the_sync_hook_pauses_the_async_hook(shared_connection, monkeypatch):

    monkeypatch.setattr(clock, "backoff", lambda seconds: None)
    hook = CampaignHook(retry_policy=RetryPolicy(max_attempts=1))
    with responses.RequestsMock() as mocked:
        mocked.post(
            f"{BASE}/cd-1/status",
            status=429,
            json={"errors": [{"msg": "You've exceeded the per-minute rate limit"}]},
            headers={"Retry-After": "1"},
        )
        with pytest.raises(CampaignRateLimitError):
            hook.get_campaign_status("cd-1")
    refused_at = time.time()

    async def read_in_a_triggerer() -> float:
        async_hook = CampaignAsyncHook(retry_policy=RetryPolicy(max_attempts=1))
        with respx.mock(base_url=HOST) as kore:
            kore.post(f"{BASE}/cd-1/status").mock(
                return_value=httpx.Response(
                    200, json={"status": "success", "data": {"id": "cd-1", "status": "Active"}}
                )
            )
            assert await async_hook.get_campaign_status("cd-1") == "Active"
        assert isinstance(async_hook.budget, AsyncRequestBudget)
        await async_hook.budget.aclose()
        await async_hook.aclose()
        return time.time()

    assert asyncio.run(read_in_a_triggerer()) >= refused_at + 1.0 - 0.05
    assert ACCOUNT_ID  # the same account for both hooks: one window, one pause
