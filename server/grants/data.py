"""What groups are due under their grant programmes in a fiscal year, loaded in a fixed
handful of queries for any number of groups: the enrolments, the rule versions, and then
only what the rules in force read (head counts by category, the people present, the roles,
the roster). A year is computed with the version in force that year (``rules_in_force``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from uuid import UUID
from zoneinfo import ZoneInfo

from server.core.clock import now
from server.core.dates import fiscal_year, fiscal_year_bounds
from server.core.labels import N_
from server.grants.model import Rules
from server.grants.rules import GrantResult, Member, Reason, RuleResult, SessionIn, check, evaluate
from server.tables import (
    Attendance,
    AttendanceStatus,
    GrantRuleVersion,
    GroupGrant,
    Ibasho,
    Person,
    RoleAssignment,
    Session,
    Tally,
)

JAPAN = ZoneInfo("Asia/Tokyo")


def today() -> date:
    return now().astimezone(JAPAN).date()


@dataclass(frozen=True)
class Version:
    programme: UUID
    from_year: int
    rules: Rules


@dataclass
class Enrolment:
    """A group's enrolment in a programme, with what it is due in the year computed."""

    group: UUID
    programme_id: UUID
    programme_name: str
    first_fiscal_year: int
    result: GrantResult
    from_year: int | None = None  # the rule version used; None when no rules are in force that year


def decoded(value) -> dict:
    return json.loads(value) if isinstance(value, str) else value


async def load_versions(programme_ids: list[UUID]) -> dict[UUID, list[Version]]:
    """Each programme's rule versions, oldest first."""
    out: dict[UUID, list[Version]] = defaultdict(list)
    if not programme_ids:
        return out
    rows = (
        await GrantRuleVersion.select(GrantRuleVersion.programme, GrantRuleVersion.from_year, GrantRuleVersion.rules)
        .where(GrantRuleVersion.programme.is_in(programme_ids))
        .order_by(GrantRuleVersion.from_year)
    )
    for row in rows:
        rules = Rules.from_json(decoded(row["rules"]))
        out[row["programme"]].append(Version(row["programme"], row["from_year"], rules))
    return out


def rules_in_force(versions: list[Version], year: int, retired_after: int | None) -> Version | Reason:
    """The version that applies to ``year`` (the latest starting on or before it), or why none does."""
    if retired_after is not None and year > retired_after:
        return Reason(N_("The programme ended after fiscal year %(year)s"), {"year": retired_after})
    applying = [v for v in versions if v.from_year <= year]
    if not applying:
        first = versions[0].from_year if versions else None
        if first is None:
            return Reason(N_("The programme has no rules yet"))
        return Reason(N_("The programme's rules start in fiscal year %(year)s"), {"year": first})
    return applying[-1]


def not_in_force(year: int, reason: Reason) -> GrantResult:
    return GrantResult(year, (RuleResult("in_force", False, reason),), (), (), 0, 0, ())


# --- sessions and what the rules read of them -------------------------------------------------


def in_scope(session, group_ids: list[UUID], year: int):
    """A condition on ``session`` (Session or a foreign key to it): the groups' sessions of the year."""
    first, last = fiscal_year_bounds(year)
    in_year = (session.date >= first) & (session.date <= last)
    return session.group.is_in(group_ids) & in_year & (session.deleted == False)


# Rows of these sessions are asked for by their ids, not by joining the sessions again: with
# an equality filter on the rows (category, status) and no statistics yet (a fresh or restored
# database), PostgreSQL nested-looped every tally against the sessions (12 s for 500 groups).
IDS_PER_QUERY = 20_000  # SQLite's default limit is 32,766 variables a statement


async def of_sessions(query, column, session_ids: list[UUID], *condition) -> list[dict]:
    """``query()`` (a new Select each time: ``where`` adds to a query) for the rows whose
    ``column`` is one of ``session_ids``."""
    rows: list[dict] = []
    for start in range(0, len(session_ids), IDS_PER_QUERY):
        chunk = column.is_in(session_ids[start : start + IDS_PER_QUERY])
        for extra in condition:
            chunk = chunk & extra
        rows += await query().where(chunk)
    return rows


async def load_sessions(group_ids: list[UUID], year: int) -> list[tuple[UUID, SessionIn]]:
    """(group, session) of the year with their participants (registered present plus head counts,
    volunteers apart, as the database keeps them); for callers that have not loaded them already."""
    rows = await Session.select(
        Session.id,
        Session.group,
        Session.kind,
        Session.date,
        Session.start_time,
        Session.end_time,
        Session.status,
        Session.venue_cost,
        Session.present_count,
        Session.walk_in_count,
    ).where(in_scope(Session, group_ids, year))
    return [
        (
            row["group"],
            SessionIn(
                str(row["id"]),
                row["date"],
                row["start_time"],
                row["end_time"],
                row["status"],
                row["venue_cost"],
                row["kind"],
                participants=row["present_count"] + row["walk_in_count"],
            ),
        )
        for row in rows
    ]


