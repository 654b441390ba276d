"""The annual report (事業報告) of a group or an area for a fiscal year, beside the year
before: a page that prints on A4 portrait, and the same figures as XLSX.

What is counted, over the year's held 開催回 and events (meetings are the members' own):
- 開催回数: held 開催回 (events apart, on a line of their own).
- 延べ参加者数 by category: the head counts of each category plus the registered people
  present, counted in their roster category; volunteers have their own line and are not
  participants.
- 実人数 by category: distinct registered people present at least once. Head counts are
  anonymous, so for them only 延べ exists (初参加 is the nearest to new people).
- Volunteer hours: each held session's people with a role (役割分担; organisers and
  volunteers, each counted once however many roles they had) × the session's length
  (start to end). A session with no times recorded adds its people but no hours; the report
  says how many there were.
- Safety checks of the year's sessions by outcome.
- Grant amount: what server/grants computes for each programme the group is enrolled in.

A fixed handful of queries for any number of groups, per year.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from uuid import UUID

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from piccolo.query.functions.aggregate import Count

from server.auth.guards import group_in_scope, principal_of
from server.core.dates import fiscal_year_bounds, format_date_ja, wareki_fiscal_year
from server.core.groups import ordinary_groups
from server.core.i18n import gettext as _
from server.core.labels import CATEGORIES, OUTCOMES
from server.grants.data import in_scope, of_sessions
from server.review.data import load_grants, load_sessions
from server.review.pages import pick_year
from server.review.render import review_page
from server.tables import Area, Attendance, AttendanceStatus, Group, RoleAssignment, SafetyCheck, SessionKind
from server.web.spreadsheets import Table, download


@dataclass
class Figures:
    """One group's (or an area's, summed) year."""

    sessions: int = 0  # 開催回数
    events: int = 0
    cumulative: Counter = field(default_factory=Counter)  # 延べ by category (volunteers included)
    unique: Counter = field(default_factory=Counter)  # 実人数 of registered people by category
    role_people: int = 0  # 延べ people with a role
    volunteer_minutes: int = 0
    untimed: int = 0  # held sessions with people in roles but no times
    checks: Counter = field(default_factory=Counter)  # outcome → safety checks
    grants: Counter = field(default_factory=Counter)  # programme → yen due

    @property
    def participants(self) -> int:
        return sum(n for category, n in self.cumulative.items() if category != "volunteer")

    @property
    def unique_total(self) -> int:
        return sum(self.unique.values())

    @property
    def volunteer_hours(self) -> float:
        return round(self.volunteer_minutes / 60, 1)

    @property
    def grant(self) -> int:
        return sum(self.grants.values())

    def add(self, other: Figures) -> None:
        for name in ("sessions", "events", "role_people", "volunteer_minutes", "untimed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.cumulative.update(other.cumulative)
        self.unique.update(other.unique)
        self.checks.update(other.checks)
        self.grants.update(other.grants)


def minutes_of(start, end) -> int | None:
    if not start or not end:
        return None
    today = date(2000, 1, 1)
    length = (datetime.combine(today, end) - datetime.combine(today, start)).total_seconds() // 60
    return int(length) if length > 0 else None


async def year_figures(group_ids: list[UUID], year: int) -> dict[UUID, Figures]:
    out = {g: Figures() for g in group_ids}
    if not group_ids:
        return out
    sessions = [s for s in await load_sessions(group_ids, year, with_roles=False) if s.held]
    by_id = {s.id: s for s in sessions}
    for s in sessions:
        figures = out[s.group]
        if s.kind == SessionKind.session.value:
            figures.sessions += 1
        else:
            figures.events += 1
        figures.cumulative.update({c: n for c, n in s.tallies.items() if n > 0})
    ids = list(by_id)

    def present():
        return Attendance.select(Attendance.session, Attendance.person, Attendance.person.category.as_alias("category"))

    seen: dict[UUID, set] = defaultdict(set)
    for row in await of_sessions(present, Attendance.session, ids, Attendance.status == AttendanceStatus.present.value):
        group = by_id[row["session"]].group
        out[group].cumulative[row["category"]] += 1
        if row["person"] not in seen[group]:
            seen[group].add(row["person"])
            out[group].unique[row["category"]] += 1

    def roles():
        return RoleAssignment.select(RoleAssignment.session, RoleAssignment.member, RoleAssignment.person)

    people: dict[UUID, set] = defaultdict(set)
    for row in await of_sessions(roles, RoleAssignment.session, ids, RoleAssignment.assigned == True):
        people[row["session"]].add(row["member"] or row["person"])
    for session_id, who in people.items():
        s = by_id[session_id]
        figures = out[s.group]
        figures.role_people += len(who)
        length = minutes_of(s.start_time, s.end_time)
        if length is None:
            figures.untimed += 1
        else:
            figures.volunteer_minutes += length * len(who)

    checks = (
        await SafetyCheck.select(SafetyCheck.session.group.as_alias("group"), SafetyCheck.outcome, Count(alias="n"))
        .where(in_scope(SafetyCheck.session, group_ids, year))
        .group_by(SafetyCheck.session.group, SafetyCheck.outcome)
    )
    for row in checks:
        out[row["group"]].checks[row["outcome"]] += row["n"]

    for group, enrolments in (await load_grants(group_ids, year, sessions)).items():
        for e in enrolments:
            out[group].grants[e.programme_name] += e.result.amount_due
    return out


@dataclass
class Change:
    """A figure this year beside last year's."""

    now: float
    before: float

    @property
    def delta(self) -> str:
        diff = round(self.now - self.before, 1)
        return f"+{number(diff)}" if diff > 0 else number(diff) if diff < 0 else "±0"

    @property
    def percent(self) -> str:
        if not self.before:
            return ""
        return f"{(self.now - self.before) / self.before * 100:+.0f}%"


