"""Campaign bodies: the create-SMS-from-template request, its operator arguments, the list query.

:class:`SmsCampaignBody` is the wire body the client sends and the sandbox validates (with its
account data in the validation context, which adds the checks only the receiving side can make:
the lists and template exist, the message is the template's body, the name is free).
:class:`SmsCampaignArguments` is the same campaign as an operator's arguments; it is built from
the very same types and turns itself into the wire body.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from airflow_campaign_provider.models.common import (
    PRIORITIES,
    Base64Text,
    CampaignName,
    CampaignTypeName,
    DayCode,
    Description,
    Format,
    Frequency,
    Name,
    NameList,
    Priority,
    Rule,
    SenderId,
    TimeOfDay,
    TimeZoneName,
    UnicodeText,
    broken,
    choice,
    decode_message,
    encode_message,
    known_data,
    minutes_of_day,
    show,
    whole_number,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_campaign_provider.models.common import KnownData

_STRICT = ConfigDict(extra="forbid", frozen=True)
_OPEN = ConfigDict(extra="ignore", frozen=True)


class DayWindow(BaseModel):
    """One day's calling window, e.g. ``{"day": "MO", "start": "9:00 AM", "end": "6:00 PM"}``."""

    model_config = _STRICT

    day: DayCode
    start: TimeOfDay
    end: TimeOfDay

    @field_validator("end")
    @classmethod
    def _ends_after_start(cls, end: str, info: ValidationInfo) -> str:
        start = info.data.get("start")  # absent when start itself is wrong
        if start is not None and (minutes_of_day(start) or 0) >= (minutes_of_day(end) or 0):
            raise broken("time_order", f"must be later than start ({start} to {end})")
        return end


class CallingHours(BaseModel):
    """When contacts may be messaged: a frequency, an IANA time zone and day windows."""

    model_config = _STRICT

    frequency: Frequency
    timezone: TimeZoneName
    days: Annotated[list[DayWindow], Field(min_length=1)]


# --- the wire body ------------------------------------------------------------------------


def _known(refused: Callable[[KnownData, str], bool], rule: str) -> AfterValidator:
    """A check only the receiving side makes, against the account data in the validation context;
    ``rule`` has a ``{}`` where the value goes."""

    def check(value: str, info: ValidationInfo) -> str:
        data = known_data(info.context)
        if data is not None and refused(data, value):
            raise broken("unknown_name", rule.format(show(value)))
        return value

    return AfterValidator(check)


KnownContactList = Annotated[
    Name, _known(lambda data, name: name not in data.contact_lists, "contact list {} does not exist")
]
KnownDncList = Annotated[
    Name, _known(lambda data, name: name not in data.dnc_lists, "DNC list {} does not exist")
]
KnownTemplate = Annotated[
    Name, _known(lambda data, name: name not in data.templates, "template {} does not exist")
]
FreeCampaignName = Annotated[
    CampaignName, _known(lambda data, name: data.name_taken(name), "a campaign named {} already exists")
]


class DncListRef(BaseModel):
    model_config = _OPEN

    name: KnownDncList | None = None


class TemplateMessage(BaseModel):
    """The template a campaign sends and its exact body, base64-encoded."""

    model_config = _OPEN

    template_name: KnownTemplate
    message: Base64Text

    @model_validator(mode="after")
    def _is_the_template_body(self, info: ValidationInfo) -> TemplateMessage:
        data = known_data(info.context)
        template = data.templates.get(self.template_name) if data is not None else None
        text = decode_message(self.message)
        if template is not None and text != template.body:
            raise broken(
                "template_body", template_mismatch(self.template_name, template.body, text), at="message"
            )
        return self


def template_mismatch(template_name: str, body: str, text: str | None) -> str:
    """What a message that is not its template's body is told: where the two part, and the body."""
    name = f'"{template_name}"'
    if text is None:
        return f"must be the body of template {name} as text (sent base64-encoded); got something else"
    at = next(
        (i for i, (a, b) in enumerate(zip(text, body, strict=False)) if a != b), min(len(text), len(body))
    )
    return (
        f"must be the body of template {name}, word for word (Kore sends only approved text); it differs "
        f"from character {at + 1}: the message has {_excerpt(text, at)!s}, the template {_excerpt(body, at)!s}. "
        f'The template\'s body is "{body}". A sandbox\'s templates come from its seed ("templates" in '
        f"the seed JSON) or PUT /_sandbox/resources/templates/<name>; GET /_sandbox/resources lists them"
    )


def _excerpt(text: str, at: int, around: int = 15) -> str:
    """The text near character ``at``, quoted, with … where it is cut (or "nothing more")."""
    if at >= len(text):
        return "nothing more"
    start, end = max(0, at - around), at + around
    return f'"{"…" if start else ""}{text[start:end]}{"…" if end < len(text) else ""}"'


class CallerId(BaseModel):
    model_config = _OPEN

    phoneNumber: SenderId


class DialingStrategy(BaseModel):
    model_config = _OPEN

    callerId: CallerId
    callingHours: CallingHours


