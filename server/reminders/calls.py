"""The call list (電話連絡網) of a session: the registered participants who asked to be
phoned (a subscription of channel ``phone``, made through their personal QR code), with
their numbers, split among the helpers who have the 「連絡係」 role at that session.

The organisers' app fetches it (``GET /api/push/calls/<session>``) and keeps it on the
phone, so calls are marked offline; each mark is the synced ``call.set`` (sync/mutations.py),
and 欠席の連絡 there counts like the reminder's 「欠席します」 reply. The printable page
(``/calls/<session>``) is the same list on A4, with boxes to tick by hand.

Who may see it: the group's organisers, its area's staff, admins (principal.may_see_group);
for anyone else the session does not exist (404).
"""

from __future__ import annotations

from uuid import UUID

import msgspec
from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from server.auth.guards import group_in_scope, principal_of, signed_in
from server.tables import Account, CallMark, Person, PushSubscription, RoleAssignment, Session, SubscriptionChannel
from server.web.openapi import error_responses
from server.web.pages import NO_STORE

CALLER_ROLE = "連絡係"


class Callee(msgspec.Struct):
    person_id: UUID
    name: str
    kana: str
    phone: str
    outcome: str | None  # the call's mark so far: told, no_answer, absent


class Caller(msgspec.Struct):
    name: str  # empty: nobody has the 連絡係 role yet
    member_id: UUID | None
    person_id: UUID | None
    people: list[Callee]


class CallList(msgspec.Struct):
    session_id: UUID
    title: str
    date: str
    start_time: str | None
    callers: list[Caller]


def split(people: list, callers: int) -> list[list]:
    """Contiguous blocks of the 五十音 list, as a paper 連絡網 has them, sizes differing by one at most."""
    size, extra = divmod(len(people), callers)
    blocks, start = [], 0
    for index in range(callers):
        end = start + size + (1 if index < extra else 0)
        blocks.append(people[start:end])
        start = end
    return blocks


async def call_list(session: dict) -> CallList:
    people = []
    if session["ibasho"] is not None:
        rows = await PushSubscription.select(
            PushSubscription.person.as_alias("person_id"),
            PushSubscription.address,
            PushSubscription.person.display_name.as_alias("name"),
            PushSubscription.person.kana.as_alias("kana"),
        ).where(
            (PushSubscription.ibasho == session["ibasho"])
            & (PushSubscription.channel == SubscriptionChannel.phone.value)
            & PushSubscription.person.is_not_null()
            & (PushSubscription.person.group == session["group"])
            & (PushSubscription.person.deleted == False)
            & (PushSubscription.person.registered == True)
        )
        marks = {
            row["person"]: row["outcome"]
            for row in await CallMark.select(CallMark.person, CallMark.outcome).where(CallMark.session == session["id"])
        }
        people = sorted(
            (
                Callee(row["person_id"], row["name"], row["kana"], row["address"], marks.get(row["person_id"]))
                for row in rows
            ),
            key=lambda callee: (callee.kana or callee.name, callee.name, str(callee.person_id)),
        )
    helpers = await RoleAssignment.select(RoleAssignment.member, RoleAssignment.person).where(
        (RoleAssignment.session == session["id"])
        & (RoleAssignment.role == CALLER_ROLE)
        & (RoleAssignment.assigned == True)
    )
    names = await _names(helpers)
    helpers.sort(key=lambda row: (names.get(row["member"] or row["person"], ""), str(row["member"] or row["person"])))
    callers = (
        [
            Caller(names.get(row["member"] or row["person"], ""), row["member"], row["person"], block)
            for row, block in zip(helpers, split(people, len(helpers)), strict=True)
        ]
        if helpers
        else [Caller("", None, None, people)]
    )
    return CallList(
        session_id=session["id"],
        title=session["title"],
        date=session["date"].isoformat(),
        start_time=session["start_time"].strftime("%H:%M") if session["start_time"] else None,
        callers=callers,
    )


async def _names(helpers: list[dict]) -> dict[UUID, str]:
    members = [row["member"] for row in helpers if row["member"]]
    persons = [row["person"] for row in helpers if row["person"]]
    names = {}
    if members:
        names |= {
            row["id"]: row["display_name"]
            for row in await Account.select(Account.id, Account.display_name).where(Account.id.is_in(members))
        }
    if persons:
        names |= {
            row["id"]: row["display_name"]
            for row in await Person.select(Person.id, Person.display_name).where(Person.id.is_in(persons))
        }
    return names


async def _visible_session(session_id: UUID, request: Request) -> dict:
    session = (
        await Session.select(
            Session.id, Session.group, Session.ibasho, Session.title, Session.date, Session.start_time, Session.venue
        )
        .where((Session.id == session_id) & (Session.deleted == False))
        .first()
    )
    if session is None:
        raise NotFoundException("no such session")
    await group_in_scope(principal_of(request), session["group"])  # 404 outside the caller's scope
    return session


@get(
    "/calls/{session_id:uuid}",
    guards=[signed_in],
    responses=error_responses(401, 404, why={404: "No such session in the caller's groups or areas"}),
)
async def calls(session_id: FromPath[UUID], request: Request) -> CallList:
    """The call list of one session, for the organisers' app to keep offline."""
    return await call_list(await _visible_session(session_id, request))


@get("/calls/{session_id:uuid}", guards=[signed_in], include_in_schema=False, cache_control=NO_STORE)
async def calls_page(session_id: FromPath[UUID], request: Request) -> Template:
    """The same list to print (A4), with boxes to tick by hand."""
    session = await _visible_session(session_id, request)
    return Template(
        template_name="reminders/calls.html", context={"calls": await call_list(session), "session": session}
    )


API_HANDLERS = [calls]
PAGE_HANDLERS = [calls_page]
