"""The area dashboard: each group of the staff member's areas (admins: all) with its last
session, this fiscal year's sessions and attendance, a trend chart and flags.

A fixed handful of queries whatever the number of groups: groups, last session per
group (GROUP BY), the fiscal year's sessions with the totals the database keeps, those
awaiting review and the open safety checks per group (GROUP BY), and the grant
enrolments. Sorting and filtering are plain GET parameters (no script: the CSP forbids
inline scripts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Template
from markupsafe import Markup
from piccolo.query.functions.aggregate import Count, Max

from server.auth.guards import principal_of
from server.core.dates import fiscal_year_bounds
from server.core.groups import ordinary_groups
from server.db import read_transaction
from server.grants.data import groups_at_risk, in_scope
from server.grants.data import load_sessions as load_grant_sessions
from server.grants.rules import add_months
from server.review.data import HELD, today
from server.review.pages import pick_year
from server.review.render import review_page
from server.tables import (
    Area,
    Group,
    ReviewState,
    SafetyCheck,
    SafetyCheckOutcome,
    Session,
    SessionKind,
)

SESSION = SessionKind.session.value
QUIET_MONTHS = 2  # no session for more than this: flagged
SORTS = ("name", "last", "held", "attendance", "flags")
FILTERS = ("", "flagged", "quiet", "review", "safety", "grant")
FISCAL_MONTHS = (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)


@dataclass
class GroupLine:
    id: UUID
    name: str
    kana: str
    area_name: str
    active: bool
    last_session: date | None = None
    held: int = 0
    cumulative: int = 0  # 延べ参加者数 in the fiscal year
    last_attendance: int = 0
    by_month: list[int] = field(default_factory=lambda: [0] * 12)
    awaiting_review: int = 0
    open_checks: int = 0
    grant_at_risk: bool = False
    quiet: bool = False

    @property
    def average(self) -> float:
        return round(self.cumulative / self.held, 1) if self.held else 0

    @property
    def flags(self) -> int:
        return sum((self.quiet, self.awaiting_review > 0, self.open_checks > 0, self.grant_at_risk))


def trend_svg(values: list[int], width: int = 120, height: int = 28) -> Markup:
    """Twelve bars, April to March, drawn here: no chart library in the browser."""
    top = max(values) or 1
    bar = width / len(values)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="trend" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{" ".join(str(v) for v in values)}">',
        f'<line x1="0" y1="{height - 0.5}" x2="{width}" y2="{height - 0.5}" stroke="#bbb" stroke-width="1"/>',
    ]
    for index, value in enumerate(values):
        h = round((height - 2) * value / top, 1)
        parts.append(
            f'<rect x="{index * bar + 1:.1f}" y="{height - 1 - h:.1f}" width="{bar - 2:.1f}" height="{h:.1f}" '
            f'fill="#3a7d5c"><title>{FISCAL_MONTHS[index]}月: {value}</title></rect>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


async def dashboard_lines(area_ids: list[UUID] | None, year: int, as_of: date) -> list[GroupLine]:
    """Every group of the areas (``None``: all areas) with its numbers for fiscal year ``year``."""
    async with read_transaction():  # one connection and one snapshot for its queries
        return await _dashboard_lines(area_ids, year, as_of)


async def _dashboard_lines(area_ids: list[UUID] | None, year: int, as_of: date) -> list[GroupLine]:
    groups_query = Group.select(
        Group.id, Group.name, Group.name_kana, Group.active, Group.area.name.as_alias("area_name")
    ).where(ordinary_groups(Group.id))
    if area_ids is not None:
        groups_query = groups_query.where(Group.area.is_in(area_ids or [None]))
    groups = await groups_query
    lines = {g["id"]: GroupLine(g["id"], g["name"], g["name_kana"], g["area_name"], g["active"]) for g in groups}
    if not lines:
        return []
    group_ids = list(lines)

    last_query = (
        Session.select(Session.group, Max(Session.date, alias="last"))
        .where(
            (Session.status == HELD)
            & (Session.kind == SESSION)
            & (Session.deleted == False)
            & (Session.date <= as_of)
            & Session.group.is_in(group_ids)
        )
        .group_by(Session.group)
    )
    for row in await last_query:
        last = row["last"]  # SQLite answers an aggregate of dates as text
        lines[row["group"]].last_session = date.fromisoformat(last) if isinstance(last, str) else last

    # What the grant requirements read anyway (dates, times, status, totals) is all the numbers need.
    first, last = fiscal_year_bounds(year)
    counted = [(group, s) for group, s in await load_grant_sessions(group_ids, year) if s.kind == SESSION]
    for group, s in counted:
        if s.status == HELD:
            line = lines[group]
            line.held += 1
            line.cumulative += s.participants
            line.by_month[FISCAL_MONTHS.index(s.date.month)] += s.participants
            if line.last_session == s.date:
                line.last_attendance = s.participants
    unreviewed = (
        Session.select(Session.group, Count(alias="n"))
        .where(
            in_scope(Session, group_ids, year)
            & (Session.kind == SESSION)
            & (Session.status == HELD)
            & (Session.review_state == ReviewState.unreviewed.value)
        )
        .group_by(Session.group)
    )
    for row in await unreviewed:
        lines[row["group"]].awaiting_review = row["n"]

    checks = (
        await SafetyCheck.select(SafetyCheck.session.group.as_alias("group"), Count(alias="n"))
        .where((SafetyCheck.outcome == SafetyCheckOutcome.open.value) & SafetyCheck.session.group.is_in(group_ids))
        .group_by(SafetyCheck.session.group)
    )
    for row in checks:
        lines[row["group"]].open_checks = row["n"]

    at_risk = await groups_at_risk(group_ids, year, counted, as_of=min(as_of, last) if as_of >= first else None)
    for line in lines.values():
        line.grant_at_risk = line.id in at_risk
        line.quiet = line.active and (line.last_session is None or add_months(line.last_session, QUIET_MONTHS) < as_of)
    return list(lines.values())


def keep(line: GroupLine, flt: str, q: str) -> bool:
    if q and q not in line.name and q not in line.kana and q not in line.area_name:
        return False
    return {
        "": True,
        "flagged": line.flags > 0,
        "quiet": line.quiet,
        "review": line.awaiting_review > 0,
        "safety": line.open_checks > 0,
        "grant": line.grant_at_risk,
    }.get(flt, True)


def ordered(lines: list[GroupLine], sort: str, descending: bool) -> list[GroupLine]:
    keys = {
        "name": lambda line: (line.kana or line.name, line.name),
        "last": lambda line: line.last_session or date.min,
        "held": lambda line: line.held,
        "attendance": lambda line: line.cumulative,
        "flags": lambda line: (line.flags, line.open_checks, line.awaiting_review),
    }
    return sorted(lines, key=keys.get(sort, keys["name"]), reverse=descending)


@get("/")
async def dashboard(
    request: Request,
    year: FromQuery[int | None] = None,
    sort: FromQuery[str] = "flags",
    order: FromQuery[str] = "",
    filter: FromQuery[str] = "",  # noqa: A002 - the query parameter's name
    area: FromQuery[str] = "",
    q: FromQuery[str] = "",
) -> Template:
    principal = principal_of(request)
    year = pick_year(year)
    areas = [a for a in await Area.select(Area.id, Area.name).order_by(Area.name) if principal.may_see_area(a["id"])]
    chosen = [a["id"] for a in areas if str(a["id"]) == area] or None
    visible = principal.visible_areas()
    area_ids = chosen if chosen else (None if visible is None else list(visible))
    lines = await dashboard_lines(area_ids, year, today())
    sort = sort if sort in SORTS else "flags"
    descending = (order == "desc") if order in ("asc", "desc") else sort != "name"
    shown = ordered([line for line in lines if keep(line, filter, q.strip())], sort, descending)
    return review_page(
        "dashboard.html",
        lines=shown,
        count=len(lines),
        year=year,
        sort=sort,
        descending=descending,
        filter=filter if filter in FILTERS else "",
        area=area,
        areas=areas,
        q=q,
        trend=trend_svg,
        today=today(),
    )


HANDLERS = [dashboard]
