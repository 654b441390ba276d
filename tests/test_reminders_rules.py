"""Due times of a session's reminders: the defaults, quiet hours, and time zones with DST."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from server.reminders.rules import defer_quiet, due_times

TOKYO = ZoneInfo("Asia/Tokyo")


def local(moment: datetime, tz: str = "Asia/Tokyo") -> datetime:
    return moment.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def test_defaults_are_the_day_before_at_18_and_two_hours_before():
    dues = due_times(date(2026, 12, 6), time(10, 0), "Asia/Tokyo")
    assert [(d.kind, local(d.due_at)) for d in dues] == [
        ("day_before", datetime(2026, 12, 5, 18, 0)),
        ("2h", datetime(2026, 12, 6, 8, 0)),
    ]
    assert all(d.due_at.tzinfo is UTC and local(d.expires_at) == datetime(2026, 12, 6, 10) for d in dues)


def test_a_reminder_at_23_00_is_deferred_to_08_00_the_next_day():
    at_23 = datetime(2026, 12, 5, 23, 0, tzinfo=TOKYO)
    assert local(defer_quiet(at_23, TOKYO)) == datetime(2026, 12, 6, 8, 0)
    assert local(defer_quiet(datetime(2026, 12, 5, 21, 0, tzinfo=TOKYO), TOKYO)) == datetime(2026, 12, 6, 8, 0)
    assert local(defer_quiet(datetime(2026, 12, 6, 7, 59, tzinfo=TOKYO), TOKYO)) == datetime(2026, 12, 6, 8, 0)
    assert local(defer_quiet(datetime(2026, 12, 5, 20, 59, tzinfo=TOKYO), TOKYO)) == datetime(2026, 12, 5, 20, 59)


def test_two_hours_before_an_early_session_is_deferred_not_dropped():
    dues = {d.kind: d for d in due_times(date(2026, 12, 6), time(9, 30), "Asia/Tokyo")}
    assert local(dues["2h"].due_at) == datetime(2026, 12, 6, 8, 0)  # 07:30 is quiet


def test_a_reminder_that_could_only_come_after_the_start_is_left_out():
    dues = due_times(date(2026, 12, 6), time(7, 0), "Asia/Tokyo")  # 2 h before = 05:00 → 08:00, after the start
    assert [d.kind for d in dues] == ["day_before"]


def test_dst_spring_forward_in_berlin():
    # 29 March 2026: clocks go from 02:00 CET to 03:00 CEST.
    dues = {d.kind: d for d in due_times(date(2026, 3, 29), time(12, 0), "Europe/Berlin")}
    assert dues["day_before"].due_at == datetime(2026, 3, 28, 17, 0, tzinfo=UTC)  # 18:00 CET
    assert dues["2h"].due_at == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)  # 10:00 CEST
    assert dues["2h"].expires_at - dues["day_before"].due_at == timedelta(hours=17)  # one hour lost overnight


def test_dst_fall_back_in_new_york():
    # 1 November 2026: clocks go from 02:00 EDT back to 01:00 EST.
    dues = {d.kind: d for d in due_times(date(2026, 11, 1), time(10, 0), "America/New_York")}
    assert dues["day_before"].due_at == datetime(2026, 10, 31, 22, 0, tzinfo=UTC)  # 18:00 EDT
    assert dues["2h"].due_at == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)  # 08:00 EST
    assert local(dues["2h"].due_at, "America/New_York") == datetime(2026, 11, 1, 8, 0)
    # quiet hours are wall-clock: 23:30 EST → 08:00 EST
    late = datetime(2026, 11, 1, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    assert local(defer_quiet(late, ZoneInfo("America/New_York")), "America/New_York") == datetime(2026, 11, 2, 8, 0)
