"""The documented rules of Kore's request bodies, each written once as a reusable pydantic type.

Every body model (campaigns here, contact lists, voice campaigns and schedules beside it) is
built from these types, so the client, which checks a body before any HTTP call, and the
sandbox, which checks what it receives, apply the very same rules and word them the same way.
:func:`problems_of` turns a ``ValidationError`` into ``(field, rule)`` pairs that name the
field as the caller wrote it; :func:`arguments_error` makes the provider's error of them.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING, Annotated, Any, Protocol

from pydantic import AfterValidator, Field, GetCoreSchemaHandler, GetJsonSchemaHandler, ValidationError
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from airflow_campaign_provider.exceptions import CampaignArgumentsError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from pydantic.json_schema import JsonSchemaValue

MAX_NAME_LENGTH = 48
MAX_DESCRIPTION_LENGTH = 256
#: ``priority`` is a string on the wire; higher runs first.
PRIORITIES = ("1", "2", "3", "4", "5")
FREQUENCIES = ("WEEKLY", "DAILY", "CUSTOM")
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
#: The one format the create-from-template page documents ("advanced" campaigns run a bot flow).
FORMATS = ("simple",)
CAMPAIGN_TYPES = ("sms", "voice")
#: A phone number in E.164 form: ``+``, a non-zero digit, at most 15 digits in all.
E164 = re.compile(r"\+[1-9][0-9]{1,14}")
E164_EXAMPLE = "+14155550100"
#: A time of day as the documentation writes it: ``9:00 AM``, ``12:30 PM``.
TIME_OF_DAY = re.compile(r"(1[0-2]|0?[1-9]):([0-5][0-9]) (AM|PM)")
TIME_OF_DAY_EXAMPLE = "9:00 AM"
#: The validation context key under which the sandbox hands its account data (see :class:`KnownData`).
KNOWN_DATA = "known_data"
#: A custom error's ``ctx`` key naming the part of the value the rule is about (``end`` of a day
#: block, ``[1]`` of a list): a model-level rule can point at the field a person must change.
AT = "at"


class Template(Protocol):
    """A registered message template: the exact body a campaign must encode."""

    @property
    def body(self) -> str: ...


class KnownData(Protocol):
    """What the receiving side knows about the account: the names a body may refer to."""

    @property
    def contact_lists(self) -> Mapping[str, Any]:
        """Contact lists by name."""
        ...

    @property
    def dnc_lists(self) -> Mapping[str, Any]:
        """DNC lists by name."""
        ...

    @property
    def templates(self) -> Mapping[str, Template]:
        """Templates by name."""
        ...

    def name_taken(self, name: str) -> bool:
        """True when a live campaign already has this name (case-insensitively)."""
        ...


def show(value: Any) -> str:
    """A short rendering of a value for a message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def got(value: Any) -> str:
    """``got <type> <value>`` for a message about a value of the wrong kind."""
    return f"got {type(value).__name__} {show(value)}"


def broken(kind: str, rule: str, **ctx: Any) -> PydanticCustomError:
    """The error a rule raises; ``rule`` is the message, worded ``must …``."""
    return PydanticCustomError(kind, rule.replace("{", "{{").replace("}", "}}"), ctx or None)


def is_e164(phone: str) -> bool:
    """Whether ``phone`` is an E.164 number like ``+14155550100``."""
    return E164.fullmatch(phone) is not None


def minutes_of_day(text: str) -> int | None:
    """Minutes after midnight of a time like ``9:00 AM``, or None when it is not written so."""
    match = TIME_OF_DAY.fullmatch(text)
    if match is None:
        return None
    hour, minute, half = int(match[1]) % 12, int(match[2]), match[3]
    return (hour + (12 if half == "PM" else 0)) * 60 + minute


def is_known_timezone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone pendulum (hence Airflow) knows, e.g. ``Asia/Kolkata``."""
    import pendulum  # on first use: the sandbox's import stays light

    return name in pendulum.timezones()


def encode_message(body: str) -> str:
    """The base64 of a template body's UTF-8 bytes, as ``message.message`` carries it."""
    return base64.b64encode(body.encode("utf-8")).decode("ascii")


def decode_message(encoded: str) -> str | None:
    """The text a base64 ``message.message`` carries, or None when it is not base64 of UTF-8."""
    try:
        return base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None


# --- reusable constrained types -----------------------------------------------------------


def _text(value: Any, max_length: int | None) -> str:
    if not isinstance(value, str):
        raise broken("text_type", f"must be a string, {got(value)}")
    if not value.strip():
        raise broken("text_blank", "must not be blank")
    if max_length is not None and len(value) > max_length:
        raise broken("text_too_long", f"must be at most {max_length} characters, got {len(value)}")
    return value


class Rule:
    """Annotation metadata: validate with ``check`` alone (its messages, not pydantic's) and publish
    ``schema`` as the JSON schema, e.g. ``Annotated[str, Rule(check, {"type": "string"})]``."""

    def __init__(self, check: Callable[[Any], Any], schema: dict[str, Any]) -> None:
        self.check = check
        self.schema = schema

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(self.check)

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return dict(self.schema)


def text(max_length: int | None = None) -> Rule:
    """A non-blank string of at most ``max_length`` characters."""
    limits = {"minLength": 1} | ({"maxLength": max_length} if max_length else {})
    return Rule(lambda value: _text(value, max_length), {"type": "string", **limits})


def choice(*allowed: str) -> Rule:
    """One of ``allowed`` strings, exactly as written."""
    listed = ", ".join(f'"{a}"' for a in allowed)

    def check(value: Any) -> str:
        if isinstance(value, str) and value in allowed:
            return value
        raise broken("choice", f"must be one of {listed} (got {show(value)})")

    return Rule(check, {"type": "string", "enum": list(allowed)})


