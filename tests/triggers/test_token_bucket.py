"""TokenBucket: never more than `capacity` requests in any window, however long each one takes."""

from __future__ import annotations

import asyncio
import random

import pytest

from airflow_campaign_provider.exceptions import CampaignRateLimitError
from airflow_campaign_provider.triggers.budget import TokenBucket


def _now() -> float:
    return asyncio.get_running_loop().time()


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
    bucket = TokenBucket(3, 0.3, clock=lambda: asyncio.get_running_loop().time())
    spans: list[tuple[float, float]] = []
    began = _now()
    await asyncio.gather(*(_exchange(bucket, 0.0, spans) for _ in range(3)))
    assert _now() - began < 0.1
    await _exchange(bucket, 0.0, spans)
    assert spans[-1][0] - began >= 0.3


async def test_a_token_comes_back_a_window_after_the_answer_not_after_the_send():
    bucket = TokenBucket(1, 0.2)
    spans: list[tuple[float, float]] = []
    await _exchange(bucket, 0.15, spans)
    await _exchange(bucket, 0.0, spans)
    (_, first_end), (second_start, _) = spans
    assert second_start - first_end >= 0.2 - 0.01


async def test_concurrent_senders_of_random_durations_never_exceed_the_budget():
    rng = random.Random(7)
    bucket = TokenBucket(4, 0.25, max_wait_seconds=5.0)
    spans: list[tuple[float, float]] = []
    await asyncio.gather(*(_exchange(bucket, rng.uniform(0, 0.08), spans) for _ in range(20)))
    assert len(spans) == 20
    assert _worst_window(spans, 0.25 - 0.005) <= 4
    assert bucket.sent == 20


async def test_hold_pauses_every_sender():
    bucket = TokenBucket(10, 1.0)
    bucket.hold(0.2)
    spans: list[tuple[float, float]] = []
    began = _now()
    await asyncio.gather(_exchange(bucket, 0, spans), _exchange(bucket, 0, spans))
    assert min(start for start, _ in spans) - began >= 0.19


async def test_hold_without_retry_after_pauses_a_quarter_window():
    bucket = TokenBucket(10, 0.4)
    bucket.hold(None)
    began = _now()
    async with bucket.slot():
        assert _now() - began >= 0.09


async def test_waiting_is_bounded():
    bucket = TokenBucket(1, 10.0, max_wait_seconds=0.05)
    async with bucket.slot():
        pass
    with pytest.raises(CampaignRateLimitError, match="no room"):
        async with bucket.slot():
            pass


async def test_a_finished_request_wakes_a_sender_waiting_on_in_flight_tokens():
    bucket = TokenBucket(1, 0.05)
    spans: list[tuple[float, float]] = []
    await asyncio.gather(_exchange(bucket, 0.1, spans), _exchange(bucket, 0.0, spans))
    (_, first_end), (second_start, _) = sorted(spans)
    assert second_start >= first_end + 0.05 - 0.01


async def test_capacity_only_ever_shrinks_and_in_use_counts_recent_sends():
    bucket = TokenBucket(5, 0.5)
    bucket.lower_capacity(10)
    assert bucket.capacity == 5
    bucket.lower_capacity(2)
    assert bucket.capacity == 2
    async with bucket.slot():
        assert bucket.in_use == 1
    assert bucket.in_use == 1


@pytest.mark.parametrize(("capacity", "window", "field"), [(0, 1.0, "capacity"), (1, 0.0, "window_seconds")])
def test_bad_settings_are_refused(capacity, window, field):
    with pytest.raises(ValueError, match=field):
        TokenBucket(capacity, window)
