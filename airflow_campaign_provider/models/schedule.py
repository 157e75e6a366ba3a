"""The enable-schedule body (daily or weekly recurrence), as Kore's two schedule pages write it.

``POST {B}/schedule?enableSchedule=true&campaignName=…`` is keyed by the campaign's *name*.
Times are ``YYYY-MM-DD HH:mm:ss`` with no zone: Kore does not say which zone it reads them in,
so this provider writes them in the campaign's calling-hours time zone (the only zone a campaign
has) and the sandbox reads them so. The weekly page labels its fields ``dailyDetails.*`` in the
table; its sample (``weeklyDetails``) is followed. The client and the sandbox validate with these
models; the rule "end after now" needs a clock and lives in :func:`schedule_window_problems`.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from airflow_campaign_provider.models.checks import field_errors, renamed, validate
from airflow_campaign_provider.models.common import choice, whole_number

#: Kore's spelling of a schedule time; the weekly sample writes a one-digit day ("2026-01-1").
SCHEDULE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
SCHEDULE_TIME_EXAMPLE = "2026-01-27 18:29:00"
_SCHEDULE_TIME = re.compile(r"\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{2}:\d{2}")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
RECURRENCE_TYPES = ("Daily", "Weekly")

Weekday = Annotated[str, choice(*WEEKDAYS)]


def parse_schedule_time(text: str) -> datetime:
    """A naive datetime from Kore's ``YYYY-MM-DD HH:mm:ss``; ValueError names the expected form."""
    if not isinstance(text, str) or not _SCHEDULE_TIME.fullmatch(text.strip()):
        raise ValueError(f"must be written YYYY-MM-DD HH:mm:ss, e.g. {SCHEDULE_TIME_EXAMPLE!r}")
    return datetime.strptime(text.strip(), SCHEDULE_TIME_FORMAT)


def format_schedule_time(moment: datetime) -> str:
    """Kore's spelling of a (naive, local) time: ``2026-01-27 18:29:00``."""
    return moment.strftime(SCHEDULE_TIME_FORMAT)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DailyDetails(_Strict):
    """Run once every ``onceEveryNdays`` days."""

    onceEveryNdays: Annotated[int, whole_number(1, 365)]


class WeeklyDetails(_Strict):
    """Run on ``whichDays`` of every ``onceEveryNweeks``-th week."""

    onceEveryNweeks: Annotated[int, whole_number(1, 52)]
    whichDays: Annotated[list[Weekday], Field(min_length=1)]

    @field_validator("whichDays")
    @classmethod
    def _no_repeats(cls, days: list[str]) -> list[str]:
        if len(set(days)) != len(days):
            raise ValueError(f"must not repeat a day, got {days}")
        return days


class Recurrence(_Strict):
    """``recurType`` with the details it requires (and not the other type's)."""

    recurType: Annotated[str, choice(*RECURRENCE_TYPES)]
    dailyDetails: DailyDetails | None = None
    weeklyDetails: WeeklyDetails | None = None

    @model_validator(mode="after")
    def _details_match_type(self) -> Recurrence:
        wanted, other = ("dailyDetails", "weeklyDetails")
        if self.recurType == "Weekly":
            wanted, other = other, wanted
        problems = []
        if getattr(self, wanted) is None:
            problems.append((wanted, f"is required when recurType is {self.recurType}"))
        if getattr(self, other) is not None:
            problems.append((other, f"must be left out when recurType is {self.recurType}"))
        if problems:
            raise field_errors(type(self).__name__, problems)
        return self


