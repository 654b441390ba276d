"""What one group is due under one programme's rules (server/grants/model.py) in one fiscal year.

Pure: dataclasses in, dataclasses out, no database; server/grants/data.py loads the rows.
Every yen is an ``int``; every step of the computation is a ``Line`` the amount page shows,
and every session says whether it counted and, if not, why.

Decisions (the grant texts say "about", software must decide):
- A session *counts* when it is a 開催回 (kind "session": meetings and events never count),
  not deleted, held, and meets the programme's session requirements: at least
  ``min_minutes`` (end − start; without both times it cannot be shown long enough), at
  least ``min_participants`` of the given categories, one of ``roles`` assigned.
- "Participants" are registered people present plus the head counts, volunteers apart,
  unless a rule names categories. 実人数 counts named people only: head counts cannot be
  told apart.
- "At least one session every N months": from 1 April, each next counting session must
  fall on or before the same day N months later (31 May + 2 months = 31 July; a month
  without that day clamps to its last day). Exactly N months holds; N months and a day
  fails. The gap from the last counting session to 31 March (or to ``as_of`` while the
  year is still running) is checked the same way.
- While a year is running (``as_of`` before 31 March) the amount is what is due so far:
  conditions are judged on the sessions so far, and a requirement that can still be met
  ("6 sessions in the year") is at risk, not failed.
- Order: components; per-session caps; per-month caps; the sum with the yearly parts;
  rounding; the yearly cap. A failed requirement makes the amount due 0, with the reason.
- An average (participants per counting session) is rounded down to a whole person.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta

from server.core.dates import fiscal_year_bounds
from server.core.i18n import gettext as _
from server.core.labels import N_
from server.grants.model import (
    PARTICIPANT_CATEGORIES,
    Component,
    Condition,
    Counting,
    Fixed,
    PerMember,
    PerMonth,
    PerParticipant,
    PerSession,
    Rules,
    Startup,
    Venue,
    categories_text,
    yen,
)

AT_RISK_DAYS = 14  # a frequency deadline this close is flagged before it is missed


@dataclass(slots=True)
class SessionIn:
    """One session as the rules see it. ``by_category``, ``people`` and ``roles`` are
    filled when the rules need them (``Rules.needs_*``; server/grants/data.py fills them
    in place: thousands of sessions for a dashboard)."""

    id: str
    date: date
    start_time: time | None
    end_time: time | None
    status: str
    venue_cost: int | None = None
    kind: str = "session"
    deleted: bool = False
    participants: int = 0  # registered people present plus head counts, volunteers apart
    by_category: Mapping[str, int] | None = None  # the same per category, volunteers included
    people: tuple[tuple[str, str], ...] = ()  # (person id, category) of each named person present
    roles: frozenset[str] = frozenset()  # roles someone was assigned to

    @property
    def minutes(self) -> int | None:
        if self.start_time is None or self.end_time is None:
            return None
        start = self.start_time.hour * 60 + self.start_time.minute
        end = self.end_time.hour * 60 + self.end_time.minute
        return end - start

    def count(self, categories: tuple[str, ...]) -> int:
        """Participants of ``categories`` (all but volunteers when empty)."""
        if not categories or categories == PARTICIPANT_CATEGORIES:
            return self.participants
        if self.by_category is None:
            raise ValueError(f"session {self.id}: participants by category were not loaded")
        if len(categories) == 1:
            return self.by_category.get(categories[0], 0)
        return sum(self.by_category.get(category, 0) for category in categories)


@dataclass(frozen=True)
class Member:
    """A registered participant of the group, for counting the roster on a day."""

    id: str
    category: str
    since: date | None = None  # on the roster from this day; None: from before it was recorded
    until: date | None = None  # off the roster from this day (removed); None: still on it

    def on_roster(self, day: date) -> bool:
        return (self.since is None or self.since <= day) and (self.until is None or day < self.until)


@dataclass(frozen=True)
class Reason:
    """A message (an English msgid with %(name)s fields) and its values; translated when shown."""

    message: str
    params: dict = field(default_factory=dict)

    def text(self) -> str:
        translated = _(self.message)
        return translated % self.params if self.params else translated


def label(text: str) -> Reason:
    """Text shown as it is (a label staff typed, or one already translated)."""
    return Reason("%(text)s", {"text": text})


@dataclass(frozen=True)
class RuleResult:
    code: str  # eligibility, frequency, each_month, min_sessions, counting, registration
    ok: bool
    reason: Reason
    at_risk: bool = False


@dataclass(frozen=True)
class SessionResult:
    session: SessionIn
    counts: bool
    amount: int = 0  # what this session earns, after the per-session cap
    reasons: tuple[Reason, ...] = ()
    parts: tuple[tuple[Reason, int], ...] = ()  # (component, yen) before the per-session cap


@dataclass(frozen=True)
class Line:
    """One step of the computation: a component, a cap or the rounding, with its yen."""

    kind: str  # component, cap, rounding, requirement
    title: Reason
    detail: Reason
    amount: int  # yen added (negative: taken off)
    paid: bool = True  # False: a component whose condition does not hold


@dataclass(frozen=True)
class Gap:
    """Money not paid, and why: ``amount`` yen less than it could have been (0 if not a sum)."""

    amount: int
    reason: Reason
    session_id: str | None = None


@dataclass(frozen=True)
class GrantResult:
    year: int
    rules: tuple[RuleResult, ...]  # the requirements, eligibility first
    sessions: tuple[SessionResult, ...]
    lines: tuple[Line, ...]
    computed: int  # before the yearly cap and failed requirements
    amount_due: int
    gaps: tuple[Gap, ...]
    programme_rules: Rules | None = None

    @property
    def rules_hold(self) -> bool:
        return all(rule.ok for rule in self.rules)

    @property
    def at_risk(self) -> bool:
        return any(not rule.ok or rule.at_risk for rule in self.rules)

    @property
    def counting(self) -> list[SessionResult]:
        return [s for s in self.sessions if s.counts]

    @property
    def venue_costs_entered(self) -> int:
        return sum(s.session.venue_cost or 0 for s in self.counting)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the end of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def fiscal_months(year: int) -> list[tuple[int, int]]:
    """(calendar year, month) of the fiscal year's twelve months, April first."""
    return [(year + (m < 4), m) for m in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)]


