"""Absence replies: a registered participant answers a reminder with 「欠席します」.

1. The organiser opens the participant's roster entry and shows a personal QR code
   (``POST /api/push/person-links``: organisers of the person's group only). It leads to
   the ibasho's public page with a short-lived signed token; subscribing there ties the
   subscription to that person (``routes.save_subscription``).
2. That person's reminders carry a 「欠席します」 action and an absence URL with a signed
   per-delivery token (``payload_for``); where notifications have no actions (iOS) the
   notification opens ``/push/reply/<token>``, a page with the same button.
3. Either way ``POST /api/push/absences/<token>`` records ``absent_notified`` through the
   sync engine's own ``attendance.set``: the same per-field merge as a phone's mark, the
   same withdrawal of an untouched 安否確認 (none opens), and a change number so the
   organisers' phones get it by pull.

Replies are taken until the session starts: from then on organisers take attendance at
the venue, and a late tap must not overwrite what they recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Literal
from uuid import UUID

import msgspec
import segno
from litestar import Request, get, post
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath, JSONBody
from litestar.response import Template
from litestar.status_codes import HTTP_409_CONFLICT

from server.auth.guards import principal_of, signed_in
from server.core.clock import now
from server.core.schedule import session_times
from server.reminders import tokens
from server.reminders.audience import is_public
from server.sync.server import apply_as_server
from server.tables import (
    Attendance,
    Ibasho,
    IbashoStatus,
    Person,
    ReminderDelivery,
    Role,
    SessionStatus,
)
from server.web.openapi import PathText, error_responses
from sync.mutations import Scope

ABSENT = "absent_notified"


class PersonLinkIn(msgspec.Struct, forbid_unknown_fields=True):
    person_id: UUID
    ibasho_id: UUID | None = None  # needed only when the group runs several registration-based ibasho


class PersonLinkOut(msgspec.Struct):
    url: str
    qr_svg: str
    expires_at: datetime


class AbsenceOut(msgspec.Struct):
    status: Literal["absent_notified"]
    session_id: UUID


@post(
    "/person-links",
    guards=[signed_in],
    responses=error_responses(
        400,
        401,
        403,
        404,
        409,
        413,
        why={
            404: "No such participant in the caller's groups (organisers only)",
            409: "The participant is not registered, or the group has no registration-based ibasho "
            "(or several, and none was chosen)",
        },
    ),
)
async def create_person_link(data: JSONBody[PersonLinkIn], request: Request) -> PersonLinkOut:
    """A personal QR code for one registered participant; organisers of their group only."""
    principal = principal_of(request)
    person = (
        await Person.select(Person.group, Person.registered)
        .where((Person.id == data.person_id) & (Person.deleted == False))
        .first()
    )
    # Staff and admins see rosters but do not stand beside the participant: organisers only.
    if person is None or principal.role is not Role.organiser or person["group"] not in principal.group_ids:
        raise NotFoundException("no such participant in your groups")
    if not person["registered"]:  # the roster entry's state, not a malformed request: 409
        raise ClientException("only registered participants can reply to reminders", status_code=HTTP_409_CONFLICT)
    query = Ibasho.select(Ibasho.id).where(
        (Ibasho.group == person["group"])
        & (Ibasho.status == IbashoStatus.active.value)
        & (Ibasho.registration_required == True)
    )
    if data.ibasho_id is not None:
        query = query.where(Ibasho.id == data.ibasho_id)
    choices = [row["id"] for row in await query]
    if len(choices) != 1:
        raise ClientException(
            "no registration-based ibasho of this group"
            if not choices
            else "the group runs several registration-based ibasho: choose one",
            status_code=HTTP_409_CONFLICT,
        )
    token, expires = tokens.person_link(data.person_id, choices[0])
    url = f"{str(request.base_url).rstrip('/')}/i/{choices[0]}?person={token}"
    return PersonLinkOut(
        url=url,
        qr_svg=segno.make(url, error="m").svg_inline(scale=5),
        expires_at=datetime.fromtimestamp(expires, UTC),
    )


@dataclass
class Reply:
    session_id: UUID
    person_id: UUID
    group_id: UUID
    title: str
    date: object
    start_time: time | None
    venue: str
    starts: datetime | None
    going_ahead: bool
    status: str | None  # the person's attendance so far

    def too_late(self, now: datetime) -> bool:
        return self.starts is None or now >= self.starts


async def reply_of(token: str) -> Reply:
    """The person and session an absence token stands for (404 if none: forged, or the
    subscription was stopped or unlinked, or the person removed; or the session is no
    longer one the subscription hears of: made a members-only meeting, or moved to
    another ibasho)."""
    delivery_id = tokens.read_absence(token)
    row = (
        None
        if delivery_id is None
        else await ReminderDelivery.select(
            ReminderDelivery.subscription.person.as_alias("person_id"),
            ReminderDelivery.subscription.person.deleted.as_alias("person_deleted"),
            ReminderDelivery.subscription.ibasho.as_alias("subscribed_to"),
            ReminderDelivery.session.kind.as_alias("kind"),
            ReminderDelivery.session.ibasho.as_alias("ibasho_id"),
            ReminderDelivery.session.as_alias("session_id"),
            ReminderDelivery.session.group.as_alias("group_id"),
            ReminderDelivery.session.title.as_alias("title"),
            ReminderDelivery.session.date.as_alias("date"),
            ReminderDelivery.session.start_time.as_alias("start_time"),
            ReminderDelivery.session.end_time.as_alias("end_time"),
            ReminderDelivery.session.venue.as_alias("venue"),
            ReminderDelivery.session.status.as_alias("status"),
            ReminderDelivery.session.deleted.as_alias("deleted"),
            ReminderDelivery.session.ibasho.timezone.as_alias("timezone"),
            ReminderDelivery.session.ibasho.name.as_alias("ibasho_name"),
        )
        .where(ReminderDelivery.id == delivery_id)
        .first()
    )
    if (
        row is None
        or row["person_id"] is None
        or row["person_deleted"]
        or row["session_id"] is None
        or not is_public(row)
        or row["ibasho_id"] != row["subscribed_to"]
    ):
        raise NotFoundException("no such reminder")
    starts = None
    if row["start_time"] is not None:
        starts, _ = session_times(
            row["date"], row["start_time"], row["end_time"] or row["start_time"], row["timezone"] or "Asia/Tokyo"
        )
    attendance = (
        await Attendance.select(Attendance.status)
        .where(Attendance.id == f"{row['session_id']}:{row['person_id']}")
        .first()
    )
    return Reply(
        session_id=row["session_id"],
        person_id=row["person_id"],
        group_id=row["group_id"],
        title=row["title"] or row["ibasho_name"] or "",
        date=row["date"],
        start_time=row["start_time"],
        venue=row["venue"],
        starts=starts,
        going_ahead=row["status"] == SessionStatus.scheduled.value and not row["deleted"],
        status=(attendance or {}).get("status"),
    )


async def record_absence(reply: Reply) -> None:
    """``attendance.set absent_notified`` as the server, within the session's group only."""
    args = {"session_id": str(reply.session_id), "person_id": str(reply.person_id), "status": ABSENT}
    result = await apply_as_server(Scope(UUID(int=0), frozenset({reply.group_id})), [("attendance.set", args)])
    (outcome,) = result.results
    if outcome.status == "rejected":
        raise NotFoundException(outcome.error)


