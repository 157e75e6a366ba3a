"""``make demo``'s driver run as a newcomer runs it: a whole run, its summary and exit status,
and an interruption that leaves no process behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

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
    demo = subprocess.Popen(
        DEMO, env=demo_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert demo.stdout is not None
    seen = ""
    try:
        while "airflow dags test" not in seen and len(seen) < 5000:  # its line stays open: read chars
            char = demo.stdout.read(1)
            if not char:
                break
            seen += char
        time.sleep(3)  # inside airflow dags test
        children = child_pids(demo.pid)
        assert len(children) >= 2, seen  # the sandbox, and airflow dags test with its own children
        demo.send_signal(signal.SIGINT)
        rest, _ = demo.communicate(timeout=120)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait(timeout=30)

    assert demo.returncode == 130
    assert "Interrupted; the sandbox and Airflow were stopped." in rest
    alive = [pid for pid in children if Path(f"/proc/{pid}").exists()]
    assert alive == []


def child_pids(pid: int) -> list[int]:
    """The processes ``pid`` started, and theirs (from /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [child for child, ppid in parents.items() if ppid == parent]
        found += kids
        frontier += kids
    return found