def changes(now: Figures, before: Figures) -> dict[str, Change]:
    return {
        "sessions": Change(now.sessions, before.sessions),
        "participants": Change(now.participants, before.participants),
        "unique": Change(now.unique_total, before.unique_total),
        "hours": Change(now.volunteer_hours, before.volunteer_hours),
        "grant": Change(now.grant, before.grant),
    }


@dataclass
class Report:
    title: str
    subject: str
    year: int
    total: Figures
    before: Figures
    groups: list[tuple[dict, Figures, dict[str, Change]]]  # each group of an area's report

    @property
    def change(self) -> dict[str, Change]:
        return changes(self.total, self.before)


def title_of(year: int) -> str:
    """令和8年度 (2026年4月1日〜2027年3月31日): 和暦 with the Western dates."""
    first, last = fiscal_year_bounds(year)
    return f"{wareki_fiscal_year(year)}（{format_date_ja(first)}〜{format_date_ja(last)}）"


async def build(subject: str, groups: list[dict], year: int) -> Report:
    ids = [g["id"] for g in groups]
    this, last = await year_figures(ids, year), await year_figures(ids, year - 1)
    total, before = Figures(), Figures()
    lines = []
    for g in groups:
        total.add(this[g["id"]])
        before.add(last[g["id"]])
        lines.append((g, this[g["id"]], changes(this[g["id"]], last[g["id"]])))
    return Report(title_of(year), subject, year, total, before, lines)


# --- the spreadsheet ----------------------------------------------------------------------