def month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


# --- which sessions count -----------------------------------------------------------------

NOT_HELD = {
    "cancelled": N_("Cancelled: does not count"),
    "postponed": N_("Postponed: does not count"),
    "scheduled": N_("Not recorded as held"),
}


def why_not(counting: Counting, session: SessionIn) -> Reason | None:
    """Why a held 開催回 does not count under ``counting``, or None if it counts."""
    needed = counting.min_minutes
    if needed:
        minutes = session.minutes
        if minutes is None:
            return Reason(N_("Start or end time missing"))
        if minutes < needed:
            return Reason(N_("%(minutes)s minutes, shorter than %(needed)s"), {"minutes": minutes, "needed": needed})
    if counting.min_participants:
        n = session.count(counting.participant_categories)
        if n < counting.min_participants:
            return Reason(
                N_("%(n)s %(who)s, fewer than %(needed)s"),
                {"n": n, "who": categories_text(counting.participant_categories), "needed": counting.min_participants},
            )
    if counting.roles and not (session.roles & set(counting.roles)):
        return Reason(N_("No one assigned as %(roles)s"), {"roles": "・".join(counting.roles)})
    return None


def judge(counting: Counting, session: SessionIn) -> tuple[bool, Reason | None]:
    if session.deleted or session.kind != "session":
        return False, Reason(N_("Not a session of the ibasho"))
    if session.status != "held":
        return False, Reason(NOT_HELD.get(session.status, NOT_HELD["scheduled"]))
    reason = why_not(counting, session)
    return reason is None, reason


# --- whole-year requirements -----------------------------------------------------------------


def frequency_rule(months: int, dates: list[date], year: int, as_of: date | None) -> RuleResult:
    start, end = fiscal_year_bounds(year)
    until = min(end, as_of) if as_of else end
    previous = start
    for day in sorted(d for d in dates if start <= d <= until):
        deadline = add_months(previous, months)
        if day > deadline:
            return RuleResult(
                "frequency",
                False,
                Reason(
                    N_("No session between %(previous)s and %(next)s: more than %(months)s months"),
                    {"previous": previous.isoformat(), "next": day.isoformat(), "months": months},
                ),
            )
        previous = day
    deadline = add_months(previous, months)
    if until > deadline:
        return RuleResult(
            "frequency",
            False,
            Reason(
                N_("No session for more than %(months)s months after %(previous)s"),
                {"previous": previous.isoformat(), "months": months},
            ),
        )
    at_risk = until < end and deadline < end and (deadline - until) <= timedelta(days=AT_RISK_DAYS)
    return RuleResult(
        "frequency",
        True,
        Reason(
            N_("A session at least every %(months)s months; next one due by %(deadline)s"),
            {"months": months, "deadline": deadline.isoformat()},
        ),
        at_risk=at_risk,
    )


