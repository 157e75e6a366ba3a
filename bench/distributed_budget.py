"""One Kore budget across a CeleryExecutor deployment, with the shared budget and without it.

    .venv/bin/python bench/distributed_budget.py [--campaigns 10] [--budget 12] [--window 5]

Each mode starts the same deployment (PostgreSQL, Redis, the sandbox with Kore's rate limit
scaled to ``--budget`` requests per ``--window`` seconds, an api-server, a scheduler, a
dag-processor, two Celery workers and two triggerers; see ``tests/e2e/distributed.py``), runs
``--campaigns`` campaigns at once (create, start, deferred wait) and reads the sandbox's record:

* ``shared``: every process takes its slots from one window per account in Redis;
* ``per-process``: no budget store; each triggerer keeps its own budget, workers none (before).

Printed side by side: calls per scaled minute (mean, busiest), 429 answers, time to finish.
No chaos here: ``tests/e2e/test_distributed.py`` kills a worker and a triggerer.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

# This process imports Airflow too: keep it off the developer's ~/airflow.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="kore-bench-home-"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchkit import argument_parser

from tests.e2e.distributed import Figures, Plan, run_plan


def row(label: str, values: list[str]) -> str:
    return f"{label:<36}" + "".join(f"{value:>14}" for value in values)


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--campaigns", type=int, default=Plan.campaigns)
    parser.add_argument("--budget", type=int, default=Plan.budget, help="requests per window")
    parser.add_argument("--window", type=int, default=Plan.window, help="seconds: the scaled minute")
    args = parser.parse_args()
    base = Plan(campaigns=args.campaigns, budget=args.budget, window=args.window, chaos=False)
    results: list[Figures] = []
    modes = ("shared", "per-process")
    for mode in modes:
        plan = replace(base, shared_budget=mode == "shared")
        began = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=f"kore-bench-{mode}-") as home:
            results.append(run_plan(plan, Path(home)))
        print(f"{mode}: deployment up, ran and stopped in {time.monotonic() - began:.0f} s", flush=True)
    print()
    print(
        f"{base.campaigns} campaigns at once over 2 Celery workers and 2 triggerers; Kore's limit "
        f"scaled to {base.budget} requests per {base.window} s (one scaled minute)"
    )
    print(row("", list(modes)))
    print(row("Kore calls", [str(r.calls) for r in results]))
    print(row("calls per scaled minute, mean", [f"{r.calls_per_window:.1f}" for r in results]))
    print(row("calls in the busiest scaled minute", [str(r.busiest_window) for r in results]))
    print(row("429 answers", [str(r.refused) for r in results]))
    print(row("seconds from trigger to run end", [f"{r.seconds:.0f}" for r in results]))
    print(row("DAG run", [r.run_state for r in results]))
    print(
        row(
            "campaigns created twice", [str(sum(c > 1 for c in r.creates_per_name.values())) for r in results]
        )
    )
    print(
        row("contacts texted twice", [str(sum(c > 1 for c in r.texts_per_phone.values())) for r in results])
    )


if __name__ == "__main__":
    main()
