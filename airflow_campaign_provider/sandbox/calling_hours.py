"""A campaign's calling hours as Kore applies them: messages and calls go out only inside them,
in the campaign's time zone.

``callingHours`` is ``{"frequency", "timezone", "days": [{"day": "MO", "start": "9:00 AM",
"end": "6:00 PM"}, ...]}``. A day entry opens its window on that weekday; with ``DAILY`` (or an
entry without a day) the window opens every day. A run's time is counted in *open seconds*:
:func:`wall_time` turns "so many open seconds after the start" into the moment it happens.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
#: How far ahead a window is looked for; hours that never open within it do not restrict.
HORIZON_DAYS = 400


def _clock(text: str) -> dt.time:
    """``"9:00 AM"`` as a time of day."""
    return dt.datetime.strptime(text.strip().upper(), "%I:%M %p").time()


def _day_windows(hours: Mapping[str, Any]) -> tuple[ZoneInfo, list[tuple[int | None, dt.time, dt.time]]]:
    zone = ZoneInfo(str(hours["timezone"]))
    every_day = str(hours.get("frequency", "")).upper() == "DAILY"
    entries = []
    for entry in hours.get("days") or ():
        day = str(entry.get("day") or "").upper()
        weekday = None if every_day or day not in DAY_CODES else DAY_CODES.index(day)
        entries.append((weekday, _clock(str(entry["start"])), _clock(str(entry["end"]))))
    return zone, sorted(entries, key=lambda e: e[1])


def windows(hours: Mapping[str, Any], start: float) -> Iterator[tuple[float, float]]:
    """The open windows ``(opens, closes)`` in epoch seconds from ``start`` on, in order; the
    first is cut at ``start`` when ``start`` falls inside it."""
    zone, entries = _day_windows(hours)
    first = dt.datetime.fromtimestamp(start, zone).date() - dt.timedelta(days=1)
    for offset in range(HORIZON_DAYS + 2):
        date = first + dt.timedelta(days=offset)
        for weekday, opens, closes in entries:
            if weekday is not None and weekday != date.weekday():
                continue
            begin = dt.datetime.combine(date, opens, zone).timestamp()
            end = dt.datetime.combine(date, closes, zone).timestamp()
            if end > start and end > begin:
                yield max(begin, start), end


def wall_time(hours: Mapping[str, Any] | None, start: float, open_seconds: float) -> float:
    """When ``open_seconds`` of calling hours have passed since ``start`` (``start +
    open_seconds`` without hours, or with hours that never open)."""
    if hours is None:
        return start + open_seconds
    left = open_seconds
    for opens, closes in windows(hours, start):
        if left <= closes - opens:
            return opens + left
        left -= closes - opens
    return start + open_seconds


def is_open(hours: Mapping[str, Any], at: float) -> bool:
    """Whether ``at`` falls inside the calling hours."""
    first = next(windows(hours, at), None)
    return first is not None and first[0] <= at


def next_open(hours: Mapping[str, Any], at: float) -> float | None:
    """The first moment at or after ``at`` inside the calling hours (None: none within the horizon)."""
    first = next(windows(hours, at), None)
    return None if first is None else first[0]
