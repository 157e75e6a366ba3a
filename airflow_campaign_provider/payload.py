"""The create-SMS-campaign request as operator arguments: checked, built, and compared.

``SmsCampaignSpec`` holds what a DAG asks for, as given (templated values may still be anything).
It checks them with :class:`~airflow_campaign_provider.models.campaign.SmsCampaignArguments`
(every broken rule at once, each naming its argument and the rule), builds the documented
request body, and tells which fields of an existing campaign differ from it, which is what lets
a retried task reuse its own campaign instead of creating a second one. No Airflow and no HTTP here: it is cheap to import and to test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from airflow_campaign_provider.exceptions import CampaignArgumentsError
from airflow_campaign_provider.models.campaign import SmsCampaignArguments
from airflow_campaign_provider.models.common import arguments_error, decode_message, minutes_of_day, show


def _day_key(block: Mapping[str, Any]) -> tuple[str, int | None, int | None]:
    return (
        str(block.get("day")),
        minutes_of_day(str(block.get("start"))),
        minutes_of_day(str(block.get("end"))),
    )


@dataclass(frozen=True)
class SmsCampaignSpec:
    """An SMS campaign from a template, as the operator's arguments describe it.

    :param name: Campaign name, at most 48 characters; how a retried task finds its campaign.
    :param description: At most 256 characters.
    :param contact_lists: Names of existing contact lists, at least one.
    :param template_name: The pre-approved template's name.
    :param message: The template's body as plain text (sent base64-encoded).
    :param caller_id: The sender: an E.164 number, a short code or an alphanumeric sender id.
    :param calling_hours: ``{"frequency": "WEEKLY"|"DAILY"|"CUSTOM", "timezone": <IANA>,
        "days": [{"day": "MO"…"SU", "start": "9:00 AM", "end": "6:00 PM"}, …]}``.
    :param priority: 1 to 5.
    :param format: ``"simple"``, the one format the create page documents.
    :param dnc_list: Name of a Do-Not-Call list, or None.
    """

    @property
    def campaign_type(self) -> str:
        """What kind of campaign this describes, for the hook's create-once."""
        return "sms"

    name: Any
    description: Any
    contact_lists: Any
    template_name: Any
    message: Any
    caller_id: Any
    calling_hours: Any
    priority: Any = 5
    format: Any = "simple"
    dnc_list: Any = None

    def arguments(self) -> SmsCampaignArguments:
        """The validated arguments; raises ``CampaignArgumentsError`` listing every broken rule."""
        try:
            return SmsCampaignArguments.model_validate(
                {name: getattr(self, name) for name in SmsCampaignArguments.model_fields}
            )
        except ValidationError as error:
            raise arguments_error(error) from None

    def problems(self) -> list[tuple[str, str]]:
        """Every broken rule as ``(field, rule)``; empty when the spec is valid."""
        try:
            self.arguments()
        except CampaignArgumentsError as error:
            return error.problems
        return []

    def check(self) -> None:
        """Raise ``CampaignArgumentsError`` listing every broken rule."""
        self.arguments()

    def to_body(self) -> dict[str, Any]:
        """The documented create body; raises ``CampaignArgumentsError`` first if anything is wrong."""
        return self.arguments().to_body()

    def differences(self, campaign: Mapping[str, Any]) -> tuple[list[str], list[str]]:
        """``(differing, unchecked)``: how ``campaign`` differs from this spec, one
        ``"field: asked …, found …"`` line per field, and the fields it does not show at all
        (Kore's answers vary, so those are not held against it).

        Call it on a valid spec. Contact lists compare as sets, calling-hour blocks regardless of
        order and of a leading zero in times; the message compares as decoded text.
        """
        differing: list[str] = []
        unchecked: list[str] = []
        theirs: dict[str, Any] = {
            "name": campaign.get("name"),
            "description": campaign.get("description"),
            "contact_lists": campaign.get("contactLists"),
            "template_name": dig(campaign, "message", "template_name"),
            "message": dig(campaign, "message", "message"),
            "caller_id": dig(campaign, "dialingStrategy", "callerId", "phoneNumber"),
            "calling_hours.frequency": dig(campaign, "dialingStrategy", "callingHours", "frequency"),
            "calling_hours.timezone": dig(campaign, "dialingStrategy", "callingHours", "timezone"),
            "calling_hours.days": dig(campaign, "dialingStrategy", "callingHours", "days"),
            "priority": campaign.get("priority"),
            "format": campaign.get("format"),
        }
        ours_hours = self.calling_hours
        ours: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "contact_lists": sorted(self.contact_lists),
            "template_name": self.template_name,
            "message": self.message,
            "caller_id": self.caller_id,
            "calling_hours.frequency": ours_hours["frequency"],
            "calling_hours.timezone": ours_hours["timezone"],
            "calling_hours.days": sorted(_day_key(d) for d in ours_hours["days"]),
            "priority": self.arguments().priority,
            "format": self.format,
        }
        # An absent dncLists means "no DNC list": it is compared, never skipped.
        theirs["dnc_list"] = dig(campaign, "dncLists", "name")
        ours["dnc_list"] = self.dnc_list
        for field, value in theirs.items():
            if value is None and field != "dnc_list":
                unchecked.append(field)
                continue
            found = _normalized(field, value)
            if found != ours[field]:
                if field == "calling_hours.days":  # show the blocks as written, not as compared
                    ours[field], found = self.calling_hours["days"], value
                differing.append(f"{field}: asked {show(ours[field])}, found {show(found)}")
        return differing, unchecked


def dig(obj: Any, *keys: str) -> Any:
    """``obj[k1][k2]…``, or None where a level is missing or not a mapping."""
    for key in keys:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _normalized(field: str, value: Any) -> Any:
    """A campaign's field in the form ``SmsCampaignSpec.differences`` compares."""
    if field == "contact_lists":
        return sorted(str(item) for item in value) if isinstance(value, list) else value
    if field == "calling_hours.days":
        if not isinstance(value, list):
            return value
        return sorted(_day_key(d) if isinstance(d, Mapping) else ("", None, None) for d in value)
    if field == "message":
        decoded = decode_message(str(value))
        return value if decoded is None else decoded
    if field == "priority":
        return str(value)
    return value


#: The arguments a spec is made of, in the order their problems are listed.
SPEC_FIELDS = tuple(SmsCampaignSpec.__dataclass_fields__)
