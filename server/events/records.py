"""What happens to an event and its applications: made by staff, applied to, waited for,
cancelled, attended part by part.

Each step is one transaction that also writes the audit row and the applicant's mail to the
outbox (server/core/mail.py). Seats are counted under a lock on the event's row (on
PostgreSQL; SQLite's writers queue anyway), so two applications at once never take one seat
twice, and a cancellation hands its seat to the first on the waiting list in the same step.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID, uuid4

from litestar.exceptions import HTTPException, NotFoundException
from piccolo.engine.postgres import PostgresEngine

from server.auth.principal import Principal
from server.core import signing
from server.core.audit import audit
from server.core.clock import now
from server.core.i18n import gettext as _
from server.core.labels import N_
from server.core.mail import queue_mail
from server.db import engine, write_transaction
from server.tables import (
    ApplicationState,
    CouncilEvent,
    EventApplication,
    EventAttendance,
    EventPart,
    MailState,
    OutboundMail,
)
from server.web.templating import make_environment

_MAIL = make_environment()  # mail bodies are plain-text templates (templates/events/mail/)
_MAIL.autoescape = False
ACTIVE = (ApplicationState.registered.value, ApplicationState.waiting.value)
# How an edit's audit entry names what changed (the form's own labels)
FIELDS = {
    "area": N_("Area"),
    "kind": N_("Kind of event"),
    "title": N_("Title"),
    "description": N_("What it is about"),
    "capacity": N_("Capacity"),
    "application_deadline": N_("Application deadline"),
    "online_url": N_("Online meeting link"),
}


def applicant_link(base_url: str, application_id: UUID) -> str:
    """The applicant's own page (signed: every mail carries the same link)."""
    return f"{base_url}/events/mine/{signing.sign('event-application', application_id.hex)}"


async def by_token(token: str) -> dict:
    application_id = signing.signed_id("event-application", token)
    row = (
        await EventApplication.select().where(EventApplication.id == application_id).first() if application_id else None
    )
    if row is None:
        raise NotFoundException(_("This link is not valid."))
    return row


async def event(event_id: UUID) -> dict:
    row = (
        await CouncilEvent.select(CouncilEvent.all_columns(), CouncilEvent.area.name.as_alias("area_name"))
        .where(CouncilEvent.id == event_id)
        .first()
    )
    if row is None:
        raise NotFoundException(f"no event {event_id}")
    return row


async def in_scope(principal: Principal, event_id: UUID) -> dict:
    """The event if it is of one of the principal's areas; 404 otherwise."""
    row = await CouncilEvent.select().where(CouncilEvent.id == event_id).first()
    if row is None or not principal.may_see_area(row["area"]):
        raise NotFoundException(f"no event {event_id} that you may see")
    return await event(event_id)


async def parts_of(event_id: UUID) -> list[dict]:
    return await EventPart.select().where(EventPart.event == event_id).order_by(EventPart.number)


async def seats_taken(event_id: UUID) -> int:
    return await EventApplication.count().where(
        (EventApplication.event == event_id) & (EventApplication.state == ApplicationState.registered.value)
    )


def open_for_applications(row: dict, today: date) -> bool:
    return today <= row["application_deadline"]


async def create(values: dict, parts: list[dict], actor: UUID) -> UUID:
    event_id = uuid4()
    async with write_transaction():
        await CouncilEvent.insert(CouncilEvent(id=event_id, created_by=actor, created_at=now(), **values))
        await EventPart.insert(*(EventPart(id=uuid4(), event=event_id, **part) for part in parts))
        await audit(actor, "event.create", f"event:{event_id}", values["title"])
    return event_id


def mail_text(name: str, **context) -> str:
    return _MAIL.get_template(f"events/mail/{name}.txt").render(**context)


async def tell(application: dict, row: dict, subject: str, template: str, base_url: str) -> None:
    parts = await parts_of(row["id"])
    text = mail_text(
        template, application=application, event=row, parts=parts, link=applicant_link(base_url, application["id"])
    )
    await queue_mail(application["email"], subject, text, "event")


