"""Create and update bodies checked against the documented rules of their campaign type, before
any HTTP call. Cheap to import: the models load on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_campaign_provider.exceptions import CampaignArgumentsError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pydantic import BaseModel


def body_model(campaign_type: str, body: Mapping[str, Any]) -> type[BaseModel]:
    """The model a create or update body of ``campaign_type`` is checked with."""
    from airflow_campaign_provider.models.campaign import sms_body_model
    from airflow_campaign_provider.models.voice import VoiceCampaignBody

    return VoiceCampaignBody if campaign_type == "voice" else sms_body_model(dict(body))


#: Why an update may have to repeat a field: Kore's GET answer does not show it as a PUT takes it.
UPDATE_HINTS = {
    "experienceFlowName": "Kore's GET answer shows only the flow's id, so an update passes the name again",
    "enableMachineDetect": "Kore's GET answer shows only whether detection is on, so an update passes it again",
}


def check_campaign_body(
    campaign_type: str, body: Mapping[str, Any], argument: str, hints: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """``body`` checked against the documented rules of its campaign type; every problem is named
    ``<argument>.<wire path>`` in one error, before any HTTP call. ``hints`` add why, by field."""
    from airflow_campaign_provider.models.checks import validate

    model, problems = validate(body_model(campaign_type, body), body)
    if model is None:
        hints = hints or {}
        raise CampaignArgumentsError(
            [
                (f"{argument}.{field}", f"{rule} ({hints[field]})" if field in hints else rule)
                for field, rule in problems
            ]
        )
    return model.model_dump(exclude_none=True)
