"""TokenBucket: never more than `capacity` requests in any window, however long each one takes.

On the virtual clock: every duration below is exact, whatever the machine's load."""

from __future__ import annotations

import asyncio
import random

import pytest

from airflow_campaign_provider.exceptions import CampaignRateLimitError
from airflow_campaign_provider.triggers.budget import TokenBucket
from tests.virtual_clock import VirtualTime

pytestmark = pytest.mark.virtual_clock


def _now() -> float:
    return asyncio.get_running_loop().time()


def bucket_of(capacity: int, window: float, **options: float) -> TokenBucket:
    """A bucket on the test's (virtual) clock."""
    return TokenBucket(capacity, window, clock=VirtualTime.monotonic, **options)


async def _exchange(bucket: TokenBucket, duration: float, spans: list[tuple[float, float]]) -> None:
    async with bucket.slot():
        start = _now()
        await asyncio.sleep(duration)
        spans.append((start, _now()))


def _worst_window(spans: list[tuple[float, float]], window: float) -> int:
    """The most requests a server could count in one window: each earlier request arriving as
    late as its answer, the last one as early as its send."""
    worst = 0
    for start, _ in spans:
        worst = max(worst, sum(1 for s, end in spans if s <= start and end > start - window))
    return worst


async def test_a_full_burst_passes_at_once_then_the_next_waits_a_window():
    bucket = bucket_of(3, 0.3)
    spans: list[tuple[float, float]] = []
    began = _now()
    await asyncio.gather(*(_exchange(bucket, 0.0, spans) for _ in range(3)))
    assert [start - began for start, _ in spans] == [0.0] * 3
    await _exchange(bucket, 0.0, spans)
    assert spans[-1][0] - began == pytest.approx(0.3)


async def test_a_token_comes_back_a_window_after_the_answer_not_after_the_send():
    bucket = bucket_of(1, 0.2)
    spans: list[tuple[float, float]] = []
    await _exchange(bucket, 0.15, spans)
    await _exchange(bucket, 0.0, spans)
    (_, first_end), (second_start, _) = spans
    assert second_start - first_end == pytest.approx(0.2)


async def test_concurrent_senders_of_random_durations_never_exceed_the_budget():
    rng = random.Random(7)
    bucket = bucket_of(4, 0.25, max_wait_seconds=5.0)
    spans: list[tuple[float, float]] = []
    await asyncio.gather(*(_exchange(bucket, rng.uniform(0, 0.08), spans) for _ in range(20)))
    assert len(spans) == 20
    assert _worst_window(spans, 0.25 - 1e-9) == 4  # full use of the budget, never more
    assert bucket.sent == 20


async def test_hold_pauses_every_sender():
    bucket = bucket_of(10, 1.0)
    bucket.hold(0.2)
    spans: list[tuple[float, float]] = []
    began = _now()
    await asyncio.gather(_exchange(bucket, 0, spans), _exchange(bucket, 0, spans))
    assert [start - began for start, _ in spans] == [pytest.approx(0.2)] * 2


async def test_hold_without_retry_after_pauses_a_quarter_window():
    bucket = bucket_of(10, 0.4)
    bucket.hold(None)
    began = _now()
    async with bucket.slot():
        assert _now() - began == pytest.approx(0.1)


async def test_waiting_is_bounded():
    bucket = bucket_of(1, 10.0, max_wait_seconds=0.05)
    async with bucket.slot():
        pass
    began = _now()
    with pytest.raises(CampaignRateLimitError, match="no room"):
        async with bucket.slot():
            pass
    assert _now() - began == pytest.approx(0.05)


async def test_a_finished_request_wakes_a_sender_waiting_on_in_flight_tokens():
    bucket = bucket_of(1, 0.05)
    spans: list[tuple[float, float]] = []
    await asyncio.gather(_exchange(bucket, 0.1, spans), _exchange(bucket, 0.0, spans))
    (_, first_end), (second_start, _) = sorted(spans)
    assert second_start - first_end == pytest.approx(0.05)


async def test_capacity_only_ever_shrinks_and_in_use_counts_recent_sends():
    bucket = bucket_of(5, 0.5)
    bucket.lower_capacity(10)
    assert bucket.capacity == 5
    bucket.lower_capacity(2)
    assert bucket.capacity == 2
    async with bucket.slot():
        assert bucket.in_use == 1
    assert bucket.in_use == 1
    await asyncio.sleep(0.5)
    assert bucket.in_use == 0  # back one window after the answer


@pytest.mark.parametrize(("capacity", "window", "field"), [(0, 1.0, "capacity"), (1, 0.0, "window_seconds")])
def test_bad_settings_are_refused(capacity, window, field):
    with pytest.raises(ValueError, match=field):
        TokenBucket(capacity, window)
