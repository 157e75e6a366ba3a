"""Waiting on a condition another thread or process makes true: the one place tests poll.

The timeout only ends a broken test; a passing test waits just as long as the condition takes, so
a loaded machine makes it slower, never red.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(condition: Callable[[], object], timeout: float = 60.0, what: str = "the condition") -> None:
    """Poll ``condition`` every 20 ms until it is true; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout:.0f} s")
        time.sleep(0.02)