def each_month_rule(needed: int, dates: list[date], year: int, as_of: date | None) -> RuleResult:
    """Every month of the year (those ended by ``as_of``, while it runs) has ``needed`` sessions."""
    per_month = defaultdict(int)
    for day in dates:
        per_month[(day.year, day.month)] += 1
    until = min(fiscal_year_bounds(year)[1], as_of) if as_of else fiscal_year_bounds(year)[1]
    for y, m in fiscal_months(year):
        if month_end(y, m) <= until and per_month[(y, m)] < needed:
            return RuleResult(
                "each_month",
                False,
                Reason(
                    N_("%(year)s/%(month)s had %(n)s sessions; every month needs %(needed)s"),
                    {"year": y, "month": m, "n": per_month[(y, m)], "needed": needed},
                ),
            )
    current = (until.year, until.month)
    at_risk = month_end(*current) > until and per_month[current] < needed
    return RuleResult(
        "each_month",
        True,
        Reason(N_("At least %(needed)s sessions every month"), {"needed": needed}),
        at_risk=at_risk,
    )


def min_sessions_rule(needed: int, held: int, running: bool) -> RuleResult:
    values = {"needed": needed, "n": held}
    if held >= needed:
        return RuleResult("min_sessions", True, Reason(N_("%(n)s counting sessions; %(needed)s needed"), values))
    if running:
        return RuleResult(
            "min_sessions", True, Reason(N_("%(n)s counting sessions so far; %(needed)s needed"), values), at_risk=True
        )
    return RuleResult("min_sessions", False, Reason(N_("Only %(n)s counting sessions; %(needed)s needed"), values))


def eligibility_rule(eligible_years: int | None, year: int, first_fiscal_year: int) -> RuleResult:
    if year < first_fiscal_year:
        return RuleResult(
            "eligibility", False, Reason(N_("Enrolled from fiscal year %(first)s only"), {"first": first_fiscal_year})
        )
    nth, limit = year - first_fiscal_year + 1, eligible_years
    if limit and nth > limit:
        return RuleResult(
            "eligibility",
            False,
            Reason(N_("Year %(nth)s of the grant; eligible for %(years)s years only"), {"nth": nth, "years": limit}),
        )
    if eligible_years:
        return RuleResult(
            "eligibility", True, Reason(N_("Year %(nth)s of %(years)s"), {"nth": nth, "years": eligible_years})
        )
    return RuleResult("eligibility", True, Reason(N_("Year %(nth)s of the grant"), {"nth": nth}))


def counting_rule(counting: Counting, counted: int, held: int) -> RuleResult | None:
    """What makes a session count, and how many held sessions do (a line to read, never failed)."""
    parts = []
    if counting.min_minutes:
        parts.append(_("%(n)s minutes or more") % {"n": counting.min_minutes})
    if counting.min_participants:
        parts.append(
            _("%(n)s or more %(who)s")
            % {"n": counting.min_participants, "who": categories_text(counting.participant_categories)}
        )
    if counting.roles:
        parts.append(_("someone as %(roles)s") % {"roles": "・".join(counting.roles)})
    if not parts:
        return None
    return RuleResult(
        "counting",
        True,
        Reason(
            N_("Sessions count with %(what)s: %(counted)s of %(held)s held sessions count"),
            {"what": "、".join(parts), "counted": counted, "held": held},
        ),
    )


def requirements(
    rules: Rules,
    counting: list[SessionIn],
    held: int,
    year: int,
    first_fiscal_year: int,
    registration_required: bool | None,
    as_of: date | None,
) -> list[RuleResult]:
    need = rules.requirements
    running = as_of is not None and as_of < fiscal_year_bounds(year)[1]
    dates = [s.date for s in counting]
    results = [eligibility_rule(need.eligible_years, year, first_fiscal_year)]
    if need.every_months:
        results.append(frequency_rule(need.every_months, dates, year, as_of))
    if need.sessions_each_month:
        results.append(each_month_rule(need.sessions_each_month, dates, year, as_of))
    if need.min_sessions:
        results.append(min_sessions_rule(need.min_sessions, len(counting), running))
    info = counting_rule(rules.counting, len(counting), held)
    if info:
        results.append(info)
    if need.registration and registration_required is not None:
        message = N_("Participants register") if registration_required else N_("Requires registration of participants")
        results.append(RuleResult("registration", registration_required, Reason(message)))
    return results


