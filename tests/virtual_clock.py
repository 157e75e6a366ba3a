"""An asyncio event loop whose clock is virtual: time passes only when nothing else can happen.

When every coroutine is waiting for a timer, the loop jumps its clock straight to the next timer
instead of sleeping, so ``asyncio.sleep(30)``, ``asyncio.wait(..., timeout=...)`` and every
``call_later`` cost no wall time, and what a test sees depends only on the order of events, never
on how busy the machine is. While a thread of the loop's executor is working (``run_in_executor``,
``asyncio.to_thread``) the clock stands still and the loop waits for it in real time, so a thread
never sees a deadline pass early. Real sockets still work, but their waits are real: a test on this
loop talks to mocks (respx), not to servers.

Code under test reads the clock through ``loop.time()`` (asyncio itself does) or through
:class:`VirtualTime`, which a test puts in place of a module's ``time``.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Callable
from typing import Any

#: Where the virtual epoch starts (2027-01-15 08:00:00 UTC); any fixed moment does.
EPOCH = 1_800_000_000.0


class _JumpingSelector(selectors.DefaultSelector):  # type: ignore[misc,valid-type]
    """Selects without blocking; when nothing is ready, moves the loop's clock instead of waiting."""

    def __init__(self, loop: VirtualClockLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[tuple[Any, int]]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if self._loop.threads_working or timeout is None:
            # A thread (or a socket) will wake the loop: wait for it in real time, clock still.
            return super().select(0.01 if timeout is None else min(timeout, 0.01))
        self._loop.advance(timeout)
        return []


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """The event loop of :mod:`tests.virtual_clock`: see there."""

    def __init__(self) -> None:
        self._now = 0.0
        self.threads_working = 0
        super().__init__(selector=_JumpingSelector(self))

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def call_at(
        self, when: float, callback: Callable[..., Any], *args: Any, context: Any = None
    ) -> asyncio.TimerHandle:
        # asyncio runs a timer due within its clock resolution (1 ns) at once; a real clock has
        # moved on by then, so this one moves to the timer's moment too: code that sleeps until
        # a deadline always sees it reached, and never spins on a remainder below a nanosecond.
        return super().call_at(when, self._at, when, callback, *args, context=context)

    def _at(self, when: float, callback: Callable[..., Any], *args: Any) -> None:
        self._now = max(self._now, when)
        callback(*args)

    def run_in_executor(self, executor: Any, func: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        future = super().run_in_executor(executor, func, *args)
        self.threads_working += 1
        future.add_done_callback(self._thread_done)
        return future

    def _thread_done(self, _: asyncio.Future[Any]) -> None:
        self.threads_working -= 1


class VirtualTime:
    """A stand-in for the ``time`` module that reads the running virtual loop's clock."""

    @staticmethod
    def monotonic() -> float:
        return asyncio.get_running_loop().time()

    @staticmethod
    def time() -> float:
        return EPOCH + asyncio.get_running_loop().time()
