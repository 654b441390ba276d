"""Properties of the grant evaluator (server/grants/rules.py) over generated rules and years:
adding a counting session never lowers the amount (only tiers, bounds on averages or session
counts, may); amounts are whole yen and the lines add up to them; fiscal years are exact."""

from __future__ import annotations

from datetime import date, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.core.dates import fiscal_year
from server.grants.model import PARTICIPANT_CATEGORIES, Rules
from server.grants.rules import Member, SessionIn, evaluate

FY = 2025
CATEGORIES = (*PARTICIPANT_CATEGORIES, "volunteer")
ROLE = "専門職"
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

yen = st.integers(0, 20000)
categories = st.lists(st.sampled_from(CATEGORIES), unique=True, max_size=3)


def monotone_condition():
    """Conditions that more sessions can only satisfy: lower bounds on the session count."""
    return st.one_of(st.none(), st.builds(lambda n: {"min_sessions": n}, st.integers(0, 12)))


def any_condition():
    return st.one_of(
        monotone_condition(),
        st.builds(
            lambda low, high, average, top, who: {
                "min_sessions": low,
                "max_sessions": low + high,
                "min_average": average,
                "max_average": average + top,
                "categories": who,
            },
            st.integers(0, 6),
            st.integers(0, 10),
            st.integers(0, 20),
            st.integers(0, 30),
            categories,
        ),
    )


def components(condition):
    def component(kind, **parameters):
        return st.fixed_dictionaries({"kind": st.just(kind), **parameters}, optional={"when": condition()})

    return st.lists(
        st.one_of(
            component("per_session", amount=yen, max_sessions=st.one_of(st.none(), st.integers(1, 30))),
            component("venue", cap=st.one_of(st.none(), yen), per=st.sampled_from(["session", "month"])),
            component("per_participant", amount=st.integers(0, 500), count=st.just("visits"), categories=categories),
            component("per_participant", amount=st.integers(0, 500), count=st.just("people"), categories=categories),
            component("per_member", amount=st.integers(0, 500), on=st.sampled_from(["04-01", "10-01", "03-31"])),
            component("per_month", amount=yen, min_sessions=st.integers(1, 3)),
            component("fixed", amount=yen),
            component("startup", amount=yen, years=st.integers(1, 3)),
        ),
        min_size=1,
        max_size=5,
    )


def optional(strategy):
    return st.one_of(st.none(), strategy)


def rules_json(condition=monotone_condition):
    return st.fixed_dictionaries(
        {
            "components": components(condition),
            "sessions": st.fixed_dictionaries(
                {},
                optional={
                    "min_minutes": st.integers(30, 180),
                    "min_participants": st.integers(1, 10),
                    "participant_categories": categories,
                    "roles": st.just([ROLE]),
                },
            ),
            "requirements": st.fixed_dictionaries(
                {},
                optional={
                    "every_months": st.integers(1, 3),
                    "sessions_each_month": st.integers(1, 2),
                    "min_sessions": st.integers(1, 12),
                    "eligible_years": st.integers(1, 3),
                },
            ),
            "caps": st.fixed_dictionaries(
                {},
                optional={"per_session": yen, "per_month": st.integers(0, 40000), "per_year": st.integers(0, 200000)},
            ),
            "rounding": st.one_of(
                st.just({}),
                st.fixed_dictionaries(
                    {"unit": st.sampled_from([10, 100, 1000]), "mode": st.sampled_from(["down", "up", "nearest"])}
                ),
            ),
        }
    )


@st.composite
def sessions(draw, year=FY, min_size=0, max_size=14):
    """Sessions of fiscal year ``year`` with head counts, named people and roles."""
    out = []
    for index in range(draw(st.integers(min_size, max_size))):
        day = date(year, 4, 1) + timedelta(days=draw(st.integers(0, 364)))
        heads = {c: draw(st.integers(0, 15)) for c in CATEGORIES}
        people = tuple((f"p{draw(st.integers(0, 8))}", draw(st.sampled_from(CATEGORIES))) for _ in range(3))
        out.append(
            SessionIn(
                id=f"s{index}",
                date=day,
                start_time=time(10),
                end_time=time(10 + draw(st.integers(0, 3))),
                status=draw(st.sampled_from(["held", "held", "held", "cancelled"])),
                venue_cost=draw(st.one_of(st.none(), st.integers(0, 6000))),
                participants=sum(n for c, n in heads.items() if c != "volunteer"),
                by_category=heads,
                people=people,
                roles=frozenset(draw(st.sampled_from([(), (ROLE,)]))),
            )
        )
    return out


