"""Grant rules as data, applied to one group's sessions of one fiscal year.

Pure: dataclasses in, dataclasses out, no database. The page and export code load the
rows and call :func:`evaluate`.

Decisions (the grant texts say "about", software must decide):
- A session *counts* when it was held (status ``held``, not deleted, a 開催回 rather
  than a meeting) and lasted at least ``min_session_minutes`` (end − start; a session
  without both times cannot be shown to be long enough, so it does not count).
- "At least one session every N months": from 1 April, each next counting session
  must fall on or before the same day N months later (31 May + 2 months = 31 July;
  a month without that day clamps to its last day). Exactly N months holds; N months
  and a day fails. The gap from the last counting session to 31 March (or to
  ``as_of`` while the year is still running) is checked the same way.
- Amount: per counting session the activity amount plus the venue cost at actual cost
  up to the cap; plus the fixed yearly amount; then the yearly cap. If a rule fails
  the amount due is 0, with the reason.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, time, timedelta

from server.core.dates import fiscal_year, fiscal_year_bounds
from server.core.i18n import gettext as _

AT_RISK_DAYS = 14  # a frequency deadline this close is flagged before it is missed


def N_(message: str) -> str:
    return message


@dataclass(frozen=True)
class Programme:
    name: str
    min_sessions_every_months: int | None = None
    min_session_minutes: int | None = None
    activity_amount_per_session: int = 0
    venue_cap_per_session: int = 0
    fixed_yearly_amount: int = 0
    yearly_cap: int | None = None
    eligible_years: int | None = None
    requires_registration: bool = False
    min_age: int | None = None

    @classmethod
    def from_row(cls, row: dict) -> Programme:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__ if name in row})


@dataclass(frozen=True)
class SessionIn:
    id: str
    date: date
    start_time: time | None
    end_time: time | None
    status: str
    venue_cost: int | None = None
    kind: str = "session"
    deleted: bool = False

    @property
    def minutes(self) -> int | None:
        if self.start_time is None or self.end_time is None:
            return None
        start = self.start_time.hour * 60 + self.start_time.minute
        end = self.end_time.hour * 60 + self.end_time.minute
        return end - start


@dataclass(frozen=True)
class Reason:
    """A message (an English msgid with %(name)s fields) and its values."""

    message: str
    params: dict = field(default_factory=dict)

    def text(self) -> str:
        return _(self.message) % self.params


@dataclass(frozen=True)
class RuleResult:
    code: str  # frequency, length, eligibility, registration
    ok: bool
    reason: Reason
    at_risk: bool = False


@dataclass(frozen=True)
class SessionResult:
    session: SessionIn
    counts: bool
    activity: int = 0
    venue: int = 0
    reasons: tuple[Reason, ...] = ()

    @property
    def amount(self) -> int:
        return self.activity + self.venue


@dataclass(frozen=True)
class Gap:
    """Money not paid, and why: ``amount`` yen less than it could have been (0 if not a sum)."""

    amount: int
    reason: Reason
    session_id: str | None = None


@dataclass(frozen=True)
class GrantResult:
    programme: Programme
    year: int
    rules: tuple[RuleResult, ...]
    sessions: tuple[SessionResult, ...]
    computed: int  # before the yearly cap and failed rules
    amount_due: int
    gaps: tuple[Gap, ...]

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


def _yen(amount: int) -> str:
    return f"{amount:,}"


NOT_HELD = {
    "cancelled": N_("Cancelled: does not count"),
    "postponed": N_("Postponed: does not count"),
    "scheduled": N_("Not recorded as held"),
}


def session_result(programme: Programme, session: SessionIn) -> SessionResult:
    if session.deleted or session.kind != "session":
        return SessionResult(session, False, reasons=(Reason(N_("Not a session of the ibasho")),))
    if session.status != "held":
        return SessionResult(session, False, reasons=(Reason(NOT_HELD.get(session.status, NOT_HELD["scheduled"])),))
    needed = programme.min_session_minutes
    if needed:
        minutes = session.minutes
        if minutes is None:
            return SessionResult(session, False, reasons=(Reason(N_("Start or end time missing")),))
        if minutes < needed:
            return SessionResult(
                session,
                False,
                reasons=(
                    Reason(N_("%(minutes)s minutes, shorter than %(needed)s"), {"minutes": minutes, "needed": needed}),
                ),
            )
    reasons: list[Reason] = []
    venue = 0
    cap = programme.venue_cap_per_session
    if cap:
        cost = session.venue_cost
        if cost is None:
            reasons.append(Reason(N_("No venue cost entered")))
        elif cost > cap:
            venue = cap
            reasons.append(
                Reason(N_("Venue cost %(cost)s yen, paid up to %(cap)s yen"), {"cost": _yen(cost), "cap": _yen(cap)})
            )
        else:
            venue = max(cost, 0)
    return SessionResult(session, True, programme.activity_amount_per_session, venue, tuple(reasons))


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


def eligibility_rule(programme: Programme, year: int, first_fiscal_year: int) -> RuleResult:
    if year < first_fiscal_year:
        return RuleResult(
            "eligibility", False, Reason(N_("Enrolled from fiscal year %(first)s only"), {"first": first_fiscal_year})
        )
    nth = year - first_fiscal_year + 1
    if programme.eligible_years and nth > programme.eligible_years:
        return RuleResult(
            "eligibility",
            False,
            Reason(
                N_("Year %(nth)s of the grant; eligible for %(years)s years only"),
                {"nth": nth, "years": programme.eligible_years},
            ),
        )
    if programme.eligible_years:
        return RuleResult(
            "eligibility",
            True,
            Reason(N_("Year %(nth)s of %(years)s"), {"nth": nth, "years": programme.eligible_years}),
        )
    return RuleResult("eligibility", True, Reason(N_("Year %(nth)s of the grant"), {"nth": nth}))


def evaluate(
    programme: Programme,
    sessions: list[SessionIn],
    year: int,
    first_fiscal_year: int,
    *,
    registration_required: bool | None = None,
    as_of: date | None = None,
) -> GrantResult:
    """The rules, counting sessions and amount due of one group in fiscal year ``year``.

    ``as_of`` (today) limits the frequency check of a year still running; sessions of
    other fiscal years are ignored."""
    in_year = sorted((s for s in sessions if fiscal_year(s.date) == year), key=lambda s: (s.date, s.id))
    results = tuple(session_result(programme, s) for s in in_year)
    counting = [r for r in results if r.counts]

    rules = [eligibility_rule(programme, year, first_fiscal_year)]
    if programme.min_sessions_every_months:
        rules.append(
            frequency_rule(programme.min_sessions_every_months, [r.session.date for r in counting], year, as_of)
        )
    if programme.min_session_minutes:
        short = sum(1 for r in results if not r.counts and r.session.status == "held")
        rules.append(
            RuleResult(
                "length",
                True,
                Reason(
                    N_("Sessions of %(needed)s minutes or more count; %(short)s held sessions do not"),
                    {"needed": programme.min_session_minutes, "short": short},
                ),
            )
        )
    if programme.requires_registration and registration_required is not None:
        rules.append(
            RuleResult(
                "registration",
                registration_required,
                Reason(
                    N_("Participants register")
                    if registration_required
                    else N_("Requires registration of participants")
                ),
            )
        )

    gaps: list[Gap] = []
    for r in results:
        if r.session.kind != "session" or r.session.deleted or (as_of and r.session.date > as_of):
            continue  # meetings and sessions still ahead are no gap
        lost = 0
        if not r.counts and r.session.status == "held":
            lost = programme.activity_amount_per_session
        elif r.counts and programme.venue_cap_per_session:
            cost = r.session.venue_cost
            lost = 0 if cost is None else max(0, cost - r.venue)
        for reason in r.reasons:
            gaps.append(Gap(lost, reason, r.session.id))
    computed = sum(r.amount for r in counting) + programme.fixed_yearly_amount
    amount = computed
    if programme.yearly_cap is not None and amount > programme.yearly_cap:
        gaps.append(
            Gap(
                amount - programme.yearly_cap,
                Reason(N_("Yearly cap of %(cap)s yen"), {"cap": _yen(programme.yearly_cap)}),
            )
        )
        amount = programme.yearly_cap
    failed = [rule for rule in rules if not rule.ok]
    if failed and amount:
        for index, rule in enumerate(failed):
            gaps.append(Gap(amount if index == 0 else 0, rule.reason))
        amount = 0
    return GrantResult(programme, year, tuple(rules), results, computed, amount, tuple(gaps))


MUSASHINO = Programme(
    name="身近な地域の居場所づくり助成",
    min_sessions_every_months=2,
    min_session_minutes=120,
    activity_amount_per_session=2500,
    venue_cap_per_session=2500,
    yearly_cap=100000,
)
AOMORI_STARTUP = Programme(name="「みんなの居場所」スタートアップ事業", fixed_yearly_amount=50000, eligible_years=3)
PRESETS = {
    "musashino": (MUSASHINO, "武蔵野市民社会福祉協議会"),
    "aomori": (AOMORI_STARTUP, "青森県社会福祉協議会"),
}