# --- components ------------------------------------------------------------------------------


@dataclass
class Year:
    """What the components of one year read: the counting sessions and the group."""

    year: int
    first_fiscal_year: int
    counting: list[SessionIn]
    members: tuple[Member, ...]

    def average(self, categories: tuple[str, ...]) -> int:
        if not self.counting:
            return 0
        return sum(s.count(categories) for s in self.counting) // len(self.counting)


def condition_holds(condition: Condition | None, year: Year) -> tuple[bool, Reason | None]:
    """Whether a component's condition holds, and what the year has (for the page)."""
    if condition is None:
        return True, None
    n = len(year.counting)
    checks = [
        condition.min_sessions is None or n >= condition.min_sessions,
        condition.max_sessions is None or n <= condition.max_sessions,
    ]
    has = {"condition": condition.describe(), "n": n}
    if condition.uses_average:
        average = year.average(condition.categories)
        checks += [
            condition.min_average is None or average >= condition.min_average,
            condition.max_average is None or average <= condition.max_average,
        ]
        reason = Reason(N_("%(condition)s: %(n)s sessions, average %(average)s"), {**has, "average": average})
    else:
        reason = Reason(N_("%(condition)s: %(n)s sessions"), has)
    return all(checks), reason


@dataclass
class Earned:
    """What one component earns: per session, per month, for the year, and how it reads."""

    detail: Reason
    by_session: dict[str, int] = field(default_factory=dict)
    by_month: dict[tuple[int, int], int] = field(default_factory=dict)
    yearly: int = 0
    gaps: list[Gap] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.by_session.values()) + sum(self.by_month.values()) + self.yearly


def month_of(session: SessionIn) -> tuple[int, int]:
    return (session.date.year, session.date.month)


def per_session_amounts(component: Component, session: SessionIn) -> int:
    """What one counting session earns under a per-session component (before any cap)."""
    if isinstance(component, PerSession):
        return component.amount
    if isinstance(component, Venue) and not component.by_month:
        cost = max(session.venue_cost or 0, 0)
        return cost if component.cap is None else min(cost, component.cap)
    if isinstance(component, PerParticipant) and component.count == "visits":
        return component.amount * session.count(component.categories)
    return 0


def is_per_session(component: Component) -> bool:
    return (
        isinstance(component, PerSession)
        or (isinstance(component, Venue) and not component.by_month)
        or (isinstance(component, PerParticipant) and component.count == "visits")
    )


