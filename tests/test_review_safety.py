"""Safety checks: the staff list (open first, oldest first, overdue flagged), scope, and a
follow-up recorded on a phone offline that shows up closed after sync."""

from __future__ import annotations

import uuid
from datetime import timedelta
from uuid import uuid4

from server.core.clock import now
from server.tables import Attendance, Ibasho, Person, SafetyCheck
from sync.ids import safety_check_id
from tests.factories import make_person, make_session, synced_phone
from tests.sync_phone import Phone


def row_of(html: str, check_id) -> str:
    start = html.index(f'id="check-{check_id}"')
    return html[html.rindex("<tr", 0, start) : html.index("</tr>", start)]


async def test_open_checks_oldest_first_and_overdue_flagged(world, app_client):
    session = await make_session(world.group_a)
    person = await make_person(world.group_a, "佐藤一郎")
    old, new, closed = uuid4(), uuid4(), uuid4()
    await SafetyCheck.insert(
        SafetyCheck(id=new, session=session, person=person, opened_at=now() - timedelta(days=1)),
        SafetyCheck(id=old, session=session, person=person, opened_at=now() - timedelta(days=4)),
        SafetyCheck(
            id=closed,
            session=session,
            person=person,
            outcome="safe",
            opened_at=now() - timedelta(days=9),
            closed_at=now(),
        ),
    )
    await app_client.login(world.staff_a)
    html = (await app_client.get("/review/safety")).text
    assert f"check-{closed}" not in html
    assert html.index(f"check-{old}") < html.index(f"check-{new}")
    assert "overdue" in row_of(html, old) and "overdue" not in row_of(html, new)
    everything = (await app_client.get("/review/safety?show=all")).text
    assert everything.index(f"check-{new}") < everything.index(f"check-{closed}")  # open ones first
    assert 'class="closed"' in row_of(everything, closed)


async def test_staff_of_another_area_do_not_see_the_checks_and_organisers_get_403(world, new_client):
    session = await make_session(world.group_b)
    person = await make_person(world.group_b)
    check = uuid4()
    await SafetyCheck.insert(SafetyCheck(id=check, session=session, person=person, opened_at=now()))
    staff_a = await new_client()
    await staff_a.login(world.staff_a)
    assert f"check-{check}" not in (await staff_a.get("/review/safety?show=all")).text
    organiser = await new_client()
    await organiser.login(world.organiser_b)
    assert (await organiser.get("/review/safety")).status_code == 403


async def test_a_check_recorded_offline_on_a_phone_shows_closed_after_sync(world, new_client):
    session = await make_session(world.group_a)
    person = await make_person(world.group_a, "鈴木ハナ")
    organiser = await new_client()
    await organiser.login(world.organiser_a)
    phone = Phone(organiser)
    check = safety_check_id(str(session), str(person))
    # Offline: opened at the session, then the phone call the next morning.
    phone.mutate("safety.record", id=check, session_id=str(session), person_id=str(person), outcome="open")
    phone.mutate(
        "safety.record",
        id=check,
        outcome="safe",
        contacted_by="田中",
        method="phone",
        contacted_at=now().isoformat(),
        notes="風邪で休んでいた",
    )
    staff = await new_client()
    await staff.login(world.staff_a)
    assert f"check-{check}" not in (await staff.get("/review/safety?show=all")).text

    response = await phone.push()
    assert response.status_code == 200, response.text
    assert phone.outbox == []
    html = (await staff.get("/review/safety?show=all")).text
    row = row_of(html, check)
    assert 'class="closed"' in row and "田中" in row and "鈴木ハナ" in row
    assert "outcome-safe" in row
    assert f"check-{check}" not in (await staff.get("/review/safety")).text


async def test_absences_without_notice_with_no_follow_up_are_listed(world, app_client):
    ibasho = uuid4()
    await Ibasho.insert(
        Ibasho(id=ibasho, group=world.group_a, name="サロン", registration_required=True, created_at=now())
    )
    session = await make_session(world.group_a, now().date() - timedelta(days=2), ibasho=ibasho)
    waiting, followed = await make_person(world.group_a, "待ち"), await make_person(world.group_a, "済み")
    for person in (waiting, followed):
        await Attendance.insert(
            Attendance(id=f"{session}:{person}", session=session, person=person, status="absent_unnotified")
        )
    await SafetyCheck.insert(SafetyCheck(id=uuid4(), session=session, person=followed, opened_at=now()))
    await app_client.login(world.staff_a)
    html = (await app_client.get("/review/safety")).text
    assert html.count(f"absence-{session}-{waiting}") == 1 and f"absence-{session}-{followed}" not in html


