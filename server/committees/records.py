"""A committee's members and meetings. Everything that phones also hold (the roster's
people, the meetings, who came, the minutes and action items) is written through the sync
engine's mutations as a push by the staff member (``apply_as_server``), exactly as a
group's own meetings are: one implementation, and organisers who sit on the committee see
it all in their app. What only the council keeps (which organisation a member is for, the
kind of meeting, the member's email) sits in the committee tables beside it."""

from __future__ import annotations

from uuid import UUID, uuid4

from litestar.exceptions import HTTPException, NotFoundException

from server.auth.principal import Principal, sync_scope
from server.core import signing
from server.core.audit import audit
from server.core.changelog import publish_server_change
from server.core.clock import now
from server.core.i18n import gettext as _
from server.db import write_transaction
from server.sync.server import apply_as_server
from server.sync.store import decoded_json
from server.tables import (
    ActionItem,
    Committee,
    CommitteeMeeting,
    CommitteeOrganisation,
    CommitteeSeat,
    Group,
    MeetingAttendance,
    Note,
    Session,
    SessionKind,
)


def member_link(base_url: str, person_id: UUID) -> str:
    """A member's page of the committee's meetings and minutes (signed; sent by mail)."""
    return f"{base_url}/committee/{signing.sign('committee-member', person_id.hex)}"


async def create(area: UUID, name: str, actor: UUID) -> UUID:
    group_id = uuid4()
    async with write_transaction():
        if await Group.exists().where((Group.area == area) & (Group.name == name)):
            raise HTTPException(status_code=409, detail=_("A group of that name is already registered in the area."))
        await Group.insert(Group(id=group_id, area=area, name=name, created_at=now()))
        await Committee.insert(Committee(id=uuid4(), group=group_id, created_at=now()))
        await publish_server_change("group", group_id, group_id)
        await audit(actor, "committee.create", f"group:{group_id}", name)
    return group_id


async def in_scope(principal: Principal, group_id: UUID) -> dict:
    """The committee (with its group's name and area) if the principal may see it; 404 otherwise."""
    row = (
        await Committee.select(
            Committee.id,
            Committee.group.as_alias("group_id"),
            Committee.group.name.as_alias("name"),
            Committee.group.area.as_alias("area"),
            Committee.group.area.name.as_alias("area_name"),
        )
        .where(Committee.group == group_id)
        .first()
    )
    if row is None or not principal.may_see_group(row["group_id"], row["area"]):
        raise NotFoundException(f"no committee {group_id} that you may see")
    return row


async def _push(principal: Principal, mutations: list[tuple[str, dict]]) -> None:
    result = await apply_as_server(await sync_scope(principal), mutations, actor=principal.account_id)
    rejected = [r for r in result.results if r.status == "rejected"]
    if rejected:
        raise HTTPException(status_code=400, detail=rejected[0].error or "rejected")


async def add_organisation(committee: dict, name: str, actor: UUID) -> None:
    await CommitteeOrganisation.insert(CommitteeOrganisation(id=uuid4(), committee=committee["id"], name=name))
    await audit(actor, "committee.organisation", f"group:{committee['group_id']}", name)


async def remove_organisation(committee: dict, organisation_id: UUID, actor: UUID) -> list[str]:
    """Take a member organisation off the committee; refused (the reasons returned) while
    someone still sits for it, so nobody's seat is left without its organisation unnoticed."""
    org = (
        await CommitteeOrganisation.select()
        .where((CommitteeOrganisation.id == organisation_id) & (CommitteeOrganisation.committee == committee["id"]))
        .first()
    )
    if org is None:
        raise NotFoundException(f"no organisation {organisation_id} of this committee")
    if any(m["organisation_id"] == organisation_id for m in await members(committee)):
        return [_("%(name)s still has members on the committee: remove them first.") % {"name": org["name"]}]
    async with write_transaction():
        await CommitteeOrganisation.delete().where(CommitteeOrganisation.id == organisation_id)
        await audit(actor, "committee.organisation.remove", f"group:{committee['group_id']}", org["name"])
    return []


async def remove_member(principal: Principal, committee: dict, person_id: UUID) -> None:
    """Take a member off: their person goes from the roster through the sync engine (phones
    drop them), the address is forgotten, so no reminder goes and their link opens nothing."""
    if not any(m["person_id"] == person_id for m in await members(committee)):
        raise NotFoundException(f"no member {person_id} of this committee")
    await _push(principal, [("person.delete", {"id": str(person_id)})])
    await CommitteeSeat.update({CommitteeSeat.email: ""}).where(CommitteeSeat.person == person_id)
    await audit(
        principal.account_id, "committee.member.remove", f"group:{committee['group_id']}", f"person:{person_id}"
    )


async def organisations(committee: dict) -> list[dict]:
    return (
        await CommitteeOrganisation.select()
        .where(CommitteeOrganisation.committee == committee["id"])
        .order_by(CommitteeOrganisation.name)
    )


async def add_member(principal: Principal, committee: dict, values: dict) -> UUID:
    person_id = uuid4()
    args = {
        "id": str(person_id),
        "group_id": str(committee["group_id"]),
        "display_name": values["name"],
        "kind": "volunteer",
        "registered": False,
    }
    await _push(principal, [("person.upsert", args)])
    await CommitteeSeat.insert(
        CommitteeSeat(
            id=uuid4(),
            committee=committee["id"],
            person=person_id,
            organisation=values["organisation"],
            email=values["email"],
        )
    )
    await audit(principal.account_id, "committee.member", f"group:{committee['group_id']}", f"person:{person_id}")
    return person_id


