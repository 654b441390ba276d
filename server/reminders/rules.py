"""When a session's reminders are due: pure functions, no database, no clock.

A rule says when the two kinds of reminder go out, in the ibasho's zone: the day before
at a wall-clock time (18:00 by default) and N hours before the start (2 by default).
Either may be off. A reminder that would fall in quiet hours (21:00–08:00 local by
default) is deferred to their end, never dropped. "N hours before" is absolute time (a
DST change in between is honoured); "the day before at 18:00" is wall-clock time.

Rules are stored as JSON (``Ibasho.reminder_rule``, ``Session.reminder_rule``) and
layered: the built-in defaults, then the ibasho's rule, then the session's own; a key a
layer leaves out comes from the layer below, ``null`` turns a kind off.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

log = logging.getLogger("ibasho.reminders")

DAY_BEFORE = "day_before"
# The hours-before kind keeps the name it had when it was always two hours: occurrence
# keys of pending deliveries, the sender's Urgency and notification tags end with it.
HOURS_BEFORE = "2h"

QUIET_START = time(21, 0)
QUIET_END = time(8, 0)
DAY_BEFORE_AT = time(18, 0)
HOURS_BEFORE_DEFAULT = 2
HOURS_BEFORE_CHOICES = range(1, 7)  # what staff may choose (and what a stored rule may hold)


@dataclass(frozen=True)
class Rule:
    day_before_at: time | None = DAY_BEFORE_AT  # None: no reminder the day before
    hours_before: int | None = HOURS_BEFORE_DEFAULT  # None: no reminder shortly before
    quiet_start: time = QUIET_START
    quiet_end: time = QUIET_END  # equal to quiet_start: no quiet hours

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds this rule sends."""
        return tuple(
            kind for kind, on in ((DAY_BEFORE, self.day_before_at), (HOURS_BEFORE, self.hours_before)) if on is not None
        )

    def stored(self) -> dict[str, Any]:
        """The JSON a column holds."""
        return {
            "day_before_at": _hhmm(self.day_before_at),
            "hours_before": self.hours_before,
            "quiet_start": _hhmm(self.quiet_start),
            "quiet_end": _hhmm(self.quiet_end),
        }

    def over(self, stored: Any) -> Rule:
        """This rule with the keys of a stored one laid over it. A stored value that does
        not parse is skipped (and logged): a bad column must not stop everyone's reminders."""
        if isinstance(stored, str):
            try:
                stored = json.loads(stored) if stored.strip() else None
            except ValueError:
                stored = "not JSON"
        if stored is None:
            return self
        if not isinstance(stored, dict):
            log.warning("ignoring a reminder rule that is not an object: %r", stored)
            return self
        rule = self
        for key, value in stored.items():
            try:
                rule = replace(rule, **{key: _parsed(key, value)})
            except (KeyError, TypeError, ValueError):
                log.warning("ignoring reminder rule key %r = %r", key, value)
        return rule


DEFAULT_RULE = Rule()


def layered(*stored: Any) -> Rule:
    """The built-in defaults with each stored rule (ibasho's, then session's) laid over in turn."""
    rule = DEFAULT_RULE
    for layer in stored:
        rule = rule.over(layer)
    return rule


def _hhmm(value: time | None) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


def _parsed(key: str, value: Any) -> Any:
    if key == "hours_before":
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value not in HOURS_BEFORE_CHOICES:
            raise ValueError(key)
        return value
    if key == "day_before_at" and value is None:
        return None
    if key in ("day_before_at", "quiet_start", "quiet_end") and isinstance(value, str):
        return time.fromisoformat(value).replace(second=0, microsecond=0)
    raise KeyError(key)


def chosen_kinds(choice: Iterable[str] | None, offered: Iterable[str]) -> tuple[str, ...]:
    """The kinds a subscriber gets: those they chose that the rule sends. Nothing chosen
    (the default), or nothing the rule still sends, means all it sends: a subscriber who
    picked a timing did not ask for silence (stopping is how to get none)."""
    offered = tuple(offered)
    choice = set(choice) if isinstance(choice, (list, tuple, set, frozenset)) else set()
    picked = tuple(kind for kind in offered if kind in choice)
    return picked or offered


@dataclass(frozen=True)
class Due:
    kind: str  # DAY_BEFORE | HOURS_BEFORE
    due_at: datetime  # aware, UTC
    expires_at: datetime  # aware, UTC: the session's start; no point after it


def _wall(day: date, at: time, tz: ZoneInfo) -> datetime:
    """``day`` ``at`` in ``tz`` as an aware UTC instant (a time in a DST gap moves forward)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def defer_quiet(moment: datetime, tz: ZoneInfo, rule: Rule = DEFAULT_RULE) -> datetime:
    """``moment`` itself, or the next end of the quiet hours when it falls in them (local wall clock).
    Quiet hours may run over midnight (21:00–08:00) or not (12:00–13:00)."""
    start, end = rule.quiet_start, rule.quiet_end
    local = moment.astimezone(tz)
    at = local.time()
    if start > end:  # over midnight
        if at >= start:
            return _wall(local.date() + timedelta(days=1), end, tz)
        if at < end:
            return _wall(local.date(), end, tz)
    elif start <= at < end:
        return _wall(local.date(), end, tz)
    return moment.astimezone(UTC)


def due_times(day: date, start_time: time, tz_name: str, rule: Rule = DEFAULT_RULE) -> list[Due]:
    """The reminders of a session on ``day`` starting at ``start_time`` (wall clock in ``tz_name``),
    in order; a reminder that would only be due at or after the start is left out."""
    tz = ZoneInfo(tz_name)
    starts = _wall(day, start_time, tz)
    candidates = []
    if rule.day_before_at is not None:
        candidates.append((DAY_BEFORE, _wall(day - timedelta(days=1), rule.day_before_at, tz)))
    if rule.hours_before is not None:
        candidates.append((HOURS_BEFORE, starts - timedelta(hours=rule.hours_before)))
    result = []
    for kind, moment in candidates:
        due = defer_quiet(moment, tz, rule)
        if due < starts:
            result.append(Due(kind, due, starts))
    return sorted(result, key=lambda due: due.due_at)


# A reminder by email (the council's events and committees, for people without Web Push):
# the evening before only, as a mail two hours before is read too late.
MAIL_RULE = Rule(hours_before=None)


def due_now(day: date, start_time: time, tz_name: str, now: datetime, rule: Rule = MAIL_RULE) -> list[Due]:
    """The reminders of a gathering that are due at ``now`` and not yet past its start."""
    return [due for due in due_times(day, start_time, tz_name, rule) if due.due_at <= now < due.expires_at]
