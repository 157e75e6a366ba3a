"""``make demo``'s driver run as a newcomer runs it: a whole run, its summary and exit status,
and an interruption that leaves no process behind."""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from airflow_campaign_provider.sandbox.admin import SandboxAdmin
from tests.example_dags.conftest import EXAMPLES

pytestmark = pytest.mark.e2e

#: The command ``make demo`` runs.
DEMO = [
    sys.executable,
    "-m",
    "airflow_campaign_provider.sandbox.run_dag",
    "kore_campaign_weekly_lifecycle",
    "--dags-folder",
    str(EXAMPLES),
    "--seed",
    str(EXAMPLES / "data" / "sandbox_seed.json"),
]
HOME_LINE = re.compile(r"Airflow home\s+(\S+)")


def demo_env(tmp_path: Path) -> dict[str, str]:
    """The caller's environment with a temp dir of its own, so leftovers are easy to find."""
    return {**os.environ, "TMPDIR": str(tmp_path)}


def test_the_demo_runs_the_lifecycle_and_summarizes_it(tmp_path: Path) -> None:
    demo = subprocess.run(
        DEMO, env=demo_env(tmp_path), capture_output=True, text=True, timeout=600, check=False
    )

    assert demo.returncode == 0, demo.stdout + demo.stderr
    out = demo.stdout
    assert re.search(r"wait_for_completion\s+success \(deferred to the trigger, then resumed\)", out)
    assert "statuses seen  Preparing → Ready → Active → Completed → deleted" in out
    assert (
        'SMS sent       5, exactly one to each of the 5 contacts due (list "Weekly new customers" minus '
        'DNC list "Do not text")' in out
    )
    assert "none rate-limited" in out
    assert "Left in Kore.ai    nothing (every campaign deleted)" in out
    assert re.search(r"DAG run kore_campaign_weekly_lifecycle: SUCCESS in \d+ s\n?$", out)
    match = HOME_LINE.search(out)
    assert match is not None
    assert not Path(match[1]).exists()  # a successful run removes its throwaway home


def test_an_interrupted_demo_stops_the_sandbox_and_airflow(tmp_path: Path) -> None:
    """Interrupted once the DAG is talking to the sandbox; afterwards no process it started, at
    any time, is alive: this test adopts every orphan, so even a process started after the
    interrupt, or left behind by a child that exited, is found."""
    before = set(descendants(os.getpid()))
    with adopting_orphans():
        demo = subprocess.Popen(
            DEMO, env=demo_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            url = SANDBOX_LINE.findall(read_until(demo, SANDBOX_LINE))[0]
            sandbox = SandboxAdmin(url, timeout=10.0)
            try:
                wait_until(lambda: bool(sandbox.requests()), 300, "no Kore request from the DAG run")
            finally:
                sandbox.close()
            running = descendants(demo.pid)
            assert len(running) >= 2, running  # the sandbox, and airflow dags test with its own children
            demo.send_signal(signal.SIGINT)
            rest, _ = demo.communicate(timeout=120)
        finally:
            if demo.poll() is None:
                demo.kill()
                demo.wait(timeout=30)
        left = {pid: state for pid, state in descendants(os.getpid()).items() if pid not in before}
        alive = [pid for pid, state in left.items() if state != "Z"]
        for pid in alive:  # leave nothing behind for the next test, whatever the outcome
            os.kill(pid, signal.SIGKILL)
        for pid in left:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)

    assert demo.returncode == 130
    assert "Interrupted; the sandbox and Airflow were stopped." in rest
    assert alive == []


SANDBOX_LINE = re.compile(r"sandbox\s+(http://127\.0\.0\.1:\d+)\s")
#: Linux's prctl option that makes a process adopt its orphaned descendants.
PR_SET_CHILD_SUBREAPER = 36


@contextlib.contextmanager
def adopting_orphans() -> Iterator[None]:
    """Make this process the reaper of its descendants' orphans while the block runs."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")
    try:
        yield
    finally:
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def read_until(process: subprocess.Popen[str], pattern: re.Pattern[str], limit: int = 5000) -> str:
    """The process's output up to a match of ``pattern`` (read by characters: lines stay open)."""
    assert process.stdout is not None
    seen = ""
    while not pattern.search(seen):
        char = process.stdout.read(1)
        if not char or len(seen) > limit:
            raise AssertionError(f"{pattern.pattern!r} never printed: {seen}")
        seen += char
    return seen


def wait_until(condition: Callable[[], bool], timeout: float, failure: str) -> None:
    """Poll ``condition`` until it holds, at most ``timeout`` seconds (a bound, not a pace)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(failure)
        time.sleep(0.05)


def descendants(pid: int) -> dict[int, str]:
    """The processes ``pid`` started, and theirs, with their state letter (from /proc)."""
    parents: dict[int, tuple[int, str]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = (int(fields[1]), fields[0])
    found: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        kids = {child: state for child, (ppid, state) in parents.items() if ppid == parent}
        found.update(kids)
        frontier += kids
    return found
