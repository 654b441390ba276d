"""When a session's reminders are due: pure functions, no database, no clock.

Default rules: the day before at 18:00 and two hours before the start, both in the
ibasho's zone. A reminder that would fall in quiet hours (21:00–08:00 local) is deferred
to the next 08:00, never dropped. "Two hours before" is absolute time (a DST change in
between is honoured); "the day before at 18:00" is wall-clock time in the zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

QUIET_START = time(21, 0)
QUIET_END = time(8, 0)
DAY_BEFORE_AT = time(18, 0)
HOURS_BEFORE = timedelta(hours=2)


@dataclass(frozen=True)
class Due:
    kind: str  # "day_before" | "2h"
    due_at: datetime  # aware, UTC
    expires_at: datetime  # aware, UTC: the session's start; no point after it


def _wall(day: date, at: time, tz: ZoneInfo) -> datetime:
    """``day`` ``at`` in ``tz`` as an aware UTC instant (a time in a DST gap moves forward)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(timezone.utc)


def defer_quiet(moment: datetime, tz: ZoneInfo) -> datetime:
    """``moment`` itself, or the next 08:00 local when it falls in 21:00–08:00 local."""
    local = moment.astimezone(tz)
    if local.time() >= QUIET_START:
        return _wall(local.date() + timedelta(days=1), QUIET_END, tz)
    if local.time() < QUIET_END:
        return _wall(local.date(), QUIET_END, tz)
    return moment.astimezone(timezone.utc)


def due_times(day: date, start_time: time, tz_name: str) -> list[Due]:
    """The reminders of a session on ``day`` starting at ``start_time`` (wall clock in ``tz_name``),
    in order; a reminder that would only be due at or after the start is left out."""
    tz = ZoneInfo(tz_name)
    starts = _wall(day, start_time, tz)
    candidates = [
        ("day_before", _wall(day - timedelta(days=1), DAY_BEFORE_AT, tz)),
        ("2h", starts - HOURS_BEFORE),
    ]
    result = []
    for kind, moment in candidates:
        due = defer_quiet(moment, tz)
        if due < starts:
            result.append(Due(kind, due, starts))
    return result
