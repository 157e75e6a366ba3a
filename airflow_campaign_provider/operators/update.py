"""UpdateCampaignOperator: change a campaign that has not started (Kore's PUT, full object)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider.operators.arguments import raise_problems
from airflow_campaign_provider.operators.base import TargetCampaignBaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class UpdateCampaignOperator(TargetCampaignBaseOperator):
    """
    Change an SMS or voice campaign that has not started (``Preparing``, ``Ready`` or ``Scheduled``).

    Kore's PUT takes the full object, so the hook reads the campaign, applies ``changes`` and
    sends it all, after checking the merged body against the documented rules. An ``Active``
    (or finished) campaign is refused naming its status, and nothing is sent. Sending the same
    update again changes nothing, so a retry is harmless.

    Returns ``{campaign_id, campaign_type, name, status, changed}`` (``changed``: the top-level
    fields given).

    :param campaign_id: The campaign's id (``cd-…``).
    :param campaign_type: ``"sms"`` (default) or ``"voice"``.
    :param changes: The fields to change, with Kore's names, e.g.
        ``{"description": "…", "dialingStrategy": {"maxRingTime": 45}}``: objects merge key by
        key, lists and values replace, None removes a field. A voice campaign's GET answer lacks
        ``experienceFlowName`` (it shows only the flow's id) and writes ``enableMachineDetect`` as a
        boolean: an Agentless update whose campaign detects machines passes both again.
    :param stream_id: Bot/stream id overriding the connection's.
    :param kore_conn_id: The Airflow connection of type ``kore_campaign``.
    """

    template_fields: Sequence[str] = (*TargetCampaignBaseOperator.template_fields, "changes")
    template_fields_renderers = {"changes": "json"}

    def __init__(self, *, changes: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.changes = changes
        raise_problems(self._problems(), {"changes": changes})

    def _problems(self) -> list[tuple[str, str]]:
        if isinstance(self.changes, Mapping) and self.changes:
            return []
        return [("changes", f"must be a non-empty mapping of Kore fields, got {self.changes!r}")]

    def execute(self, context: Context) -> dict[str, Any]:
        campaign_id, campaign_type = self._target()
        raise_problems(self._problems())
        campaign = self.hook.update_campaign(campaign_id, campaign_type, self.changes)
        self.log.info("Updated %s campaign %s: %s.", campaign_type, campaign_id, sorted(self.changes))
        return {
            "campaign_id": campaign_id,
            "campaign_type": campaign_type,
            "name": campaign.get("name"),
            "status": campaign.get("status"),
            "changed": sorted(self.changes),
        }
