"""An update (PUT) body: the campaign as Kore answers a GET, turned back into what Kore takes.

Kore's PUT takes the full object, so an update reads the campaign, keeps what the caller does
not change and sends it all. The GET answer carries fields the server owns (ids, status, stamps)
and writes some differently from a create (``enableMachineDetect`` as a boolean, the experience
flow as its id ``experienceFlow`` only); :func:`editable_body` undoes that where it can.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_campaign_provider.status import CampaignStatus

#: Statuses in which a campaign has not started, so an update cannot change a send under way.
UPDATABLE_STATUSES = (
    CampaignStatus.PREPARING.value,
    CampaignStatus.READY.value,
    CampaignStatus.SCHEDULED.value,
)
#: Fields of a GET answer the server owns; a PUT body leaves them out.
SERVER_FIELDS = frozenset(
    {
        "_id",
        "id",
        "lname",
        "status",
        "createdAt",
        "updatedAt",
        "totalMessagesSent",
        "campaignInstanceId",
        "isImported",
        "isFiltersEnabled",
        "experienceFlow",
        "direction",
    }
)


def editable_body(campaign: Mapping[str, Any], campaign_type: str) -> dict[str, Any]:
    """The PUT body that leaves ``campaign`` (a GET answer's ``data``) as it is."""
    body = {key: value for key, value in campaign.items() if key not in SERVER_FIELDS}
    strategy = body.get("dialingStrategy")
    if isinstance(strategy, Mapping):
        body["dialingStrategy"] = {k: v for k, v in strategy.items() if k != "useSystemMappings"}
    dnc = body.get("dncLists")
    if isinstance(dnc, Mapping):
        body["dncLists"] = {"name": dnc.get("name")}
    message = body.get("message")
    if isinstance(message, Mapping):
        body["message"] = {k: v for k, v in message.items() if k != "templateId"}
    schedule = body.get("schedule")
    if isinstance(schedule, Mapping):
        body["schedule"] = {"isSchedulingEnabled": bool(schedule.get("isSchedulingEnabled"))}
    detect = body.pop("enableMachineDetect", None)
    if detect is False or detect in ("no", "detect", "disconnect"):
        body["enableMachineDetect"] = "no" if detect is False else detect
    body["campaignType"] = campaign_type
    return body


def merged(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` applied: objects merge key by key, anything else is replaced;
    a change to None removes the field."""
    out = dict(base)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out
