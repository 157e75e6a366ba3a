"""Tearing down 10,000 campaigns: the teardown unit against one hook call per campaign id.

    .venv/bin/python bench/teardown.py [--campaigns 10000] [--budget 5000] [--window 5] [--json]

A rate-limited sandbox (its own process) is seeded through its admin endpoint, which costs no
budget, with N campaigns: 40 % Active, 30 % Completed, 20 % Stopped, 10 % Ready, and 1 % more ids
that no longer exist. The sandbox allows ``--budget`` requests per ``--window`` seconds and the
connection declares the same budget. Then, on a freshly seeded account each:

* ``teardown``: :func:`~airflow_campaign_provider.lifecycle.teardown.teardown_campaigns` (what
  ``TeardownCampaignsOperator`` runs): statuses from list pages, a stop per running campaign, a
  delete per live one, every call in a slot of the budget;
* ``per id``: ``CampaignHook.delete_campaign_if_exists(stop_first=True)`` for each id in turn,
  what the mapped teardown example did per mapped task (and a TaskFlow loop would do).

Targets: every campaign deleted, each running one stopped once, zero 429s, at most the budget in
any window, and calls = list pages + stops + deletes. The last rows give what the calls cost at
Kore's 60 requests a minute, the floor any client of one account meets.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from benchkit import argument_parser, busiest_window, format_table, print_report

MIX = (("Active", 0.4), ("Completed", 0.3), ("Stopped", 0.2), ("Ready", 0.1))
KORE_PER_MINUTE = 60


@dataclass
class Figures:
    """What one approach did, as the sandbox saw it."""

    approach: str
    campaigns: int
    deleted: int
    calls: int
    kinds: dict[str, int]
    stopped_twice: int
    rejected_429: int
    busiest_window: int
    seconds: float
    error: str | None = None


def _seed(admin: Any, campaigns: int) -> tuple[list[str], int]:
    """Seed the mix; the ids to tear down (gone ones included) and how many are Active."""
    ids: list[str] = []
    active = 0
    for status, share in MIX:
        count = round(campaigns * share)
        spec: dict[str, Any] = {"status": status}
        if status == "Active":
            spec["complete_in_seconds"] = 24 * 3600
            active = count
        ids += admin.seed_many(count, spec)
    gone = [f"cd-00000000-0000-4000-8000-{n:012d}" for n in range(max(1, campaigns // 100))]
    return ids + gone, active


def _run(approach: str, ids: list[str]) -> str | None:
    from airflow_campaign_provider.exceptions import CampaignError
    from airflow_campaign_provider.hooks.campaign import CampaignHook
    from airflow_campaign_provider.lifecycle.teardown import teardown_campaigns

    hook = CampaignHook()
    try:
        if approach == "teardown":
            teardown_campaigns(hook, ids)
        else:
            for campaign_id in ids:
                hook.delete_campaign_if_exists(campaign_id, stop_first=True)
    except CampaignError as error:
        return f"{type(error).__name__}: {str(error)[:80]}"
    finally:
        hook.close()
    return None


def _measure(approach: str, sandbox: Any, campaigns: int, window: float) -> Figures:
    sandbox.admin.reset()
    ids, _ = _seed(sandbox.admin, campaigns)
    began = time.monotonic()
    error = _run(approach, ids)
    seconds = time.monotonic() - began
    from airflow_campaign_provider.sandbox.run_dag import request_campaign_id, request_kind

    requests = sandbox.admin.requests()
    kinds = Counter(request_kind(r) for r in requests)
    stops = Counter(
        request_campaign_id(r) for r in requests if request_kind(r) == "stop" and r["status"] == 200
    )
    times = sorted(datetime.fromisoformat(r["time"]).timestamp() for r in requests)
    return Figures(
        approach=approach,
        campaigns=campaigns,
        deleted=sandbox.admin.campaigns()["deletedCount"],
        calls=len(requests),
        kinds=dict(kinds),
        stopped_twice=sum(1 for count in stops.values() if count > 1),
        rejected_429=sum(1 for r in requests if r["status"] == 429),
        busiest_window=busiest_window(times, window) if times else 0,
        seconds=seconds,
        error=error,
    )


def _report(results: list[Figures], budget: int, window: float) -> str:
    def minutes(calls: int) -> str:
        total = calls / KORE_PER_MINUTE
        return f"{total / 60:.1f} h" if total >= 90 else f"{total:.0f} min"

    floor = [math.ceil(r.campaigns / 100) + round(r.campaigns * MIX[0][1]) + r.campaigns for r in results]
    rows: list[tuple[str, list[str]]] = [
        ("campaigns deleted", [f"{r.deleted} of {r.campaigns}" for r in results]),
        ("API calls", [f"{r.calls:,}" for r in results]),
        ("  by kind", [", ".join(f"{k} {v:,}" for k, v in sorted(r.kinds.items())) for r in results]),
        ("  list pages + stops + deletes", [f"{f:,}" for f in floor]),
        ("  calls / that floor", [f"{r.calls / f:.2f}" for r, f in zip(results, floor, strict=True)]),
        ("campaigns stopped twice", [str(r.stopped_twice) for r in results]),
        ("429s", [str(r.rejected_429) for r in results]),
        (f"busiest {window:g} s window (budget {budget})", [str(r.busiest_window) for r in results]),
        ("seconds", [f"{r.seconds:.1f}" for r in results]),
        (f"at Kore's {KORE_PER_MINUTE} calls a minute", [minutes(r.calls) for r in results]),
        ("error", [r.error or "-" for r in results]),
    ]
    return format_table(
        f"Teardown of {results[0].campaigns:,} campaigns (+1 % gone ids), budget {budget} calls per {window:g} s",
        [r.approach for r in results],
        rows,
    )


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--campaigns", type=int, default=10_000)
    parser.add_argument(
        "--budget", type=int, default=5000, help="requests per window (sandbox and connection)"
    )
    parser.add_argument("--window", type=int, default=5, help="budget window, whole seconds")
    parser.add_argument("--approaches", default="teardown,per id")
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-airflow-home-"))
    os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from airflow_campaign_provider.sandbox import SandboxConfig, SandboxServer

    config = SandboxConfig(
        rate_limit_per_window=args.budget,
        rate_limit_window_seconds=args.window,
        request_log_size=1_000_000,
        preparing_seconds=0.0,
    )
    results: list[Figures] = []
    began = time.monotonic()
    with SandboxServer(config, subprocess=True) as sandbox:
        connection = sandbox.connection()
        connection["extra"].update(requests_per_minute=args.budget, budget_window_seconds=args.window)
        os.environ["AIRFLOW_CONN_KORE_CAMPAIGN_DEFAULT"] = json.dumps(connection)
        for approach in args.approaches.split(","):
            print(f"running {approach} ...", file=sys.stderr, flush=True)
            results.append(_measure(approach, sandbox, args.campaigns, args.window))
    print_report(_report(results, args.budget, args.window), results, began, as_json=args.json)


if __name__ == "__main__":
    main()
