"""Validation of request bodies as the Kore.ai documentation describes them.

Every problem is collected (never only the first), each as `"<field>: <rule>"`, so one 412
answer names them all.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, Any, Protocol

from airflow_campaign_provider import rules
from airflow_campaign_provider.rules import DAYS, FORMATS, FREQUENCIES, PRIORITIES
from airflow_campaign_provider.rules import MAX_DESCRIPTION_LENGTH as MAX_DESCRIPTION
from airflow_campaign_provider.rules import MAX_NAME_LENGTH as MAX_NAME
from airflow_campaign_provider.sandbox.errors import KoreError
from airflow_campaign_provider.sandbox.seed import E164

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_campaign_provider.sandbox.seed import Template

CAMPAIGN_TYPES = ("sms", "voice")
SORT_FIELDS = {"createdAt": "createdAt", "updatedAt": "updatedAt", "name": "lname", "status": "status"}


class Lookups(Protocol):
    """What validation needs to know about the account's data."""

    @property
    def contact_lists(self) -> Mapping[str, list[str]]:
        """Contact lists by name."""
        ...

    @property
    def dnc_lists(self) -> Mapping[str, list[str]]:
        """DNC lists by name."""
        ...

    @property
    def templates(self) -> Mapping[str, Template]:
        """Templates by name."""
        ...

    def name_taken(self, name: str) -> bool:
        """True when a live campaign already has this name (case-insensitively)."""
        ...


def _show(value: Any) -> str:
    """A short rendering of a client value for an error message."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Problems:
    """Collects `field: rule` messages."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, field: str, rule: str) -> None:
        self.items.append(f"{field}: {rule}")

    def string(
        self, obj: Mapping[str, Any], key: str, path: str, *, max_len: int | None = None
    ) -> str | None:
        """The string at `obj[key]`, or None after noting why it is not acceptable."""
        value = obj.get(key)
        if value is None:
            self.add(path, "is required")
        elif not isinstance(value, str):
            self.add(path, "must be a string")
        elif max_len is not None and len(value) > max_len:
            self.add(path, f"must be at most {max_len} characters (got {len(value)})")
        else:
            return value
        return None

    def choice(self, obj: Mapping[str, Any], key: str, path: str, allowed: tuple[str, ...]) -> str | None:
        """The value at `obj[key]` if it is one of `allowed` strings."""
        value = obj.get(key)
        if isinstance(value, str) and value in allowed:
            return value
        self.add(path, "must be one of " + ", ".join(f'"{a}"' for a in allowed) + f" (got {_show(value)})")
        return None

    def object(self, obj: Mapping[str, Any], key: str, path: str) -> dict[str, Any] | None:
        """The JSON object at `obj[key]`, or None after noting it is missing or not an object."""
        value = obj.get(key)
        if isinstance(value, dict):
            return value
        self.add(path, "is required" if value is None else "must be an object")
        return None

    def integer(self, obj: Mapping[str, Any], key: str, path: str, minimum: int) -> int | None:
        """An optional integer >= minimum (None when absent or after noting it is wrong)."""
        value = obj.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.add(path, f"must be an integer >= {minimum}")
            return None
        return value


def validate_create(body: Any, query_type: str | None, data: Lookups) -> list[str]:
    """All problems of a create-SMS-campaign request (empty when it is valid)."""
    p = _Problems()
    if query_type != "sms":
        p.add("campaignType (query)", f'must be "sms" (got {_show(query_type)})')
    if not isinstance(body, dict):
        p.add("body", "must be a JSON object")
        return p.items
    name = p.string(body, "name", "name", max_len=MAX_NAME)
    if name is not None and not name.strip():
        p.add("name", "must not be blank")
    elif name is not None and data.name_taken(name):
        p.add("name", f"a campaign named {_show(name)} already exists")
    p.string(body, "description", "description", max_len=MAX_DESCRIPTION)
    _check_contact_lists(p, body.get("contactLists"), data)
    _check_dnc(p, body.get("dncLists"), data)
    p.choice(body, "campaignType", "campaignType", ("sms",))
    p.choice(body, "priority", "priority", PRIORITIES)
    p.choice(body, "format", "format", FORMATS)
    message = p.object(body, "message", "message")
    if message is not None:
        _check_message(p, message, data)
    strategy = p.object(body, "dialingStrategy", "dialingStrategy")
    if strategy is not None:
        _check_strategy(p, strategy)
    return p.items


def _check_contact_lists(p: _Problems, lists: Any, data: Lookups) -> None:
    if not isinstance(lists, list) or not lists:
        p.add("contactLists", "must be a non-empty array of contact list names")
        return
    for i, item in enumerate(lists):
        if not isinstance(item, str):
            p.add(f"contactLists[{i}]", "must be a string")
        elif item not in data.contact_lists:
            p.add(f"contactLists[{i}]", f"contact list {_show(item)} does not exist")


def _check_dnc(p: _Problems, dnc: Any, data: Lookups) -> None:
    if dnc is None:
        return
    if not isinstance(dnc, dict):
        p.add("dncLists", 'must be an object like {"name": ...}')
        return
    name = dnc.get("name")
    if name is None:
        return
    if not isinstance(name, str):
        p.add("dncLists.name", "must be a string")
    elif name not in data.dnc_lists:
        p.add("dncLists.name", f"DNC list {_show(name)} does not exist")


