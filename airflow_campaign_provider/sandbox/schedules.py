"""Campaign schedules in the sandbox: when a schedule next plays its campaign.

Kore writes schedule times without a zone; the sandbox reads them in the campaign's
calling-hours time zone (as the provider writes them), falling back to UTC.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from airflow_campaign_provider.models.schedule import ScheduleBody

#: The fields of ``schedule`` that say whether a schedule is on, as Kore's GET answers show them.
SCHEDULE_OFF = {"isSchedulingEnabled": False, "isRecurrenceEnabled": False}


def zone_of(doc: dict[str, Any]) -> ZoneInfo | timezone:
    """The campaign's calling-hours time zone (UTC when it names none the system knows)."""
    name = ((doc.get("dialingStrategy") or {}).get("callingHours") or {}).get("timezone")
    try:
        return ZoneInfo(str(name)) if name else timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def local_time(doc: dict[str, Any], epoch: float) -> datetime:
    """``epoch`` as a naive time in the campaign's zone, the way schedule times are written."""
    return datetime.fromtimestamp(epoch, zone_of(doc)).replace(tzinfo=None)


def next_start(doc: dict[str, Any], after: float) -> float | None:
    """Epoch seconds of the schedule's next run strictly after ``after``, or None when it is over."""
    schedule = doc.get("schedule") or {}
    if not schedule.get("isSchedulingEnabled"):
        return None
    body = ScheduleBody.model_validate({key: schedule[key] for key in ScheduleBody.model_fields})
    moment = body.next_run_at(local_time(doc, after) + timedelta(seconds=1))
    if moment is None:
        return None
    return moment.replace(tzinfo=zone_of(doc)).timestamp()
