"""1,000 campaign waits in one event loop: the shared poller against one poll per trigger.

    .venv/bin/python bench/many_waits.py [--campaigns 1000] [--scale 10] [--poll 30]
                                         [--first 30] [--spread 300] [--json]

Kore allows an account 60 requests a minute. A sandbox (a child process, its own GIL) is seeded
through its admin endpoint, which costs no budget, with N Active campaigns that complete at
staggered times, its rate limit on. Then, in a fresh child process per approach, N triggers run
in one event loop until every one has fired:

* ``shared``: N ``CampaignStatusTrigger``s, which share one poller and one request budget;
* ``naive``: N triggers that each read their own status every poll interval (the way dbt Cloud's
  trigger is written), through the same ``CampaignAsyncHook`` transport and retry policy, with
  no shared poller and no budget (a budget that never makes anyone wait). It stops by itself at
  the same deadline: a status read still in its retries' back-off when the deadline comes is
  cancelled, so the child always ends and the table always prints.

Time is scaled by ``--scale``: at 10, Kore's 60 requests per 60 s become 60 per 6 s, a 30 s poll
interval 3 s, and completions spread over 300 s land within 30 s. Seconds below are scaled
seconds unless marked real. Targets: zero 429s; at most the budget in any window; every waiter
woken within two poll intervals of its campaign completing; peak RSS of the trigger process
under 300 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime
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
RSS_TARGET_MB = 300.0
KORE_PREFIX = "/campaign/api/v2/public/"
RESULT_MARK = "MANY_WAITS_RESULT "


@dataclass(frozen=True)
class Plan(ScaledTime):
    """The scaled timeline, shared by the parent and both children."""

    campaigns: int
    scale: float
    poll_real: float
    first_real: float
    spread_real: float

    def completions(self) -> list[float]:
        """Seconds from seeding until each campaign completes, evenly staggered."""
        first, spread, count = self.first_real / self.scale, self.spread_real / self.scale, self.campaigns
        return [first + spread * n / max(1, count - 1) for n in range(count)]

    @property
    def deadline(self) -> float:
        """Seconds from seeding until every trigger gives up: the last completion plus 4 polls."""
        return max(self.completions()) + 4 * self.poll

    def retry_policy(self) -> Any:
        """The hook's retry policy with Kore's 60 s window scaled like everything else."""
        return scaled_retry_policy(self.scale)


# --- the child: N triggers in one event loop --------------------------------------------------------


async def _naive_wait(hook: Any, campaign_id: str, poll: float, end_time: float) -> dict[str, Any]:
    """One trigger reading its own status every poll interval until it is done or out of time."""
    from airflow_campaign_provider.exceptions import CampaignError, CampaignNotFoundError
    from airflow_campaign_provider.status import WaitGoal, WaitOutcome

    goal = WaitGoal.of(["Completed"])
    status: str | None = None
    # Bounded by end_time: each read and each pause ends by the deadline at the latest.
    while True:
        remaining = end_time - time.time()
        if remaining <= 0:
            return goal.timed_out(campaign_id, status).event(campaign_id)
        try:
            status = await asyncio.wait_for(hook.get_campaign_status(campaign_id), remaining)
        except TimeoutError:  # still retrying (429s, back-off) at the deadline
            return goal.timed_out(campaign_id, status).event(campaign_id)
        except CampaignNotFoundError:
            return WaitOutcome.not_found(campaign_id).event(campaign_id)
        except CampaignError as error:
            return WaitOutcome.error(campaign_id, error, status).event(campaign_id)
        outcome = goal.judge(campaign_id, status)
        if outcome is not None:
            return outcome.event(campaign_id)
        remaining = end_time - time.time()
        if remaining <= 0:
            return goal.timed_out(campaign_id, status).event(campaign_id)
        await asyncio.sleep(min(poll, remaining))


def _no_budget(settings: Any) -> Any:
    """A budget no request waits for: the naive approach sends as fast as its triggers poll."""
    from airflow_campaign_provider.budget import AsyncRequestBudget, BudgetSettings

    return AsyncRequestBudget(
        BudgetSettings(requests=settings.requests_per_minute),
        settings.base_url,
        settings.account_id,
        limit_without_store=False,
    )


async def _run_child(approach: str, plan: Plan, admin_url: str) -> dict[str, Any]:
    from airflow_campaign_provider.hooks.campaign_async import CampaignAsyncHook
    from airflow_campaign_provider.sandbox.admin import SandboxAdmin
    from airflow_campaign_provider.triggers.campaign import CampaignStatusTrigger
    from airflow_campaign_provider.triggers.poller import PollerOptions, poller_registry

    completions = plan.completions()
    admin = SandboxAdmin(admin_url)
    seeded_at = time.time()  # before the seed call: completion times are never later than this
    campaign_ids = admin.seed_campaigns([{"status": "Active", "complete_in_seconds": s} for s in completions])
    admin.close()
    completes_at = {cid: seeded_at + s for cid, s in zip(campaign_ids, completions, strict=True)}
    end_time = seeded_at + plan.deadline
    baseline_rss = rss_mb()
    woken: dict[str, tuple[float, dict[str, Any]]] = {}

    if approach == "shared":
        poller_registry().options = PollerOptions(
            budget_window_seconds=plan.window, retry_policy=plan.retry_policy()
        )

        async def wait(campaign_id: str) -> None:
            trigger = CampaignStatusTrigger(
                campaign_id, ["Completed"], poll_interval=plan.poll, end_time=end_time
            )
            async for event in trigger.run():
                woken[campaign_id] = (time.time(), dict(event.payload))

    else:
        hook = CampaignAsyncHook(retry_policy=plan.retry_policy(), max_connections=100, budget=_no_budget)

        async def wait(campaign_id: str) -> None:
            event = await _naive_wait(hook, campaign_id, plan.poll, end_time)
            woken[campaign_id] = (time.time(), event)

    started = time.time()
    await asyncio.gather(*(wait(cid) for cid in campaign_ids))
    ended = time.time()
    if approach != "shared":
        await hook.aclose()

    delays = sorted(
        at - completes_at[cid] for cid, (at, event) in woken.items() if event["status"] == "success"
    )
    statuses: dict[str, int] = {}
    problems: dict[str, int] = {}
    for _, event in woken.values():
        statuses[event["status"]] = statuses.get(event["status"], 0) + 1
        if event["status"] != "success":
            problem = event["message"].rsplit("): ", 1)[-1][:100]
            problems[problem] = problems.get(problem, 0) + 1
    return {
        "approach": approach,
        "started": started,
        "ended": ended,
        "fired": len(woken),
        "statuses": statuses,
        "problems": sorted(problems.items(), key=lambda item: -item[1])[:3],
        "woken_in_time": sum(1 for delay in delays if delay <= 2 * plan.poll),
        "max_delay": delays[-1] if delays else None,
        "p50_delay": delays[len(delays) // 2] if delays else None,
        "p95_delay": delays[int(len(delays) * 0.95)] if delays else None,
        "baseline_rss_mb": baseline_rss,
        "peak_rss_mb": rss_mb(),
        "cpu_seconds": cpu_seconds(),
    }


def child_main(approach: str, plan: Plan, admin_url: str) -> None:
    result = asyncio.run(_run_child(approach, plan, admin_url))
    print(RESULT_MARK + json.dumps(result), flush=True)


# --- the parent: sandbox, children, request log ------------------------------------------------------


@dataclass
class Figures:
    """What one approach did, as measured by the sandbox and by the trigger process."""

    approach: str
    fired: int
    statuses: dict[str, int]
    problems: list[tuple[str, int]]
    woken_in_time: int
    max_delay: float | None
    p95_delay: float | None
    calls: int
    rejected_429: int
    calls_per_window_avg: float
    calls_per_window_peak: int
    peak_rss_mb: float
    baseline_rss_mb: float
    cpu_seconds: float
    seconds: float


def _run_approach(approach: str, plan: Plan, sandbox: Any, timeout: float) -> Figures:
    sandbox.admin.reset()
    command = [
        sys.executable,
        __file__,
        "--child",
        approach,
        "--plan",
        json.dumps(asdict(plan)),
        "--admin",
        sandbox.url,
    ]
    child = run_child(command, sandbox, RESULT_MARK, what=approach, timeout=timeout)

    requests = [r for r in sandbox.admin.requests() if r["path"].startswith(KORE_PREFIX)]
    times = sorted(datetime.fromisoformat(r["time"]).timestamp() for r in requests)
    peak = busiest_window(times, plan.window)
    seconds = child["ended"] - child["started"]
    return Figures(
        approach=approach,
        fired=child["fired"],
        statuses=child["statuses"],
        problems=[(text, count) for text, count in child["problems"]],
        woken_in_time=child["woken_in_time"],
        max_delay=child["max_delay"],
        p95_delay=child["p95_delay"],
        calls=len(requests),
        rejected_429=sum(1 for r in requests if r["status"] == 429),
        calls_per_window_avg=len(requests) / seconds * plan.window if seconds else 0.0,
        calls_per_window_peak=peak,
        peak_rss_mb=child["peak_rss_mb"],
        baseline_rss_mb=child["baseline_rss_mb"],
        cpu_seconds=child["cpu_seconds"],
        seconds=seconds,
    )


def _targets(figures: Figures, plan: Plan) -> dict[str, bool]:
    return {
        "zero 429s": figures.rejected_429 == 0,
        f"at most {BUDGET} calls in any window": figures.calls_per_window_peak <= BUDGET,
        "every waiter woken within 2 polls": figures.woken_in_time == plan.campaigns,
        f"peak RSS < {RSS_TARGET_MB:.0f} MB": figures.peak_rss_mb < RSS_TARGET_MB,
    }


def _report(results: list[Figures], plan: Plan) -> str:
    def delay(value: float | None) -> str:
        return (
            "-"
            if value is None
            else f"{value:.2f} s ({value / plan.poll:.2f} polls, {value * plan.scale:.0f} s real)"
        )

    rows: list[tuple[str, list[str]]] = [
        ("waits fired", [f"{r.fired} of {plan.campaigns}" for r in results]),
        (
            "  by event status",
            [", ".join(f"{k} {v}" for k, v in sorted(r.statuses.items())) for r in results],
        ),
        ("  woken within 2 polls", [f"{r.woken_in_time} of {plan.campaigns}" for r in results]),
        (
            "  most common problem",
            [f"{r.problems[0][1]}x {r.problems[0][0][:40]}" if r.problems else "-" for r in results],
        ),
        ("API calls sent", [str(r.calls) for r in results]),
        ("  per scaled minute, mean", [f"{r.calls_per_window_avg:.1f}" for r in results]),
        ("  in the busiest scaled minute", [str(r.calls_per_window_peak) for r in results]),
        ("429s seen", [str(r.rejected_429) for r in results]),
        ("worst wake delay", [delay(r.max_delay) for r in results]),
        ("95th percentile wake delay", [delay(r.p95_delay) for r in results]),
        (
            "peak RSS (trigger process)",
            [f"{r.peak_rss_mb:.0f} MB ({r.baseline_rss_mb:.0f} MB before)" for r in results],
        ),
        ("CPU of the trigger process", [f"{r.cpu_seconds:.1f} s" for r in results]),
        ("wall time of the waits", [f"{r.seconds:.1f} s" for r in results]),
    ]
    for name in _targets(results[0], plan):
        rows.append((f"target: {name}", ["met" if _targets(r, plan)[name] else "MISSED" for r in results]))
    title = (
        f"{plan.campaigns} waits, budget {BUDGET} calls per {plan.window:g} s (time scaled {plan.scale:g}x), "
        f"poll every {plan.poll:g} s, completions from {plan.first_real / plan.scale:g} s over "
        f"{plan.spread_real / plan.scale:g} s"
    )
    return format_table(title, [r.approach for r in results], rows)


def main() -> None:
    parser = scaled_sandbox_parser(__doc__, poll=30.0, poll_help="poll interval, real seconds")
    parser.add_argument("--campaigns", type=int, default=1000)
    parser.add_argument("--first", type=float, default=30.0, help="first completion, real seconds")
    parser.add_argument("--spread", type=float, default=300.0, help="completions spread, real seconds")
    parser.add_argument("--approaches", default="shared,naive")
    parser.add_argument("--admin", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.child, Plan(**json.loads(args.plan)), args.admin)
        return

    plan = Plan(args.campaigns, args.scale, args.poll, args.first, args.spread)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from airflow_campaign_provider.sandbox import SandboxConfig, SandboxServer

    config = SandboxConfig(
        rate_limit_per_window=BUDGET,
        rate_limit_window_seconds=plan.window,
        request_log_size=1_000_000,
        preparing_seconds=0.0,
    )
    results: list[Figures] = []
    began = time.monotonic()
    with SandboxServer(config, subprocess=True) as sandbox:
        for approach in args.approaches.split(","):
            print(f"running {approach} ...", file=sys.stderr, flush=True)
            results.append(_run_approach(approach, plan, sandbox, timeout=plan.deadline + 120))
    print_report(_report(results, plan), results, began, as_json=args.json)


if __name__ == "__main__":
    main()
