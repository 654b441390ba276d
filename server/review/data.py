"""Loading what the review pages and exports show: a handful of queries for any number of groups.

Every loader takes a list of group ids and a fiscal year and filters by joins, so the
number of queries does not grow with the number of groups or sessions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from piccolo.query.functions.aggregate import Count

from server.core.dates import fiscal_year, fiscal_year_bounds
from server.grants.data import Enrolment, group_grants
from server.grants.rules import SessionIn
from server.tables import (
    Ibasho,
    Note,
    RoleAssignment,
    Session,
    SessionKind,
    SessionStatus,
    Tally,
)

JAPAN = ZoneInfo("Asia/Tokyo")
# Read once: a dashboard asks each of thousands of sessions.
HELD = SessionStatus.held.value
CATEGORIES = ("child", "adult", "senior", "parent_child", "first_time", "volunteer")


def today() -> date:
    return datetime.now(JAPAN).date()


def this_fiscal_year() -> int:
    return fiscal_year(today())


@dataclass
class SessionRow:
    """One session with its numbers: named attendance, head counts and roles."""

    id: UUID
    group: UUID
    ibasho: UUID | None
    ibasho_name: str
    kind: str
    title: str
    date: date
    start_time: object
    end_time: object
    venue: str
    status: str
    venue_cost: int | None
    review_state: str
    review_comment: str
    # Kept by the database as marks and head counts change (server/tables.py Session)
    registered_present: int
    walk_ins: int  # head counts of everyone but the volunteers
    tallies: dict[str, int] = field(default_factory=dict)  # by category
    roles: dict[str, int] = field(default_factory=dict)  # role → people
    note: dict | None = None

    @property
    def attendance(self) -> int:
        """Participants: registered people present plus the head counts (volunteers apart)."""
        return self.registered_present + self.walk_ins

    @property
    def volunteers(self) -> int:
        return self.tallies.get("volunteer", 0)

    @property
    def held(self) -> bool:
        return self.status == HELD

    def grant_input(self) -> SessionIn:
        return SessionIn(
            str(self.id),
            self.date,
            self.start_time,
            self.end_time,
            self.status,
            self.venue_cost,
            self.kind,
            participants=self.attendance,
        )


async def ibasho_of(ibasho_ids: set[UUID]) -> dict[UUID, dict]:
    """Ibasho by id (their name and how many absences make a follow-up): read apart, not
    joined to thousands of sessions or marks, which PostgreSQL nested-looped against every
    ibasho while its statistics were fresh (a new or restored database: 230 ms for the
    sessions of 500 groups, against 7 ms without the join)."""
    if not ibasho_ids:
        return {}
    rows = await Ibasho.select(Ibasho.id, Ibasho.name, Ibasho.absence_follow_up).where(
        Ibasho.id.is_in(list(ibasho_ids))
    )
    return {row["id"]: row for row in rows}


async def load_sessions(
    group_ids: list[UUID], year: int, *, with_notes: bool = False, with_roles: bool = True
) -> list[SessionRow]:
    """The group's sessions and events of a fiscal year (not deleted), oldest first, with their
    numbers: the totals the database keeps, and the head counts by category. Meetings are the
    members' own business: never in a review table or a grant's count."""
    if not group_ids:
        return []
    first, last = fiscal_year_bounds(year)
    in_scope = (
        Session.group.is_in(group_ids)
        & (Session.date >= first)
        & (Session.date <= last)
        & (Session.deleted == False)
        & (Session.kind != SessionKind.meeting.value)
    )
    rows = (
        await Session.select(
            Session.id,
            Session.group,
            Session.ibasho,
            Session.kind,
            Session.title,
            Session.date,
            Session.start_time,
            Session.end_time,
            Session.venue,
            Session.status,
            Session.venue_cost,
            Session.review_state,
            Session.review_comment,
            Session.present_count.as_alias("registered_present"),
            Session.walk_in_count.as_alias("walk_ins"),
        )
        .where(in_scope)
        .order_by(Session.date)
        .order_by(Session.start_time)
    )
    if not rows:
        return []
    places = await ibasho_of({row["ibasho"] for row in rows if row["ibasho"]})
    sessions = {
        row["id"]: SessionRow(**row, ibasho_name=places[row["ibasho"]]["name"] if row["ibasho"] in places else "")
        for row in rows
    }

    def joined(table):
        s = table.session
        return s.group.is_in(group_ids) & (s.date >= first) & (s.date <= last) & (s.deleted == False)

    for row in await Tally.select(Tally.session, Tally.category, Tally.delta_sum).where(joined(Tally)):
        if session := sessions.get(row["session"]):
            session.tallies[row["category"]] = max(0, row["delta_sum"])
    roles = (
        []
        if not with_roles
        else await RoleAssignment.select(RoleAssignment.session, RoleAssignment.role, Count(alias="n"))
        .where(joined(RoleAssignment) & (RoleAssignment.assigned == True))
        .group_by(RoleAssignment.session, RoleAssignment.role)
    )
    for row in roles:
        if session := sessions.get(row["session"]):
            session.roles[row["role"]] = row["n"]
    if with_notes:  # never the concerns: those are read one session at a time, with an audit row
        notes = await Note.select(Note.session, Note.went_well, Note.to_improve, Note.handover, Note.concerns).where(
            joined(Note)
        )
        for row in notes:
            if row["session"] in sessions:
                concerns = row.pop("concerns")
                sessions[row["session"]].note = {**row, "has_concerns": bool(concerns.strip())}
    return list(sessions.values())


async def load_grants(
    group_ids: list[UUID], year: int, sessions: list[SessionRow], as_of: date | None = None
) -> dict[UUID, list[Enrolment]]:
    """Each group's grant programmes, evaluated for ``year`` on ``sessions`` (server/grants/data.py),
    each with the rules in force that year."""
    return await group_grants(group_ids, year, [(s.group, s.grant_input()) for s in sessions], as_of)


def is_session(row: SessionRow) -> bool:
    return row.kind == SessionKind.session.value