class ScheduleBody(_Strict):
    """The enable-schedule request body."""

    startDateTime: str
    endDateTime: str
    recurrenceObject: Recurrence

    @field_validator("startDateTime", "endDateTime")
    @classmethod
    def _kore_time(cls, text: str) -> str:
        parse_schedule_time(text)
        return text

    @model_validator(mode="after")
    def _end_after_start(self) -> ScheduleBody:
        if self.end <= self.start:
            raise field_errors(
                type(self).__name__,
                [
                    (
                        "endDateTime",
                        f"must be after startDateTime ({self.startDateTime}), got {self.endDateTime}",
                    )
                ],
            )
        return self

    @property
    def start(self) -> datetime:
        return parse_schedule_time(self.startDateTime)

    @property
    def end(self) -> datetime:
        return parse_schedule_time(self.endDateTime)

    def next_run_at(self, moment: datetime) -> datetime | None:
        """The first run at or after ``moment`` (naive, the schedule's zone) before the end, or None."""
        start, end = self.start, self.end
        recurrence = self.recurrenceObject
        if recurrence.dailyDetails is not None:
            step = timedelta(days=recurrence.dailyDetails.onceEveryNdays)
            candidate = start if moment <= start else start + step * -(-(moment - start) // step)
            return candidate if candidate < end else None
        weekly = recurrence.weeklyDetails
        assert weekly is not None  # the model validator guarantees one of the two
        days = {WEEKDAYS.index(day) for day in weekly.whichDays}
        week_zero = (start - timedelta(days=start.weekday())).date()
        earliest = max(moment, start)
        candidate = datetime.combine(earliest.date(), start.time())
        while candidate < end:
            weeks = (candidate.date() - week_zero).days // 7
            if candidate >= earliest and candidate.weekday() in days and weeks % weekly.onceEveryNweeks == 0:
                return candidate
            candidate += timedelta(days=1)
        return None


def schedule_window_problems(body: ScheduleBody, now: datetime) -> list[tuple[str, str]]:
    """Kore's rule that needs a clock: the end must be after now (naive, the schedule's zone)."""
    if body.end <= now:
        return [
            (
                "endDateTime",
                f"must be after now ({format_schedule_time(now)} in the campaign's time zone), "
                f"got {body.endDateTime}",
            )
        ]
    return []


#: Statuses in which a schedule may be enabled: not while the campaign is being prepared or runs.
SCHEDULABLE_STATUSES = ("Ready", "Scheduled", "Stopped", "Completed")
#: Operator (and hook) argument behind each field of the body, for error messages.
SCHEDULE_ARGUMENTS = {
    "startDateTime": "start",
    "endDateTime": "end",
    "recurrenceObject.recurType": "recurrence",
    "recurrenceObject.dailyDetails.onceEveryNdays": "every",
    "recurrenceObject.weeklyDetails.onceEveryNweeks": "every",
    "recurrenceObject.weeklyDetails.whichDays": "weekdays",
}


def _kore_time(value: Any, zone: tzinfo) -> Any:
    """A datetime in Kore's spelling in ``zone`` (a naive one is taken as already in it)."""
    if isinstance(value, datetime):
        local = value.astimezone(zone) if value.tzinfo is not None else value
        return format_schedule_time(local)
    return value


def schedule_body(
    *, start: Any, end: Any, recurrence: Any, every: Any, weekdays: Any, zone: tzinfo
) -> tuple[ScheduleBody | None, list[tuple[str, str]]]:
    """The enable-schedule body the arguments describe, or every problem named by its argument.

    ``start``/``end``: datetimes (converted to ``zone``, the campaign's) or Kore-spelled strings;
    ``recurrence``: ``"daily"`` or ``"weekly"``; ``every``: N days or weeks; ``weekdays``: for weekly,
    ``["Mon", …]``.
    """
    kind = recurrence.capitalize() if isinstance(recurrence, str) else recurrence
    problems: list[tuple[str, str]] = []
    if kind == "Weekly":
        details: dict[str, Any] = {"weeklyDetails": {"onceEveryNweeks": every, "whichDays": weekdays}}
    else:
        details = {"dailyDetails": {"onceEveryNdays": every}}
        if weekdays:
            problems.append(("weekdays", "applies only to a weekly recurrence"))
    body, wire_problems = validate(
        ScheduleBody,
        {
            "startDateTime": _kore_time(start, zone),
            "endDateTime": _kore_time(end, zone),
            "recurrenceObject": {"recurType": kind, **details},
        },
    )
    problems += [(renamed(field, SCHEDULE_ARGUMENTS), rule) for field, rule in wire_problems]
    return (body if not problems else None), list(dict.fromkeys(problems))
