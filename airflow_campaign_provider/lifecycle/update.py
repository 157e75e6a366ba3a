"""Update a campaign that has not started: read it, merge the changes, check, send it whole."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider.api import CampaignType
from airflow_campaign_provider.exceptions import CampaignStateError, InvalidCampaignArgumentError
from airflow_campaign_provider.models.bodies import UPDATE_HINTS, check_campaign_body

if TYPE_CHECKING:
    from airflow_campaign_provider.lifecycle.calls import CampaignCalls


def update_campaign(
    hook: CampaignCalls, campaign_id: str, campaign_type: str, changes: Mapping[str, Any]
) -> dict[str, Any]:
    """Change a campaign that has not started: read it, apply ``changes``, send the full object.

    ``changes`` uses Kore's field names (``{"dialingStrategy": {"maxRingTime": 45}}``); objects
    merge key by key, lists and values are replaced, None removes a field. The merged body is
    checked against the documented rules before the PUT; a campaign that is not Preparing,
    Ready or Scheduled is refused naming its status, and nothing is sent.
    """
    from airflow_campaign_provider.models.update import UPDATABLE_STATUSES, editable_body, merged

    kind = CampaignType.parse(campaign_type).value
    if not isinstance(changes, Mapping) or not changes:
        raise InvalidCampaignArgumentError("changes", f"must be a non-empty mapping, got {changes!r}")
    campaign = hook.get_campaign(campaign_id)
    status = campaign.get("status")
    if status not in UPDATABLE_STATUSES:
        raise CampaignStateError(
            f"Campaign {campaign_id} is {status}: only a campaign that has not started "
            f"({', '.join(UPDATABLE_STATUSES)}) is updated; nothing was sent."
        )
    body = check_campaign_body(kind, merged(editable_body(campaign, kind), changes), "changes", UPDATE_HINTS)
    return hook.put_campaign(campaign_id, kind, body)
