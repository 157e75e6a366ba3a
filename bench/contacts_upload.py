"""100,000 contacts from a CSV into a Kore contact list, against the rate-limited sandbox.

    .venv/bin/python bench/contacts_upload.py [--contacts 100000] [--batch 1000] [--scale 10]
                                              [--import-delay 5] [--poll 5] [--json]

A sandbox (a child process, its own GIL) enforces Kore's 60 requests a minute. A CSV of N
distinct numbers is written once; then, in a fresh child process per scenario, what
``UploadContactsOperator`` does runs end to end through ``CampaignHook``: every number checked
(E.164, streamed), the list created, the numbers sent in batches, and the list's
``totalRecordCount`` polled until it shows them all. Two scenarios side by side:

* ``cap = batch``: the sandbox accepts batches of ``--batch`` contacts;
* ``cap < batch``: it accepts only 40 % of that, so the hook must split refused batches (413).

Time is scaled by ``--scale``: at 10, Kore's 60 requests per 60 s become 60 per 6 s, and the
import delay and poll interval shrink alike; wall times are given scaled and as real Kore time.
Targets: calls within a few of the minimum ``ceil(contacts / batch)``; zero 429s; peak RSS of
the uploading process under 200 MB.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchkit import (
    ScaledTime,
    busiest_window,
    cpu_seconds,
    format_table,
    print_report,
    rss_mb,
    run_child,
    scaled_retry_policy,
    scaled_sandbox_parser,
)

BUDGET = 60
RSS_TARGET_MB = 200.0
RESULT_MARK = "CONTACTS_UPLOAD_RESULT "
CAP_SHARE = 0.4


@dataclass(frozen=True)
class Plan(ScaledTime):
    """The scaled settings, shared by the parent and the children."""

    contacts: int
    batch: int
    scale: float
    import_delay_real: float
    poll_real: float


def write_csv(path: Path, count: int) -> None:
    """``count`` distinct E.164 numbers with a name column, as a data team's export."""
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(("phone", "first_name"))
        for n in range(count):
            writer.writerow((f"+1415{n:07d}", f"Contact {n}"))


# --- the child: one upload, as the operator runs it ---------------------------------------------


def child_main(plan: Plan, csv_path: str, list_name: str) -> None:
    from airflow_campaign_provider.contact_sources import ContactSource
    from airflow_campaign_provider.hooks.campaign import CampaignHook

    hook = CampaignHook(retry_policy=scaled_retry_policy(plan.scale))
    source = ContactSource(csv_path)
    baseline = rss_mb()
    started = time.time()
    checked = source.check(max_invalid_rows=0)
    contact_list, _ = hook.create_contact_list_once(list_name, "Benchmark upload")
    report = hook.upload_contacts_once(
        contact_list["_id"],
        source.valid_phones(),
        batch_size=plan.batch,
        poll_interval=plan.poll,
        count_timeout=600.0,
    )
    ended = time.time()
    hook.close()
    result = {
        **report.as_dict(),
        "valid": checked.valid,
        "started": started,
        "ended": ended,
        "baseline_rss_mb": baseline,
        "peak_rss_mb": rss_mb(),
        "cpu_seconds": cpu_seconds(),
    }
    print(RESULT_MARK + json.dumps(result), flush=True)


# --- the parent ---------------------------------------------------------------------------------


@dataclass
class Figures:
    """One scenario, as the sandbox and the uploading process measured it."""

    scenario: str
    cap: int
    in_list: int
    add_calls: int
    minimum_add_calls: int
    final_batch: int
    calls: int
    rejected_429: int
    refused_413: int
    peak_window_calls: int
    peak_rss_mb: float
    baseline_rss_mb: float
    cpu_seconds: float
    seconds: float


def _run(scenario: str, cap: int, plan: Plan, sandbox: Any, csv_path: Path) -> Figures:
    sandbox.admin.reset()
    sandbox.admin.update_config(max_contacts_per_add=cap)
    command = [sys.executable, __file__, "--child", str(csv_path), "--plan", json.dumps(asdict(plan))]
    child = run_child(
        [*command, "--list-name", f"Bench {scenario}"], sandbox, RESULT_MARK, what=scenario, timeout=1800
    )
    requests = sandbox.admin.requests()
    peak = busiest_window(sorted(_epoch(r["time"]) for r in requests), plan.window)
    return Figures(
        scenario=scenario,
        cap=cap,
        in_list=child["total_in_list"],
        add_calls=child["add_calls"],
        minimum_add_calls=math.ceil(plan.contacts / min(plan.batch, cap)),
        final_batch=child["batch_size"],
        calls=len(requests),
        rejected_429=sum(1 for r in requests if r["status"] == 429),
        refused_413=sum(1 for r in requests if r["status"] == 413),
        peak_window_calls=peak,
        peak_rss_mb=child["peak_rss_mb"],
        baseline_rss_mb=child["baseline_rss_mb"],
        cpu_seconds=child["cpu_seconds"],
        seconds=child["ended"] - child["started"],
    )


