"""Japanese calendar helpers: fiscal years (April–March), 和暦 labels, and moments in the
group's time zone (stored UTC, shown on the wall clock)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from server.config import get_settings

# (first day of the era, name); newest first.
_ERAS = ((date(2019, 5, 1), "令和"), (date(1989, 1, 8), "平成"), (date(1926, 12, 25), "昭和"))
_WEEKDAYS_JA = "月火水木金土日"


def fiscal_year(day: date) -> int:
    """The fiscal year (年度) a day belongs to, named by the calendar year it starts in."""
    return day.year if day.month >= 4 else day.year - 1


def fiscal_year_bounds(year: int) -> tuple[date, date]:
    """First and last day of fiscal year ``year`` (1 April to 31 March)."""
    return date(year, 4, 1), date(year + 1, 3, 31)


def _era_year(day: date) -> tuple[str, int]:
    for start, name in _ERAS:
        if day >= start:
            return name, day.year - start.year + 1
    raise ValueError(f"no era known for {day}")


def _era_number(number: int) -> str:
    return "元" if number == 1 else str(number)


def wareki_year(day: date) -> str:
    """令和8年 for a day in 2026."""
    name, number = _era_year(day)
    return f"{name}{_era_number(number)}年"


def wareki_fiscal_year(year: int) -> str:
    """令和7年度 for fiscal year 2025. The era is that of the year's first day (1 April),
    so fiscal 2019 is 平成31年度 by the calendar, but councils call it 令和元年度: the
    era in force for most of the year wins."""
    name, number = _era_year(date(year, 12, 31))
    return f"{name}{_era_number(number)}年度"


def format_date_ja(day: date, with_wareki: bool = False) -> str:
    text = f"{day.year}年{day.month}月{day.day}日({_WEEKDAYS_JA[day.weekday()]})"
    return f"{text}〔{wareki_year(day)}〕" if with_wareki else text


def format_moment(value: datetime | None, tz: str | None = None) -> str:
    """A stored (UTC) moment as people read it: 2026/12/1 02:39 on the wall clock of ``tz``
    (the group's time zone; the council's default when not given). The one formatter of
    every time shown on a page; "" for no moment."""
    if value is None:
        return ""
    if value.tzinfo is None:  # SQLite hands back naive values; they were stored as UTC
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(_zone(tz or get_settings().default_timezone))
    return f"{local.year}/{local.month}/{local.day} {local:%H:%M}"


def end_of_day(day: date, tz: str | None = None) -> datetime:
    """The first moment after ``day`` on the wall clock of ``tz``: someone made before it
    was on the roster that day (a person counts only from the day they joined)."""
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=_zone(tz or get_settings().default_timezone))


@cache
def _zone(tz_name: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):  # a bad stored name must not break a page
        return ZoneInfo(get_settings().default_timezone)


def wareki_date(day: date) -> str:
    """令和8年12月5日, as documents such as a 修了証 date themselves."""
    return f"{wareki_year(day)}{day.month}月{day.day}日"