async def _lock(event_id: UUID) -> None:
    if isinstance(engine(), PostgresEngine):
        await CouncilEvent.select(CouncilEvent.id).where(CouncilEvent.id == event_id).lock_rows("UPDATE")


async def apply(row: dict, values: dict, base_url: str) -> dict:
    """A seat if one is free, else a place on the waiting list; the applicant is told which."""
    if not open_for_applications(row, now().date()):
        raise HTTPException(status_code=409, detail=_("Applications for this event have closed."))
    application_id = uuid4()
    async with write_transaction():
        await _lock(row["id"])
        full = await seats_taken(row["id"]) >= row["capacity"]
        state = ApplicationState.waiting.value if full else ApplicationState.registered.value
        await EventApplication.insert(
            EventApplication(id=application_id, event=row["id"], state=state, applied_at=now(), **values)
        )
        application = await EventApplication.select().where(EventApplication.id == application_id).first()
        if full:
            await tell(application, row, _("You are on the waiting list"), "waiting", base_url)
        else:
            await tell(application, row, _("Your application is received"), "registered", base_url)
        await audit(None, f"event.apply.{state}", f"event:{row['id']}", f"application:{application_id}")
    return application


async def cancel(application: dict, actor: UUID | None, base_url: str) -> dict | None:
    """Cancel an application; a freed seat goes to the first who waits. Returns who moved up."""
    if application["state"] == ApplicationState.cancelled.value:
        return None
    row = await event(application["event"])
    async with write_transaction():
        await _lock(row["id"])
        await EventApplication.update(
            {EventApplication.state: ApplicationState.cancelled.value, EventApplication.cancelled_at: now()}
        ).where(EventApplication.id == application["id"])
        await audit(actor, "event.cancel", f"event:{row['id']}", f"application:{application['id']}")
        promoted = await fill_seats(row, actor, base_url)
    return promoted[0] if promoted else None


async def fill_seats(row: dict, actor: UUID | None, base_url: str) -> list[dict]:
    """Give each free seat to the first who waits, telling them (inside the caller's
    transaction, the event's row locked). A cancellation frees one; a raised capacity more."""
    free = row["capacity"] - await seats_taken(row["id"])
    if free <= 0:
        return []
    promoted = (
        await EventApplication.select()
        .where((EventApplication.event == row["id"]) & (EventApplication.state == ApplicationState.waiting.value))
        .order_by(EventApplication.applied_at)
        .limit(free)
    )
    for application in promoted:
        await EventApplication.update({EventApplication.state: ApplicationState.registered.value}).where(
            EventApplication.id == application["id"]
        )
        await tell(application, row, _("A seat is free for you"), "promoted", base_url)
        await audit(actor, "event.promote", f"event:{row['id']}", f"application:{application['id']}")
    return promoted


def schedule(part: dict) -> tuple:
    """What a part's reminders and its applicants' diaries hang on."""
    return part["date"], part["start_time"], part["end_time"]


