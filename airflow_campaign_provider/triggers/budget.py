"""The request budget the shared pollers spend: a token bucket per account, and its waits.

Every coroutine of one event loop that talks to one Kore account takes a token from the same
:class:`TokenBucket` before it sends, so the process stays inside the account's budget.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from airflow_campaign_provider.exceptions import CampaignRateLimitError

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable


async def wait_event(event: asyncio.Event, timeout: float | None) -> bool:
    """Wait until ``event`` is set (True) or ``timeout`` seconds pass (False).

    Unlike ``asyncio.wait_for`` before Python 3.12, it never swallows a cancellation that
    arrives just as the event is set: a cancelled trigger or poller really stops.
    """
    if event.is_set():
        return True
    waiting = asyncio.ensure_future(event.wait())
    try:
        done, _ = await asyncio.wait({waiting}, timeout=timeout)
    finally:
        waiting.cancel()
    return bool(done)


class TokenBucket:
    """At most ``capacity`` requests in any ``window_seconds``, shared by the coroutines of one loop.

    A token is taken before a request is sent and comes back one window after its answer arrived
    (or the send failed), not after it started: however slow the exchange, the server never sees
    more than ``capacity`` requests inside one window, whatever its clock. A burst of up to
    ``capacity`` requests is allowed. A rate-limited answer makes :meth:`hold` pause every sender,
    since the server's count evidently includes requests this bucket never saw.

    Bound: a sender waits at most ``max_wait_seconds`` for a token, then gets a
    ``CampaignRateLimitError``, which the retry policy treats like Kore's own 429.
    """

    def __init__(
        self,
        capacity: int,
        window_seconds: float = 60.0,
        *,
        max_wait_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if capacity < 1:
            raise ValueError(f"capacity: must be at least 1, got {capacity}")
        if not window_seconds > 0:
            raise ValueError(f"window_seconds: must be positive, got {window_seconds}")
        self.capacity = capacity
        self.window_seconds = window_seconds
        self.max_wait_seconds = max_wait_seconds if max_wait_seconds is not None else 5 * window_seconds
        self._clock = clock
        self._returns: deque[float] = deque()  # when each spent token comes back, oldest first
        self._in_flight = 0
        self._hold_until = 0.0
        self._released = asyncio.Event()
        self.sent = 0

    @property
    def in_use(self) -> int:
        """Tokens spent within the last window or held by a request still in flight."""
        self._forget_returned(self._clock())
        return self._in_flight + len(self._returns)

    def lower_capacity(self, capacity: int) -> None:
        """Shrink the budget (two connections of one account declared different budgets)."""
        self.capacity = max(1, min(self.capacity, capacity))

    def hold(self, seconds: float | None) -> None:
        """Send nothing for ``seconds`` (a quarter window when the server gave no ``Retry-After``)."""
        pause = self.window_seconds / 4 if seconds is None else max(0.0, seconds)
        self._hold_until = max(self._hold_until, self._clock() + pause)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one token around one HTTP exchange."""
        await self._take()
        try:
            yield
        finally:
            self._in_flight -= 1
            self._returns.append(self._clock() + self.window_seconds)
            self._released.set()
            self._released.clear()

    def _forget_returned(self, now: float) -> None:
        while self._returns and self._returns[0] <= now:
            self._returns.popleft()

    async def _take(self) -> None:
        deadline = self._clock() + self.max_wait_seconds
        # Each pass takes a token, gives up at the deadline, or sleeps until a token returns, a
        # hold ends or an in-flight request finishes: bounded in time by the deadline.
        while True:
            now = self._clock()
            self._forget_returned(now)
            if now >= self._hold_until and self._in_flight + len(self._returns) < self.capacity:
                self._in_flight += 1
                self.sent += 1
                return
            if now >= deadline:
                raise CampaignRateLimitError(
                    f"no room in the budget of {self.capacity} requests per {self.window_seconds:g}s "
                    f"within {self.max_wait_seconds:g}s"
                )
            if now < self._hold_until:
                wake = self._hold_until
            elif self._returns:
                wake = self._returns[0]
            else:
                wake = deadline  # every token is in flight: a release sets the event
            await wait_event(self._released, max(0.0, min(wake, deadline) - now))
