"""A derived id belongs to the group its inputs belong to (sync/ids.py).

Group B's ibasho id is public (poster QR, public page) and a person id can be read from a
personal QR link, so group A's organiser knows the inputs of B's derived ids. None of
them may let A create or change a record under an id derived from B's records: one test
per entity with a derived id.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta

import pytest

from server.core.clock import now
from server.sync.sessions_ahead import ensure_sessions_ahead
from server.tables import Attendance, Ibasho, Note, Person, RoleAssignment, SafetyCheck, Session, Tally
from sync.ids import safety_check_id, scheduled_session_id
from tests.sync_phone import Phone


@pytest.fixture
async def phones(new_client, world):
    """(phone of organiser A, phone of organiser B)."""
    made = []
    for person in (world.organiser_a, world.organiser_b):
        client = await new_client()
        await client.login(person)
        made.append(Phone(client))
    return tuple(made)


async def make_ibasho(group_id: uuid.UUID, **values) -> uuid.UUID:
    ibasho_id = uuid.uuid4()
    await Ibasho.insert(Ibasho(id=ibasho_id, group=group_id, name="すみれの家", created_at=now(), **values))
    return ibasho_id


async def b_session_with_person(phone_b: Phone, group_b) -> tuple[str, str]:
    """A session and a registered person of group B, made by B's phone."""
    session_id, person_id = str(uuid.uuid4()), str(uuid.uuid4())
    phone_b.mutate("session.upsert", id=session_id, group_id=str(group_b), date="2026-12-06", title="サロン")
    phone_b.mutate("person.upsert", id=person_id, group_id=str(group_b), display_name="新井 花子")
    await phone_b.sync()
    return session_id, person_id


async def statuses(phone: Phone) -> list[str]:
    response = await phone.push()
    assert response.status_code == 200, response.text
    return [result["status"] for result in response.json()["results"]]


async def test_another_groups_scheduled_session_id_cannot_be_squatted(phones, world):
    phone_a, _ = phones
    ibasho_b = await make_ibasho(world.group_b, rrule="FREQ=WEEKLY;BYDAY=SU", start_time=time(10), end_time=time(12))
    ahead = [date.today() + timedelta(days=days) for days in range(7, 7 * 40, 7)]
    for day in ahead:  # with B's ibasho named, without it, and with A's own group
        phone_a.mutate(
            "session.upsert",
            id=str(scheduled_session_id(ibasho_b, day)),
            group_id=str(world.group_a),
            date=day.isoformat(),
            title="squat",
        )
    ibasho_a = await make_ibasho(world.group_a)
    phone_a.mutate(
        "session.upsert",
        id=str(scheduled_session_id(ibasho_b, ahead[0])),
        group_id=str(world.group_a),
        ibasho_id=str(ibasho_a),
        date=ahead[0].isoformat(),
    )
    phone_a.mutate(
        "session.upsert",
        id=str(scheduled_session_id(ibasho_b, ahead[1])),
        group_id=str(world.group_a),
        ibasho_id=str(ibasho_b),
        date=ahead[1].isoformat(),
    )
    assert set(await statuses(phone_a)) == {"rejected"}
    squatted = [scheduled_session_id(ibasho_b, day) for day in ahead]
    assert not await Session.exists().where(Session.id.is_in(squatted))

    await ensure_sessions_ahead(ibasho_b)
    made = await Session.select(Session.id, Session.group, Session.date).where(Session.ibasho == ibasho_b)
    assert len(made) >= 12
    for row in made:
        assert row["group"] == world.group_b and row["id"] == scheduled_session_id(ibasho_b, row["date"])


async def test_a_group_may_make_its_own_scheduled_session(phones, world):
    phone_a, _ = phones
    ibasho_a = await make_ibasho(world.group_a)
    day = date.today() + timedelta(days=200)  # beyond what the server makes ahead
    own_id = str(scheduled_session_id(ibasho_a, day))
    phone_a.mutate(
        "session.upsert", id=own_id, group_id=str(world.group_a), ibasho_id=str(ibasho_a), date=day.isoformat()
    )
    phone_a.mutate(
        "person.upsert",
        id=str(uuid.uuid5(uuid.NAMESPACE_URL, "x")),
        group_id=str(world.group_a),
        display_name="派生IDの人",
    )  # no person id is derived: refused
    assert await statuses(phone_a) == ["applied", "rejected"]
    assert (await Session.select(Session.group).where(Session.id == own_id).first())["group"] == world.group_a


