"""Grant rules (server/grants/rules.py) on the edge cases of issue #6."""

from __future__ import annotations

from datetime import date, time

import pytest

from server.grants.rules import (
    AOMORI_STARTUP,
    MUSASHINO,
    Programme,
    SessionIn,
    add_months,
    evaluate,
)

FY = 2025


def held(day: date, start=time(10, 0), end=time(12, 0), cost: int | None = 1000, status="held", kind="session"):
    return SessionIn(
        id=day.isoformat(), date=day, start_time=start, end_time=end, status=status, venue_cost=cost, kind=kind
    )


def every_two_months(year: int = FY, cost: int | None = 1000) -> list[SessionIn]:
    """Sessions on the 1st of May, July, September, November, January and March."""
    return [held(date(year + (m < 4), m, 1), cost=cost) for m in (5, 7, 9, 11, 1, 3)]


def rule(result, code):
    return next(r for r in result.rules if r.code == code)


# --- add_months ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 4, 1), 2, date(2025, 6, 1)),
        (date(2025, 12, 31), 2, date(2026, 2, 28)),
        (date(2027, 12, 31), 2, date(2028, 2, 29)),
        (date(2025, 11, 15), 3, date(2026, 2, 15)),
        (date(2025, 8, 31), 1, date(2025, 9, 30)),
    ],
)
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


# --- fiscal-year boundary -----------------------------------------------------------------------


def test_session_on_31_march_belongs_to_the_year_before_and_1_april_to_the_next():
    sessions = [held(date(2026, 3, 31)), held(date(2026, 4, 1))]
    fy2025 = evaluate(MUSASHINO, sessions, 2025, 2025)
    fy2026 = evaluate(MUSASHINO, sessions, 2026, 2025)
    assert [s.session.id for s in fy2025.counting] == ["2026-03-31"]
    assert [s.session.id for s in fy2026.counting] == ["2026-04-01"]
    assert fy2025.computed == 2500 + 1000
    assert fy2026.computed == 2500 + 1000


def test_a_year_with_a_session_every_two_months_holds_and_pays_per_session():
    result = evaluate(MUSASHINO, every_two_months(), FY, FY)
    assert result.rules_hold
    assert len(result.counting) == 6
    assert result.amount_due == 6 * (2500 + 1000)
    assert result.venue_costs_entered == 6000
    assert result.gaps == ()


# --- frequency: exactly 2 months vs 2 months and a day ------------------------------------------


def _frequency_with_gap(second: date):
    first = date(2025, 6, 10)
    # 1 April → 10 June would be more than 2 months: start with 1 June, then 10 June.
    days = [date(2025, 6, 1), first, second]
    nxt = second
    while True:
        nxt = add_months(nxt, 2)
        if nxt > date(2026, 3, 31):
            break
        days.append(nxt)
    return evaluate(MUSASHINO, [held(d) for d in days], FY, FY)


def test_a_gap_of_exactly_two_months_holds():
    result = _frequency_with_gap(date(2025, 8, 10))
    assert rule(result, "frequency").ok
    assert result.amount_due > 0


def test_a_gap_of_two_months_and_a_day_fails_and_nothing_is_due():
    result = _frequency_with_gap(date(2025, 8, 11))
    frequency = rule(result, "frequency")
    assert not frequency.ok
    assert "2025-06-10" in frequency.reason.text() and "2025-08-11" in frequency.reason.text()
    assert result.amount_due == 0
    assert result.computed > 0
    assert any(gap.reason == frequency.reason and gap.amount == result.computed for gap in result.gaps)


def test_the_first_session_must_come_within_two_months_of_1_april():
    ok = evaluate(MUSASHINO, [held(date(2025, 6, 1))] + every_two_months()[1:], FY, FY)
    late = evaluate(MUSASHINO, [held(date(2025, 6, 2))] + every_two_months()[1:], FY, FY)
    assert rule(ok, "frequency").ok
    assert not rule(late, "frequency").ok


def test_the_last_session_must_come_within_two_months_of_31_march():
    days = [date(2025, 5, 1), date(2025, 7, 1), date(2025, 9, 1), date(2025, 11, 1), date(2026, 1, 1)]
    result = evaluate(MUSASHINO, [held(d) for d in days], FY, FY)
    assert not rule(result, "frequency").ok  # 1 January + 2 months = 1 March < 31 March
    days[-1:] = [date(2025, 12, 1), date(2026, 1, 31)]  # 31 January + 2 months = 31 March
    assert rule(evaluate(MUSASHINO, [held(d) for d in days], FY, FY), "frequency").ok


def test_a_year_still_running_is_checked_up_to_today_and_flagged_when_the_deadline_is_near():
    sessions = [held(date(2025, 5, 1))]
    early = evaluate(MUSASHINO, sessions, FY, FY, as_of=date(2025, 6, 1))
    near = evaluate(MUSASHINO, sessions, FY, FY, as_of=date(2025, 6, 25))
    missed = evaluate(MUSASHINO, sessions, FY, FY, as_of=date(2025, 7, 2))
    assert rule(early, "frequency").ok and not early.at_risk
    assert rule(near, "frequency").ok and near.at_risk
    assert not rule(missed, "frequency").ok and missed.at_risk


def test_no_session_at_all_fails_the_frequency_rule():
    result = evaluate(MUSASHINO, [], FY, FY)
    assert not rule(result, "frequency").ok
    assert result.amount_due == 0


# --- session length ------------------------------------------------------------------------------


