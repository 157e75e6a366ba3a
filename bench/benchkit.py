"""What the benchmarks that run a rate-limited sandbox share: scaled time, child processes, figures.

Imported by the scripts beside it (``python bench/x.py`` puts this folder on ``sys.path``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any


def argument_parser(doc: str) -> argparse.ArgumentParser:
    """A benchmark's parser, its description the first paragraph of the script's docstring."""
    return argparse.ArgumentParser(description=doc.split("\n\n")[0])


def scaled_sandbox_parser(doc: str, *, poll: float, poll_help: str) -> argparse.ArgumentParser:
    """The parser of a benchmark on a rate-limited sandbox in scaled time: ``--scale``, ``--poll``
    (real seconds), ``--json``, and the hidden ``--child``/``--plan`` its measuring children get."""
    parser = argument_parser(doc)
    parser.add_argument("--scale", type=float, default=10.0, help="time compression factor")
    parser.add_argument("--poll", type=float, default=poll, help=poll_help)
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    return parser


def print_report(report: str, results: Sequence[Any], began: float, *, as_json: bool) -> None:
    """The table, how long the benchmark took since ``began`` (monotonic), and with ``as_json``
    the figures (dataclasses) as JSON."""
    print(report)
    print(f"benchmark took {time.monotonic() - began:.0f} s")
    if as_json:
        print(json.dumps([asdict(result) for result in results], indent=2))


def scaled_retry_policy(scale: float) -> Any:
    """The hook's retry policy with Kore's 60 s window, and every wait, divided by ``scale``."""
    from airflow_campaign_provider.api import RetryPolicy

    policy = RetryPolicy()
    return RetryPolicy(
        max_attempts=policy.max_attempts,
        base_wait_seconds=policy.base_wait_seconds / scale,
        max_wait_seconds=policy.max_wait_seconds / scale,
        rate_limit_window_seconds=policy.rate_limit_window_seconds / scale,
        max_retry_after_seconds=policy.max_retry_after_seconds / scale,
        max_total_seconds=policy.max_total_seconds / scale,
    )


def rss_mb() -> float:
    """This process's peak resident memory so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def cpu_seconds() -> float:
    """User and system CPU this process has used."""
    return sum(resource.getrusage(resource.RUSAGE_SELF)[:2])


def run_child(command: list[str], sandbox: Any, mark: str, *, what: str, timeout: float) -> dict[str, Any]:
    """Run a measuring child with the sandbox's connection and a throwaway Airflow home; the JSON
    it printed after ``mark``."""
    env = {
        **os.environ,
        **sandbox.connection_env(),
        "AIRFLOW_HOME": tempfile.mkdtemp(prefix="bench-airflow-home-"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
    }
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith(mark)]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"the {what} child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return dict(json.loads(lines[-1][len(mark) :]))


def busiest_window(times: list[float], window: float) -> int:
    """The most of ``times`` (sorted) that fall in any ``window`` seconds."""
    peak, low = 0, 0
    for high, at in enumerate(times):
        while times[low] <= at - window:
            low += 1
        peak = max(peak, high - low + 1)
    return peak


class ScaledTime:
    """Kore's 60 s budget window and a poll interval, both divided by a plan's ``scale``."""

    scale: float
    poll_real: float

    @property
    def window(self) -> float:
        return 60.0 / self.scale

    @property
    def poll(self) -> float:
        return self.poll_real / self.scale


def format_table(title: str, names: list[str], rows: list[tuple[str, list[str]]]) -> str:
    """``title``, then one column per name and one line per ``(label, values)`` row."""
    width = max(len(label) for label, _ in rows) + 2
    columns = [max(len(name), *(len(values[i]) for _, values in rows)) + 2 for i, name in enumerate(names)]
    lines = [title, "".ljust(width) + "".join(n.ljust(c) for n, c in zip(names, columns, strict=True))]
    lines += [
        label.ljust(width) + "".join(v.ljust(c) for v, c in zip(values, columns, strict=True))
        for label, values in rows
    ]
    return "\n".join(lines)