def _check_message(p: _Problems, message: dict[str, Any], data: Lookups) -> None:
    template_name = p.string(message, "template_name", "message.template_name")
    encoded = p.string(message, "message", "message.message")
    template = data.templates.get(template_name) if template_name is not None else None
    if template_name is not None and template is None:
        p.add("message.template_name", f"template {_show(template_name)} does not exist")
    if encoded is None:
        return
    try:
        decoded: str | None = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        p.add("message.message", "must be base64 (of UTF-8 text)")
        decoded = None
    if template is not None and decoded is not None and decoded != template.body:
        p.add("message.message", f"must be the base64 of template {_show(template_name)}'s body exactly")


def _check_strategy(p: _Problems, strategy: dict[str, Any]) -> None:
    caller = p.object(strategy, "callerId", "dialingStrategy.callerId")
    if caller is not None:
        phone = p.string(caller, "phoneNumber", "dialingStrategy.callerId.phoneNumber")
        if phone is not None and not E164.fullmatch(phone):
            p.add("dialingStrategy.callerId.phoneNumber", "must be an E.164 number like +14155550100")
    hours = p.object(strategy, "callingHours", "dialingStrategy.callingHours")
    if hours is None:
        return
    path = "dialingStrategy.callingHours"
    p.choice(hours, "frequency", f"{path}.frequency", FREQUENCIES)
    tz = p.string(hours, "timezone", f"{path}.timezone")
    if tz is not None and not rules.is_known_timezone(tz):
        p.add(f"{path}.timezone", f"must be an IANA time zone like Asia/Kolkata (got {_show(tz)})")
    days = hours.get("days")
    if not isinstance(days, list) or not days:
        p.add(f"{path}.days", "must be a non-empty array of {day, start, end}")
        return
    for i, block in enumerate(days):
        where = f"{path}.days[{i}]"
        if not isinstance(block, dict):
            p.add(where, "must be an object {day, start, end}")
            continue
        p.choice(block, "day", f"{where}.day", DAYS)
        start = _minutes(p, block, "start", where)
        end = _minutes(p, block, "end", where)
        if start is not None and end is not None and start >= end:
            p.add(f"{where}.end", "must be later than start")


def _minutes(p: _Problems, block: dict[str, Any], key: str, where: str) -> int | None:
    text = p.string(block, key, f"{where}.{key}")
    if text is None:
        return None
    minutes = rules.minutes_of_day(text)
    if minutes is None:
        p.add(f"{where}.{key}", f'must be a time like "{rules.TIME_OF_DAY_EXAMPLE}" (got {_show(text)})')
    return minutes


class ListQuery:
    """A validated list (getAllCampaignDetails) request; a 412 KoreError names every problem."""

    def __init__(self, body: Any, max_page_size: int) -> None:
        p = _Problems()
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise KoreError(412, "body: must be a JSON object")
        self.type: str | None = None
        if body.get("type") is not None:
            self.type = p.choice(body, "type", "type", CAMPAIGN_TYPES)
        limit = p.integer(body, "limit", "limit", 1)
        self.limit = min(limit or 10, max_page_size)
        skip = p.integer(body, "skip", "skip", 0)
        page = p.integer(body, "page", "page", 1)
        self.offset = skip if skip is not None else ((page or 1) - 1) * self.limit
        self.statuses = _statuses(p, body.get("filters"))
        self.sort_key, self.descending = _sort(p, body.get("sortBy"))
        if p.items:
            raise KoreError(412, p.items)


def _statuses(p: _Problems, filters: Any) -> frozenset[str] | None:
    if filters is None:
        return None
    if not isinstance(filters, dict):
        p.add("filters", 'must be an object like {"status": [...]}')
        return None
    wanted = filters.get("status")
    if wanted is None:
        return None
    if isinstance(wanted, str):
        wanted = [wanted]
    if not isinstance(wanted, list) or not all(isinstance(s, str) for s in wanted):
        p.add("filters.status", "must be an array of status names")
        return None
    return frozenset(wanted)


def _sort(p: _Problems, sort_by: Any) -> tuple[str, bool]:
    """(campaign field, descending) from "createdAt", "-createdAt" or {"createdAt": -1}."""
    if sort_by is None:
        return "createdAt", True
    if isinstance(sort_by, str) and sort_by:
        field, descending = sort_by.lstrip("-"), sort_by.startswith("-")
    elif isinstance(sort_by, dict) and len(sort_by) == 1:
        field, direction = next(iter(sort_by.items()))
        if direction not in (1, -1, "asc", "desc") or isinstance(direction, bool):
            p.add(f"sortBy.{field}", 'must be 1, -1, "asc" or "desc"')
        descending = direction in (-1, "desc")
    else:
        p.add("sortBy", 'must be a field name ("-createdAt" for descending) or {"createdAt": -1}')
        return "createdAt", True
    if field not in SORT_FIELDS:
        p.add("sortBy", "must sort by one of " + ", ".join(SORT_FIELDS))
        return "createdAt", True
    return SORT_FIELDS[field], descending