def earn(component: Component, year: Year) -> Earned:
    sessions = year.counting
    n = len(sessions)
    if isinstance(component, PerParticipant) and component.count == "visits":
        visits = {s.id: s.count(component.categories) for s in sessions}
        return Earned(
            Reason(
                N_("%(amount)s yen × %(n)s visits of %(who)s"),
                {
                    "amount": yen(component.amount),
                    "n": sum(visits.values()),
                    "who": categories_text(component.categories),
                },
            ),
            by_session={session_id: component.amount * n for session_id, n in visits.items()},
        )
    if is_per_session(component):
        amounts = {s.id: per_session_amounts(component, s) for s in sessions}
        earned = Earned(Reason(""), by_session=amounts)
        if isinstance(component, PerSession):
            paid = n if component.max_sessions is None else min(n, component.max_sessions)
            for s in sessions[paid:]:
                amounts[s.id] = 0
                beyond = Reason(N_("Beyond %(n)s sessions a year"), {"n": component.max_sessions})
                earned.gaps.append(Gap(component.amount, beyond, s.id))
            earned.detail = Reason(N_("%(amount)s yen × %(n)s sessions"), {"amount": yen(component.amount), "n": paid})
        else:  # the venue, capped per session
            entered = sum(max(s.venue_cost or 0, 0) for s in sessions)
            earned.detail = Reason(
                N_("%(n)s sessions: costs entered %(entered)s yen, paid %(paid)s yen"),
                {"n": n, "entered": yen(entered), "paid": yen(sum(amounts.values()))},
            )
            for s in sessions:
                if s.venue_cost is None:
                    earned.gaps.append(Gap(0, Reason(N_("No venue cost entered")), s.id))
                elif component.cap is not None and s.venue_cost > component.cap:
                    earned.gaps.append(
                        Gap(
                            s.venue_cost - component.cap,
                            Reason(
                                N_("Venue cost %(cost)s yen, paid up to %(cap)s yen"),
                                {"cost": yen(s.venue_cost), "cap": yen(component.cap)},
                            ),
                            s.id,
                        )
                    )
        return earned
    if isinstance(component, Venue):  # capped per month
        costs: dict[tuple[int, int], int] = defaultdict(int)
        for s in sessions:
            costs[month_of(s)] += max(s.venue_cost or 0, 0)
        paid = {month: min(cost, component.cap) for month, cost in costs.items()}
        earned = Earned(
            Reason(
                N_("%(months)s months: costs entered %(entered)s yen, paid %(paid)s yen"),
                {"months": len(costs), "entered": yen(sum(costs.values())), "paid": yen(sum(paid.values()))},
            ),
            by_month=paid,
        )
        for (y, m), cost in costs.items():
            if cost > component.cap:
                earned.gaps.append(
                    Gap(
                        cost - component.cap,
                        Reason(
                            N_("Venue costs of %(year)s/%(month)s: %(cost)s yen, paid up to %(cap)s yen"),
                            {"year": y, "month": m, "cost": yen(cost), "cap": yen(component.cap)},
                        ),
                    )
                )
        return earned
    if isinstance(component, PerMonth):
        per_month: dict[tuple[int, int], int] = defaultdict(int)
        for s in sessions:
            per_month[month_of(s)] += 1
        months = [month for month, count in per_month.items() if count >= component.min_sessions]
        return Earned(
            Reason(N_("%(amount)s yen × %(n)s months"), {"amount": yen(component.amount), "n": len(months)}),
            by_month={month: component.amount for month in months},
        )
    if isinstance(component, PerParticipant):  # distinct people
        wanted = component.categories or PARTICIPANT_CATEGORIES
        people = {person for s in sessions for person, category in s.people if category in wanted}
        return Earned(
            Reason(
                N_("%(amount)s yen × %(n)s people (%(who)s)"),
                {"amount": yen(component.amount), "n": len(people), "who": categories_text(component.categories)},
            ),
            yearly=component.amount * len(people),
        )
    if isinstance(component, PerMember):
        day = component.count_day(year.year)
        wanted = component.categories or PARTICIPANT_CATEGORIES
        members = sum(1 for m in year.members if m.category in wanted and m.on_roster(day))
        return Earned(
            Reason(
                N_("%(amount)s yen × %(n)s members on the roster on %(day)s"),
                {"amount": yen(component.amount), "n": members, "day": day.isoformat()},
            ),
            yearly=component.amount * members,
        )
    if isinstance(component, Startup):
        nth = year.year - year.first_fiscal_year + 1
        if 1 <= nth <= component.years:
            return Earned(
                Reason(N_("Year %(nth)s of %(years)s"), {"nth": nth, "years": component.years}),
                yearly=component.amount,
            )
        return Earned(
            Reason(N_("Year %(nth)s: paid in the first %(years)s years only"), {"nth": nth, "years": component.years})
        )
    if isinstance(component, Fixed):
        return Earned(Reason(N_("%(amount)s yen"), {"amount": yen(component.amount)}), yearly=component.amount)
    raise TypeError(f"no rule for {type(component).__name__}")


def title_of(component: Component) -> Reason:
    return label(component.label) if component.label else Reason(component.TITLE)


# --- the whole computation ----------------------------------------------------------------------


def judge_year(rules: Rules, sessions: list[SessionIn], year: int):
    """The year's sessions, oldest first, each with whether it counts and why not; the
    counting ones; and how many 開催回 were held."""
    start, end = fiscal_year_bounds(year)
    in_year = sorted((s for s in sessions if start <= s.date <= end), key=lambda s: (s.date, s.id))
    verdicts = [(s, *judge(rules.counting, s)) for s in in_year]
    counting = [s for s, counts, _reason in verdicts if counts]
    held = sum(1 for s in in_year if s.status == "held" and s.kind == "session" and not s.deleted)
    return verdicts, counting, held


def check(
    rules: Rules,
    sessions: list[SessionIn],
    year: int,
    first_fiscal_year: int,
    *,
    registration_required: bool | None = None,
    as_of: date | None = None,
) -> tuple[RuleResult, ...]:
    """Only the requirements of the year, eligibility first (what the dashboard flags): no
    amounts, so none of what only the components read is needed."""
    _verdicts, counting, held = judge_year(rules, sessions, year)
    return tuple(requirements(rules, counting, held, year, first_fiscal_year, registration_required, as_of))


