"""Fault injection and the per-account rate limit, both applied to Kore requests only."""

from __future__ import annotations

import gzip
import json
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
        self.rewrites_answers = bool(
            faults.drip_seconds_per_byte
            or faults.padding_bytes
            or faults.gzip_answers
            or faults.deep_json_depth
            or faults.list_pages
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


LIST_PATH_SUFFIX = "/getAllCampaignDetails"


def hostile_list_request(mode: str, body: bytes) -> bytes:
    """The list request as the hostile server of ``mode`` reads it: "endless" asks for page 1
    again, whatever page it asked for; "unsorted" drops ``sortBy``, ``startDate`` and ``endDate``
    and lists oldest first, as a server that ignores them might."""
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return body
    if not isinstance(request, dict):
        return body
    if mode == "endless":
        request.update(page=1, skip=0)
    elif mode == "unsorted":
        for ignored in ("startDate", "endDate"):
            request.pop(ignored, None)
        request["sortBy"] = {"createdAt": "asc"}
    return json.dumps(request).encode()


def hostile_answer(faults: FaultConfig, path: str, status: int, body: bytes) -> tuple[bytes, dict[str, str]]:
    """The answer body as the hostile server of ``faults`` sends it, and the headers to change."""
    headers: dict[str, str] = {}
    ok = 200 <= status < 300
    if ok and faults.list_pages in ("string", "endless") and path.endswith(LIST_PATH_SUFFIX):
        body = _hostile_page(faults.list_pages, body)
    if ok and faults.deep_json_depth:
        body = b"[" * faults.deep_json_depth + b"]" * faults.deep_json_depth
    if ok and len(body) < faults.padding_bytes:
        body += b" " * (faults.padding_bytes - len(body))
    if faults.gzip_answers:
        body = gzip.compress(body, compresslevel=9)
        headers["content-encoding"] = "gzip"
    headers["content-length"] = str(len(body))
    return body, headers


def _hostile_page(mode: str, body: bytes) -> bytes:
    answer = json.loads(body)
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, dict):
        return body
    if mode == "string":
        data["hasMore"] = "true" if data.get("hasMore") else "false"
    elif mode == "endless":
        data["hasMore"] = True
        data.pop("totalPages", None)
        data.pop("totalResults", None)
    return json.dumps(answer).encode()