class SmsCampaignBody(BaseModel):
    """``POST …/campaign?campaignType=sms``: create an SMS campaign from a template."""

    model_config = _OPEN

    name: FreeCampaignName
    description: Description
    contactLists: list[KnownContactList] = Field(min_length=1)
    dncLists: DncListRef | None = None
    campaignType: Annotated[str, choice("sms")] = Field(default=None, validate_default=True)
    priority: Priority
    format: Format
    message: TemplateMessage
    dialingStrategy: DialingStrategy


class TextMessage(BaseModel):
    """The message of a campaign without a template: the text itself, base64-encoded."""

    model_config = _OPEN

    message: Base64Text
    templateId: Name | None = None


class SmsTextCampaignBody(SmsCampaignBody):
    """``format: "simple"`` without a template (create-sms-campaign-without-template page)."""

    format: Annotated[str, choice("simple", "advanced")]  # "advanced" bodies get the flow model
    message: TextMessage  # type: ignore[assignment]  # a template's fields are not needed here


class SmsFlowCampaignBody(SmsCampaignBody):
    """``format: "advanced"``: an experience flow converses by SMS.

    The advanced-format page contradicts itself: its table says ``format`` "Use simple" and
    requires ``message``; its sample sends ``format: "advanced"``, ``experienceFlowName`` and no
    message. This follows the sample (a message, when given, is checked as a plain one).
    """

    format: Annotated[str, choice("advanced")]
    message: TextMessage | None = None  # type: ignore[assignment]
    experienceFlowName: Name


def sms_body_model(body: Any) -> type[SmsCampaignBody]:
    """The model a create-SMS body is checked with: from a template, simple text, or a flow."""
    if isinstance(body, dict) and body.get("format") == "advanced":
        return SmsFlowCampaignBody
    message = body.get("message") if isinstance(body, dict) else None
    if isinstance(message, dict) and "template_name" not in message:
        return SmsTextCampaignBody
    return SmsCampaignBody


# --- the same campaign as operator arguments ----------------------------------------------


def _priority_argument(value: Any) -> str:
    """``"1"``…``"5"`` from an int 1 to 5 or its digit string (a rendered template)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    elif isinstance(value, str):
        value = value.strip()
    if value in PRIORITIES:
        return str(value)
    raise broken("priority", f"must be a whole number from 1 to 5; got {show(value)}")


def _not_padded(name: str) -> str:
    if name != name.strip():
        raise broken("padded", "must not start or end with whitespace (campaigns are found by name)")
    return name


class SmsCampaignArguments(BaseModel):
    """An SMS campaign from a template as operator arguments; field names are the arguments'.

    Fields are declared in the order their problems are listed.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    name: Annotated[CampaignName, AfterValidator(_not_padded)]
    description: Description
    contact_lists: NameList
    template_name: Name
    message: UnicodeText
    caller_id: SenderId
    calling_hours: CallingHours
    priority: Annotated[str, Rule(_priority_argument, {"type": ["integer", "string"]})] = "5"
    format: Format = "simple"
    dnc_list: Name | None = None

    def to_body(self) -> dict[str, Any]:
        """The documented create body."""
        hours = self.calling_hours
        body: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "contactLists": list(self.contact_lists),
            "campaignType": "sms",
            "priority": self.priority,
            "format": self.format,
            "message": {"template_name": self.template_name, "message": encode_message(self.message)},
            "dialingStrategy": {
                "callerId": {"phoneNumber": self.caller_id},
                "callingHours": hours.model_dump(),
            },
        }
        if self.dnc_list is not None:
            body["dncLists"] = {"name": self.dnc_list}
        return body


# --- the list query -----------------------------------------------------------------------


class StatusFilter(BaseModel):
    model_config = _OPEN

    status: (
        Annotated[list[str], Rule(_status_names, {"type": "array", "items": {"type": "string"}})] | None
    ) = None


def _status_names(value: Any) -> list[str]:
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(item, str) for item in values):
        raise broken("statuses", "must be an array of status names")
    return values


def _iso_instant(value: Any) -> datetime:
    """An ISO 8601 timestamp with a zone, as Kore writes them (``2025-12-01T00:00:00.000Z``)."""
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else None
    except ValueError:
        instant = None
    if instant is None or instant.tzinfo is None:
        raise broken(
            "iso_instant",
            f"must be an ISO 8601 timestamp with a zone, e.g. 2025-12-01T00:00:00.000Z, got {show(value)}",
        )
    return instant


IsoInstant = Annotated[datetime, Rule(_iso_instant, {"type": "string", "format": "date-time"})]


class CampaignListBody(BaseModel):
    """``POST …/campaign/getAllCampaignDetails``: one page of campaigns, filtered.

    ``sortBy`` (one field: ``createdAt``, ``updatedAt`` or ``name``) is checked by the receiving
    side (see the sandbox); ``startDate``/``endDate`` bound ``createdAt`` there *(guess: Kore does
    not say which timestamp they filter)*.
    """

    model_config = _OPEN

    type: CampaignTypeName | None = None
    limit: Annotated[int, whole_number(1, 10**9)] | None = None
    skip: Annotated[int, whole_number(0, 10**12)] | None = None
    page: Annotated[int, whole_number(1, 10**9)] | None = None
    filters: StatusFilter | None = None
    sortBy: Any = None
    startDate: IsoInstant | None = None
    endDate: IsoInstant | None = None