# The token is the whole authority (no cookie is involved), so CSRF cannot forge anything
# here; and the service worker, which answers the notification action, has no CSRF cookie.
@post(
    "/absences/{token:str}",
    status_code=200,
    exclude_from_csrf=True,
    responses=error_responses(
        404,
        409,
        why={
            404: "Unknown token, or the subscription was stopped or unlinked",
            409: "The session has started, or is not going ahead as planned",
        },
    ),
)
async def reply_absent(token: PathText) -> AbsenceOut:
    """「欠席します」 from a notification action or the reply page. Idempotent."""
    reply = await reply_of(token)
    if not reply.going_ahead:
        raise ClientException("this session is not going ahead as planned", status_code=HTTP_409_CONFLICT)
    if reply.too_late(now()):
        raise ClientException(
            "the session has started: please tell the organisers directly", status_code=HTTP_409_CONFLICT
        )
    if reply.status != ABSENT:
        await record_absence(reply)
    return AbsenceOut(status=ABSENT, session_id=reply.session_id)


@get("/push/reply/{token:str}", include_in_schema=False)
async def reply_page(token: FromPath[str]) -> Template:
    """Where a person-linked notification leads (iOS has no notification actions)."""
    reply = await reply_of(token)
    return Template(
        template_name="reminders/reply.html",
        context={
            "reply": reply,
            "token": token,
            "too_late": reply.too_late(now()),
            "absent": reply.status == ABSENT,
        },
    )


API_HANDLERS = [create_person_link, reply_absent]
PAGE_HANDLERS = [reply_page]
