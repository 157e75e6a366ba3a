"""Schedules keyed by a shared name, acted on only when the name singles out the campaign meant.

Kore keys its schedule call by campaign *name* and may keep two campaigns of one name (an old
Completed one and a new one). So before anything is sent, the name must single out one campaign
(``campaign_id`` says which one is meant, and is refused when the name names others too), and
after the call the ``id`` in Kore's answer must be that campaign's: a mismatch says Kore acted on
another campaign, and is an error naming both.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol

from airflow_campaign_provider.api import CampaignType, campaign_id_of
from airflow_campaign_provider.exceptions import (
    CampaignArgumentsError,
    CampaignStateError,
    InvalidCampaignArgumentError,
)
from airflow_campaign_provider.status import CampaignStatus

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import tzinfo

log = logging.getLogger(__name__)


class ScheduleCalls(Protocol):
    """The hook calls these units make (``CampaignHook`` has them all)."""

    def campaigns_named(self, name: str, campaign_type: str = "sms") -> list[dict[str, Any]]: ...
    def get_campaign(self, campaign_id: str) -> dict[str, Any]: ...
    def get_campaign_status(self, campaign_id: str) -> str: ...
    def set_campaign_schedule(self, campaign_name: str, body: Mapping[str, Any] | None) -> dict[str, Any]: ...


def campaign_named(
    hook: ScheduleCalls, campaign_name: str, campaign_type: str, campaign_id: str | None = None
) -> dict[str, Any]:
    """The one full campaign this name keys, or an error naming every campaign that has it."""
    named = hook.campaigns_named(campaign_name, campaign_type)
    ids = [campaign_id_of(campaign) or "?" for campaign in named]
    if not named:
        raise InvalidCampaignArgumentError(
            "campaign_name", f"no {campaign_type} campaign is named {campaign_name!r}"
        )
    if campaign_id is not None and campaign_id not in ids:
        raise InvalidCampaignArgumentError(
            "campaign_id",
            f"{campaign_id} is not named {campaign_name!r}; the {campaign_type} campaign(s) of that "
            f"name: {_listed(named)}",
        )
    if len(named) > 1:
        raise InvalidCampaignArgumentError(
            "campaign_name",
            f"{len(named)} {campaign_type} campaigns are named {campaign_name!r} ({_listed(named)}) and "
            "Kore keys schedules by name, so it cannot be told which one is meant; rename or delete "
            "the others first. Nothing was sent.",
        )
    return hook.get_campaign(ids[0])


def _listed(named: list[dict[str, Any]]) -> str:
    return ", ".join(f"{campaign_id_of(c)} ({c.get('status')}, created {c.get('createdAt')})" for c in named)


def _checked_answer(answer: Mapping[str, Any], campaign: Mapping[str, Any]) -> None:
    """Kore's answer must name the campaign meant (its ``id``; an answer without one is logged)."""
    meant = campaign_id_of(campaign)
    acted_on = answer.get("id")
    if acted_on is None:
        log.warning("Kore's schedule answer names no campaign id; expected %s.", meant)
        return
    if str(acted_on) != meant:
        raise CampaignStateError(
            f"Kore changed the schedule of campaign {acted_on}, not of {meant} "
            f"({campaign.get('name')!r}): two campaigns share the name. Check both in Kore."
        )


def zone_of(campaign: Mapping[str, Any]) -> tzinfo:
    """The campaign's calling-hours time zone, in which its schedule times are written (UTC if none)."""
    import pendulum

    hours = (campaign.get("dialingStrategy") or {}).get("callingHours") or {}
    name = hours.get("timezone")
    try:
        return pendulum.timezone(str(name)) if name else timezone.utc
    except Exception:  # an unknown zone name: pendulum's error types vary between versions
        return timezone.utc


