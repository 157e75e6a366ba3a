"""The thin layer over the models that operators need: skip what is still to be templated.

At construction an argument may still be a Jinja string or an ``XComArg``; its problems are
checked again once rendered, so only the arguments already known are held to the rules here.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from airflow_campaign_provider.exceptions import CampaignArgumentsError, InvalidCampaignArgumentError
from airflow_campaign_provider.lifecycle import IF_EXISTS_CHOICES

if TYPE_CHECKING:
    from collections.abc import Mapping

if TYPE_CHECKING:
    from airflow.sdk import Context

_JINJA_MARKERS = ("{{", "{%", "{#")
_PLAIN_SCALARS = (str, int, float, bool, type(None))


def is_templated(value: Any) -> bool:
    """Whether ``value`` is only known after rendering: a Jinja string or a non-plain object
    (an ``XComArg`` and the like), anywhere inside lists and mappings."""
    if isinstance(value, str):
        return any(marker in value for marker in _JINJA_MARKERS)
    if isinstance(value, _PLAIN_SCALARS):
        return False
    if isinstance(value, (list, tuple)):
        return any(is_templated(item) for item in value)
    if isinstance(value, dict):
        return any(is_templated(key) or is_templated(item) for key, item in value.items())
    return True


def argument_of(field: str) -> str:
    """The operator argument a problem's field belongs to: ``calling_hours.days[0].day`` → ``calling_hours``."""
    return field.split(".", 1)[0].split("[", 1)[0]


def raise_problems(problems: list[tuple[str, str]], values: Mapping[str, Any] | None = None) -> None:
    """Raise every problem at once; with ``values``, skip arguments still to be rendered."""
    if values is not None:
        problems = [(field, rule) for field, rule in problems if not is_templated(values[argument_of(field)])]
    if problems:
        raise CampaignArgumentsError(problems)


def check_positive(problems: list[tuple[str, str]], field: str, value: Any) -> None:
    """Note a problem unless ``value`` is a number of seconds above zero."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        problems.append((field, f"must be a number of seconds > 0, got {value!r}"))


def check_create_settings(
    problems: list[tuple[str, str]],
    if_exists: Any,
    wait_for_ready: Any,
    ready_timeout: Any,
    poll_interval: Any,
) -> None:
    """Note what is wrong with the settings of a create (not templated: checked at construction)."""
    if if_exists not in IF_EXISTS_CHOICES:
        problems.append(("if_exists", f"must be one of {', '.join(IF_EXISTS_CHOICES)}, got {if_exists!r}"))
    if not isinstance(wait_for_ready, bool):
        problems.append(("wait_for_ready", f"must be True or False, got {wait_for_ready!r}"))
    check_positive(problems, "ready_timeout", ready_timeout)
    check_positive(problems, "poll_interval", poll_interval)


def check_target(problems: list[tuple[str, str]], campaign_id: Any, campaign_type: Any) -> None:
    """Note what is wrong with a campaign id and type."""
    from airflow_campaign_provider.api import CampaignType, validate_campaign_id

    for check, value in ((validate_campaign_id, campaign_id), (CampaignType.parse, campaign_type)):
        try:
            check(value)
        except InvalidCampaignArgumentError as error:
            problems.append((error.field, error.rule))


def run_began(context: Context) -> datetime | None:
    """The earliest time this task's run is known to have begun (its dag run's ``run_after``,
    logical date or start, this try's start), or None when the context does not say.

    No try of the task can have created its campaign before then, so the create's look-ups by
    name read only the campaigns created since (a cleared run keeps its ``run_after``).
    """
    dag_run, ti = context.get("dag_run"), context.get("ti")
    times = [
        getattr(dag_run, "run_after", None),
        getattr(dag_run, "logical_date", None),
        getattr(dag_run, "start_date", None),
        getattr(ti, "start_date", None),
    ]
    known = [when for when in times if isinstance(when, datetime) and when.tzinfo is not None]
    return min(known) if known else None


def try_number(context: Context) -> int:
    """This try's number (1 for the first), or 1 when the context does not say."""
    number = getattr(context.get("ti"), "try_number", 1)
    return number if isinstance(number, int) and not isinstance(number, bool) else 1