async def test_another_groups_safety_check_cannot_be_opened_in_advance(phones, world):
    phone_a, phone_b = phones
    session_b, person_b = await b_session_with_person(phone_b, world.group_b)
    own_session, own_person = await b_session_with_person(phone_a, world.group_a)
    target = safety_check_id(session_b, person_b)
    # under B's derived id, with A's own session and person as the inputs
    phone_a.mutate("safety.record", id=target, session_id=own_session, person_id=own_person, outcome="safe")
    # under B's derived id, naming B's records
    phone_a.mutate("safety.record", id=target, session_id=session_b, person_id=person_b, outcome="safe")
    # A's own absence under a made-up id: also refused, the id must be the derived one
    phone_a.mutate("safety.record", id=str(uuid.uuid4()), session_id=own_session, person_id=own_person)
    assert await statuses(phone_a) == ["rejected", "rejected", "rejected"]
    assert not await SafetyCheck.exists().where(SafetyCheck.id == target)

    # B's automatic 安否確認 still opens
    phone_b.mutate("attendance.set", session_id=session_b, person_id=person_b, status="absent_unnotified")
    assert await statuses(phone_b) == ["applied"]
    check = (
        await SafetyCheck.select(SafetyCheck.outcome, SafetyCheck.session.group.as_alias("group"))
        .where(SafetyCheck.id == target)
        .first()
    )
    assert check == {"outcome": "open", "group": world.group_b}


async def test_derived_records_of_another_groups_session_are_refused(phones, world):
    """Attendance, tallies, role assignments, notes: ids derived from B's session."""
    phone_a, phone_b = phones
    session_b, person_b = await b_session_with_person(phone_b, world.group_b)
    _, person_a = await b_session_with_person(phone_a, world.group_a)
    member_a = str(world.organiser_a.account_id)
    for person in (person_b, person_a):
        phone_a.mutate("attendance.set", session_id=session_b, person_id=person, status="present")
    phone_a.mutate("tally.add", session_id=session_b, category="child", delta=5)
    phone_a.mutate("role.set", session_id=session_b, role="調理", member_id=member_a, assigned=True)
    phone_a.mutate("note.set", session_id=session_b, field="concerns", text="squat")
    phone_a.mutate("note.resolve", session_id=session_b, field="concerns", hlc="x")
    assert set(await statuses(phone_a)) == {"rejected"}
    assert not await Attendance.exists().where(Attendance.session == session_b)
    assert not await Tally.exists().where(Tally.session == session_b)
    assert not await RoleAssignment.exists().where(RoleAssignment.session == session_b)
    assert not await Note.exists().where(Note.session == session_b)


async def test_a_derived_record_left_in_another_group_is_never_written(phones, world):
    """Rows from before ids were checked: a derived record whose group is not its session's
    is refused rather than changed (and B's own phone is told, not silently merged)."""
    phone_a, phone_b = phones
    session_b, person_b = await b_session_with_person(phone_b, world.group_b)
    own_session, own_person = await b_session_with_person(phone_a, world.group_a)
    planted = safety_check_id(session_b, person_b)
    await SafetyCheck.insert(
        SafetyCheck(
            id=planted,
            session=own_session,
            person=own_person,
            outcome="safe",
            hlcs={},
            opened_at=datetime.now(UTC),
        )
    )
    phone_b.mutate("attendance.set", session_id=session_b, person_id=person_b, status="absent_unnotified")
    assert await statuses(phone_b) == ["rejected"]
    row = await SafetyCheck.select(SafetyCheck.outcome, SafetyCheck.session).where(SafetyCheck.id == planted).first()
    assert row == {"outcome": "safe", "session": uuid.UUID(own_session)}
    assert await Person.exists().where(Person.id == person_b)


async def test_a_refusal_does_not_tell_whether_another_groups_record_exists(phones, world):
    """Derived ids can be worked out from a poster or a QR link: the answer for another
    group's existing record is the answer for one that does not exist."""
    phone_a, phone_b = phones
    ibasho_b = await make_ibasho(world.group_b)
    day = date.today() + timedelta(days=30)
    session_b, person_b = await b_session_with_person(phone_b, world.group_b)
    phone_b.mutate(
        "session.upsert",
        id=str(scheduled_session_id(ibasho_b, day)),
        group_id=str(world.group_b),
        ibasho_id=str(ibasho_b),
        date=day.isoformat(),
    )
    phone_b.mutate("attendance.set", session_id=session_b, person_id=person_b, status="absent_unnotified")
    await phone_b.sync()

    def attempts(on_day, session, person):
        phone_a.mutate(
            "session.upsert",
            id=str(scheduled_session_id(ibasho_b, on_day)),
            group_id=str(world.group_a),
            date=on_day.isoformat(),
            title="x",
        )
        phone_a.mutate("safety.record", id=safety_check_id(session, person), outcome="safe")

    attempts(day, session_b, person_b)  # B has both
    attempts(day + timedelta(days=1), str(uuid.uuid4()), str(uuid.uuid4()))  # neither exists
    response = await phone_a.push()
    uuid_text = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    errors = [uuid_text.sub("ID", result["error"]) for result in response.json()["results"]]
    assert errors[:2] == errors[2:], errors
