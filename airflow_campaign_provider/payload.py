"""The create-SMS-campaign request as operator arguments: checked, built, and compared.

``SmsCampaignSpec`` holds what a DAG asks for. It lists every broken rule at once (each naming
its argument and the rule), builds the documented request body, and tells which fields of an
existing campaign differ from it, which is what lets a retried task reuse its own campaign
instead of creating a second one. No Airflow and no HTTP here: it is cheap to import and to test.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from airflow_campaign_provider import rules
from airflow_campaign_provider.exceptions import InvalidCampaignArgumentError

CALLING_HOURS_KEYS = ("frequency", "timezone", "days")
DAY_KEYS = ("day", "start", "end")


class CampaignArgumentsError(InvalidCampaignArgumentError):
    """One or more arguments broke a documented rule; raised before any HTTP call.

    ``problems`` holds every ``(field, rule)`` pair; ``fields`` the fields in order.
    """

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        self.fields = tuple(dict.fromkeys(field for field, _ in self.problems))
        super().__init__(", ".join(self.fields), "; ".join(rule for _, rule in self.problems))
        listed = "\n".join(f"  - {field}: {rule}" for field, rule in self.problems)
        count = len(self.problems)
        self.args = (f"{count} invalid campaign argument{'s' if count > 1 else ''}:\n{listed}",)


def _show(value: Any) -> str:
    """A short rendering of a value for a message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kind(value: Any) -> str:
    return type(value).__name__


