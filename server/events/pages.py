"""The council's events: the public list and page where anyone applies, the applicant's own
page (seat or waiting list, the online link once registered, cancelling, the 修了証), and
the staff's side: making an event, its applications, the door page and the certificates.

The public form needs no account. A bot filling the hidden field gets the same thanks and
nothing is stored; one address may send ``APPLICATIONS_PER_HOUR`` an hour. Applications
(contact data included) are seen by staff of the event's area and admins: each view and
step is audited.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Template
from litestar.status_codes import HTTP_429_TOO_MANY_REQUESTS

from server.auth.guards import principal_of, staff_areas, staff_only
from server.core import labels, ratelimit
from server.core.audit import audit
from server.core.clock import now
from server.core.dates import format_date_ja, wareki_date
from server.core.i18n import gettext as _
from server.events import records
from server.events.forms import KINDS, MODES, ApplyForm, EventForm
from server.tables import ApplicationState, CouncilEvent, EventPart
from server.web.pages import base_url, no_store, page, see_other

APPLICATIONS_PER_HOUR = 5
DOOR_WORKER = Path(__file__).resolve().parent.parent / "static" / "door-sw.js"
STATES = {
    ApplicationState.registered.value: labels.N_("Registered"),
    ApplicationState.waiting.value: labels.N_("On the waiting list"),
    ApplicationState.cancelled.value: labels.N_("Cancelled"),
}


def hours(part: dict) -> str:
    """13:30〜15:30 (or 13:30〜 with no end time)."""
    end = part["end_time"].strftime("%H:%M") if part["end_time"] else ""
    return f"{part['start_time']:%H:%M}〜{end}"


def when(part: dict) -> str:
    """A part's day and times, as people read them: 2026年12月5日(土) 13:30〜15:30."""
    return f"{format_date_ja(part['date'])} {hours(part)}"


def where(part: dict) -> str:
    if not part["online"]:
        return part["venue"]
    return f"{part['venue']}・{_('Online')}" if part["venue"] else _("Online")


def helpers() -> dict:
    return {"when": when, "hours": hours, "where": where, "kinds": KINDS, "states": STATES}


# --- the public side ---------------------------------------------------------------------------


@get("/events", include_in_schema=False)
async def public_list() -> Template:
    today = now().date()
    rows = (
        await CouncilEvent.select(CouncilEvent.all_columns(), CouncilEvent.area.name.as_alias("area_name"))
        .where(CouncilEvent.application_deadline >= today)
        .order_by(CouncilEvent.application_deadline)
    )
    parts = {row["id"]: await records.parts_of(row["id"]) for row in rows}
    return page("events/index.html", events=rows, parts=parts, **helpers())


async def event_page(row: dict, form: ApplyForm, errors: list[str] = (), status: int | None = None) -> Template:
    taken = await records.seats_taken(row["id"])
    response = page(
        "events/event.html",
        errors,
        event=row,
        parts=await records.parts_of(row["id"]),
        form=form,
        open=records.open_for_applications(row, now().date()),
        full=taken >= row["capacity"],
        seats_left=max(row["capacity"] - taken, 0),
        **helpers(),
    )
    if status is not None:
        response.status_code = status
    return response


@get("/events/{event_id:uuid}", include_in_schema=False)
async def public_page(event_id: FromPath[UUID]) -> Template:
    return await event_page(await records.event(event_id), ApplyForm())