async def update(row: dict, values: dict, parts: list[dict], actor: UUID, base_url: str) -> list[str]:
    """Change an event as staff typed it (checked by the same form as making one). Parts keep
    their ids in order (the door's marks stay with them); a part no longer wanted goes with
    its marks. A raised capacity seats those waiting; a changed day or time is mailed to all
    still applied (seat or waiting) and their reminders are planned afresh. Returns what changed."""
    old_parts = await parts_of(row["id"])
    changed = [key for key, value in values.items() if row[key] != value]
    moved = len(old_parts) != len(parts)  # a part more or fewer changes everyone's diary
    async with write_transaction():
        await _lock(row["id"])
        if changed:
            await CouncilEvent.update({getattr(CouncilEvent, key): values[key] for key in changed}).where(
                CouncilEvent.id == row["id"]
            )
        for old, new in zip(old_parts, parts, strict=False):
            if schedule(old) != schedule(new):
                moved = True
                # a reminder queued for the old time is not sent; one sent for it is kept under
                # a key of its own (unique per edit), so the new time's is queued when due
                of_part = OutboundMail.once_key.like(f"event:{old['id']}:%") & (
                    OutboundMail.purpose == "event-reminder"
                )
                await OutboundMail.delete().where(of_part & (OutboundMail.state == MailState.pending.value))
                await OutboundMail.update(
                    {OutboundMail.once_key: OutboundMail.once_key + f":moved:{uuid4().hex[:12]}"}
                ).where(of_part)
            if any(old[key] != value for key, value in new.items()):
                changed.append(_("Part %(number)s") % {"number": new["number"]})
                await EventPart.update({getattr(EventPart, key): value for key, value in new.items()}).where(
                    EventPart.id == old["id"]
                )
        if len(old_parts) > len(parts):
            changed.append(N_("Parts"))
            await EventPart.delete().where(EventPart.id.is_in([p["id"] for p in old_parts[len(parts) :]]))
        if len(parts) > len(old_parts):
            changed.append(N_("Parts"))
            await EventPart.insert(*(EventPart(id=uuid4(), event=row["id"], **p) for p in parts[len(old_parts) :]))
        row = {**row, **values}
        if moved:
            for application in await applications_of(row["id"]):
                if application["state"] in ACTIVE:
                    await tell(application, row, _("The schedule has changed"), "changed", base_url)
        if changed:
            await audit(actor, "event.edit", f"event:{row['id']}", "、".join(_(FIELDS.get(c, c)) for c in changed))
        if "capacity" in changed:
            await fill_seats(row, actor, base_url)
    return changed


async def marked_parts(event_id: UUID) -> set[int]:
    """The numbers of the parts that have marks from the door."""
    rows = await EventAttendance.select(EventAttendance.part.number.as_alias("number")).where(
        EventAttendance.part.event == event_id
    )
    return {row["number"] for row in rows}


async def applications_of(event_id: UUID) -> list[dict]:
    return (
        await EventApplication.select().where(EventApplication.event == event_id).order_by(EventApplication.applied_at)
    )


async def mark(part: dict, application_id: UUID, present: bool, actor: UUID, at: datetime | None = None) -> bool:
    """At the door: came or not. Marking again overwrites (a mis-tap taken back). ``at`` is
    when the phone marked it (sent later from its outbox when there was no signal): a mark
    older than the one kept is stale (another phone's later word stands), and the same mark
    sent twice changes nothing, so a resent outbox neither loses nor doubles. Returns
    whether the mark was taken."""
    at = at or now()
    registered = await EventApplication.exists().where(
        (EventApplication.id == application_id)
        & (EventApplication.event == part["event"])
        & (EventApplication.state == ApplicationState.registered.value)
    )
    if not registered:
        raise NotFoundException(_("This person is not registered for the event."))
    key = f"{part['id']}:{application_id}"
    async with write_transaction():
        await _lock(part["event"])
        kept = await EventAttendance.select(EventAttendance.present, EventAttendance.marked_at).where(
            EventAttendance.id == key
        )
        if kept and (kept[0]["marked_at"] > at or (kept[0]["marked_at"] == at and kept[0]["present"] == present)):
            return False
        await EventAttendance.delete().where(EventAttendance.id == key)
        await EventAttendance.insert(
            EventAttendance(
                id=key, part=part["id"], application=application_id, present=present, marked_by=actor, marked_at=at
            )
        )
        await audit(actor, "event.attendance", f"event:{part['event']}", f"{key} {'○' if present else '×'}")
    return True


async def present_at(part_ids: list[UUID]) -> set[tuple[UUID, UUID]]:
    """(part, application) pairs marked present."""
    if not part_ids:
        return set()
    rows = await EventAttendance.select(EventAttendance.part, EventAttendance.application).where(
        EventAttendance.part.is_in(part_ids) & (EventAttendance.present == True)  # noqa: E712
    )
    return {(row["part"], row["application"]) for row in rows}


async def completers(event_id: UUID) -> list[dict]:
    """Those registered who attended every part: the 修了証's holders, in application order."""
    parts = await parts_of(event_id)
    came = await present_at([p["id"] for p in parts])
    return [
        a
        for a in await applications_of(event_id)
        if a["state"] == ApplicationState.registered.value and all((p["id"], a["id"]) in came for p in parts)
    ]
