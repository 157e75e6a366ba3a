"""Wait for a campaign's status: read it once against a goal, or poll until the goal or a deadline.

Polls pause through :func:`airflow_campaign_provider.clock.sleep` and measure the deadline on
:func:`airflow_campaign_provider.clock.monotonic`, so a test runs a week-long wait in no time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_campaign_provider import clock
from airflow_campaign_provider.exceptions import CampaignWaitFailedError, CampaignWaitTimeoutError
from airflow_campaign_provider.status import WaitGoal, is_documented

if TYPE_CHECKING:
    from collections.abc import Iterable

    from airflow_campaign_provider.lifecycle.calls import CampaignCalls


def check_campaign_status(hook: CampaignCalls, campaign_id: str, goal: WaitGoal) -> tuple[str, bool]:
    """Read the status once: ``(status, whether it ends a wait for goal)``; a failure status raises
    :class:`CampaignWaitFailedError` (no task retries: the campaign will not get there)."""
    status = hook.get_campaign_status(campaign_id)
    outcome = goal.judge(campaign_id, status)
    if outcome is None:
        return status, False
    if outcome.status == "failure":
        raise CampaignWaitFailedError(outcome.message)
    hook.log.info("%s", outcome.message)
    return status, True


def wait_for_campaign_status(
    hook: CampaignCalls,
    campaign_id: str,
    target_statuses: WaitGoal | str | Iterable[str],
    failure_statuses: str | Iterable[str] | None = None,
    *,
    timeout: float,
    poll_interval: float,
) -> str:
    """Poll until the status is a target and return it; fail at once on a failure status (by
    default every terminal status that is not a target), with :class:`CampaignWaitTimeoutError`
    after ``timeout`` seconds."""
    goal = (
        target_statuses
        if isinstance(target_statuses, WaitGoal)
        else WaitGoal.of(target_statuses, failure_statuses)
    )
    deadline = clock.monotonic() + timeout
    while True:
        status, reached = hook.check_campaign_status(campaign_id, goal)
        if reached:
            return status
        remaining = deadline - clock.monotonic()
        if remaining <= 0:
            raise CampaignWaitTimeoutError(goal.timed_out(campaign_id, status).message)
        if is_documented(status):
            hook.log.info("Campaign %s is %s; waiting.", campaign_id, status)
        else:
            hook.log.warning(
                "Campaign %s is in status %r, which Kore.ai does not document; waiting on.",
                campaign_id,
                status,
            )
        clock.sleep(min(poll_interval, remaining))
