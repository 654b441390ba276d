"""安否確認: the follow-ups of registered participants absent without notice, across the
staff member's areas. Open ones first, oldest first; open for more than three days: flagged.

Organisers record follow-ups on their phones (the ``safety.record`` sync mutation); a
check is closed when its outcome is anything but ``open``.
"""

from __future__ import annotations

from datetime import timedelta

from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Template

from server.auth.guards import principal_of
from server.core.audit import audit
from server.core.clock import now
from server.review.render import review_page
from server.tables import Attendance, AttendanceStatus, SafetyCheck, SafetyCheckOutcome

OVERDUE = timedelta(days=3)
LIMIT = 500
UNOPENED_DAYS = 90  # absences without notice this recent, and no follow-up yet, are listed


async def unopened(principal) -> list[dict]:
    """Registered participants marked 無断欠席 at an ibasho with registration, with no
    follow-up recorded yet: the checks someone still has to open (two queries)."""
    since = now().date() - timedelta(days=UNOPENED_DAYS)
    query = Attendance.select(
        Attendance.session.as_alias("session_id"),
        Attendance.person.as_alias("person_id"),
        Attendance.person.display_name.as_alias("person_name"),
        Attendance.session.date.as_alias("session_date"),
        Attendance.session.group.id.as_alias("group_id"),
        Attendance.session.group.name.as_alias("group_name"),
    ).where(
        (Attendance.status == AttendanceStatus.absent_unnotified.value)
        & (Attendance.session.ibasho.registration_required == True)
        & (Attendance.session.deleted == False)
        & (Attendance.session.date >= since)
    )
    if (areas := principal.visible_areas()) is not None:
        query = query.where(Attendance.session.group.area.is_in(list(areas) or [None]))
    absences = await query.order_by(Attendance.session.date).limit(LIMIT)
    if not absences:
        return []
    opened = {
        (row["session"], row["person"])
        for row in await SafetyCheck.select(SafetyCheck.session, SafetyCheck.person).where(
            SafetyCheck.session.is_in(list({a["session_id"] for a in absences}))
        )
    }
    return [a for a in absences if (a["session_id"], a["person_id"]) not in opened]


@get("/safety")
async def safety_list(request: Request, show: FromQuery[str] = "open") -> Template:
    principal = principal_of(request)
    query = SafetyCheck.select(
        SafetyCheck.id,
        SafetyCheck.outcome,
        SafetyCheck.contacted_by,
        SafetyCheck.contacted_at,
        SafetyCheck.method,
        SafetyCheck.notes,
        SafetyCheck.opened_at,
        SafetyCheck.closed_at,
        SafetyCheck.person.display_name.as_alias("person_name"),
        SafetyCheck.session.id.as_alias("session_id"),
        SafetyCheck.session.date.as_alias("session_date"),
        SafetyCheck.session.group.id.as_alias("group_id"),
        SafetyCheck.session.group.name.as_alias("group_name"),
        SafetyCheck.session.group.timezone.as_alias("tz"),
        SafetyCheck.session.group.area.name.as_alias("area_name"),
    )
    if (areas := principal.visible_areas()) is not None:
        query = query.where(SafetyCheck.session.group.area.is_in(list(areas) or [None]))
    if show != "all":
        show = "open"
        query = query.where(SafetyCheck.outcome == SafetyCheckOutcome.open.value)
    rows = await query.order_by(SafetyCheck.opened_at).limit(LIMIT)
    moment = now()
    checks = [
        {
            **row,
            "is_open": row["outcome"] == SafetyCheckOutcome.open.value,
            "overdue": row["outcome"] == SafetyCheckOutcome.open.value and moment - row["opened_at"] > OVERDUE,
            "days_open": (moment - row["opened_at"]).days,
        }
        for row in rows
    ]
    checks.sort(key=lambda c: (not c["is_open"], c["opened_at"]))
    await audit(principal.account_id, "safety.view", "safety:list", str(len(checks)))  # how many were shown
    response = review_page("safety.html", checks=checks, show=show, unopened=await unopened(principal))
    response.headers["Cache-Control"] = "no-store"
    return response


HANDLERS = [safety_list]
