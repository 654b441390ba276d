"""Paper: a printable A4 attendance sheet / roster per session, and typing a filled-in
sheet's numbers back in.

Typing back goes through the sync engine (``apply_as_server``) as one push from a
one-off "paper" device of the staff member, with their usual sync scope: the same
mutations a phone sends (``tally.add``, ``attendance.set``), so the same merge rules
apply (tallies add deltas, attendance is last-writer-wins by HLC), the push is logged
and exactly-once, and the change numbers reach every phone by pull. A typed head count
becomes the delta from the current sum to the typed number (split into steps the
mutation accepts), so phones' later deltas still add up on top of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from server.auth.guards import principal_of
from server.auth.principal import sync_scope
from server.core.audit import audit
from server.core.dates import end_of_day
from server.core.i18n import gettext as _
from server.core.labels import ATTENDANCE, CATEGORIES
from server.review.pages import session_in_scope
from server.review.render import review_page
from server.sync.server import apply_as_server
from server.tables import Attendance, Note, Person, RoleAssignment, Tally
from server.web.pages import see_other
from sync import limits

MAX_STEP = 100  # tally.add accepts deltas of at most ±100
MAX_COUNT = limits.HEAD_COUNT  # what a tally may hold
ROLE_ROWS = 6


async def sheet_data(session: dict, group: dict) -> tuple[list[dict], dict[str, int], dict[UUID, str]]:
    """The roster of the session's day (who had joined by then), its head counts and marks."""
    session_id, group_id = session["id"], group["id"]
    joined = Person.created_at.is_null() | (Person.created_at < end_of_day(session["date"], group["timezone"]))
    people = (
        await Person.select(Person.id, Person.display_name, Person.kana, Person.category)
        .where((Person.group == group_id) & (Person.deleted == False) & (Person.registered == True) & joined)
        .order_by(Person.kana)
        .order_by(Person.display_name)
    )
    tallies = {
        row["category"]: row["delta_sum"]
        for row in await Tally.select(Tally.category, Tally.delta_sum).where(Tally.session == session_id)
    }
    marks = {
        row["person"]: row["status"]
        for row in await Attendance.select(Attendance.person, Attendance.status).where(Attendance.session == session_id)
    }
    return people, tallies, marks


@get("/sessions/{session_id:uuid}/sheet")
async def attendance_sheet(request: Request, session_id: FromPath[UUID]) -> Template:
    session, group = await session_in_scope(principal_of(request), session_id)
    people, tallies, marks = await sheet_data(session, group)
    roles = await RoleAssignment.select(RoleAssignment.role, RoleAssignment.member.display_name.as_alias("name")).where(
        (RoleAssignment.session == session_id) & (RoleAssignment.assigned == True)
    )
    note = await Note.select(Note.went_well, Note.to_improve, Note.handover).where(Note.session == session_id).first()
    response = review_page(
        "sheet.html",
        note=note,  # never the concerns: a printed sheet travels
        session=session,
        group=group,
        people=people,
        marks=marks,
        tallies={k: max(0, v) for k, v in tallies.items()},
        roles=roles,
        blank_roles=max(0, ROLE_ROWS - len(roles)),
    )
    detail = f"{group['name']} {session['date']}"
    await audit(principal_of(request).account_id, "sheet.print", f"session:{session_id}", detail, group=group["id"])
    response.headers["Cache-Control"] = "no-store"
    return response


@get("/sessions/{session_id:uuid}/paper")
async def paper_form(request: Request, session_id: FromPath[UUID]) -> Template:
    session, group = await session_in_scope(principal_of(request), session_id)
    return await paper_page(session, group, {})


async def paper_page(session: dict, group: dict, typed: dict[str, str], errors=()) -> Template:
    people, tallies, marks = await sheet_data(session, group)
    values = {f"count_{c}": typed.get(f"count_{c}", str(max(0, tallies.get(c, 0)))) for c in CATEGORIES}
    values |= {f"person_{p['id']}": typed.get(f"person_{p['id']}", marks.get(p["id"], "")) for p in people}
    return review_page(
        "paper.html", errors, session=session, group=group, people=people, values=values, statuses=ATTENDANCE
    )


@dataclass
class Typed:
    counts: dict[str, int]
    marks: dict[UUID, str]


def read_form(form: dict[str, str], people: list[dict]) -> tuple[Typed, list[str]]:
    errors: list[str] = []
    counts: dict[str, int] = {}
    for category, label in CATEGORIES.items():
        raw = form.get(f"count_{category}", "").strip()
        if not raw:
            continue
        if not re.fullmatch(r"[0-9]{1,4}", raw) or int(raw) > MAX_COUNT:
            errors.append(_("%(field)s is not valid.") % {"field": _(label)})
            continue
        counts[category] = int(raw)
    marks: dict[UUID, str] = {}
    for person in people:
        raw = form.get(f"person_{person['id']}", "")
        if raw in ATTENDANCE:
            marks[person["id"]] = raw
        elif raw:
            errors.append(_("%(field)s is not valid.") % {"field": person["display_name"]})
    return Typed(counts, marks), errors


def mutations_for(
    session_id: UUID, typed: Typed, tallies: dict[str, int], marks: dict[UUID, str]
) -> list[tuple[str, dict]]:
    """What makes the stored counts and marks the typed ones, as (name, args)."""
    out: list[tuple[str, dict]] = []
    for category, count in typed.counts.items():
        delta = count - tallies.get(category, 0)
        while delta:
            step = max(-MAX_STEP, min(MAX_STEP, delta))
            out.append(("tally.add", {"session_id": str(session_id), "category": category, "delta": step}))
            delta -= step
    for person_id, status in typed.marks.items():
        if marks.get(person_id) != status:
            out.append(
                ("attendance.set", {"session_id": str(session_id), "person_id": str(person_id), "status": status})
            )
    return out


@post("/sessions/{session_id:uuid}/paper")
async def paper_save(
    request: Request,
    session_id: FromPath[UUID],
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response:
    principal = principal_of(request)
    session, group = await session_in_scope(principal, session_id)
    people, tallies, marks = await sheet_data(session, group)
    typed, errors = read_form(data, people)
    if errors:
        return await paper_page(session, group, data, errors)
    mutations = mutations_for(session_id, typed, tallies, marks)
    if mutations:  # one paper sheet typed in: one device's one push
        result = await apply_as_server(await sync_scope(principal), mutations, actor=principal.account_id)
        rejected = [r.error for r in result.results if r.status == "rejected"]
        if rejected:
            return await paper_page(session, group, data, rejected)
        detail = f"{group['name']} {session['date']}: {len(mutations)}"
        await audit(principal.account_id, "paper.save", f"session:{session_id}", detail, group=group["id"])
    return see_other(f"/review/sessions/{session_id}")


HANDLERS = [attendance_sheet, paper_form, paper_save]