def enable_campaign_schedule(
    hook: ScheduleCalls,
    campaign_name: str,
    campaign_type: str = "sms",
    *,
    start: Any,
    end: Any,
    recurrence: str = "daily",
    every: int = 1,
    weekdays: Sequence[str] | None = None,
    now: datetime | None = None,
    campaign_id: str | None = None,
) -> dict[str, Any]:
    """Turn the named campaign's schedule on: it becomes ``Scheduled`` and runs at ``start``.

    ``start``/``end`` are datetimes (written in the campaign's calling-hours time zone, the
    zone this provider reads Kore's zone-less times in) or strings as Kore writes them
    (``2026-01-27 18:29:00``, taken as written). The end must be after the start and after
    now. Idempotent: a campaign already on this very schedule is left as it is. The name must
    single out one campaign (``campaign_id``: the one meant). Returns ``{campaign_id,
    campaign_name, status, changed, startDateTime, endDateTime}``.
    """
    from airflow_campaign_provider.models.schedule import (
        SCHEDULABLE_STATUSES,
        schedule_body,
        schedule_window_problems,
    )

    kind = CampaignType.parse(campaign_type).value
    campaign = campaign_named(hook, campaign_name, kind, campaign_id)
    zone = zone_of(campaign)
    body, problems = schedule_body(
        start=start, end=end, recurrence=recurrence, every=every, weekdays=weekdays, zone=zone
    )
    if body is not None:
        local_now = (now or datetime.now(timezone.utc)).astimezone(zone).replace(tzinfo=None)
        problems = [("end", rule) for _, rule in schedule_window_problems(body, local_now)]
    if problems or body is None:
        raise CampaignArgumentsError(problems)
    wire = body.model_dump(exclude_none=True)
    status = campaign.get("status")
    current = campaign.get("schedule") or {}
    summary = {
        "campaign_id": campaign_id_of(campaign),
        "campaign_name": campaign.get("name"),
        "startDateTime": wire["startDateTime"],
        "endDateTime": wire["endDateTime"],
    }
    if current.get("isSchedulingEnabled") and all(current.get(k) == v for k, v in wire.items()):
        log.info("Campaign %r is already on this schedule (%s); nothing sent.", campaign_name, status)
        return {**summary, "status": status, "changed": False}
    if status not in SCHEDULABLE_STATUSES:
        raise CampaignStateError(
            f"Campaign {campaign_name!r} is {status}: a schedule is enabled only when it is "
            f"{', '.join(SCHEDULABLE_STATUSES)}; nothing was sent."
        )
    answer = hook.set_campaign_schedule(str(campaign["name"]), wire)
    _checked_answer(answer, campaign)
    log.info("%s", answer.get("message"))
    return {**summary, "status": CampaignStatus.SCHEDULED.value, "changed": True}


def disable_campaign_schedule(
    hook: ScheduleCalls, campaign_name: str, campaign_type: str = "sms", *, campaign_id: str | None = None
) -> dict[str, Any]:
    """Turn the named campaign's schedule off; one with no schedule on is left as it is.

    A campaign waiting for its schedule is ``Ready`` again; one running keeps running. The name
    must single out one campaign (``campaign_id``: the one meant). Returns ``{campaign_id,
    campaign_name, status, changed}``.
    """
    kind = CampaignType.parse(campaign_type).value
    campaign = campaign_named(hook, campaign_name, kind, campaign_id)
    summary = {"campaign_id": campaign_id_of(campaign), "campaign_name": campaign.get("name")}
    status = campaign.get("status")
    scheduled = (campaign.get("schedule") or {}).get("isSchedulingEnabled")
    if not scheduled and status != CampaignStatus.SCHEDULED.value:
        log.info("Campaign %r has no schedule on (%s); nothing sent.", campaign_name, status)
        return {**summary, "status": status, "changed": False}
    answer = hook.set_campaign_schedule(str(campaign["name"]), None)
    _checked_answer(answer, campaign)
    log.info("%s", answer.get("message"))
    return {**summary, "status": hook.get_campaign_status(str(summary["campaign_id"])), "changed": True}