class _Problems:
    """Collects ``(field, rule)`` pairs."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, field: str, rule: str) -> None:
        self.items.append((field, rule))

    def text(self, value: Any, field: str, *, max_length: int | None = None) -> TypeGuard[str]:
        """Whether ``value`` is an acceptable string; notes why not otherwise."""
        if not isinstance(value, str):
            self.add(field, f"must be a string, got {_kind(value)} {_show(value)}")
            return False
        if not value.strip():
            self.add(field, "must not be blank")
            return False
        if max_length is not None and len(value) > max_length:
            self.add(field, f"must be at most {max_length} characters, got {len(value)}")
            return False
        return True

    def choice(self, value: Any, field: str, allowed: Sequence[str]) -> bool:
        if isinstance(value, str) and value in allowed:
            return True
        self.add(field, f"must be one of {', '.join(allowed)}; got {_show(value)}")
        return False


def normalize_priority(priority: Any) -> str | None:
    """``"1"``…``"5"`` from an int 1 to 5 or its digit string (a rendered template), else None."""
    if isinstance(priority, bool):
        return None
    if isinstance(priority, int):
        text = str(priority)
    elif isinstance(priority, str):
        text = priority.strip()
    else:
        return None
    return text if text in rules.PRIORITIES else None


def _day_key(block: Mapping[str, Any]) -> tuple[str, int | None, int | None]:
    return (
        str(block.get("day")),
        rules.minutes_of_day(str(block.get("start"))),
        rules.minutes_of_day(str(block.get("end"))),
    )


@dataclass(frozen=True)
class SmsCampaignSpec:
    """An SMS campaign from a template, as the operator's arguments describe it.

    :param name: Campaign name, at most 48 characters; how a retried task finds its campaign.
    :param description: At most 256 characters.
    :param contact_lists: Names of existing contact lists, at least one.
    :param template_name: The pre-approved template's name.
    :param message: The template's body as plain text (sent base64-encoded).
    :param caller_id: Sender number in E.164 form.
    :param calling_hours: ``{"frequency": "WEEKLY"|"DAILY"|"CUSTOM", "timezone": <IANA>,
        "days": [{"day": "MO"…"SU", "start": "9:00 AM", "end": "6:00 PM"}, …]}``.
    :param priority: 1 to 5.
    :param format: ``"simple"``, the one format the create page documents.
    :param dnc_list: Name of a Do-Not-Call list, or None.
    """

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

    def problems(self) -> list[tuple[str, str]]:
        """Every broken rule as ``(field, rule)``; empty when the spec is valid."""
        p = _Problems()
        if p.text(self.name, "name", max_length=rules.MAX_NAME_LENGTH) and self.name != self.name.strip():
            p.add("name", "must not start or end with whitespace (campaigns are found by name)")
        p.text(self.description, "description", max_length=rules.MAX_DESCRIPTION_LENGTH)
        self._check_contact_lists(p)
        p.text(self.template_name, "template_name")
        if p.text(self.message, "message"):
            try:
                self.message.encode("utf-8")
            except UnicodeEncodeError:
                p.add("message", "must be valid Unicode text (it is sent as UTF-8)")
        if p.text(self.caller_id, "caller_id") and not rules.is_e164(self.caller_id):
            p.add("caller_id", f"must be an E.164 number like +14155550100; got {_show(self.caller_id)}")
        self._check_calling_hours(p)
        if normalize_priority(self.priority) is None:
            p.add("priority", f"must be a whole number from 1 to 5; got {_show(self.priority)}")
        p.choice(self.format, "format", rules.FORMATS)
        if self.dnc_list is not None:
            p.text(self.dnc_list, "dnc_list")
        return p.items

    def _check_contact_lists(self, p: _Problems) -> None:
        lists = self.contact_lists
        if not isinstance(lists, (list, tuple)):
            p.add("contact_lists", f"must be a list of contact list names, got {_kind(lists)} {_show(lists)}")
            return
        if not lists:
            p.add("contact_lists", "must name at least one contact list")
        seen: dict[str, int] = {}
        for index, item in enumerate(lists):
            field = f"contact_lists[{index}]"
            if p.text(item, field):
                if item in seen:
                    p.add(field, f"repeats contact_lists[{seen[item]}] {_show(item)}")
                seen.setdefault(item, index)

    def _check_calling_hours(self, p: _Problems) -> None:
        hours = self.calling_hours
        if not isinstance(hours, Mapping):
            p.add(
                "calling_hours",
                f"must be a mapping with keys {', '.join(CALLING_HOURS_KEYS)}, got {_kind(hours)} {_show(hours)}",
            )
            return
        for key in hours:
            if key not in CALLING_HOURS_KEYS:
                p.add(f"calling_hours.{key}", f"unknown key; expected {', '.join(CALLING_HOURS_KEYS)}")
        for key in CALLING_HOURS_KEYS:
            if key not in hours:
                p.add(f"calling_hours.{key}", "is required")
        if "frequency" in hours:
            p.choice(hours["frequency"], "calling_hours.frequency", rules.FREQUENCIES)
        timezone = hours.get("timezone")
        if (
            "timezone" in hours
            and p.text(timezone, "calling_hours.timezone")
            and not rules.is_known_timezone(timezone)
        ):
            p.add(
                "calling_hours.timezone",
                f"must be an IANA time zone like Asia/Kolkata; got {_show(timezone)}",
            )
        if "days" not in hours:
            return
        days = hours["days"]
        if not isinstance(days, (list, tuple)) or not days:
            p.add("calling_hours.days", "must be a non-empty list of {day, start, end}")
            return
        for index, block in enumerate(days):
            self._check_day(p, block, f"calling_hours.days[{index}]")

    @staticmethod
    def _check_day(p: _Problems, block: Any, where: str) -> None:
        if not isinstance(block, Mapping):
            p.add(where, f"must be a mapping {{day, start, end}}, got {_kind(block)} {_show(block)}")
            return
        for key in block:
            if key not in DAY_KEYS:
                p.add(f"{where}.{key}", f"unknown key; expected {', '.join(DAY_KEYS)}")
        p.choice(block.get("day"), f"{where}.day", rules.DAYS)
        times: list[int | None] = []
        for key in ("start", "end"):
            value = block.get(key)
            minutes = None
            if p.text(value, f"{where}.{key}"):
                minutes = rules.minutes_of_day(value)
                if minutes is None:
                    p.add(
                        f"{where}.{key}",
                        f'must be a time like "{rules.TIME_OF_DAY_EXAMPLE}"; got {_show(value)}',
                    )
            times.append(minutes)
        start, end = times
        if start is not None and end is not None and start >= end:
            p.add(f"{where}.end", f"must be later than start ({block['start']} to {block['end']})")

    def check(self) -> None:
        """Raise ``CampaignArgumentsError`` listing every broken rule."""
        problems = self.problems()
        if problems:
            raise CampaignArgumentsError(problems)

    def to_body(self) -> dict[str, Any]:
        """The documented create body; raises ``CampaignArgumentsError`` first if anything is wrong."""
        self.check()
        hours = self.calling_hours
        body: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "contactLists": list(self.contact_lists),
            "campaignType": "sms",
            "priority": normalize_priority(self.priority),
            "format": self.format,
            "message": {"template_name": self.template_name, "message": rules.encode_message(self.message)},
            "dialingStrategy": {
                "callerId": {"phoneNumber": self.caller_id},
                "callingHours": {
                    "frequency": hours["frequency"],
                    "timezone": hours["timezone"],
                    "days": [{"day": d["day"], "start": d["start"], "end": d["end"]} for d in hours["days"]],
                },
            },
        }
        if self.dnc_list is not None:
            body["dncLists"] = {"name": self.dnc_list}
        return body

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
            "priority": normalize_priority(self.priority),
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
                differing.append(f"{field}: asked {_show(ours[field])}, found {_show(found)}")
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
        try:
            return base64.b64decode(str(value), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return value
    if field == "priority":
        return str(value)
    return value