@post("/events/{event_id:uuid}/apply", include_in_schema=False)
async def public_apply(request: Request, event_id: FromPath[UUID], data: URLEncodedBody[ApplyForm]) -> Template:
    row = await records.event(event_id)
    address = ratelimit.client_network(request.client.host if request.client else None)
    if await ratelimit.hit(f"event-apply:{address}", 3600) > APPLICATIONS_PER_HOUR:
        errors = [_("Too many applications from this connection. Please try again in an hour.")]
        return await event_page(row, data, errors, status=HTTP_429_TOO_MANY_REQUESTS)
    if data.from_a_bot:
        return no_store(page("events/sent.html", event=row, application=None, **helpers()))
    if not records.open_for_applications(row, now().date()):
        return await event_page(row, data, [_("Applications for this event have closed.")], status=409)
    values, errors = data.clean()
    if errors:
        return await event_page(row, data, errors)
    # The applicant's page (the online link, cancelling) goes only to the address given: whoever
    # typed someone else's address learns nothing of it here.
    application = await records.apply(row, values, base_url(request))
    return no_store(page("events/sent.html", event=row, application=application, **helpers()))


async def mine_view(token: str) -> tuple[dict, dict, list[dict], set]:
    application = await records.by_token(token)
    row = await records.event(application["event"])
    parts = await records.parts_of(row["id"])
    came = await records.present_at([p["id"] for p in parts])
    return application, row, parts, came


@get("/events/mine/{token:str}", include_in_schema=False)
async def mine(token: FromPath[str]) -> Template:
    application, row, parts, came = await mine_view(token)
    completed = bool(parts) and all((p["id"], application["id"]) in came for p in parts)
    return no_store(
        page(
            "events/mine.html",
            application=application,
            event=row,
            parts=parts,
            came=came,
            token=token,
            completed=completed and application["state"] == ApplicationState.registered.value,
            **helpers(),
        )
    )


@post("/events/mine/{token:str}/cancel", include_in_schema=False)
async def mine_cancel(request: Request, token: FromPath[str]) -> Response:
    application = await records.by_token(token)
    await records.cancel(application, None, base_url(request))
    return see_other(f"/events/mine/{token}")


def certificate_page(row: dict, parts: list[dict], holders: list[dict]) -> Template:
    last = parts[-1]["date"] if parts else now().date()
    return page(
        "events/certificate.html",
        event=row,
        parts=parts,
        holders=holders,
        issued=wareki_date(last),
        issued_western=f"{last.year}年{last.month}月{last.day}日",
        **helpers(),
    )


@get("/events/mine/{token:str}/certificate", include_in_schema=False)
async def mine_certificate(token: FromPath[str]) -> Template:
    application, row, parts, came = await mine_view(token)
    if application not in await records.completers(row["id"]):
        raise NotFoundException(_("A certificate is for those who attended every part."))
    return no_store(certificate_page(row, parts, [application]))


# --- the staff's side ---------------------------------------------------------------------------


@get("/staff/events", guards=[staff_only], include_in_schema=False)
async def staff_list(request: Request) -> Template:
    principal = principal_of(request)
    query = CouncilEvent.select(CouncilEvent.all_columns(), CouncilEvent.area.name.as_alias("area_name")).order_by(
        CouncilEvent.application_deadline, ascending=False
    )
    if not principal.is_admin:
        query = query.where(CouncilEvent.area.is_in(list(principal.area_ids) or [UUID(int=0)]))
    rows = await query
    taken = {row["id"]: await records.seats_taken(row["id"]) for row in rows}
    return page("events/staff_list.html", events=rows, taken=taken, **helpers())


async def new_page(request: Request, form: EventForm, errors: list[str] = (), editing: dict | None = None) -> Template:
    """The form that makes an event and, with ``editing`` (the event), changes one."""
    response = page(
        "events/staff_new.html",
        errors,
        form=form,
        editing=editing,
        areas=await staff_areas(request),
        modes=MODES,
        **helpers(),
    )
    return response if editing is None else no_store(response)


@get("/staff/events/new", guards=[staff_only], include_in_schema=False)
async def staff_new(request: Request) -> Template:
    areas = await staff_areas(request)
    return await new_page(request, EventForm(area=str(areas[0]["id"]) if len(areas) == 1 else ""))


