"""Expanding an ibasho's recurring schedule (an RFC 5545 RRULE) into dates and times.

The rule is read in the ibasho's wall-clock time ("floating" in RFC 5545 terms): its
``DTSTART`` is the first day of the activity period at midnight, and each occurrence
is a date; ``session_times`` then places a date's start and end in the ibasho's zone.
As in dateutil (and unlike RFC 5545), ``DTSTART`` itself counts only if it matches.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import DAILY, rrulestr
from dateutil.rrule import rrule as RRule

# The most dates one expansion returns (the earliest ones): a bound for runaway rules.
MAX_OCCURRENCES = 1000

_RULE_TEXT = re.compile(r"^(?:RRULE:)?(FREQ=[A-Z0-9=;,+\-:]+)$")
# A UTC UNTIL (…T235959Z, as calendar apps write it) on a floating rule: read it as wall-clock.
_UTC_UNTIL = re.compile(r"(UNTIL=\d{8}T\d{6})Z")
# Days a month can have (February in a leap year), for rules that can never occur.
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def parse_rule(text: str, dtstart_date: date) -> RRule:
    """The rule ``text`` (``FREQ=…``, optionally prefixed ``RRULE:``) starting on ``dtstart_date``.

    Raises ValueError for anything that is not one daily-or-slower RRULE that can occur."""
    match = _RULE_TEXT.match(text.strip().upper())
    if match is None:
        raise ValueError(f"not a single RRULE: {text!r}")
    body = _UTC_UNTIL.sub(r"\1", match.group(1))
    try:
        rule = rrulestr(body, dtstart=datetime.combine(dtstart_date, time()))
    except (ValueError, TypeError, IndexError, KeyError, OverflowError) as error:
        raise ValueError(f"invalid RRULE {text!r}: {error}") from None
    if rule._freq > DAILY:  # HOURLY, MINUTELY, SECONDLY: not a schedule of days
        raise ValueError(f"a schedule repeats daily or less often: {text!r}")
    _reject_impossible(rule, text)
    return rule


def _reject_impossible(rule: RRule, text: str) -> None:
    """A month/day-of-month filter that never matches would make dateutil scan to year 9999."""
    months, monthdays = rule._bymonth, rule._bymonthday
    if months and monthdays and not any(0 < day <= _MONTH_DAYS[month - 1] for month in months for day in monthdays):
        raise ValueError(f"RRULE never occurs: {text!r}")


def occurrences(
    rrule: str,
    dtstart_date: date,
    start: date,
    end: date,
    active_until: date | None = None,
    limit: int = MAX_OCCURRENCES,
) -> list[date]:
    """The dates of the rule from ``start`` to ``end`` inclusive (never before
    ``dtstart_date`` nor after ``active_until``), in order, at most ``limit`` of them.

    A blank rule means "no regular schedule" and gives no dates; an invalid one raises
    ValueError."""
    if not rrule.strip():
        return []
    rule = parse_rule(rrule, dtstart_date)
    last = min(end, active_until) if active_until is not None else end
    first = max(start, dtstart_date)
    if last < first or limit <= 0:
        return []
    dates: list[date] = []
    try:
        for moment in rule.xafter(datetime.combine(first, time()), count=limit, inc=True):
            day = moment.date()
            if day > last:
                break
            dates.append(day)
    except (ValueError, IndexError, OverflowError) as error:
        raise ValueError(f"invalid RRULE {rrule!r}: {error}") from None
    return dates


def zone(tz_name: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {tz_name!r}") from error


def session_times(day: date, start_time: time, end_time: time, tz_name: str) -> tuple[datetime, datetime]:
    """Aware start and end of a session on ``day`` in the zone ``tz_name``; an end
    earlier than the start falls on the next day."""
    tz = zone(tz_name)
    starts = datetime.combine(day, start_time, tzinfo=tz)
    end_day = day + timedelta(days=1) if end_time < start_time else day
    return starts, datetime.combine(end_day, end_time, tzinfo=tz)