def test_a_session_of_1h50_does_not_count_and_one_of_2h_does():
    short = held(date(2025, 5, 1), start=time(10, 0), end=time(11, 50))
    exact = held(date(2025, 5, 8), start=time(10, 0), end=time(12, 0))
    result = evaluate(MUSASHINO, [short, exact], FY, FY, as_of=date(2025, 5, 31))
    by_id = {s.session.id: s for s in result.sessions}
    assert not by_id["2025-05-01"].counts
    assert "110" in by_id["2025-05-01"].reasons[0].text()
    assert by_id["2025-05-08"].counts
    assert result.computed == 2500 + 1000
    assert any(g.session_id == "2025-05-01" and g.amount == 2500 for g in result.gaps)


def test_a_session_without_times_does_not_count():
    result = evaluate(MUSASHINO, [held(date(2025, 5, 1), start=None, end=None)], FY, FY, as_of=date(2025, 5, 2))
    assert result.counting == []
    assert result.sessions[0].reasons


# --- cancelled and other sessions ------------------------------------------------------------------


@pytest.mark.parametrize("status", ["cancelled", "postponed", "scheduled"])
def test_sessions_not_held_do_not_count(status):
    result = evaluate(MUSASHINO, [held(date(2025, 5, 1), status=status)], FY, FY, as_of=date(2025, 5, 2))
    assert result.counting == []
    assert result.computed == 0
    assert result.sessions[0].reasons[0].text()
    assert [g.session_id for g in result.gaps] == ["2025-05-01"]


def test_sessions_still_ahead_and_meetings_are_no_gap():
    ahead = held(date(2025, 6, 1), status="scheduled")
    meeting = held(date(2025, 5, 2), kind="meeting")
    result = evaluate(MUSASHINO, [held(date(2025, 5, 1)), ahead, meeting], FY, FY, as_of=date(2025, 5, 20))
    assert [g.session_id for g in result.gaps] == []
    assert len(result.sessions) == 3 and len(result.counting) == 1


def test_a_cancelled_session_does_not_keep_the_frequency_rule():
    sessions = every_two_months()
    sessions[2] = held(date(2025, 9, 1), status="cancelled")  # July → November: 4 months
    result = evaluate(MUSASHINO, sessions, FY, FY)
    assert not rule(result, "frequency").ok
    assert result.amount_due == 0


def test_meetings_and_deleted_sessions_do_not_count():
    meeting = held(date(2025, 5, 1), kind="meeting")
    deleted = SessionIn("d", date(2025, 5, 2), time(10), time(12), "held", 0, deleted=True)
    result = evaluate(MUSASHINO, [meeting, deleted], FY, FY, as_of=date(2025, 5, 3))
    assert result.counting == []


# --- venue costs -------------------------------------------------------------------------------------


def test_venue_cost_above_the_cap_is_paid_up_to_the_cap():
    result = evaluate(MUSASHINO, [held(date(2025, 5, 1), cost=4000)], FY, FY, as_of=date(2025, 5, 2))
    session = result.sessions[0]
    assert session.venue == 2500 and session.activity == 2500
    assert result.computed == 5000
    gap = next(g for g in result.gaps if g.session_id == "2025-05-01")
    assert gap.amount == 1500
    assert "4,000" in gap.reason.text() and "2,500" in gap.reason.text()


def test_venue_cost_at_the_cap_and_none_entered():
    at_cap = held(date(2025, 5, 1), cost=2500)
    none = held(date(2025, 5, 8), cost=None)
    result = evaluate(MUSASHINO, [at_cap, none], FY, FY, as_of=date(2025, 5, 9))
    assert result.computed == 2500 + 2500 + 2500
    gaps = {g.session_id: g for g in result.gaps}
    assert "2025-05-01" not in gaps
    assert gaps["2025-05-08"].amount == 0 and gaps["2025-05-08"].reason.text()


# --- the yearly cap -------------------------------------------------------------------------------------


def test_the_yearly_cap():
    weekly = []
    day = date(2025, 4, 6)
    while day <= date(2026, 3, 31):
        weekly.append(held(day, cost=2500))
        day = date.fromordinal(day.toordinal() + 7)
    result = evaluate(MUSASHINO, weekly, FY, FY)
    assert result.computed == len(weekly) * 5000
    assert result.amount_due == 100000
    cap_gap = next(g for g in result.gaps if g.session_id is None)
    assert cap_gap.amount == result.computed - 100000
    assert "100,000" in cap_gap.reason.text()


def test_exactly_at_the_yearly_cap_leaves_no_gap():
    programme = Programme("p", activity_amount_per_session=50000, yearly_cap=100000)
    result = evaluate(programme, [held(date(2025, 5, 1)), held(date(2025, 6, 1))], FY, FY)
    assert result.amount_due == 100000 and result.gaps == ()


# --- years of eligibility (Aomori) ------------------------------------------------------------------------


@pytest.mark.parametrize(("year", "due"), [(2023, 50000), (2024, 50000), (2025, 50000), (2026, 0), (2022, 0)])
def test_aomori_start_up_pays_a_fixed_amount_for_three_years(year, due):
    result = evaluate(AOMORI_STARTUP, [], year, 2023)
    assert result.amount_due == due
    assert rule(result, "eligibility").ok is (due > 0)


def test_registration_rule():
    programme = Programme("ikiiki", activity_amount_per_session=4000, requires_registration=True)
    sessions = [held(date(2025, 5, 1))]
    assert evaluate(programme, sessions, FY, FY, registration_required=True).amount_due == 4000
    open_salon = evaluate(programme, sessions, FY, FY, registration_required=False)
    assert open_salon.amount_due == 0 and not rule(open_salon, "registration").ok


def test_programme_from_a_row_ignores_other_columns():
    row = {"id": "x", "name": "n", "notes": "", "council": "c", "yearly_cap": 5, "min_session_minutes": None}
    assert Programme.from_row(row) == Programme("n", yearly_cap=5)
