"""The package's one clock seam.

Every wait, deadline and timestamp in the provider reads time through this module, called as
``clock.sleep(...)`` (never imported by name), so a test that wants waits without waiting patches
one place: ``monkeypatch.setattr(clock, "sleep", fake.sleep)``. Two kinds of pause stay apart
because tests treat them differently: the back-off between retries of one request (``backoff``),
usually made free, and the pause between polls of a lifecycle wait (``sleep``), usually made
virtual so the wait's own deadline still holds.
"""

from __future__ import annotations

import asyncio
import time


def wall() -> float:
    """Seconds since the epoch: timestamps and deadlines that cross processes (triggers)."""
    return time.time()


def monotonic() -> float:
    """Seconds on a clock that never jumps: deadlines inside one process."""
    return time.monotonic()


def sleep(seconds: float) -> None:
    """Pause between polls of a lifecycle wait (status, contact count, re-checks)."""
    if seconds > 0:
        time.sleep(seconds)


def backoff(seconds: float) -> None:
    """Pause before retrying a request (server errors, 429s)."""
    if seconds > 0:
        time.sleep(seconds)


async def sleep_async(seconds: float) -> None:
    """The event loop's pause between polls."""
    await asyncio.sleep(max(seconds, 0.0))


async def backoff_async(seconds: float) -> None:
    """The event loop's pause before retrying a request."""
    await asyncio.sleep(max(seconds, 0.0))
