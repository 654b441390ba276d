"""Expanding an ibasho's recurring schedule: server.core.schedule."""

from __future__ import annotations

from datetime import date, time, timedelta
from itertools import pairwise

import pytest

from server.core.schedule import MAX_OCCURRENCES, occurrences, session_times

YEAR = (date(2025, 4, 1), date(2026, 3, 31))  # fiscal 2025 (令和7年度)


def test_first_sunday_of_each_month():
    days = occurrences("FREQ=MONTHLY;BYDAY=1SU", date(2017, 5, 7), *YEAR)
    assert len(days) == 12
    assert all(day.weekday() == 6 and 1 <= day.day <= 7 for day in days)
    assert len({(day.year, day.month) for day in days}) == 12
    assert days[0] == date(2025, 4, 6) and days[-1] == date(2026, 3, 1)


def test_third_friday():
    days = occurrences("RRULE:FREQ=MONTHLY;BYDAY=3FR", date(2016, 10, 21), *YEAR)
    assert len(days) == 12
    assert all(day.weekday() == 4 and 15 <= day.day <= 21 for day in days)


def test_every_two_weeks_keeps_its_phase_from_dtstart():
    days = occurrences("FREQ=WEEKLY;INTERVAL=2;BYDAY=SA", date(2019, 4, 6), date(2025, 1, 1), date(2025, 3, 31))
    assert days[0] == date(2025, 1, 4)  # 2019-04-06 + 300 weeks
    assert all(later - earlier == timedelta(weeks=2) for earlier, later in pairwise(days))
    assert all(day.weekday() == 5 for day in days)


def test_twice_a_month():
    days = occurrences("FREQ=MONTHLY;BYDAY=1WE,3WE", date(2017, 11, 1), date(2025, 6, 1), date(2025, 6, 30))
    assert days == [date(2025, 6, 4), date(2025, 6, 18)]


def test_bounds_are_inclusive_and_clipped_by_dtstart_and_active_until():
    rule = "FREQ=MONTHLY;BYDAY=1SU"
    assert occurrences(rule, date(2025, 1, 1), date(2025, 4, 6), date(2025, 4, 6)) == [date(2025, 4, 6)]
    assert occurrences(rule, date(2025, 6, 1), *YEAR)[0] == date(2025, 6, 1)
    assert occurrences(rule, date(2017, 5, 7), *YEAR, active_until=date(2025, 6, 30)) == [
        date(2025, 4, 6),
        date(2025, 5, 4),
        date(2025, 6, 1),
    ]
    assert occurrences(rule, date(2017, 5, 7), date(2025, 5, 1), date(2025, 4, 1)) == []


def test_count_and_until_in_the_rule_are_honoured():
    assert len(occurrences("FREQ=WEEKLY;COUNT=3", date(2025, 4, 1), *YEAR)) == 3
    # A UTC UNTIL, as calendar apps write it, reads as the wall-clock date.
    days = occurrences("FREQ=MONTHLY;BYDAY=1SU;UNTIL=20250601T235959Z", date(2017, 5, 7), *YEAR)
    assert days[-1] == date(2025, 6, 1)


def test_blank_rule_means_no_schedule():
    assert occurrences("", date(2025, 1, 1), *YEAR) == []
    assert occurrences("  ", date(2025, 1, 1), *YEAR) == []


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=FORTNIGHTLY",
        "BYDAY=1SU",
        "FREQ=MONTHLY;BYDAY=9SU",
        "FREQ=MONTHLY;BYDAY=XX",
        "FREQ=MONTHLY;INTERVAL=abc",
        "every first Sunday",
        "DTSTART:20200101\nRRULE:FREQ=DAILY",
        "FREQ=HOURLY",  # not a schedule of days, and a runaway
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",  # never occurs: would scan to year 9999
    ],
)
def test_invalid_rules_raise_value_error(rule):
    with pytest.raises(ValueError):
        occurrences(rule, date(2025, 1, 1), *YEAR)


def test_the_number_of_dates_is_capped():
    days = occurrences("FREQ=DAILY", date(2000, 1, 1), date(2000, 1, 1), date(2030, 12, 31))
    assert len(days) == MAX_OCCURRENCES
    assert len(occurrences("FREQ=DAILY", date(2025, 1, 1), *YEAR, limit=10)) == 10


def test_session_times_in_japan():
    starts, ends = session_times(date(2025, 6, 1), time(10), time(13), "Asia/Tokyo")
    assert starts.isoformat() == "2025-06-01T10:00:00+09:00"
    assert ends.isoformat() == "2025-06-01T13:00:00+09:00"
    assert ends - starts == timedelta(hours=3)
    assert starts.utcoffset() == timedelta(hours=9)


def test_session_times_past_midnight_and_unknown_zone():
    starts, ends = session_times(date(2025, 12, 31), time(22), time(1), "Asia/Tokyo")
    assert ends.date() == date(2026, 1, 1) and ends - starts == timedelta(hours=3)
    with pytest.raises(ValueError):
        session_times(date(2025, 6, 1), time(10), time(13), "Mars/Olympus")