@post("/staff/events/new", guards=[staff_only], include_in_schema=False)
async def staff_create(request: Request, data: URLEncodedBody[EventForm]) -> Response:
    areas = {row["id"] for row in await staff_areas(request)}
    values, parts, errors = data.clean(areas)
    if errors:
        return await new_page(request, data, errors)
    event_id = await records.create(values, parts, principal_of(request).account_id)
    return see_other(f"/staff/events/{event_id}")


@get("/staff/events/{event_id:uuid}/edit", guards=[staff_only], include_in_schema=False)
async def staff_edit(request: Request, event_id: FromPath[UUID]) -> Template:
    row = await records.in_scope(principal_of(request), event_id)
    return await new_page(request, EventForm.of(row, await records.parts_of(event_id)), editing=row)


@post("/staff/events/{event_id:uuid}/edit", guards=[staff_only], include_in_schema=False)
async def staff_update(request: Request, event_id: FromPath[UUID], data: URLEncodedBody[EventForm]) -> Response:
    principal = principal_of(request)
    row = await records.in_scope(principal, event_id)
    values, parts, errors = data.clean({area["id"] for area in await staff_areas(request)})
    taken = await records.seats_taken(event_id)
    if values["capacity"] is not None and values["capacity"] < taken:
        # a seat given is not taken back by an edit: cancel applications first if it must shrink
        errors.append(_("The capacity cannot be below the %(taken)s already registered.") % {"taken": taken})
    marked = await records.marked_parts(event_id)
    if parts and marked and max(marked) > len(parts):
        errors.append(
            _("Part %(number)s has attendance marked at the door: it cannot be removed.") % {"number": max(marked)}
        )
    if errors:
        response = await new_page(request, data, errors, editing=row)
        response.status_code = 422
        return response
    await records.update(row, values, parts, principal.account_id, base_url(request))
    return see_other(f"/staff/events/{event_id}")


@get("/staff/events/{event_id:uuid}", guards=[staff_only], include_in_schema=False)
async def staff_detail(request: Request, event_id: FromPath[UUID]) -> Template:
    principal = principal_of(request)
    row = await records.in_scope(principal, event_id)
    await audit(principal.account_id, "event.view", f"event:{event_id}")
    parts = await records.parts_of(event_id)
    applications = await records.applications_of(event_id)
    return no_store(
        page(
            "events/staff_detail.html",
            event=row,
            parts=parts,
            applications=applications,
            came=await records.present_at([p["id"] for p in parts]),
            taken=await records.seats_taken(event_id),
            completers={a["id"] for a in await records.completers(event_id)},
            **helpers(),
        )
    )


@post(
    "/staff/events/{event_id:uuid}/applications/{application_id:uuid}/cancel",
    guards=[staff_only],
    include_in_schema=False,
)
async def staff_cancel(request: Request, event_id: FromPath[UUID], application_id: FromPath[UUID]) -> Response:
    principal = principal_of(request)
    await records.in_scope(principal, event_id)
    application = next((a for a in await records.applications_of(event_id) if a["id"] == application_id), None)
    if application is None:
        raise NotFoundException(f"no application {application_id} of this event")
    await records.cancel(application, principal.account_id, base_url(request))
    return see_other(f"/staff/events/{event_id}")


async def part_in(principal, event_id: UUID, part_id: UUID) -> tuple[dict, dict]:
    row = await records.in_scope(principal, event_id)
    part = await EventPart.select().where((EventPart.id == part_id) & (EventPart.event == event_id)).first()
    if part is None:
        raise NotFoundException(f"no part {part_id} of this event")
    return row, part


@get("/staff/events/{event_id:uuid}/door/{part_id:uuid}", guards=[staff_only], include_in_schema=False)
async def door(request: Request, event_id: FromPath[UUID], part_id: FromPath[UUID]) -> Template:
    row, part = await part_in(principal_of(request), event_id, part_id)
    registered = [a for a in await records.applications_of(event_id) if a["state"] == ApplicationState.registered.value]
    came = await records.present_at([part["id"]])
    return no_store(
        page(
            "events/door.html",
            event=row,
            part=part,
            people=registered,
            came={application for _part, application in came},
            **helpers(),
        )
    )