def _epoch(stamp: str) -> float:
    from datetime import datetime

    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()


def _report(results: list[Figures], plan: Plan) -> str:
    per_10k = [r.seconds * plan.scale * 10_000 / plan.contacts for r in results]
    rows: list[tuple[str, list[str]]] = [
        ("sandbox batch cap", [str(r.cap) for r in results]),
        ("contacts in the list", [f"{r.in_list} of {plan.contacts}" for r in results]),
        (
            "addContacts calls / minimum",
            [
                f"{r.add_calls} / {r.minimum_add_calls} ({r.add_calls / r.minimum_add_calls:.2f}x)"
                for r in results
            ],
        ),
        ("  refused as too large (413)", [str(r.refused_413) for r in results]),
        ("  final batch size", [str(r.final_batch) for r in results]),
        ("all Kore calls", [str(r.calls) for r in results]),
        ("  in the busiest scaled minute", [f"{r.peak_window_calls} (budget {BUDGET})" for r in results]),
        ("429s seen", [str(r.rejected_429) for r in results]),
        (
            "peak RSS (upload process)",
            [f"{r.peak_rss_mb:.0f} MB ({r.baseline_rss_mb:.0f} MB before)" for r in results],
        ),
        ("CPU of the upload process", [f"{r.cpu_seconds:.1f} s" for r in results]),
        ("wall time, scaled", [f"{r.seconds:.1f} s" for r in results]),
        ("wall time at 60 req/min (real)", [f"{r.seconds * plan.scale:.0f} s" for r in results]),
        (
            "  least the budget allows (real)",
            [f"{max(0, r.calls - BUDGET) * 60 / BUDGET:.0f} s" for r in results],
        ),
        ("  per 10,000 contacts (real)", [f"{s:.1f} s" for s in per_10k]),
    ]
    targets = {
        "every contact in the list": [r.in_list == plan.contacts for r in results],
        "zero 429s": [r.rejected_429 == 0 for r in results],
        f"at most {BUDGET} calls in any window": [r.peak_window_calls <= BUDGET for r in results],
        f"peak RSS < {RSS_TARGET_MB:.0f} MB": [r.peak_rss_mb < RSS_TARGET_MB for r in results],
    }
    rows += [(f"target: {name}", ["met" if ok else "MISSED" for ok in met]) for name, met in targets.items()]
    title = (
        f"{plan.contacts} contacts from a CSV, batches of {plan.batch}, budget {BUDGET} calls per "
        f"{plan.window:g} s (time scaled {plan.scale:g}x), import delay {plan.import_delay_real:g} s real, "
        f"poll every {plan.poll_real:g} s real"
    )
    return format_table(title, [r.scenario for r in results], rows)


def main() -> None:
    parser = scaled_sandbox_parser(__doc__, poll=5.0, poll_help="count poll interval, real seconds")
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000, help="contacts per addContacts call")
    parser.add_argument("--import-delay", type=float, default=5.0, help="Kore's import delay, real seconds")
    parser.add_argument("--list-name", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    if args.child:
        child_main(Plan(**json.loads(args.plan)), args.child, args.list_name)
        return

    plan = Plan(args.contacts, args.batch, args.scale, args.import_delay, args.poll)
    from airflow_campaign_provider.sandbox import SandboxConfig, SandboxServer

    config = SandboxConfig(
        rate_limit_per_window=BUDGET,
        rate_limit_window_seconds=plan.window,
        contact_import_seconds=plan.import_delay_real / plan.scale,
        request_log_size=100_000,
        max_body_bytes=16 * 1024 * 1024,
    )
    began = time.monotonic()
    results: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="contacts-upload-") as folder:
        csv_path = Path(folder) / "contacts.csv"
        write_csv(csv_path, plan.contacts)
        with SandboxServer(config, subprocess=True, startup_timeout=120) as sandbox:
            for scenario, cap in (("cap = batch", plan.batch), ("cap < batch", int(plan.batch * CAP_SHARE))):
                print(f"running {scenario} ...", file=sys.stderr, flush=True)
                results.append(_run(scenario, cap, plan, sandbox, csv_path))
    print_report(_report(results, plan), results, began, as_json=args.json)


if __name__ == "__main__":
    main()
