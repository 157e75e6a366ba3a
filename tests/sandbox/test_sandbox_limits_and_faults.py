"""Rate limit (429 + Retry-After) and every injected fault: 5xx, latency, spikes, drops, 429 bursts,
forced statuses. Admin requests are never limited or faulted."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import httpx
import pytest
import requests

from airflow_campaign_provider.sandbox import FaultConfig, SandboxConfig, SandboxServer
from airflow_campaign_provider.sandbox.faults import NO_FAULT, FaultInjector
from tests.sandbox.testkit import KoreClient, error_messages

if TYPE_CHECKING:
    from collections.abc import Iterator

RATE_TEXT = "You've exceeded the per-minute rate limit"


def _statuses(kore: KoreClient, n: int) -> list[int]:
    return [kore.list().status_code for _ in range(n)]


def test_rate_limit_then_ok_after_the_window(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    kore_sandbox.admin.update_config(rate_limit_per_window=3, rate_limit_window_seconds=1.0)

    assert _statuses(kore, 3) == [200, 200, 200]
    refused = kore.list()
    assert refused.status_code == 429
    assert error_messages(refused) == [RATE_TEXT]
    assert refused.json()["errors"][0]["code"] == 429
    assert refused.headers["Retry-After"] == "1"
    for _ in range(20):  # admin calls are never limited
        kore_sandbox.admin.requests()

    time.sleep(float(refused.headers["Retry-After"]))

    assert kore.list().status_code == 200


def test_rate_limit_is_per_account(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    kore_sandbox.admin.update_config(rate_limit_per_window=2, rate_limit_window_seconds=30.0)
    assert _statuses(kore, 3) == [200, 200, 429]

    other = kore.call("POST", "/getAllCampaignDetails", json={}, headers={"accountId": "f" * 24})

    assert other.status_code == 401  # counted on its own account, so refused for auth, not rate


def test_retry_after_can_be_switched_off(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    kore_sandbox.admin.update_config(rate_limit_per_window=1, retry_after_header=False)

    assert _statuses(kore, 2) == [200, 429]
    assert "Retry-After" not in kore.list().headers


def test_the_default_is_sixty_per_minute() -> None:
    config = SandboxConfig()
    assert (config.rate_limit_per_window, config.rate_limit_window_seconds) == (60, 60.0)


def test_5xx_fault(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    kore_sandbox.admin.set_faults(error_rate=1.0, error_status=502)

    answer = kore.list()

    assert answer.status_code == 502
    assert answer.json()["errors"][0]["code"] == 502
    assert kore_sandbox.admin.requests()[-1]["fault"] == "error"
    assert kore_sandbox.admin.health()


def test_fault_draws_are_deterministic(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    kore_sandbox.admin.set_faults(error_rate=0.5, random_seed=7)
    first = _statuses(kore, 30)
    kore_sandbox.admin.set_faults(error_rate=0.5, random_seed=7)
    second = _statuses(kore, 30)
    kore_sandbox.admin.set_faults(error_rate=0.5, random_seed=8)
    third = _statuses(kore, 30)

    assert first == second
    assert first != third
    assert set(first) == {200, 503}


def test_fixed_latency_and_spikes(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    kore_sandbox.admin.set_faults(latency_seconds=0.4)
    start = time.monotonic()
    assert kore.list().status_code == 200
    assert time.monotonic() - start >= 0.4

    kore_sandbox.admin.set_faults(spike_rate=1.0, spike_seconds=0.4)
    start = time.monotonic()
    assert kore.list().status_code == 200
    assert time.monotonic() - start >= 0.4

    # Cleared, nothing is drawn any more: no delay, no fault (a lower bound above, exact here).
    assert kore_sandbox.admin.clear_faults() == FaultConfig()
    assert kore.list().status_code == 200
    assert kore_sandbox.admin.requests()[-1]["fault"] is None
    assert FaultInjector(kore_sandbox.admin.faults()).draw() == NO_FAULT


def test_dropped_connections(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    kore_sandbox.admin.set_faults(drop_rate=1.0)

    with pytest.raises(httpx.TransportError):
        kore.list()
    with pytest.raises(requests.ConnectionError):
        requests.post(
            f"{kore_sandbox.url}{kore.base}/getAllCampaignDetails",
            params={"accountId": kore_sandbox.account_id},
            headers=kore.headers(),
            json={},
            timeout=5,
        )
    dropped = kore_sandbox.admin.requests()[-2:]
    assert [(r["fault"], r["status"]) for r in dropped] == [("drop", None), ("drop", None)]

    kore_sandbox.admin.clear_faults()
    assert kore.list().status_code == 200


def test_429_burst(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    kore_sandbox.admin.set_faults(burst_429=2)

    answers = [kore.list() for _ in range(3)]

    assert [a.status_code for a in answers] == [429, 429, 200]
    assert error_messages(answers[0]) == [RATE_TEXT]
    assert answers[0].headers["Retry-After"] == "1"
    assert kore_sandbox.admin.faults().burst_429 == 2  # the setting; the countdown is internal


def test_forced_status(kore: KoreClient, kore_sandbox: SandboxServer) -> None:
    admin = kore_sandbox.admin
    campaign_id = admin.seed_campaign("Active", complete_in_seconds=60)

    admin.force_status(campaign_id, "Stopped")
    assert kore.status_of(campaign_id) == "Stopped"
    assert kore.get(campaign_id).json()["data"]["status"] == "Stopped"
    listed = kore.list({"filters": {"status": ["Stopped"]}}).json()["data"]["results"]
    assert [c["_id"] for c in listed] == [campaign_id]
    summary = admin.campaigns()["campaigns"][0]
    assert (summary["status"], summary["shownStatus"]) == ("Active", "Stopped")

    admin.force_status(campaign_id, "Archived")  # unknown statuses too, for sensors to cope with
    assert kore.status_of(campaign_id) == "Archived"
    assert admin.faults().forced_statuses == {campaign_id: "Archived"}

    admin.force_status(campaign_id, None)
    assert kore.status_of(campaign_id) == "Active"


def test_faults_from_the_start() -> None:
    config = SandboxConfig(rate_limit_per_window=None, faults=FaultConfig(error_rate=1.0))
    with SandboxServer(config) as sandbox:
        client = KoreClient(sandbox)
        assert client.list().status_code == 503
        sandbox.admin.clear_faults()
        assert client.list().status_code == 200
        sandbox.admin.reset()  # back to the faults it started with
        assert client.list().status_code == 503
        client.close()


@pytest.mark.parametrize(
    "bad",
    [
        {"error_rate": 2},
        {"latency_seconds": -1},
        {"latency_seconds": 3600},
        {"error_status": 404},
        {"nope": 1},
    ],
)
def test_bad_fault_settings_are_refused(kore_sandbox: SandboxServer, bad: dict[str, object]) -> None:
    answer = httpx.put(f"{kore_sandbox.url}/_sandbox/faults", json=bad)

    assert answer.status_code == 400
    assert answer.json()["errors"]


@pytest.fixture
def small_log_sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(rate_limit_per_window=None, request_log_size=3)) as sandbox:
        yield sandbox


def test_the_request_log_is_bounded(small_log_sandbox: SandboxServer) -> None:
    client = KoreClient(small_log_sandbox)
    for i in range(5):
        client.list({"limit": i + 1})
    client.close()

    assert [r["body"] for r in small_log_sandbox.admin.requests()] == [
        {"limit": 3},
        {"limit": 4},
        {"limit": 5},
    ]
