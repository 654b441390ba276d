"""Exports for a 実績報告: one row per session and totals per group, as CSV (UTF-8 with a
BOM, so Excel reads the Japanese) and XLSX (XlsxWriter).

Rows hold the sessions (開催回; meetings apart) of one fiscal year. Attendance counts
registered people present plus head counts except volunteers; volunteers have their own
column. The grant columns use the group's first enrolled programme: whether the session
counts, what it earns, and per group the amount due after the caps and the rules.
"""

from __future__ import annotations

from uuid import UUID

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery

from server.auth.guards import group_in_scope, principal_of
from server.core.audit import audit
from server.core.dates import wareki_fiscal_year
from server.core.groups import ordinary_groups
from server.core.i18n import gettext as _
from server.core.labels import CATEGORIES, REVIEW_STATES, SESSION_STATUSES
from server.db import read_transaction
from server.review.data import SessionRow, is_session, load_grants, load_sessions
from server.review.pages import pick_year
from server.tables import Area, Group
from server.web.spreadsheets import Table, download


def header() -> list[str]:
    return [
        _("Group"),
        _("Ibasho"),
        _("Date"),
        _("Start"),
        _("End"),
        _("Minutes"),
        _("Status"),
        *[_(label) for label in CATEGORIES.values()],
        _("Registered present"),
        _("Participants"),
        _("Venue cost"),
        _("Counts for the grant"),
        _("Grant amount"),
        _("Review"),
    ]


def _time(value) -> str:
    return value.strftime("%H:%M") if value else ""


async def build(groups: list[dict], year: int, title: str) -> Table:
    """Session rows, then one totals row per group (and a grand total for several groups)."""
    group_ids = [g["id"] for g in groups]
    async with read_transaction():  # one connection and one snapshot for its queries
        sessions = [s for s in await load_sessions(group_ids, year) if is_session(s)]
        grants = await load_grants(group_ids, year, sessions)
    by_group: dict[UUID, list[SessionRow]] = {g["id"]: [] for g in groups}
    for s in sessions:
        by_group[s.group].append(s)
    rows: list[list] = []
    totals: list[list] = []
    grand = None
    for group in groups:
        enrolment = (grants.get(group["id"]) or [None])[0]
        results = {r.session.id: r for r in enrolment.result.sessions} if enrolment else {}
        group_sessions = by_group[group["id"]]
        for s in group_sessions:
            result = results.get(str(s.id))
            minutes = s.grant_input().minutes
            rows.append(
                [
                    group["name"],
                    s.ibasho_name or s.title,
                    s.date,
                    _time(s.start_time),
                    _time(s.end_time),
                    minutes if minutes is not None else "",
                    _(SESSION_STATUSES.get(s.status, s.status)),
                    *[s.tallies.get(code, 0) for code in CATEGORIES],
                    s.registered_present,
                    s.attendance,
                    s.venue_cost if s.venue_cost is not None else "",
                    ("○" if result.counts else "×") if result else "",
                    result.amount if result else "",
                    _(REVIEW_STATES.get(s.review_state, s.review_state)),
                ]
            )
        held = [s for s in group_sessions if s.held]
        total = [
            group["name"],
            _("Total"),
            "",
            "",
            "",
            "",
            _("Held %(n)s times") % {"n": len(held)},
            *[sum(s.tallies.get(code, 0) for s in held) for code in CATEGORIES],
            sum(s.registered_present for s in held),
            sum(s.attendance for s in held),
            sum(s.venue_cost or 0 for s in held),
            len(enrolment.result.counting) if enrolment else "",
            enrolment.result.amount_due if enrolment else "",
            "",
        ]
        totals.append(total)
        numbers = [total[i] if isinstance(total[i], int) else 0 for i in range(7, len(total))]
        grand = numbers if grand is None else [a + b for a, b in zip(grand, numbers, strict=True)]
    if len(groups) > 1 and grand is not None:
        totals.append(["", _("Grand total"), "", "", "", "", "", *grand[:-1], ""])
    return Table(title, header(), rows + ([[]] if rows and totals else []) + totals)


async def group_export(request: Request, group_id: UUID, year: int | None, kind: str) -> Response:
    group = await group_in_scope(principal_of(request), group_id)
    year = pick_year(year)
    table = await build([group], year, wareki_fiscal_year(year))
    await audit(principal_of(request).account_id, "export.group", f"group:{group_id}", f"{year} {kind}", group=group_id)
    return download(table, f"{group['name']}_{wareki_fiscal_year(year)}", kind)


async def area_export(request: Request, area_id: UUID, year: int | None, kind: str) -> Response:
    area = await Area.select().where(Area.id == area_id).first()
    if area is None or not principal_of(request).may_see_area(area_id):
        raise NotFoundException(f"no area {area_id} that you may see")
    year = pick_year(year)
    groups = (
        await Group.select(Group.id, Group.name)
        .where((Group.area == area_id) & ordinary_groups(Group.id))
        .order_by(Group.name_kana)
        .order_by(Group.name)
    )
    table = await build(groups, year, wareki_fiscal_year(year))
    await audit(principal_of(request).account_id, "export.area", f"area:{area_id}", f"{area['name']} {year} {kind}")
    return download(table, f"{area['name']}_{wareki_fiscal_year(year)}", kind)


@get("/groups/{group_id:uuid}/export.csv")
async def group_csv(request: Request, group_id: FromPath[UUID], year: FromQuery[int | None] = None) -> Response:
    return await group_export(request, group_id, year, "csv")


@get("/groups/{group_id:uuid}/export.xlsx")
async def group_xlsx(request: Request, group_id: FromPath[UUID], year: FromQuery[int | None] = None) -> Response:
    return await group_export(request, group_id, year, "xlsx")


@get("/areas/{area_id:uuid}/export.csv")
async def area_csv(request: Request, area_id: FromPath[UUID], year: FromQuery[int | None] = None) -> Response:
    return await area_export(request, area_id, year, "csv")


@get("/areas/{area_id:uuid}/export.xlsx")
async def area_xlsx(request: Request, area_id: FromPath[UUID], year: FromQuery[int | None] = None) -> Response:
    return await area_export(request, area_id, year, "xlsx")


HANDLERS = [group_csv, group_xlsx, area_csv, area_xlsx]
