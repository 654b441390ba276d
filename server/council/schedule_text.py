"""Recurring schedules for people: the simple builder ↔ RRULE text, and descriptions
such as 毎月第1日曜日 10:00〜13:00 in the reader's language.

Expanding and validating a rule is ``server.core.schedule``'s job; this module only
translates between the rule and what staff see and choose on a form.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from itertools import product

from babel.dates import format_date

from server.core.dates import format_date_ja
from server.core.i18n import current_language
from server.core.i18n import gettext as _
from server.core.labels import N_

WEEKDAYS = {
    "MO": N_("Monday"),
    "TU": N_("Tuesday"),
    "WE": N_("Wednesday"),
    "TH": N_("Thursday"),
    "FR": N_("Friday"),
    "SA": N_("Saturday"),
    "SU": N_("Sunday"),
}
ORDINALS = {1: N_("1st"), 2: N_("2nd"), 3: N_("3rd"), 4: N_("4th"), 5: N_("5th"), -1: N_("last")}
# The builder offers the nth weekday 1–4 or last: a 5th weekday is missing from most months.
BUILDER_NTHS = (1, 2, 3, 4, -1)
FREQUENCIES = {
    "": N_("No regular schedule"),
    "monthly": N_("Every month, on the nth weekday"),
    "weekly": N_("Every week"),
    "biweekly": N_("Every 2 weeks"),
}


@dataclass(frozen=True)
class Builder:
    """The simple schedule form: how often, which weekday, which one of the month."""

    frequency: str = ""  # a key of FREQUENCIES; "" is no regular schedule
    weekday: str = "SU"
    nth: int = 1  # monthly only: 1–4, or -1 for the last one

    def rrule(self) -> str:
        """The RRULE text ("" for no regular schedule); ValueError for a choice the builder does not offer."""
        if self.weekday not in WEEKDAYS:
            raise ValueError(f"unknown weekday {self.weekday!r}")
        if self.frequency == "":
            return ""
        if self.frequency == "monthly":
            if self.nth not in BUILDER_NTHS:
                raise ValueError(f"unknown nth {self.nth!r}")
            return f"FREQ=MONTHLY;BYDAY={self.nth}{self.weekday}"
        if self.frequency == "weekly":
            return f"FREQ=WEEKLY;BYDAY={self.weekday}"
        if self.frequency == "biweekly":
            return f"FREQ=WEEKLY;INTERVAL=2;BYDAY={self.weekday}"
        raise ValueError(f"unknown frequency {self.frequency!r}")


def normalise(rule: str) -> str:
    return rule.strip().upper().removeprefix("RRULE:")


def _parts(rule: str) -> dict[str, str]:
    pairs = (part.split("=", 1) for part in normalise(rule).split(";") if part)
    return {pair[0]: pair[1] for pair in pairs if len(pair) == 2}


def builder_for(rule: str) -> Builder | None:
    """The builder choices that make exactly this rule (in any part order), or None if
    only the advanced field can hold it."""
    wanted = _parts(rule)
    if not wanted:
        return Builder()
    for frequency, weekday, nth in product(FREQUENCIES, WEEKDAYS, BUILDER_NTHS):
        builder = Builder(frequency, weekday, nth if frequency == "monthly" else 1)
        if _parts(builder.rrule()) == wanted:
            return builder
    return None


def interval_of(rule: str) -> int:
    interval = _parts(rule).get("INTERVAL", "1")
    return int(interval) if interval.isdigit() else 1


def _split_day(day: str) -> tuple[int | None, str]:
    """'-1FR' → (-1, 'FR'); 'FR' → (None, 'FR')."""
    nth, weekday = day[:-2].lstrip("+"), day[-2:]
    return (int(nth) if nth.lstrip("-").isdigit() else None), weekday


def _join(items: list[str]) -> str:
    return _(", ").join(items)


def _weekly_days(days: list[tuple[int | None, str]]) -> str | None:
    if any(nth is not None or weekday not in WEEKDAYS for nth, weekday in days):
        return None
    return _join([_(WEEKDAYS[weekday]) for _nth, weekday in days])


def _monthly_days(days: list[tuple[int | None, str]]) -> str | None:
    if any(nth not in ORDINALS or weekday not in WEEKDAYS for nth, weekday in days):
        return None
    words = [{"nth": _(ORDINALS[nth]), "weekday": _(WEEKDAYS[weekday])} for nth, weekday in days]
    return _join([_("the %(nth)s %(weekday)s") % word for word in words])


def _month_days(days: list[str]) -> str | None:
    if not all(day.isdigit() for day in days):
        return None
    return _join([_("day %(day)s") % {"day": day} for day in days])


def describe_rule(rule: str) -> str:
    """毎月第1日曜日 / Every month on the 1st Sunday; the rule itself when it is beyond these words."""
    parts = _parts(rule)
    if not parts:
        return _("No regular schedule")
    if set(parts) <= {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "WKST"}:
        n = interval_of(rule)
        byday = [_split_day(day) for day in parts.get("BYDAY", "").split(",") if len(day) >= 2]
        monthdays = [day for day in parts.get("BYMONTHDAY", "").split(",") if day]
        freq = parts.get("FREQ")
        if freq == "DAILY" and not byday and not monthdays:
            return _("Every day") if n == 1 else _("Every %(n)s days") % {"n": n}
        if freq == "WEEKLY" and not monthdays and (days := _weekly_days(byday)):
            if n <= 2:
                return (_("Every week on %(days)s") if n == 1 else _("Every 2 weeks on %(days)s")) % {"days": days}
            return _("Every %(n)s weeks on %(days)s") % {"n": n, "days": days}
        if (
            freq == "MONTHLY"
            and bool(byday) != bool(monthdays)
            and (days := _monthly_days(byday) if byday else _month_days(monthdays))
        ):
            if n == 1:
                return _("Every month on %(days)s") % {"days": days}
            return _("Every %(n)s months on %(days)s") % {"n": n, "days": days}
    return _("Custom rule: %(rule)s") % {"rule": normalise(rule)}


def describe_times(start: time | None, end: time | None) -> str:
    """10:00〜13:00 / 10:00–13:00; empty without a start time."""
    if start is None:
        return ""
    if end is None:
        return _("from %(start)s") % {"start": start.strftime("%H:%M")}
    return _("%(start)s–%(end)s") % {"start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}


def describe_schedule(rule: str, start: time | None, end: time | None) -> str:
    """The whole schedule in one line: 毎月第1日曜日 10:00〜13:00."""
    return " ".join(text for text in (describe_rule(rule), describe_times(start, end)) if text)


def format_day(day: date) -> str:
    """2026年1月4日(日) in Japanese, Sun 4 Jan 2026 in English."""
    language = current_language.get()
    return format_date_ja(day) if language == "ja" else format_date(day, "EEE d MMM y", locale=language)
