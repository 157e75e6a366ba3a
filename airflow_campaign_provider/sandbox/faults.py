"""Fault injection and the per-account rate limit, both applied to Kore requests only."""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_campaign_provider.sandbox.config import FaultConfig


class Fault(str, Enum):
    """What a faulted request gets instead of its answer (as written in the request log)."""

    DROP = "drop"
    BURST_429 = "burst_429"
    ERROR = "error"


@dataclass(frozen=True)
class FaultDraw:
    """The faults drawn for one request: a delay to add first, then maybe a fault."""

    delay: float = 0.0
    fault: Fault | None = None


NO_FAULT = FaultDraw()


class FaultInjector:
    """Draws faults for each Kore request from a seeded generator (deterministic per config)."""

    def __init__(self, faults: FaultConfig) -> None:
        self.configure(faults)

    def configure(self, faults: FaultConfig) -> None:
        """Apply new fault settings and restart the random sequence from their seed."""
        self.faults = faults
        self._rng = random.Random(faults.random_seed)
        self._burst_left = faults.burst_429
        self._idle = not (
            faults.error_rate
            or faults.latency_seconds
            or faults.spike_rate
            or faults.drop_rate
            or faults.burst_429
        )

    def draw(self) -> FaultDraw:
        """Decide the faults of the next request."""
        if self._idle:
            return NO_FAULT
        f = self.faults
        delay = f.latency_seconds
        if f.spike_rate and self._rng.random() < f.spike_rate:
            delay += f.spike_seconds
        fault: Fault | None = None
        if f.drop_rate and self._rng.random() < f.drop_rate:
            fault = Fault.DROP
        elif self._burst_left > 0:
            self._burst_left -= 1
            fault = Fault.BURST_429
        elif f.error_rate and self._rng.random() < f.error_rate:
            fault = Fault.ERROR
        return FaultDraw(delay, fault)


class RateLimiter:
    """Sliding-window limit: at most `limit` admitted requests per `window` seconds per key."""

    def __init__(self, limit: int | None, window: float) -> None:
        self._history: dict[str, deque[float]] = {}
        self.configure(limit, window)

    def configure(self, limit: int | None, window: float) -> None:
        """Change the limit (None = off) and window; the history of admitted requests is kept."""
        self.limit = limit
        self.window = window

    def clear(self) -> None:
        """Forget every admitted request."""
        self._history.clear()

    def admit(self, key: str, now: float) -> float | None:
        """Admit a request (None) or return the seconds until one would be admitted."""
        if self.limit is None:
            return None
        times = self._history.setdefault(key, deque())
        horizon = now - self.window
        while times and times[0] <= horizon:
            times.popleft()
        if len(times) >= self.limit:
            return times[len(times) - self.limit] - horizon
        times.append(now)
        return None


def retry_after_header(seconds: float) -> str:
    """Whole seconds for a Retry-After header, at least 1."""
    return str(max(1, math.ceil(seconds)))
