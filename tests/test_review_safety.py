"""Safety checks: the staff list (open first, oldest first, overdue flagged), scope, and a
follow-up recorded on a phone offline that shows up closed after sync."""

from __future__ import annotations

import uuid
from datetime import timedelta
from uuid import uuid4

from server.auth.sessions import now
from server.tables import Attendance, Ibasho, SafetyCheck
from tests.sync_phone import Phone
from tests.test_review_pages import make_person, make_session


def row_of(html: str, check_id) -> str:
    start = html.index(f'id="check-{check_id}"')
    return html[html.rindex("<tr", 0, start): html.index("</tr>", start)]


async def test_open_checks_oldest_first_and_overdue_flagged(world, app_client):
    session = await make_session(world.group_a)
    person = await make_person(world.group_a, "佐藤一郎")
    old, new, closed = uuid4(), uuid4(), uuid4()
    await SafetyCheck.insert(
        SafetyCheck(id=new, session=session, person=person, opened_at=now() - timedelta(days=1)),
        SafetyCheck(id=old, session=session, person=person, opened_at=now() - timedelta(days=4)),
        SafetyCheck(id=closed, session=session, person=person, outcome="safe", opened_at=now() - timedelta(days=9),
                    closed_at=now()),
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
    check = str(uuid.uuid4())
    # Offline: opened at the session, then the phone call the next morning.
    phone.mutate("safety.record", id=check, session_id=str(session), person_id=str(person), outcome="open")
    phone.mutate("safety.record", id=check, outcome="safe", contacted_by="田中", method="phone",
                 contacted_at=now().isoformat(), notes="風邪で休んでいた")
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
    await Ibasho.insert(Ibasho(id=ibasho, group=world.group_a, name="サロン", registration_required=True, created_at=now()))
    session = await make_session(world.group_a, now().date() - timedelta(days=2), ibasho=ibasho)
    waiting, followed = await make_person(world.group_a, "待ち"), await make_person(world.group_a, "済み")
    for person in (waiting, followed):
        await Attendance.insert(Attendance(id=f"{session}:{person}", session=session, person=person,
                                           status="absent_unnotified"))
    await SafetyCheck.insert(SafetyCheck(id=uuid4(), session=session, person=followed, opened_at=now()))
    await app_client.login(world.staff_a)
    html = (await app_client.get("/review/safety")).text
    assert html.count(f"absence-{session}-{waiting}") == 1 and f"absence-{session}-{followed}" not in html