async def enrich(sessions: list[SessionIn], needs: Needs) -> list[SessionIn]:
    """Fills in ``sessions`` the head counts by category, the people present and the roles,
    as far as ``needs`` (the rules together) reads them."""
    ids = [UUID(s.id) for s in sessions]
    by_category: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    people: dict[str, list[tuple[str, str]]] = defaultdict(list)
    roles: dict[str, set[str]] = defaultdict(set)
    if needs.categories:

        def tallies():
            return Tally.select(Tally.session, Tally.category, Tally.delta_sum)

        wanted = Tally.category.is_in(sorted(needs.categories))
        for row in await of_sessions(tallies, Tally.session, ids, wanted, Tally.delta_sum > 0):
            by_category[str(row["session"])][row["category"]] += row["delta_sum"]
    if needs.categories or needs.people:

        def present():
            category = Attendance.person.category.as_alias("category")
            return Attendance.select(Attendance.session, Attendance.person, category)

        is_present = Attendance.status == AttendanceStatus.present.value
        for row in await of_sessions(present, Attendance.session, ids, is_present):
            by_category[str(row["session"])][row["category"]] += 1
            people[str(row["session"])].append((str(row["person"]), row["category"]))
    if needs.roles:

        def assigned():
            return RoleAssignment.select(RoleAssignment.session, RoleAssignment.role)

        for row in await of_sessions(assigned, RoleAssignment.session, ids, RoleAssignment.assigned == True):
            roles[str(row["session"])].add(row["role"])
    for s in sessions:
        if needs.categories:
            s.by_category = dict(by_category.get(s.id, {}))
        s.people = tuple(people.get(s.id, ())) or s.people
        s.roles = frozenset(roles.get(s.id, ())) or s.roles
    return sessions


async def load_members(group_ids: list[UUID]) -> dict[UUID, list[Member]]:
    """Each group's registered participants, with the days they joined and left the roster
    (a removed person's last change is their removal)."""
    rows = await Person.select(
        Person.id, Person.group, Person.category, Person.created_at, Person.deleted, Person.updated_at
    ).where(Person.group.is_in(group_ids) & (Person.registered == True))
    out: dict[UUID, list[Member]] = defaultdict(list)
    for row in rows:
        since = row["created_at"].astimezone(JAPAN).date() if row["created_at"] else None
        until = row["updated_at"].astimezone(JAPAN).date() if row["deleted"] else None
        out[row["group"]].append(Member(str(row["id"]), row["category"], since, until))
    return out


@dataclass(frozen=True)
class Needs:
    """What the rules in force read, together: no query for what none of them reads."""

    categories: frozenset[str] = frozenset()  # the head-count categories read by name
    people: bool = False
    roles: bool = False
    members: bool = False
    registration: bool = False

    @classmethod
    def of(cls, rules: list[Rules], amounts: bool = True) -> Needs:
        """What ``rules`` read together; with ``amounts`` False, what their requirements read."""
        return cls(
            categories=frozenset().union(*(r.categories_read(amounts) for r in rules)),
            people=amounts and any(r.needs_people for r in rules),
            roles=any(r.needs_roles for r in rules),
            members=amounts and any(r.needs_members for r in rules),
            registration=any(r.requirements.registration for r in rules),
        )


@dataclass
class Inputs:
    """What the rules read of some groups in a year, loaded once for all of them."""

    sessions: dict[UUID, list[SessionIn]]
    members: dict[UUID, list[Member]]
    registration: dict[UUID, bool] | None  # None: not loaded (no rule needs it)

    def registration_of(self, group: UUID) -> bool | None:
        return None if self.registration is None else self.registration[group]

    def evaluate(self, rules: Rules, group: UUID, year: int, first_fiscal_year: int, as_of: date | None):
        return evaluate(
            rules,
            self.sessions.get(group, []),
            year,
            first_fiscal_year,
            registration_required=self.registration_of(group),
            as_of=as_of,
            members=tuple(self.members.get(group, ())),
        )


async def load_inputs(
    group_ids: list[UUID], year: int, needs: Needs, sessions: list[tuple[UUID, SessionIn]] | None = None
) -> Inputs:
    if sessions is None:
        sessions = await load_sessions(group_ids, year)
    wanted = set(group_ids)
    pairs = [(group, s) for group, s in sessions if group in wanted]
    if needs.categories or needs.people or needs.roles:
        await enrich([s for _group, s in pairs], needs)
    by_group: dict[UUID, list[SessionIn]] = defaultdict(list)
    for group, session in pairs:
        by_group[group].append(session)
    registration = None
    if needs.registration:
        registration = defaultdict(bool)
        for row in await Ibasho.select(Ibasho.group, Ibasho.registration_required).where(Ibasho.group.is_in(group_ids)):
            registration[row["group"]] |= row["registration_required"]
    members = await load_members(group_ids) if needs.members else {}
    return Inputs(by_group, members, registration)