async def registration_session(group, *, registration_required=True):
    ibasho = uuid4()
    await Ibasho.insert(
        Ibasho(id=ibasho, group=group, name="サロン", registration_required=registration_required, created_at=now())
    )
    return str(await make_session(group, now().date(), ibasho=ibasho))


async def checks_of(session_id) -> list[dict]:
    return await SafetyCheck.select(SafetyCheck.id, SafetyCheck.person, SafetyCheck.outcome).where(
        SafetyCheck.session == session_id
    )


async def test_marking_no_show_opens_one_follow_up_that_every_phone_and_staff_see(world, new_client):
    session = await registration_session(world.group_a)
    person = str(await make_person(world.group_a, "高橋ツル"))
    first, second = await synced_phone(new_client, world.organiser_a), await synced_phone(new_client, world.organiser_a)
    # Two phones mark the same person 無断欠席 offline, then both sync.
    for phone in (first, second):
        phone.mutate("attendance.set", session_id=session, person_id=person, status="absent_unnotified")
    for phone in (first, second):
        await phone.sync()
    await first.pull()
    check_id = safety_check_id(session, person)
    assert await checks_of(session) == [{"id": uuid.UUID(check_id), "person": uuid.UUID(person), "outcome": "open"}]
    for phone in (first, second):
        assert phone.get("safety_check", check_id)["outcome"] == "open"
    staff = await new_client()
    await staff.login(world.staff_a)
    assert f"check-{check_id}" in (await staff.get("/review/safety")).text


async def test_a_follow_up_recorded_offline_before_the_mark_reached_the_server_stays_one_record(world, new_client):
    session = await registration_session(world.group_a)
    person = str(await make_person(world.group_a))
    phone = await synced_phone(new_client, world.organiser_a)
    check_id = safety_check_id(session, person)
    phone.mutate("attendance.set", session_id=session, person_id=person, status="absent_unnotified")
    phone.mutate(
        "safety.record",
        id=check_id,
        session_id=session,
        person_id=person,
        outcome="safe",
        contacted_by="田中",
        method="phone",
        contacted_at=now().isoformat(),
    )
    await phone.sync()
    assert [c["outcome"] for c in await checks_of(session)] == ["safe"]


async def test_correcting_the_mark_withdraws_an_untouched_follow_up_and_a_new_mark_reopens_it(world, new_client):
    session = await registration_session(world.group_a)
    person = str(await make_person(world.group_a))
    phone = await synced_phone(new_client, world.organiser_a)
    check_id = safety_check_id(session, person)
    for status, outcome in [("absent_unnotified", "open"), ("present", "withdrawn"), ("absent_unnotified", "open")]:
        phone.mutate("attendance.set", session_id=session, person_id=person, status=status)
        await phone.sync()
        assert phone.get("safety_check", check_id)["outcome"] == outcome
    # Once someone has called, a correction no longer erases the record of the call.
    phone.mutate("safety.record", id=check_id, contacted_by="田中", method="phone")
    phone.mutate("attendance.set", session_id=session, person_id=person, status="absent_notified")
    await phone.sync()
    assert phone.get("safety_check", check_id)["outcome"] == "open"
    assert [c["outcome"] for c in await checks_of(session)] == ["open"]


async def test_no_follow_up_for_notified_absence_open_ibasho_or_unregistered_people(world, new_client):
    registration = await registration_session(world.group_a)
    walk_in = await registration_session(world.group_a, registration_required=False)
    registered = str(await make_person(world.group_a))
    guest = str(await make_person(world.group_a, "見学者"))
    await Person.update({Person.registered: False}).where(Person.id == guest)
    phone = await synced_phone(new_client, world.organiser_a)
    phone.mutate("attendance.set", session_id=registration, person_id=registered, status="absent_notified")
    phone.mutate("attendance.set", session_id=walk_in, person_id=registered, status="absent_unnotified")
    phone.mutate("attendance.set", session_id=registration, person_id=guest, status="absent_unnotified")
    await phone.sync()
    assert await SafetyCheck.count().where(SafetyCheck.session.is_in([registration, walk_in])) == 0
