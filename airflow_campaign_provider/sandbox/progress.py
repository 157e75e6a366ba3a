"""What ``run_dag`` shows while a DAG runs: each task's state as it changes and, on long waits,
the messages sent and calls made so far (a bar redrawn in place on a terminal, a plain line
every so often otherwise, e.g. in CI logs).

Task states come from ``dag_test``'s listener, as event lines on Airflow's output
(:data:`EVENT_PREFIX` and JSON); the counts from the sandbox's admin view, sampled by
``run_dag``'s watcher. Both arrive on their own threads, so every write holds one lock.
"""

from __future__ import annotations

import json
import threading
import time
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

#: Starts a line ``dag_test`` writes for ``run_dag`` when a task instance changes state.
EVENT_PREFIX = "##kore-run-dag-task## "
#: A wait this long without a task changing state gets a line of counts (plain output).
QUIET_SECONDS = 10.0
BAR_WIDTH = 24


def event_line(task_id: str, map_index: int, state: str, error: str | None = None) -> str:
    """The line ``dag_test`` writes when a task instance changes state."""
    return EVENT_PREFIX + json.dumps(
        {"task_id": task_id, "map_index": map_index, "state": state, "error": error}
    )


def parse_event(line: str) -> dict[str, Any] | None:
    """The event an output line carries, or None for Airflow's own lines."""
    if not line.startswith(EVENT_PREFIX):
        return None
    try:
        event = json.loads(line[len(EVENT_PREFIX) :])
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def counts(campaigns: Sequence[Mapping[str, Any]]) -> tuple[int, int, int]:
    """``(SMS sent, calls made, contacts due)`` over the sandbox's campaigns."""
    sms = sum(int(c.get("totalMessagesSent") or 0) for c in campaigns if c.get("campaignType") != "voice")
    calls = sum(int(c.get("totalMessagesSent") or 0) for c in campaigns if c.get("campaignType") == "voice")
    due = sum(int(c.get("due") or 0) for c in campaigns)
    return sms, calls, due


class Progress:
    """Prints task states and, during long waits, how many messages and calls have gone out."""

    def __init__(
        self, out: IO[str], terminal: bool | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.out = out
        self.terminal = out.isatty() if terminal is None else terminal
        self._clock = clock
        self._lock = threading.Lock()
        self._started = clock()
        self._last_line = self._started
        self._bar_shown = False
        self._starts: dict[tuple[str, int], int] = {}
        #: The highest count seen per campaign: a deleted campaign leaves the admin view.
        self._sent: dict[str, tuple[str, int, int]] = {}

    def _elapsed(self) -> str:
        return f"{self._clock() - self._started:>5.0f} s"

    def _write(self, text: str) -> None:
        if self._bar_shown:
            self.out.write("\r\033[K")
            self._bar_shown = False
        self.out.write(text + "\n")
        self.out.flush()
        self._last_line = self._clock()

    def task(self, task_id: str, map_index: int, state: str, error: str | None = None) -> None:
        """One task instance changed state: ``running``, ``success``, ``failed``, ``skipped``."""
        label = task_id if map_index < 0 else f"{task_id}[{map_index}]"
        with self._lock:
            if state == "running":
                starts = self._starts[(task_id, map_index)] = self._starts.get((task_id, map_index), 0) + 1
                state = "running" if starts == 1 else "resumed (after waiting in the triggerer)"
            line = f"  {self._elapsed()}  {label:<28} {state}"
            if error:
                line += f": {error.splitlines()[0][:300]}"
            self._write(line)

    def event(self, event: Mapping[str, Any]) -> None:
        """A task event as ``dag_test`` wrote it."""
        self.task(
            str(event["task_id"]), int(event.get("map_index", -1)), str(event["state"]), event.get("error")
        )

    def sample(self, campaigns: Sequence[Mapping[str, Any]]) -> None:
        """The sandbox's campaigns now: redraw the bar, or print counts after a quiet while."""
        for c in campaigns:
            self._sent[str(c["id"])] = (
                str(c.get("campaignType") or "sms"),
                int(c.get("totalMessagesSent") or 0),
                int(c.get("due") or 0),
            )
        sms, calls, due = counts(
            [
                {"campaignType": kind, "totalMessagesSent": sent, "due": d}
                for kind, sent, d in self._sent.values()
            ]
        )
        if not due:
            return
        with self._lock:
            text = f"{sms} SMS sent, {calls} calls made, of {due} contacts due"
            if self.terminal:
                done = min(BAR_WIDTH, (sms + calls) * BAR_WIDTH // due)
                bar = "#" * done + "." * (BAR_WIDTH - done)
                self.out.write(f"\r\033[K  {self._elapsed()}  [{bar}] {text}")
                self.out.flush()
                self._bar_shown = True
            elif self._clock() - self._last_line >= QUIET_SECONDS:
                self._write(f"  {self._elapsed()}  … waiting: {text}")

    def close(self) -> None:
        """End a bar left on the line."""
        with self._lock:
            if self._bar_shown:
                self.out.write("\n")
                self.out.flush()
                self._bar_shown = False
