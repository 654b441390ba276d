"""Staff review pages: group review, session review (state, comment, sync), sensitive notes
and the audit log, scope of every page and export."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

from server.core.clock import now
from server.tables import (
    Attendance,
    AuditLog,
    ChangeLog,
    Ibasho,
    RoleAssignment,
    SafetyCheck,
    Session,
)
from tests.factories import (
    CONCERN,
    login_client,
    make_account,
    make_person,
    make_programme,
    make_session,
    synced_phone,
)

YEAR = 2025


async def audit_rows(account_id: UUID, session_id: UUID) -> int:
    return await AuditLog.count().where((AuditLog.account == account_id) & (AuditLog.target == f"session:{session_id}"))


# --- scope --------------------------------------------------------------------------------------


def pages_of(group_id: UUID, session_id: UUID) -> list[str]:
    return [
        f"/review/groups/{group_id}",
        f"/review/groups/{group_id}?year={YEAR}",
        f"/review/sessions/{session_id}",
    ]


async def test_staff_of_another_area_get_404_and_organisers_403(world, new_client):
    session_b = await make_session(world.group_b)
    staff_a = await new_client()
    await staff_a.login(world.staff_a)
    organiser = await new_client()
    await organiser.login(world.organiser_b)
    for url in pages_of(world.group_b, session_b):
        assert (await staff_a.get(url)).status_code == 404, url
        assert (await organiser.get(url)).status_code == 403, url
    response = await staff_a.form(f"/review/sessions/{session_b}/review", {"review_state": "reviewed"})
    assert response.status_code == 404
    response = await organiser.form(f"/review/sessions/{session_b}/review", {"review_state": "reviewed"})
    assert response.status_code == 403
    assert (await Session.select(Session.review_state).where(Session.id == session_b).first())[
        "review_state"
    ] == "unreviewed"
    assert (await organiser.get("/review/audit")).status_code == 403
    assert (await staff_a.get("/review/audit")).status_code == 403
    assert await AuditLog.count().where(AuditLog.target == f"session:{session_b}") == 0


async def test_not_logged_in_is_refused(world, app_client):
    session_a = await make_session(world.group_a)
    for url in pages_of(world.group_a, session_a):
        assert (await app_client.get(url)).status_code in (401, 302, 303), url


# --- group review -------------------------------------------------------------------------------


async def test_group_review_shows_sessions_by_month_with_attendance_roles_notes_and_grant(world, app_client):
    ibasho_id = uuid4()
    await Ibasho.insert(Ibasho(id=ibasho_id, group=world.group_a, name="きらくら", created_at=now()))
    first = await make_session(world.group_a, date(2025, 5, 10), ibasho=ibasho_id)
    await make_session(world.group_a, date(2025, 6, 14), tallies={"adult": 7}, ibasho=ibasho_id)
    await make_session(world.group_a, date(2025, 3, 31), tallies={"adult": 99})  # the year before
    member = await make_account("organiser", groups=[world.group_a])
    await RoleAssignment.insert(
        RoleAssignment(id=f"{first}:調理:{member.account_id}", session=first, role="調理", member=member.account_id)
    )
    venue = {"kind": "venue", "cap": 1000}
    rules = {"components": [{"kind": "per_session", "amount": 2500}, venue], "caps": {"per_year": 100000}}
    await make_programme(rules, enrol=world.group_a)

    await app_client.login(world.staff_a)
    response = await app_client.get(f"/review/groups/{world.group_a}?year={YEAR}")
    assert response.status_code == 200
    html = response.text
    assert "令和7年度" in html
    assert "2025年5月" in html and "2025年6月" in html
    assert "調理" in html and "楽しかった" in html and "米を買う" in html
    assert CONCERN not in html  # concerns only on the session page, with an audit row
    assert ">99<" not in html
    assert "7,000" in html  # (2500 + 1000) × 2: venue 1500 capped to 1000
    assert await AuditLog.count().where(AuditLog.account == world.staff_a.account_id) == 0


# --- session review and sensitive notes -----------------------------------------------------------


async def test_each_view_of_concerns_by_area_staff_leaves_one_audit_row(world, app_client):
    session_a = await make_session(world.group_a)
    await app_client.login(world.staff_a)
    for expected in (1, 2):
        response = await app_client.get(f"/review/sessions/{session_a}")
        assert response.status_code == 200
        assert CONCERN in response.text
        assert response.headers["cache-control"] == "no-store"
        assert await audit_rows(world.staff_a.account_id, session_a) == expected
    row = await AuditLog.select().where(AuditLog.target == f"session:{session_a}").first()
    assert row["action"] == "view_concerns"


async def test_admin_not_assigned_to_the_area_does_not_see_concerns_but_reads_the_audit_log(world, new_client):
    session_a = await make_session(world.group_a)
    staff = await new_client()
    await staff.login(world.staff_a)
    await staff.get(f"/review/sessions/{session_a}")
    admin = await new_client()
    await admin.login(world.admin)
    response = await admin.get(f"/review/sessions/{session_a}")
    assert response.status_code == 200
    assert CONCERN not in response.text and "楽しかった" in response.text
    assert await audit_rows(world.admin.account_id, session_a) == 0
    log = await admin.get("/review/audit?action=view_concerns")
    assert log.status_code == 200
    assert f"/review/sessions/{session_a}" in log.text and world.staff_a.login in log.text


async def test_a_session_without_concerns_writes_no_audit_row(world, app_client):
    session_a = await make_session(world.group_a, note=False)
    await app_client.login(world.staff_a)
    assert (await app_client.get(f"/review/sessions/{session_a}")).status_code == 200
    assert await audit_rows(world.staff_a.account_id, session_a) == 0


async def test_review_state_and_comment_reach_the_organisers_phone(world, new_client):
    session_a = await make_session(world.group_a)
    phone = await synced_phone(new_client, world.organiser_a)
    staff = await login_client(new_client, world.staff_a)
    response = await staff.form(
        f"/review/sessions/{session_a}/review", {"review_state": "follow_up", "review_comment": "次回訪問します"}
    )
    assert response.status_code == 303
    row = await Session.select(Session.review_state, Session.review_comment).where(Session.id == session_a).first()
    assert row == {"review_state": "follow_up", "review_comment": "次回訪問します"}
    assert await ChangeLog.count().where(ChangeLog.key == f"session:{session_a}") == 1
    changes = await phone.pull()
    data = next(c["data"] for c in changes if c["entity"] == "session" and c["id"] == str(session_a))
    assert data["review_state"] == "follow_up" and data["review_comment"] == "次回訪問します"


async def test_a_bad_review_state_is_refused(world, app_client):
    session_a = await make_session(world.group_a)
    await app_client.login(world.staff_a)
    response = await app_client.form(f"/review/sessions/{session_a}/review", {"review_state": "nonsense"})
    assert response.status_code == 422
    assert (await Session.select(Session.review_state).where(Session.id == session_a).first())[
        "review_state"
    ] == "unreviewed"


async def test_session_page_lists_named_attendance_and_safety_checks(world, app_client):
    session_a = await make_session(world.group_a)
    person = await make_person(world.group_a)
    await Attendance.insert(
        Attendance(id=f"{session_a}:{person}", session=session_a, person=person, status="absent_unnotified")
    )
    await SafetyCheck.insert(SafetyCheck(id=uuid4(), session=session_a, person=person, opened_at=now()))
    await app_client.login(world.staff_a)
    html = (await app_client.get(f"/review/sessions/{session_a}")).text
    assert html.count("山田花子") == 2
