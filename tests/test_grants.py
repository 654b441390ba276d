"""The grant evaluator (server/grants/rules.py) on Musashino's and Aomori's rules and on each
kind of component: the edge cases of issue #6 and the rule model of issue #14."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from server.grants.model import Rules, RulesError
from server.grants.presets import PRESETS, preset_rules
from server.grants.rules import Member, SessionIn, add_months, evaluate

FY = 2025
MUSASHINO = preset_rules("musashino")
AOMORI_STARTUP = preset_rules("aomori")


def held(
    day: date,
    start=time(10, 0),
    end=time(12, 0),
    cost: int | None = 1000,
    status="held",
    kind="session",
    participants=10,
    **more,
):
    return SessionIn(
        id=day.isoformat(),
        date=day,
        start_time=start,
        end_time=end,
        status=status,
        venue_cost=cost,
        kind=kind,
        participants=participants,
        **more,
    )


def rules(**data) -> Rules:
    return Rules.from_json(data)


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
    assert any(g.session_id == "2025-05-01" and g.amount == 2500 + 1000 for g in result.gaps)  # what it would earn


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
    assert [amount for _title, amount in session.parts] == [2500, 2500] and session.amount == 5000
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
    programme = rules(components=[{"kind": "per_session", "amount": 50000}], caps={"per_year": 100000})
    result = evaluate(programme, [held(date(2025, 5, 1)), held(date(2025, 6, 1))], FY, FY)
    assert result.amount_due == 100000 and result.gaps == ()


# --- years of eligibility (Aomori) ------------------------------------------------------------------------


@pytest.mark.parametrize(("year", "due"), [(2023, 50000), (2024, 50000), (2025, 50000), (2026, 0), (2022, 0)])
def test_aomori_start_up_pays_a_fixed_amount_for_three_years(year, due):
    result = evaluate(AOMORI_STARTUP, [], year, 2023)
    assert result.amount_due == due
    assert rule(result, "eligibility").ok is (due > 0)


def test_registration_rule():
    programme = rules(components=[{"kind": "per_session", "amount": 4000}], requirements={"registration": True})
    sessions = [held(date(2025, 5, 1))]
    assert evaluate(programme, sessions, FY, FY, registration_required=True).amount_due == 4000
    open_salon = evaluate(programme, sessions, FY, FY, registration_required=False)
    assert open_salon.amount_due == 0 and not rule(open_salon, "registration").ok


# --- the rule model: JSON in and out, and what it refuses ---------------------------------------------


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_every_preset_reads_and_writes_back_the_same(key):
    parsed = preset_rules(key)
    assert Rules.from_json(parsed.to_json()) == parsed
    assert parsed.to_json() == Rules.from_json(PRESETS[key]["rules"]).to_json()


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"components": []}, "構成要素"),
        ({"components": [{"kind": "per_visit", "amount": 1}]}, "種類は次のどれか"),
        ({"components": [{"kind": "per_session"}]}, "金額（円）を入力"),
        ({"components": [{"kind": "per_session", "amount": -5}]}, "0〜100000000の整数"),
        ({"components": [{"kind": "per_session", "amount": 1.5}]}, "の整数"),
        ({"components": [{"kind": "per_session", "amount": True}]}, "の整数"),
        ({"components": [{"kind": "per_session", "amount": 1, "colour": "red"}]}, "使えない項目があります：colour"),
        ({"components": [{"kind": "per_member", "amount": 1, "on": "02-29"}]}, "月-日"),
        ({"components": [{"kind": "venue", "cap": 1, "per": "week"}]}, "次のどれかにしてください：session, month"),
        (
            {"components": [{"kind": "fixed", "amount": 1, "when": {"min_sessions": 9, "max_sessions": 3}}]},
            "下限が上限より",
        ),
        ({"components": [{"kind": "fixed", "amount": 1}], "rounding": {"unit": 7}}, "単位は次のどれか"),
        ({"components": [{"kind": "fixed", "amount": 1}], "sessions": {"roles": [""]}}, "役割名"),
        ({"components": [{"kind": "fixed", "amount": 1}], "formula": "x*2"}, "使えない項目があります：formula"),
        (["not", "an", "object"], "JSONのオブジェクト"),
    ],
)
def test_bad_rules_are_refused_with_a_message_saying_what_is_wrong(data, says):
    with pytest.raises(RulesError) as refused:
        Rules.from_json(data)
    assert any(says in message for message in refused.value.errors), refused.value.errors


def test_every_problem_is_reported_at_once():
    with pytest.raises(RulesError) as refused:
        Rules.from_json({"components": [{"kind": "per_session", "amount": -1}], "caps": {"per_year": "lots"}})
    assert len(refused.value.errors) == 2


# --- which sessions count ---------------------------------------------------------------------------


def test_a_session_counts_with_enough_participants_of_the_named_categories_only():
    programme = rules(
        sessions={"min_participants": 5, "participant_categories": ["senior"]},
        components=[{"kind": "per_session", "amount": 1000}],
    )
    enough = held(date(2025, 5, 1), participants=9, by_category={"senior": 5, "child": 4})
    few = held(date(2025, 6, 1), participants=20, by_category={"senior": 4, "child": 16})
    result = evaluate(programme, [enough, few], FY, FY)
    assert [s.counts for s in result.sessions] == [True, False]
    assert "4" in result.sessions[1].reasons[0].text() and result.amount_due == 1000


def test_a_cafe_session_counts_only_with_a_professional_assigned():
    programme = rules(sessions={"roles": ["専門職"]}, components=[{"kind": "per_session", "amount": 6000}])
    sessions = [
        held(date(2025, 5, 1), roles=frozenset({"専門職", "受付"})),
        held(date(2025, 6, 1), roles=frozenset({"受付"})),
    ]
    result = evaluate(programme, sessions, FY, FY)
    assert [s.counts for s in result.sessions] == [True, False]
    assert "専門職" in result.sessions[1].reasons[0].text()
    assert result.amount_due == 6000


# --- components ----------------------------------------------------------------------------------------


def test_per_participant_counts_visits_of_the_categories_or_distinct_named_people():
    programme = rules(
        components=[
            {"kind": "per_participant", "amount": 100, "categories": ["child"]},
            {"kind": "per_participant", "amount": 50, "count": "people"},
        ]
    )
    first = held(date(2025, 5, 1), by_category={"child": 7, "adult": 3}, people=(("p1", "child"), ("p2", "adult")))
    second = held(date(2025, 6, 1), by_category={"child": 4}, people=(("p1", "child"), ("v", "volunteer")))
    result = evaluate(programme, [first, second], FY, FY)
    assert result.amount_due == 100 * (7 + 4) + 50 * 2  # p1 once; the volunteer is no participant
    assert [s.amount for s in result.sessions] == [700, 400]


def test_per_member_counts_the_roster_on_the_day():
    programme = rules(components=[{"kind": "per_member", "amount": 200, "on": "04-01"}])
    members = [
        Member("before", "senior", since=date(2025, 3, 31)),
        Member("that day", "senior", since=date(2025, 4, 1)),
        Member("after", "senior", since=date(2025, 4, 2)),
        Member("unknown", "adult"),  # recorded before joining days were: on the roster
        Member("left that day", "senior", until=date(2025, 4, 1)),
        Member("left after", "senior", until=date(2025, 4, 2)),
        Member("volunteer", "volunteer"),
    ]
    result = evaluate(programme, [], FY, FY, members=members)
    assert result.amount_due == 200 * 4
    assert "2025-04-01" in result.lines[0].detail.text()


def test_per_member_on_a_day_of_the_next_calendar_year_is_in_that_fiscal_year():
    programme = rules(components=[{"kind": "per_member", "amount": 100, "on": "03-31"}])
    members = [Member("a", "adult", since=date(2026, 3, 31)), Member("b", "adult", since=date(2026, 4, 1))]
    assert evaluate(programme, [], FY, FY, members=members).amount_due == 100


def test_per_month_pays_months_with_enough_sessions():
    programme = rules(components=[{"kind": "per_month", "amount": 5000, "min_sessions": 2}])
    days = [date(2025, 4, 3), date(2025, 4, 17), date(2025, 5, 8), date(2025, 6, 5), date(2025, 6, 19)]
    assert evaluate(programme, [held(d) for d in days], FY, FY).amount_due == 2 * 5000


def test_conditions_pay_the_tier_that_holds():
    programme = rules(
        components=[
            {"kind": "fixed", "amount": 50000, "when": {"min_sessions": 20}},
            {"kind": "fixed", "amount": 25000, "when": {"min_sessions": 10, "max_sessions": 19}},
            {"kind": "fixed", "amount": 3000, "when": {"min_average": 15}},
        ]
    )
    weeks = [held(date(2025, 4, 1) + timedelta(days=7 * i), participants=15) for i in range(20)]
    assert evaluate(programme, weeks, FY, FY).amount_due == 50000 + 3000
    assert evaluate(programme, weeks[:19], FY, FY).amount_due == 25000 + 3000
    quieter = weeks[:18] + [held(date(2026, 1, 5), participants=14)]
    result = evaluate(programme, quieter, FY, FY)
    assert result.amount_due == 25000  # average 284 // 19 = 14, rounded down: below 15
    unpaid = [line.detail.text() for line in result.lines if not line.paid]
    assert len(unpaid) == 2 and "平均14人" in unpaid[1] and any(gap.amount == 3000 for gap in result.gaps)


def test_startup_pays_in_the_first_years_of_the_enrolment_only():
    programme = rules(components=[{"kind": "startup", "amount": 10000, "years": 2}, {"kind": "fixed", "amount": 1}])
    assert [evaluate(programme, [], year, 2024).amount_due for year in (2023, 2024, 2025, 2026)] == [0, 10001, 10001, 1]


def test_caps_per_session_then_per_month_then_rounding_then_the_year():
    programme = rules(
        components=[
            {"kind": "per_session", "amount": 3000},
            {"kind": "venue", "cap": 3000},
            {"kind": "fixed", "amount": 1234},
        ],
        caps={"per_session": 5000, "per_month": 8000, "per_year": 20000},
        rounding={"unit": 100, "mode": "down"},
    )
    may = [held(date(2025, 5, d), cost=2500) for d in (1, 15)]  # 5,500 each → 5,000; month 10,000 → 8,000
    june = [held(date(2025, 6, 1), cost=500)]  # 3,500
    result = evaluate(programme, may + june, FY, FY)
    assert [s.amount for s in result.sessions] == [5000, 5000, 3500]
    cuts = [line.amount for line in result.lines if line.kind in ("cap", "rounding")]
    assert cuts == [-500, -500, -2000, -34]  # two sessions, May, then 12,734 → 12,700
    assert result.computed == result.amount_due == 12700
    july = [held(date(2025, 7, d), cost=3000) for d in (1, 15)]
    capped = evaluate(programme, may + june + july, FY, FY)
    assert capped.computed == 20700 and capped.amount_due == 20000


@pytest.mark.parametrize(("mode", "expected"), [("down", 1200), ("up", 1300), ("nearest", 1300)])
def test_rounding_modes(mode, expected):
    programme = rules(components=[{"kind": "fixed", "amount": 1250}], rounding={"unit": 100, "mode": mode})
    assert evaluate(programme, [], FY, FY).amount_due == expected


def test_every_month_needs_its_sessions_and_the_running_month_is_only_at_risk():
    programme = rules(requirements={"sessions_each_month": 1}, components=[{"kind": "per_session", "amount": 100}])
    monthly = [held(date(2025 + (m < 4), m, 10)) for m in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)]
    assert evaluate(programme, monthly, FY, FY).amount_due == 1200
    no_june = [s for s in monthly if s.date.month != 6]
    missed = evaluate(programme, no_june, FY, FY)
    assert missed.amount_due == 0 and "2025年6月" in rule(missed, "each_month").reason.text()
    running = evaluate(programme, monthly[:2], FY, FY, as_of=date(2025, 6, 5))
    assert rule(running, "each_month").ok and running.at_risk and running.amount_due == 200


def test_sessions_in_the_year_can_still_be_reached_while_the_year_runs():
    programme = rules(requirements={"min_sessions": 6}, components=[{"kind": "per_session", "amount": 100}])
    sessions = [held(date(2025, m, 1)) for m in (4, 5, 6)]
    running = evaluate(programme, sessions, FY, FY, as_of=date(2025, 6, 30))
    assert rule(running, "min_sessions").ok and running.at_risk and running.amount_due == 300
    ended = evaluate(programme, sessions, FY, FY)
    assert not rule(ended, "min_sessions").ok and ended.amount_due == 0


def test_each_line_of_the_computation_adds_up_to_the_amount():
    result = evaluate(MUSASHINO, every_two_months(cost=4000), FY, FY)
    assert sum(line.amount for line in result.lines) == result.amount_due == 6 * 5000
    assert [line.title.text() for line in result.lines if line.kind == "component"] == ["活動費", "会場費"]
