"""Stop a campaign only if it runs: a stopped, completed or never started one is left as it is."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_campaign_provider import clock
from airflow_campaign_provider.exceptions import CampaignValidationError
from airflow_campaign_provider.status import TERMINAL_STATUSES, CampaignStatus

if TYPE_CHECKING:
    from airflow_campaign_provider.lifecycle.calls import CampaignCalls


def stop_campaign_if_running(hook: CampaignCalls, campaign_id: str, campaign_type: str = "sms") -> str:
    """Stop a running campaign and return its status; a stopped, completed or never started
    one (``Preparing``, ``Ready``) is left as is, and the log says which."""
    status = hook.get_campaign_status(campaign_id)
    if status in TERMINAL_STATUSES:
        hook.log.info("Campaign %s is already %s; nothing to stop.", campaign_id, status)
        return status
    if status in (CampaignStatus.PREPARING.value, CampaignStatus.READY.value):
        hook.log.info("Campaign %s is %s: it was never started; nothing to stop.", campaign_id, status)
        return status
    try:
        answer = hook.stop_campaign(campaign_id, campaign_type)
    except CampaignValidationError:
        status = hook.get_campaign_status(campaign_id)
        if status not in TERMINAL_STATUSES:
            raise
        hook.log.info("Campaign %s became %s meanwhile; nothing to stop.", campaign_id, status)
        return status
    status = str(answer.get("status") or CampaignStatus.STOPPED.value)
    hook.log.info("Stopped campaign %s: %s (%s).", campaign_id, answer.get("message"), status)
    return status


def stop_started_campaign(
    hook: CampaignCalls, campaign_id: str, campaign_type: str, recheck_seconds: float
) -> str | None:
    """Stop a campaign a killed task started, or may have (its play in flight); its status, or
    None when it turned out not to be running.

    A stop Kore refuses while the play is still landing is sent once more, after
    ``recheck_seconds``, if the campaign has turned Active meanwhile.
    """
    try:
        answer = hook.stop_campaign(campaign_id, campaign_type)
    except CampaignValidationError:
        clock.sleep(recheck_seconds)
        if hook.get_campaign_status(campaign_id) != CampaignStatus.ACTIVE.value:
            return None
        answer = hook.stop_campaign(campaign_id, campaign_type)
    return str(answer.get("status"))