def counting_session(day: date) -> SessionIn:
    """A session every generated rule counts: long, full and with the professional."""
    heads = {c: 12 for c in CATEGORIES}
    return SessionIn(
        "added",
        day,
        time(8),
        time(12),
        "held",
        venue_cost=3000,
        participants=12 * len(PARTICIPANT_CATEGORIES),
        by_category=heads,
        people=(("new person", "adult"),),
        roles=frozenset({ROLE}),
    )


MEMBERS = (Member("a", "adult"), Member("b", "senior", since=date(2025, 9, 1)), Member("c", "child"))


def result(data, group_sessions, first=FY, year=FY):
    return evaluate(Rules.from_json(data), group_sessions, year, first, members=MEMBERS)


@PROPERTY
@given(rules_json(), sessions(), st.integers(0, 364), st.integers(FY - 3, FY))
def test_adding_a_counting_session_never_lowers_the_amount(data, group_sessions, offset, first):
    before = result(data, group_sessions, first)
    after = result(data, [*group_sessions, counting_session(date(FY, 4, 1) + timedelta(days=offset))], first)
    assert after.amount_due >= before.amount_due
    assert any(s.session.id == "added" and s.counts for s in after.sessions)


@PROPERTY
@given(rules_json(any_condition), sessions(), st.integers(0, 364))
def test_only_tiers_can_lower_the_amount_when_a_session_is_added(data, group_sessions, offset):
    before = result(data, group_sessions)
    after = result(data, [*group_sessions, counting_session(date(FY, 4, 1) + timedelta(days=offset))])
    if after.amount_due < before.amount_due:
        conditions = [c.get("when") or {} for c in data["components"]]
        assert any("max_sessions" in c or "min_average" in c or "max_average" in c for c in conditions)


@PROPERTY
@given(rules_json(any_condition), sessions(), st.integers(FY - 3, FY + 1))
def test_amounts_are_whole_yen_and_the_lines_add_up_to_them(data, group_sessions, first):
    outcome = result(data, group_sessions, first)
    numbers = [outcome.amount_due, outcome.computed, *(s.amount for s in outcome.sessions)]
    numbers += [line.amount for line in outcome.lines] + [gap.amount for gap in outcome.gaps]
    assert all(type(n) is int for n in numbers)
    assert outcome.amount_due >= 0 and all(s.amount >= 0 for s in outcome.sessions)
    assert sum(line.amount for line in outcome.lines) == outcome.amount_due
    caps = data["caps"]
    if "per_year" in caps:
        assert outcome.amount_due <= caps["per_year"]
    if "per_session" in caps:
        assert all(s.amount <= caps["per_session"] for s in outcome.sessions)
    unit = data["rounding"].get("unit", 1)
    assert outcome.computed % unit == 0


@PROPERTY
@given(st.dates(date(2019, 1, 1), date(2031, 12, 31)), st.integers(1, 9000))
def test_a_session_belongs_to_exactly_the_fiscal_year_of_its_date(day, amount):
    data = {"components": [{"kind": "per_session", "amount": amount}, {"kind": "per_month", "amount": 1}]}
    one = [counting_session(day)]
    dues = {year: result(data, one, first=2000, year=year).amount_due for year in range(2017, 2033)}
    assert dues[fiscal_year(day)] == amount + 1
    assert sum(dues.values()) == amount + 1  # in no other year


@PROPERTY
@given(st.integers(2019, 2031))
def test_31_march_and_1_april_fall_either_side_of_the_boundary(year):
    data = {
        "components": [
            {"kind": "per_session", "amount": 100},
            {"kind": "per_member", "amount": 1, "on": "03-31"},
            {"kind": "per_member", "amount": 10, "on": "04-01"},
        ],
        "caps": {"per_month": 100},
    }
    march, april = counting_session(date(year + 1, 3, 31)), counting_session(date(year + 1, 4, 1))
    members = (Member("joined on 31 March", "adult", since=date(year + 1, 3, 31)),)
    rules = Rules.from_json(data)
    this_year = evaluate(rules, [march, april], year, 2000, members=members)
    next_year = evaluate(rules, [march, april], year + 1, 2000, members=members)
    assert [s.session.date for s in this_year.counting] == [date(year + 1, 3, 31)]
    assert [s.session.date for s in next_year.counting] == [date(year + 1, 4, 1)]
    assert this_year.amount_due == 100 + 1  # counted on 31 March of the year; not yet on its 1 April
    assert next_year.amount_due == 100 + 1 + 10  # on the roster on both count days of the next year
