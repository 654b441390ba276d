"""Staff review pages: a group's fiscal year, one session's review, and the audit log.

Scope as in the council pages: staff see the groups of their areas (admins all); a
group or session outside that answers 404. 気になる参加者 (``Note.concerns``) is shown
only to staff of the group's own area, and each showing writes one ``AuditLog`` row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Template

from server.auth.guards import admin_only, group_in_scope, principal_of
from server.auth.principal import Principal
from server.core.audit import audit
from server.core.changelog import publish_server_change
from server.core.clock import now
from server.core.i18n import gettext as _
from server.core.labels import REVIEW_STATES
from server.review.data import load_grants, load_sessions, this_fiscal_year
from server.review.render import review_page
from server.tables import (
    Area,
    Attendance,
    AuditLog,
    Note,
    RoleAssignment,
    SafetyCheck,
    Session,
    Tally,
)
from server.web.pages import see_other

VIEW_CONCERNS = "view_concerns"
AUDIT_PAGE = 200


def pick_year(year: int | None) -> int:
    return year if year and 1990 <= year <= 2100 else this_fiscal_year()


@get("/groups/{group_id:uuid}")
async def group_review(request: Request, group_id: FromPath[UUID], year: FromQuery[int | None] = None) -> Template:
    group = await group_in_scope(principal_of(request), group_id)
    year = pick_year(year)
    area = await Area.select(Area.name).where(Area.id == group["area"]).first()
    sessions = await load_sessions([group_id], year, with_notes=True)
    grants = (await load_grants([group_id], year, sessions)).get(group_id, [])
    months: dict[tuple[int, int], list] = defaultdict(list)
    for session in sessions:
        months[(session.date.year, session.date.month)].append(session)
    held = [s for s in sessions if s.held and s.kind == "session"]
    return review_page(
        "group.html",
        group=group,
        area_name=area["name"] if area else "",
        year=year,
        months=list(months.items()),
        grants=grants,
        held=len(held),
        total=sum(s.attendance for s in held),
        awaiting=sum(1 for s in sessions if s.held and s.review_state == "unreviewed"),
    )


async def session_in_scope(principal: Principal, session_id: UUID) -> tuple[dict, dict]:
    session = (
        await Session.select(*Session.all_columns(), Session.ibasho.name.as_alias("ibasho_name"))
        .where((Session.id == session_id) & (Session.deleted == False))
        .first()
    )
    if session is None:
        raise NotFoundException(f"no session {session_id} that you may see")
    return session, await group_in_scope(principal, session["group"])


@dataclass
class ReviewForm:
    review_state: str = ""
    review_comment: str = ""


async def session_page(
    principal: Principal, session: dict, group: dict, errors=(), form: ReviewForm | None = None
) -> Template:
    session_id = session["id"]
    tallies = {
        row["category"]: max(0, row["delta_sum"])
        for row in await Tally.select(Tally.category, Tally.delta_sum).where(Tally.session == session_id)
    }
    named = (
        await Attendance.select(Attendance.person.display_name.as_alias("name"), Attendance.status)
        .where(Attendance.session == session_id)
        .order_by(Attendance.person.kana)
    )
    roles = (
        await RoleAssignment.select(RoleAssignment.role, RoleAssignment.member.display_name.as_alias("name"))
        .where((RoleAssignment.session == session_id) & (RoleAssignment.assigned == True))
        .order_by(RoleAssignment.role)
    )
    note = await Note.select().where(Note.session == session_id).first()
    checks = await SafetyCheck.select(
        SafetyCheck.id,
        SafetyCheck.person.display_name.as_alias("name"),
        SafetyCheck.outcome,
        SafetyCheck.contacted_by,
        SafetyCheck.contacted_at,
        SafetyCheck.method,
        SafetyCheck.notes,
    ).where(SafetyCheck.session == session_id)
    concerns = None
    if note and note["concerns"].strip():
        if principal.may_see_concerns(group["id"], group["area"]):
            concerns = note["concerns"]
            await audit(
                principal.account_id, VIEW_CONCERNS, f"session:{session_id}", f"{group['name']} {session['date']}"
            )
        note = {**note, "concerns": None, "concerns_hidden": concerns is None}
    return review_page(
        "session.html",
        errors,
        session=session,
        group=group,
        tallies=tallies,
        named=named,
        roles=roles,
        note=note,
        concerns=concerns,
        checks=checks,
        form=form or ReviewForm(session["review_state"], session["review_comment"]),
    )


@get("/sessions/{session_id:uuid}")
async def session_review(request: Request, session_id: FromPath[UUID]) -> Template:
    principal = principal_of(request)
    session, group = await session_in_scope(principal, session_id)
    response = await session_page(principal, session, group)
    response.headers["Cache-Control"] = "no-store"
    return response


@post("/sessions/{session_id:uuid}/review")
async def session_review_save(
    request: Request, session_id: FromPath[UUID], data: URLEncodedBody[ReviewForm]
) -> Response:
    principal = principal_of(request)
    session, group = await session_in_scope(principal, session_id)
    comment = data.review_comment.strip()
    errors = []
    if data.review_state not in REVIEW_STATES:
        errors.append(_("Please choose a review state."))
    if len(comment) > 2000:
        errors.append(_("%(field)s can be at most %(max)s characters.") % {"field": _("Comment"), "max": 2000})
    if errors:
        return await session_page(principal, session, group, errors, data)
    await Session.update(
        {Session.review_state: data.review_state, Session.review_comment: comment, Session.updated_at: now()}
    ).where(Session.id == session_id)
    await publish_server_change("session", session_id, group["id"])  # reaches the organisers' phones by pull
    return see_other(f"/review/sessions/{session_id}")


@get("/audit", guards=[admin_only])
async def audit_log(action: FromQuery[str] = "") -> Template:
    query = (
        AuditLog.select(
            AuditLog.at,
            AuditLog.action,
            AuditLog.target,
            AuditLog.detail,
            AuditLog.account.display_name.as_alias("who"),
            AuditLog.account.login.as_alias("login"),
        )
        .order_by(AuditLog.at, ascending=False)
        .limit(AUDIT_PAGE)
    )
    if action:
        query = query.where(AuditLog.action == action)
    return review_page("audit.html", rows=await query, action=action, limit=AUDIT_PAGE)


HANDLERS = [group_review, session_review, session_review_save, audit_log]