def summary_rows(report: Report) -> list[list]:
    t, b = report.total, report.before
    c = report.change
    rows = [
        [_("Sessions held"), t.sessions, b.sessions, c["sessions"].delta],
        [_("Events held"), t.events, b.events, ""],
        [_("Total attendance (participants)"), t.participants, b.participants, c["participants"].delta],
    ]
    rows += [
        [f"  {_(label)}", t.cumulative[code], b.cumulative[code], ""]
        for code, label in CATEGORIES.items()
        if code != "volunteer"
    ]
    rows += [[_("Registered people who came (distinct)"), t.unique_total, b.unique_total, c["unique"].delta]]
    rows += [
        [f"  {_(label)}", t.unique[code], b.unique[code], ""] for code, label in CATEGORIES.items() if t.unique[code]
    ]
    rows += [
        [_("Volunteers (head count)"), t.cumulative["volunteer"], b.cumulative["volunteer"], ""],
        [_("People with a role (total)"), t.role_people, b.role_people, ""],
        [_("Volunteer hours"), t.volunteer_hours, b.volunteer_hours, c["hours"].delta],
        [_("Safety checks"), sum(t.checks.values()), sum(b.checks.values()), ""],
    ]
    rows += [[f"  {_(label)}", t.checks[code], b.checks[code], ""] for code, label in OUTCOMES.items()]
    rows += [[_("Grant amount (yen)"), t.grant, b.grant, c["grant"].delta]]
    return rows


def spreadsheet(report: Report) -> list[Table]:
    years = [wareki_fiscal_year(report.year), wareki_fiscal_year(report.year - 1), _("Change")]
    tables = [Table(_("Summary"), [report.title, *years], summary_rows(report))]
    if len(report.groups) > 1:
        header = [_("Group")]
        for label in (_("Sessions held"), _("Total attendance"), _("Volunteer hours"), _("Grant amount (yen)")):
            header += [f"{label} {years[0]}", f"{label} {years[1]}", _("Change")]
        rows = []
        for g, _figures, change in report.groups:
            row = [g["name"]]
            for key in ("sessions", "participants", "hours", "grant"):
                row += [change[key].now, change[key].before, change[key].delta]
            rows.append(row)
        tables.append(Table(_("By group"), header, rows))
    return tables


# --- the routes ------------------------------------------------------------------------------


async def area_report(request: Request, area_id: UUID, year: int | None) -> Report:
    area = await Area.select(Area.id, Area.name).where(Area.id == area_id).first()
    if area is None or not principal_of(request).may_see_area(area_id):
        raise NotFoundException(_("There is no such area that you may see."))
    groups = (
        await Group.select(Group.id, Group.name, Group.area)
        .where((Group.area == area_id) & ordinary_groups(Group.id))
        .order_by(Group.name_kana)
        .order_by(Group.name)
    )
    return await build(area["name"], groups, pick_year(year))


async def group_report(request: Request, group_id: UUID, year: int | None) -> Report:
    group = await group_in_scope(principal_of(request), group_id)
    return await build(group["name"], [group], pick_year(year))


def number(value: float) -> str:
    """1,234 or 7.5: hours have a decimal only when they need one."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


def report_page(report: Report, base: str) -> Template:
    response = review_page(
        "report.html",
        report=report,
        base=base,
        categories=CATEGORIES,
        outcomes=OUTCOMES,
        wareki_of=wareki_fiscal_year,
        number=number,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def report_download(report: Report) -> Response:
    return download(spreadsheet(report), f"{report.subject}_{wareki_fiscal_year(report.year)}_事業報告", "xlsx")


@get("/groups/{group_id:uuid}/report")
async def group_report_page(request: Request, group_id: FromPath[UUID], year: FromQuery[int | None] = None) -> Template:
    return report_page(await group_report(request, group_id, year), f"/review/groups/{group_id}/report")


@get("/groups/{group_id:uuid}/report.xlsx")
async def group_report_xlsx(request: Request, group_id: FromPath[UUID], year: FromQuery[int | None] = None) -> Response:
    return report_download(await group_report(request, group_id, year))


@get("/areas/{area_id:uuid}/report")
async def area_report_page(request: Request, area_id: FromPath[UUID], year: FromQuery[int | None] = None) -> Template:
    return report_page(await area_report(request, area_id, year), f"/review/areas/{area_id}/report")


@get("/areas/{area_id:uuid}/report.xlsx")
async def area_report_xlsx(request: Request, area_id: FromPath[UUID], year: FromQuery[int | None] = None) -> Response:
    return report_download(await area_report(request, area_id, year))


HANDLERS = [group_report_page, group_report_xlsx, area_report_page, area_report_xlsx]
