"""Delete a campaign if it exists, stopping it first if it runs; one already gone is no error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider.api import campaign_id_of
from airflow_campaign_provider.exceptions import CampaignNotFoundError, InvalidCampaignArgumentError
from airflow_campaign_provider.status import CampaignStatus

if TYPE_CHECKING:
    from airflow_campaign_provider.lifecycle.calls import CampaignCalls


def delete_campaign_if_exists(
    hook: CampaignCalls,
    campaign_id: str,
    campaign_type: str = "sms",
    *,
    missing_ok: bool = True,
    stop_first: bool = True,
) -> dict[str, Any]:
    """Delete a campaign (stopping an ``Active`` one first with ``stop_first``) and summarize it:
    ``campaign_id``, ``campaign_type``, ``name``, ``status``, ``deleted`` (False when it was
    already gone, accepted with ``missing_ok``) and Kore's ``message``."""
    try:
        if stop_first and hook.get_campaign_status(campaign_id) == CampaignStatus.ACTIVE.value:
            hook.stop_campaign_if_running(campaign_id, campaign_type)
        answer = hook.delete_campaign(campaign_id, campaign_type)
    except CampaignNotFoundError as error:
        if not missing_ok:
            raise
        return _already_deleted(hook, campaign_id, campaign_type, error)
    data = answer.get("data")
    data = data if isinstance(data, Mapping) else {}
    summary = {
        "campaign_id": campaign_id_of(data) or campaign_id,
        "campaign_type": campaign_type,
        "name": data.get("name"),
        "status": data.get("status"),
        "deleted": True,
        "message": answer.get("message"),
    }
    hook.log.info(
        "Deleted %s campaign %s (%s): %s", campaign_type, campaign_id, summary["name"], summary["message"]
    )
    return summary


def _already_deleted(
    hook: CampaignCalls, campaign_id: str, campaign_type: str, error: CampaignNotFoundError
) -> dict[str, Any]:
    """A 404 on delete: the campaign is gone, or it exists with the other type."""
    try:
        status = hook.get_campaign_status(campaign_id)
    except CampaignNotFoundError:
        hook.log.info("Campaign %s does not exist (already deleted?); nothing to delete.", campaign_id)
        return {
            "campaign_id": campaign_id,
            "campaign_type": campaign_type,
            "name": None,
            "status": None,
            "deleted": False,
            "message": error.kore_message,
        }
    raise InvalidCampaignArgumentError(
        "campaign_type",
        f"campaign {campaign_id} exists ({status}) but Kore.ai finds no {campaign_type} campaign "
        "with that id; is it of the other type?",
    ) from error
