"""An update (PUT) body: the campaign as Kore answers a GET, turned back into what Kore takes.

Kore's PUT takes the full object, so an update reads the campaign, keeps what the caller does
not change and sends it all. The GET answer carries fields the server owns (ids, status, stamps)
and writes some differently from a create (``enableMachineDetect`` as a boolean, the experience
flow as its id ``experienceFlow`` only); :func:`editable_body` undoes that where it can.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from airflow_campaign_provider.models.common import decode_message, minutes_of_day, show
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


def _flat(body: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in body.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out |= _flat(value, path + ".")
        else:
            out[path] = value
    return out


#: Fields compared even where a campaign leaves them out: no DNC list shown means none is used.
ALWAYS_COMPARED = frozenset({"dncLists.name"})


def _comparable(value: Any, path: str = "") -> Any:
    """A value as compared: lists regardless of order (contact lists, day windows), numbers as
    their text, times of day regardless of a leading zero, a message as the text it encodes."""
    if path == "message.message" and isinstance(value, str):
        decoded = decode_message(value)
        return value if decoded is None else decoded
    if isinstance(value, list):
        return sorted(repr(_comparable(item)) for item in value)
    if isinstance(value, Mapping):
        return {key: _comparable(item) for key, item in value.items()}
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        minutes = minutes_of_day(value)
        return value if minutes is None else minutes
    return value


def wire_differences(
    asked: Mapping[str, Any],
    campaign: Mapping[str, Any],
    campaign_type: str,
    names: Mapping[str, str] | None = None,
) -> tuple[list[str], list[str]]:
    """``(differing, unchecked)`` between the body a task would send and an existing campaign
    (a GET answer's ``data``): one ``"field: asked …, found …"`` line per differing field, and the
    fields the campaign does not show (Kore's answers leave some out; those are not held against
    it, but for :data:`ALWAYS_COMPARED`). A field asked as None asks for its absence. The one rule every create compares by; ``names`` shows
    each wire field under the name its caller knows it by (see :func:`~.checks.renamed`)."""
    from airflow_campaign_provider.models.checks import renamed

    ours = _flat(asked)
    theirs = {
        path: value
        for path, value in _flat(editable_body(campaign, campaign_type)).items()
        if value is not None
    }
    differing: list[str] = []
    unchecked: list[str] = []
    for path, value in ours.items():
        if path == "schedule.isSchedulingEnabled":
            continue  # a schedule is turned on after the create, by its own call
        label = renamed(path, names or {})
        found = theirs.get(path)
        if found is None and value is not None and path not in ALWAYS_COMPARED:
            unchecked.append(label)
        elif _comparable(found, path) != _comparable(value, path):
            differing.append(f"{label}: asked {show(value)}, found {show(found)}")
    return differing, unchecked


class CampaignSpec(Protocol):
    """What creating a campaign exactly once needs to know of it, whatever its type."""

    @property
    def name(self) -> str: ...

    @property
    def campaign_type(self) -> str: ...

    def to_body(self) -> dict[str, Any]:
        """The create body, checked: raises naming every problem before any call."""
        ...

    def differences(self, campaign: Mapping[str, Any]) -> tuple[list[str], list[str]]:
        """``(differing, unchecked)`` between this spec and an existing campaign (a GET's ``data``)."""
        ...


@dataclass(frozen=True)
class BodySpec:
    """A campaign given as Kore's own (already checked) create body: voice, SMS without a template."""

    campaign_type: str
    body: Mapping[str, Any]

    @property
    def name(self) -> str:
        return str(self.body["name"])

    def to_body(self) -> dict[str, Any]:
        return dict(self.body)

    def differences(self, campaign: Mapping[str, Any]) -> tuple[list[str], list[str]]:
        return wire_differences(self.body, campaign, self.campaign_type)