def default_as_of(year: int, as_of: date | None) -> date | None:
    """A year still running is computed up to today."""
    return today() if as_of is None and year == fiscal_year(today()) else as_of


async def enrolments_in_force(group_ids: list[UUID], year: int) -> tuple[list[dict], dict[UUID, Version | Reason]]:
    """The groups' enrolments, and for each programme the version in force in ``year`` (or why none is)."""
    if not group_ids:
        return [], {}
    enrolments = await GroupGrant.select(
        GroupGrant.group,
        GroupGrant.first_fiscal_year,
        GroupGrant.programme.id.as_alias("programme_id"),
        GroupGrant.programme.name.as_alias("programme_name"),
        GroupGrant.programme.retired_after.as_alias("retired_after"),
    ).where(GroupGrant.group.is_in(group_ids))
    versions = await load_versions(list({row["programme_id"] for row in enrolments}))
    in_force = {
        row["programme_id"]: rules_in_force(versions[row["programme_id"]], year, row["retired_after"])
        for row in enrolments
    }
    return enrolments, in_force


async def group_grants(
    group_ids: list[UUID],
    year: int,
    sessions: list[tuple[UUID, SessionIn]] | None = None,
    as_of: date | None = None,
) -> dict[UUID, list[Enrolment]]:
    """Each group's grant programmes, evaluated for fiscal year ``year``.

    ``sessions`` ((group, session) pairs of that year) may come from a caller that has
    loaded them; the rest is loaded here. ``as_of`` marks a year still running (by default
    today, for this fiscal year)."""
    enrolments, in_force = await enrolments_in_force(group_ids, year)
    if not enrolments:
        return {}
    needs = Needs.of([v.rules for v in in_force.values() if isinstance(v, Version)])
    inputs = await load_inputs(list({row["group"] for row in enrolments}), year, needs, sessions)
    as_of = default_as_of(year, as_of)
    out: dict[UUID, list[Enrolment]] = defaultdict(list)
    for row in enrolments:
        version = in_force[row["programme_id"]]
        if isinstance(version, Version):
            result = inputs.evaluate(version.rules, row["group"], year, row["first_fiscal_year"], as_of)
            from_year = version.from_year
        else:
            result, from_year = not_in_force(year, version), None
        out[row["group"]].append(
            Enrolment(
                row["group"], row["programme_id"], row["programme_name"], row["first_fiscal_year"], result, from_year
            )
        )
    for enrolment_list in out.values():
        enrolment_list.sort(key=lambda e: e.programme_name)
    return out


async def evaluate_for(
    group_id: UUID, year: int, rules: Rules, first_fiscal_year: int, as_of: date | None = None
) -> GrantResult:
    """One group's year under ``rules`` (a preview, or a check of a programme it is not in)."""
    inputs = await load_inputs([group_id], year, Needs.of([rules]))
    return inputs.evaluate(rules, group_id, year, first_fiscal_year, default_as_of(year, as_of))


async def requirement_checks(
    group_ids: list[UUID],
    year: int,
    sessions: list[tuple[UUID, SessionIn]] | None = None,
    as_of: date | None = None,
) -> list[tuple[dict, tuple[RuleResult, ...]]]:
    """Each enrolment with a programme in force in ``year`` (group, programme id and name) and
    its requirements' results: the requirements only, so no amount is computed."""
    enrolments, in_force = await enrolments_in_force(group_ids, year)
    applying = [v.rules for v in in_force.values() if isinstance(v, Version)]
    if not applying:
        return []
    inputs = await load_inputs(list({row["group"] for row in enrolments}), year, Needs.of(applying, False), sessions)
    as_of = default_as_of(year, as_of)
    out = []
    for row in enrolments:
        version = in_force[row["programme_id"]]
        if not isinstance(version, Version):
            continue
        group = row["group"]
        checks = check(
            version.rules,
            inputs.sessions.get(group, []),
            year,
            row["first_fiscal_year"],
            registration_required=inputs.registration_of(group),
            as_of=as_of,
        )
        out.append((row, checks))
    return out


async def groups_at_risk(
    group_ids: list[UUID],
    year: int,
    sessions: list[tuple[UUID, SessionIn]] | None = None,
    as_of: date | None = None,
) -> set[UUID]:
    """The groups with a programme in force whose requirements fail or are at risk in ``year``
    (the dashboard's flag)."""
    return {
        row["group"]
        for row, checks in await requirement_checks(group_ids, year, sessions, as_of)
        if checks[0].ok and any(not c.ok or c.at_risk for c in checks)
    }