def checked_text(rule: str, test: Callable[[str], bool], **schema: Any) -> Rule:
    """A non-blank string that passes ``test``; ``rule`` says what it must be otherwise."""

    def check(value: Any) -> str:
        value = _text(value, None)
        if not test(value):
            raise broken("text_rule", f"{rule}; got {show(value)}")
        return value

    return Rule(check, {"type": "string", **schema})


def whole_number(low: int, high: int) -> Rule:
    """A whole number from ``low`` to ``high``; its digits as a string (an Airflow extra) are read too."""

    def check(value: Any) -> int:
        if isinstance(value, bool):
            raise broken("number_type", f"must be a whole number, {got(value)}")
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise broken("number_type", f"must be a whole number, {got(value)}") from None
        if number != value and str(number) != str(value).strip():
            raise broken("number_type", f"must be a whole number, {got(value)}")
        if not low <= number <= high:
            raise broken("number_range", f"must be between {low} and {high}, got {show(value)}")
        return number

    return Rule(check, {"type": "integer", "minimum": low, "maximum": high})


_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = value.strip().lower() if isinstance(value, str) else None
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise broken("flag", f"must be true or false, got {show(value)}")


def _unique(items: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        if item in seen:
            raise broken("repeated", f"repeats [{seen[item]}] {show(item)}", at=f"[{index}]")
        seen[item] = index
    return items


def _time_of_day(text: str) -> bool:
    return minutes_of_day(text) is not None


def _base64_text(value: Any) -> str:
    value = _text(value, None)
    if decode_message(value) is None:
        raise broken("base64", "must be base64 (of UTF-8 text)")
    return value


def _unicode_text(value: Any) -> str:
    value = _text(value, None)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise broken("unicode", "must be valid Unicode text (it is sent as UTF-8)") from None
    return value


#: Any name that must not be blank: a template, a contact list, a DNC list.
Name = Annotated[str, text()]
CampaignName = Annotated[str, text(MAX_NAME_LENGTH)]
Description = Annotated[str, text(MAX_DESCRIPTION_LENGTH)]
#: Names of lists, at least one, none twice.
NameList = Annotated[list[Name], Field(min_length=1), AfterValidator(_unique)]
Priority = Annotated[str, choice(*PRIORITIES)]
Frequency = Annotated[str, choice(*FREQUENCIES)]
DayCode = Annotated[str, choice(*DAYS)]
Format = Annotated[str, choice(*FORMATS)]
CampaignTypeName = Annotated[str, choice(*CAMPAIGN_TYPES)]
E164Phone = Annotated[
    str,
    checked_text(
        f"must be an E.164 number like {E164_EXAMPLE}",
        is_e164,
        pattern=f"^{E164.pattern}$",
        example=E164_EXAMPLE,
    ),
]
TimeZoneName = Annotated[
    str,
    checked_text("must be an IANA time zone like Asia/Kolkata", is_known_timezone, example="Asia/Kolkata"),
]
TimeOfDay = Annotated[
    str,
    checked_text(
        f'must be a time like "{TIME_OF_DAY_EXAMPLE}"',
        _time_of_day,
        pattern=f"^{TIME_OF_DAY.pattern}$",
        example=TIME_OF_DAY_EXAMPLE,
    ),
]
#: A template body as sent: base64 of UTF-8 text.
Base64Text = Annotated[
    str, Rule(_base64_text, {"type": "string", "description": "base64 of the template's exact body"})
]
#: A template body as a person writes it (plain text, sent as base64 of its UTF-8).
UnicodeText = Annotated[str, Rule(_unicode_text, {"type": "string"})]
#: A yes/no setting; ``"true"``/``"false"`` (and yes/no, on/off, 1/0) as an Airflow extra writes them.
Flag = Annotated[bool, Rule(_flag, {"type": "boolean"})]


def known_data(context: Any) -> KnownData | None:
    """The account data a validation context carries, if any (only the receiving side has it)."""
    return context.get(KNOWN_DATA) if isinstance(context, dict) else None


# --- from pydantic's errors to ours -------------------------------------------------------

_STANDARD_RULES: dict[str, str] = {
    "missing": "is required",
    "extra_forbidden": "is not a documented key",
    "model_type": "must be an object (a mapping), {got}",
    "model_attributes_type": "must be an object (a mapping), {got}",
    "dict_type": "must be an object (a mapping), {got}",
    "list_type": "must be a non-empty array (a list), {got}",
    "too_short": "must be a non-empty array (a list)",
}


def field_of(loc: Sequence[int | str]) -> str:
    """``("calling_hours", "days", 0, "end")`` written ``calling_hours.days[0].end``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def problems_of(error: ValidationError) -> list[tuple[str, str]]:
    """Every problem of ``error`` as ``(field, rule)``, in the order of the model's fields."""
    problems: list[tuple[str, str]] = []
    for item in error.errors(include_url=False):
        loc: list[int | str] = list(item["loc"])
        ctx = item.get("ctx") or {}
        at = ctx.get(AT)
        if at:
            loc.append(int(at[1:-1]) if at.startswith("[") else at)
        standard = _STANDARD_RULES.get(item["type"])
        rule = standard.format(got=got(item.get("input"))) if standard else item["msg"]
        problems.append((field_of(loc) or "body", rule))
    return problems


def arguments_error(error: ValidationError, extra: Sequence[tuple[str, str]] = ()) -> CampaignArgumentsError:
    """The provider's error listing every problem of ``error`` (and ``extra`` ones), each by field."""
    return CampaignArgumentsError([*problems_of(error), *extra])
