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
from server.core.labels import AUDIT_TARGETS, REVIEW_STATES
from server.review.data import load_grants, load_sessions, this_fiscal_year
from server.review.render import review_page
from server.tables import (
    Account,
    Area,
    Attendance,
    AuditLog,
    Group,
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
                principal.account_id,
                VIEW_CONCERNS,
                f"session:{session_id}",
                f"{group['name']} {session['date']}",
                group=group["id"],
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
    detail = f"{group['name']} {session['date']}: {data.review_state}" + (f"\n{comment}" if comment else "")
    await audit(principal.account_id, "review.save", f"session:{session_id}", detail, group=group["id"])
    await publish_server_change("session", session_id, group["id"])  # reaches the organisers' phones by pull
    return see_other(f"/review/sessions/{session_id}")


# Where the audit page links a target ("kind:id") to.
TARGET_LINKS = {
    "session": "/review/sessions/{}",
    "group": "/review/groups/{}",
    "registration": "/staff/registrations/{}",
    "grant_programme": "/review/grants/{}",
    "ibasho": "/staff/ibasho/{}/edit",
}


def shown_target(target: str) -> dict:
    kind, _, key = target.partition(":")
    link = TARGET_LINKS.get(kind)
    return {"kind": AUDIT_TARGETS.get(kind, kind), "link": link.format(key) if link and key else None}


@get("/audit", guards=[admin_only])
async def audit_log(action: FromQuery[str] = "", who: FromQuery[str] = "", group: FromQuery[str] = "") -> Template:
    """The latest entries, filtered by action, by who acted and by the group concerned."""
    query = (
        AuditLog.select(
            AuditLog.at,
            AuditLog.action,
            AuditLog.target,
            AuditLog.detail,
            AuditLog.account.display_name.as_alias("who"),
            AuditLog.account.login.as_alias("login"),
            AuditLog.group.id.as_alias("group_id"),
            AuditLog.group.name.as_alias("group_name"),
        )
        .order_by(AuditLog.at, ascending=False)
        .limit(AUDIT_PAGE)
    )
    if action:
        query = query.where(AuditLog.action == action)
    who_id, group_id = as_uuid(who), as_uuid(group)
    if who_id:
        query = query.where(AuditLog.account == who_id)
    if group_id:
        query = query.where(AuditLog.group == group_id)
    acting = await AuditLog.select(AuditLog.account).where(AuditLog.account.is_not_null()).distinct()
    people = (
        await Account.select(Account.id, Account.display_name, Account.login)
        .where(Account.id.is_in([row["account"] for row in acting] or [None]))
        .order_by(Account.display_name)
    )
    groups = await Group.select(Group.id, Group.name).order_by(Group.name_kana).order_by(Group.name)
    rows = [{**row, **shown_target(row["target"])} for row in await query]
    return review_page(
        "audit.html",
        rows=rows,
        action=action,
        who=str(who_id or ""),
        group=str(group_id or ""),
        people=people,
        groups=groups,
        limit=AUDIT_PAGE,
    )


def as_uuid(value: str) -> UUID | None:
    """A filter's chosen id; anything else (an empty choice, a hand-edited link) filters nothing."""
    try:
        return UUID(value)
    except ValueError:
        return None


HANDLERS = [group_review, session_review, session_review_save, audit_log]