def evaluate(
    rules: Rules,
    sessions: list[SessionIn],
    year: int,
    first_fiscal_year: int,
    *,
    registration_required: bool | None = None,
    as_of: date | None = None,
    members: tuple[Member, ...] | list[Member] = (),
) -> GrantResult:
    """The requirements, counting sessions, computation and amount due of one group in fiscal
    year ``year`` under ``rules``. ``as_of`` (today) marks a year still running; sessions of
    other fiscal years are ignored."""
    verdicts, counting, held = judge_year(rules, sessions, year)
    context = Year(year, first_fiscal_year, counting, tuple(members))

    lines: list[Line] = []
    gaps: list[Gap] = []
    session_parts: dict[str, list[tuple[Reason, int]]] = defaultdict(list)
    month_parts: dict[tuple[int, int], int] = defaultdict(int)
    yearly = 0
    for component in rules.components:
        earned = earn(component, context)
        holds, condition = condition_holds(component.when, context)
        title = title_of(component)
        if not holds:
            lines.append(Line("component", title, condition, 0, paid=False))
            if earned.total:
                gaps.append(Gap(earned.total, condition))
            continue
        if condition is not None:
            lines.append(Line("requirement", title, condition, 0))
        lines.append(Line("component", title, earned.detail, earned.total))
        gaps.extend(earned.gaps)
        for session_id, amount in earned.by_session.items():
            session_parts[session_id].append((title, amount))
        for month, amount in earned.by_month.items():
            month_parts[month] += amount
        yearly += earned.yearly

    session_amounts = {}
    caps = rules.caps
    for s in counting:
        total = sum(amount for _title, amount in session_parts[s.id])
        if caps.per_session is not None and total > caps.per_session:
            cut = total - caps.per_session
            reason = Reason(
                N_("Cap of %(cap)s yen a session: %(day)s earned %(total)s yen"),
                {"cap": yen(caps.per_session), "day": s.date.isoformat(), "total": yen(total)},
            )
            lines.append(Line("cap", Reason(N_("Cap per session")), reason, -cut))
            gaps.append(Gap(cut, reason, s.id))
            total = caps.per_session
        session_amounts[s.id] = total
        month_parts[month_of(s)] += total
    months_total = 0
    for (y, m), total in sorted(month_parts.items()):
        if caps.per_month is not None and total > caps.per_month:
            cut = total - caps.per_month
            reason = Reason(
                N_("Cap of %(cap)s yen a month: %(year)s/%(month)s earned %(total)s yen"),
                {"cap": yen(caps.per_month), "year": y, "month": m, "total": yen(total)},
            )
            lines.append(Line("cap", Reason(N_("Cap per month")), reason, -cut))
            gaps.append(Gap(cut, reason))
            total = caps.per_month
        months_total += total

    computed = rules.rounding.apply(months_total + yearly)
    if computed != months_total + yearly:
        how = label(rules.rounding.describe())
        lines.append(Line("rounding", Reason(N_("Rounding")), how, computed - months_total - yearly))
    amount = computed
    if caps.per_year is not None and amount > caps.per_year:
        reason = Reason(N_("Yearly cap of %(cap)s yen"), {"cap": yen(caps.per_year)})
        lines.append(Line("cap", Reason(N_("Yearly cap")), reason, caps.per_year - amount))
        gaps.append(Gap(amount - caps.per_year, reason))
        amount = caps.per_year

    results = tuple(
        SessionResult(
            s,
            counts,
            session_amounts.get(s.id, 0),
            () if reason is None else (reason,),
            tuple(session_parts.get(s.id, ())),
        )
        for s, counts, reason in verdicts
    )
    for s, counts, reason in verdicts:
        if counts or reason is None or s.kind != "session" or s.deleted or (as_of and s.date > as_of):
            continue  # meetings and sessions still ahead are no gap
        lost = 0
        if s.status == "held":
            lost = sum(per_session_amounts(c, s) for c in rules.components if is_per_session(c) and c.when is None)
        gaps.append(Gap(lost, reason, s.id))

    checks = requirements(rules, counting, held, year, first_fiscal_year, registration_required, as_of)
    failed = [check for check in checks if not check.ok]
    if failed:
        for index, check in enumerate(failed):
            if amount:
                gaps.append(Gap(amount if index == 0 else 0, check.reason))
            cut = -amount if index == 0 else 0
            lines.append(Line("requirement", Reason(N_("Requirement not met")), check.reason, cut))
        amount = 0
    return GrantResult(year, tuple(checks), results, tuple(lines), computed, amount, tuple(gaps), rules)