async def members(committee: dict) -> list[dict]:
    return await CommitteeSeat.select(
        CommitteeSeat.person.as_alias("person_id"),
        CommitteeSeat.person.display_name.as_alias("name"),
        CommitteeSeat.organisation.name.as_alias("organisation"),
        CommitteeSeat.organisation.as_alias("organisation_id"),
        CommitteeSeat.email,
    ).where((CommitteeSeat.committee == committee["id"]) & (CommitteeSeat.person.deleted == False))  # noqa: E712


async def add_meeting(principal: Principal, committee: dict, values: dict) -> UUID:
    session_id = uuid4()
    args = {
        "id": str(session_id),
        "group_id": str(committee["group_id"]),
        "kind": SessionKind.meeting.value,
        "title": values["title"],
        "date": values["date"].isoformat(),
        "start_time": values["start_time"].strftime("%H:%M") if values["start_time"] else None,
        "end_time": values["end_time"].strftime("%H:%M") if values["end_time"] else None,
        "venue": values["venue"],
        "agenda": values["agenda"],
    }
    await _push(principal, [("session.upsert", args)])
    await CommitteeMeeting.insert(CommitteeMeeting(id=uuid4(), session=session_id, kind=values["kind"]))
    await audit(principal.account_id, "committee.meeting", f"group:{committee['group_id']}", f"session:{session_id}")
    return session_id


async def meetings(group_id: UUID) -> list[dict]:
    return (
        await Session.select()
        .where(
            (Session.group == group_id) & (Session.kind == SessionKind.meeting.value) & (Session.deleted == False)  # noqa: E712
        )
        .order_by(Session.date)
    )


async def meeting_kinds(session_ids: list[UUID]) -> dict[UUID, str]:
    if not session_ids:
        return {}
    rows = await CommitteeMeeting.select().where(CommitteeMeeting.session.is_in(session_ids))
    return {row["session"]: row["kind"] for row in rows}


async def meeting(group_id: UUID, session_id: UUID) -> dict:
    row = (
        await Session.select()
        .where((Session.id == session_id) & (Session.group == group_id) & (Session.kind == SessionKind.meeting.value))
        .first()
    )
    if row is None:
        raise NotFoundException(f"no meeting {session_id} of this committee")
    return row


async def minutes(session_id: UUID) -> dict:
    """What was decided, the action items and who came."""
    note = await Note.select(Note.decisions, Note.hlcs).where(Note.session == session_id).first()
    actions = (
        await ActionItem.select()
        .where(
            (ActionItem.session == session_id) & (ActionItem.deleted == False)  # noqa: E712
        )
        .order_by(ActionItem.due)
    )
    came = await MeetingAttendance.select(MeetingAttendance.person).where(
        (MeetingAttendance.session == session_id) & (MeetingAttendance.present == True)  # noqa: E712
    )
    return {
        "decisions": note["decisions"] if note else "",
        "decisions_hlc": (decoded_json(note["hlcs"]) or {}).get("decisions") if note else None,
        "actions": actions,
        "came": {row["person"] for row in came},
    }


async def record_minutes(
    principal: Principal,
    committee: dict,
    session: dict,
    decisions: str,
    present: set[UUID],
    action: dict | None,
) -> None:
    """Save the minutes of a meeting as the same mutations a phone sends."""
    current = await minutes(session["id"])
    mutations: list[tuple[str, dict]] = []
    if decisions != current["decisions"]:
        mutations.append(
            (
                "note.set",
                {
                    "session_id": str(session["id"]),
                    "field": "decisions",
                    "text": decisions,
                    "base_hlc": current["decisions_hlc"],
                },
            )
        )
    for member in await members(committee):
        came = member["person_id"] in present
        if came != (member["person_id"] in current["came"]):
            mutations.append(
                (
                    "meeting.attend",
                    {"session_id": str(session["id"]), "person_id": str(member["person_id"]), "present": came},
                )
            )
    if action:
        mutations.append(
            (
                "action.upsert",
                {
                    "id": str(uuid4()),
                    "session_id": str(session["id"]),
                    "text": action["text"],
                    "owner": action["owner"],
                    "due": action["due"].isoformat() if action["due"] else None,
                },
            )
        )
    if mutations:
        await _push(principal, mutations)
        await audit(principal.account_id, "committee.minutes", f"session:{session['id']}", str(len(mutations)))


async def member_by_token(token: str) -> dict:
    person_id = signing.signed_id("committee-member", token)
    seat = None
    if person_id is not None:
        seat = (
            await CommitteeSeat.select(
                CommitteeSeat.committee,
                CommitteeSeat.person.as_alias("person_id"),
                CommitteeSeat.person.display_name.as_alias("name"),
                CommitteeSeat.committee.group.as_alias("group_id"),
                CommitteeSeat.committee.group.name.as_alias("committee_name"),
            )
            .where((CommitteeSeat.person == person_id) & (CommitteeSeat.person.deleted == False))
            .first()
        )  # noqa: E712
    if seat is None:
        raise NotFoundException(_("This link is not valid."))
    return seat
