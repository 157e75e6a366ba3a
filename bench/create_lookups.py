"""List calls one exactly-once create costs, by account size: before (every look-up by name read
the whole account) and after (newest first, only the campaigns created since the run began).

    .venv/bin/python bench/create_lookups.py [--sizes 100,2000,20000] [--days 30]

The sandbox runs as a child process (rate limit off) holding ``--sizes`` campaigns created over
the last ``--days`` days. For each size, in one run:

* ``before``: the list calls of one whole-account scan as the hook made it (50 a page), measured
  over the same account, times the look-ups the old create made: 1 for a create, 2 when a create's
  answer is lost after Kore acted (found by the first look-up after it), 3 when it is lost and
  Kore did not act (two look-ups find nothing, then the resend, which succeeds);
* ``after``: list calls the sandbox received for the same three creates through
  ``CampaignHook.create_sms_campaign_once(created_after=<the run's start>)``, which now also looks
  the name up once after creating (for a concurrent twin), and for a create without a known start
  (``created_after=None``: its first look-up reads the whole account, 100 a page).

Target: at most 3 list calls per look-up at every size.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

# This process imports Airflow (the hook reads its connection): keep it off the developer's ~/airflow.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="kore-bench-home-"))
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "ERROR")  # the hook's log lines are not the figures
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchkit import argument_parser, format_table

SEED_BATCH = 2_000
OLD_PAGE_SIZE = 50
#: Look-ups by name the old create made, per case (see the docstring).
OLD_LOOKUPS = {"create": 1, "lost answer, Kore acted": 2, "lost answer, Kore did not": 3}
#: Look-ups the create makes now: the old ones, plus one after a create that was answered.
NEW_LOOKUPS = {"create": 2, "lost answer, Kore acted": 2, "lost answer, Kore did not": 4}


def seed_account(sandbox: Any, size: int, days: float) -> None:
    """``size`` SMS campaigns created evenly over the last ``days`` days, the newest a second ago."""
    from airflow_campaign_provider.sandbox.jsonutil import iso

    now = time.time()
    step = days * 86_400 / size
    specs = [
        {"fields": {"name": f"Account campaign {i}", "createdAt": iso(now - 1 - (size - i) * step)}}
        for i in range(size)
    ]
    for start in range(0, size, SEED_BATCH):
        sandbox.admin.seed_campaigns(specs[start : start + SEED_BATCH])


def losing_hook(kore_acts: bool) -> Any:
    """A hook whose first create answer is lost (after Kore acted on it, or before it reached Kore)."""
    from airflow_campaign_provider.exceptions import CampaignOutcomeUnknownError
    from airflow_campaign_provider.hooks.campaign import CampaignHook

    class LosingFirstAnswer(CampaignHook):
        lost = False

        def create_sms_campaign(self, payload: Any) -> dict[str, Any]:
            first = not self.lost
            self.lost = True
            if not first:
                return super().create_sms_campaign(payload)
            if kore_acts:
                super().create_sms_campaign(payload)
            raise CampaignOutcomeUnknownError(
                "read timed out (the benchmark drops this answer)",
                method="POST",
                path=self.api.base_path,
                request_sent=True,
            )

    return LosingFirstAnswer()


def list_calls(sandbox: Any, action: Any) -> int:
    """The list requests the sandbox received while ``action`` ran."""
    from airflow_campaign_provider.sandbox.run_dag import request_kind

    sandbox.admin.clear_requests()
    action()
    return sum(request_kind(record) == "list" for record in sandbox.admin.requests())


def measure(sandbox: Any, size: int, days: float) -> dict[str, tuple[int, int]]:
    """``{case: (before, after)}`` list calls per create at one account size."""
    from airflow_campaign_provider.hooks.campaign import CampaignHook
    from airflow_campaign_provider.payload import SmsCampaignSpec
    from tests.operators.conftest import valid_args  # arguments valid against the default seed

    sandbox.admin.reset()
    seed_account(sandbox, size, days)
    hook = CampaignHook()
    scan = list_calls(sandbox, lambda: sum(1 for _ in hook.iter_campaigns(page_size=OLD_PAGE_SIZE)))
    assert scan == math.ceil(size / OLD_PAGE_SIZE), scan

    def create(name: str, case_hook: Any, created_after: datetime | None) -> None:
        spec = SmsCampaignSpec(**valid_args(name=name))
        case_hook.create_sms_campaign_once(spec, ambiguity_recheck_seconds=0, created_after=created_after)

    began = datetime.now(timezone.utc) - timedelta(seconds=1)
    hooks = {
        "create": CampaignHook(),
        "lost answer, Kore acted": losing_hook(kore_acts=True),
        "lost answer, Kore did not": losing_hook(kore_acts=False),
    }
    figures: dict[str, tuple[int, int]] = {}
    for case, case_hook in hooks.items():
        name = f"Bench {case} {size}"
        after = list_calls(sandbox, lambda: create(name, case_hook, began))  # noqa: B023 (called at once)
        figures[case] = (OLD_LOOKUPS[case] * scan, after)
    unknown_start = list_calls(sandbox, lambda: create(f"Bench no start {size}", CampaignHook(), None))
    figures["create, no known start"] = (scan, unknown_start)
    return figures


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--sizes", default="100,2000,20000", help="campaigns in the account, comma-separated")
    parser.add_argument(
        "--days", type=float, default=30.0, help="the account's campaigns span this many days"
    )
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    from airflow_campaign_provider.sandbox import SandboxConfig, SandboxServer

    config = SandboxConfig(rate_limit_per_window=None, preparing_seconds=0.0, request_log_size=100_000)
    with SandboxServer(config, subprocess=True) as sandbox:
        os.environ.update(sandbox.connection_env())
        results = {size: measure(sandbox, size, args.days) for size in sizes}

    cases = list(next(iter(results.values())))
    names = [f"{size:,}" for size in sizes]
    rows = [
        (f"{case}: {when}", [str(results[size][case][i]) for size in sizes])
        for case in cases
        for i, when in enumerate(("before", "after"))
    ]
    print(
        format_table(
            f"List calls per create, by campaigns in the account (created over {args.days:g} days)",
            names,
            rows,
        )
    )
    per_lookup = max(
        results[size][case][1] / lookups for size in sizes for case, lookups in NEW_LOOKUPS.items()
    )
    verdict = "met" if per_lookup <= 3 else "NOT met"
    print(
        f"target: <= 3 list calls per look-up with a known start, at every size -> {verdict} (most: {per_lookup:g})"
    )


if __name__ == "__main__":
    main()