@post("/staff/events/{event_id:uuid}/door/{part_id:uuid}", guards=[staff_only], include_in_schema=False)
async def door_mark(request: Request, event_id: FromPath[UUID], part_id: FromPath[UUID]) -> Response:
    principal = principal_of(request)
    _row, part = await part_in(principal, event_id, part_id)
    form = await request.form()
    try:
        application_id = UUID(str(form.get("application", "")))
    except ValueError:
        raise NotFoundException(_("This person is not registered for the event.")) from None
    await records.mark(part, application_id, form.get("present") == "1", principal.account_id)
    return see_other(f"/staff/events/{event_id}/door/{part_id}#a-{application_id}")


class DoorMark(msgspec.Struct):
    application: UUID
    present: bool
    marked_at: datetime  # when the phone marked it: the later of two phones' marks stands


class DoorMarks(msgspec.Struct):
    marks: Annotated[list[DoorMark], msgspec.Meta(max_length=500)]


@post(
    "/staff/events/{event_id:uuid}/door/{part_id:uuid}/marks",
    guards=[staff_only],
    include_in_schema=False,
    status_code=200,
)
async def door_marks(request: Request, event_id: FromPath[UUID], part_id: FromPath[UUID], data: DoorMarks) -> dict:
    """The door page's outbox (static/door.js): marks made with or without a signal, sent
    when there is one, possibly again. Applied mark by mark, each in its own transaction
    (unlike a sync push, one batch): every tap at the door stands alone, so one bad mark is
    refused with its reason and the others land. Each is taken, stale (its marked_at is not
    later than the mark kept: resent, or another phone's later word) or refused; the page
    drops all it sent once answered (docs/api.md)."""
    principal = principal_of(request)
    _row, part = await part_in(principal, event_id, part_id)
    answer = {"taken": 0, "stale": 0, "refused": []}
    soon = now() + timedelta(days=1)  # a phone's clock may be a little off, not a day
    for mark in data.marks:
        if mark.marked_at.tzinfo is None or mark.marked_at > soon:
            reason = _("The time of this mark has no time zone or is more than a day ahead.")
            answer["refused"].append({"application": str(mark.application), "reason": reason})
            continue
        try:
            taken = await records.mark(part, mark.application, mark.present, principal.account_id, mark.marked_at)
        except NotFoundException as refused:
            answer["refused"].append({"application": str(mark.application), "reason": refused.detail})
            continue
        answer["taken" if taken else "stale"] += 1
    return answer


@get("/staff/events/door-sw.js", include_in_schema=False)
async def door_worker() -> Response:
    """The door page's service worker, served here so that its scope covers the door pages
    (a worker controls only paths under its own)."""
    return Response(DOOR_WORKER.read_text(), media_type="text/javascript", headers={"Cache-Control": "no-cache"})


@get("/staff/events/{event_id:uuid}/certificates", guards=[staff_only], include_in_schema=False)
async def staff_certificates(request: Request, event_id: FromPath[UUID]) -> Template:
    principal = principal_of(request)
    row = await records.in_scope(principal, event_id)
    holders = await records.completers(event_id)
    await audit(principal.account_id, "event.certificates", f"event:{event_id}", str(len(holders)))
    return no_store(certificate_page(row, await records.parts_of(event_id), holders))


events_router = Router(
    path="/",
    route_handlers=[
        public_list,
        public_page,
        public_apply,
        mine,
        mine_cancel,
        mine_certificate,
        staff_list,
        staff_new,
        staff_create,
        staff_edit,
        staff_update,
        staff_detail,
        staff_cancel,
        door,
        door_mark,
        door_marks,
        door_worker,
        staff_certificates,
    ],
)
