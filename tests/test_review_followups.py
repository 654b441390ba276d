"""The follow-up list: items derived from the data, their state kept by key, scope and audit."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote
from uuid import uuid4

import pytest

from server.core.clock import now
from server.core.dates import format_moment
from server.review import followups
from server.review.data import today
from server.tables import (
    Attendance,
    AuditLog,
    FollowUp,
    FollowUpComment,
    Ibasho,
    Person,
    SafetyCheck,
    SyncClient,
)
from tests.factories import login_client, make_account, make_programme, make_session

RECENT = timedelta(days=2)


async def registered_ibasho(group, needed: int = 3):
    ibasho = uuid4()
    await Ibasho.insert(
        Ibasho(id=ibasho, group=group, name="ひだまりサロン", registration_required=True, absence_follow_up=needed)
    )
    return ibasho


async def mark(session, person, status):
    await Attendance.insert(Attendance(id=f"{session}:{person}", session=session, person=person, status=status))


async def absences(group, ibasho, person, statuses):
    """One held session a week, oldest first, with the person marked as ``statuses``."""
    sessions = []
    for weeks_ago, status in zip(range(len(statuses), 0, -1), statuses, strict=True):
        session = await make_session(group, today() - timedelta(weeks=weeks_ago), ibasho=ibasho, note=False)
        await mark(session, person, status)
        sessions.append(session)
    return sessions


async def page(client) -> str:
    response = await client.get("/review/follow-ups")
    assert response.status_code == 200
    return response.text


def open_part(html: str) -> str:
    return html[: html.index("followup-history")]


async def test_each_kind_of_item_is_derived_for_the_areas_staff_only(world, new_client):
    ibasho = await registered_ibasho(world.group_a)
    person = uuid4()
    await Person.insert(Person(id=person, group=world.group_a, display_name="休み 続子"))
    absent = "absent_notified"
    await absences(world.group_a, ibasho, person, ["present", absent, "absent_unnotified", absent])
    # three absences and then present: not on the list
    back = uuid4()
    await Person.insert(Person(id=back, group=world.group_a, display_name="戻り 花子"))
    await absences(world.group_a, ibasho, back, [absent, absent, absent, "present"])
    # an open safety check
    checked = uuid4()
    await Person.insert(Person(id=checked, group=world.group_a, display_name="確認 待子"))
    session = await make_session(world.group_a, today() - RECENT, note=False)
    await SafetyCheck.insert(SafetyCheck(id=uuid4(), session=session, person=checked, opened_at=now()))
    # a phone of the group's organiser that last synced 20 days ago
    stale = now() - timedelta(days=20)
    await SyncClient.insert(
        SyncClient(id=uuid4(), account=world.organiser_a.account_id, created_at=stale, last_seen_at=stale)
    )
    # a grant asking for a session every month, and the last session long ago
    await make_programme(
        {"components": [{"kind": "fixed", "amount": 1000}], "requirements": {"every_months": 1}},
        enrol=world.group_b,
        first_year=2000,
    )
    await make_session(world.group_b, today() - timedelta(days=45), note=False)

    staff_a = await login_client(new_client, world.staff_a)
    html = open_part(await page(staff_a))
    assert "休み 続子" in html and "3回連続" in html
    assert "戻り 花子" not in html
    assert "確認 待子" in html
    assert "kind-sync" in html and "の端末" in html and "最終同期" in html
    assert "20日間、どの端末も同期していません" in html
    assert format_moment(stale) in html  # each device's last sync, in Japan time
    staff_b = await login_client(new_client, world.staff_b)
    other = open_part(await page(staff_b))
    assert "休み 続子" not in other and "確認 待子" not in other
    assert "kind-grant" in other  # group B's grant rule is failing or about to

    admin = await login_client(new_client, world.admin)
    everything = open_part(await page(admin))
    assert "休み 続子" in everything and "kind-grant" in everything


@pytest.mark.parametrize("by_id", [True, False], ids=["people-by-id", "too-many-to-ask-by-id"])
async def test_n_is_set_per_ibasho(world, new_client, monkeypatch, by_id):
    if not by_id:
        monkeypatch.setattr(followups, "CANDIDATES_PER_QUERY", 0)
    ibasho = await registered_ibasho(world.group_a, needed=2)
    person = uuid4()
    await Person.insert(Person(id=person, group=world.group_a, display_name="二回 休美"))
    await absences(world.group_a, ibasho, person, ["present", "absent_notified", "absent_notified"])
    strict = await registered_ibasho(world.group_a, needed=5)
    other = uuid4()
    await Person.insert(Person(id=other, group=world.group_a, display_name="四回 休男"))
    await absences(world.group_a, strict, other, ["absent_notified"] * 4)
    html = open_part(await page(await login_client(new_client, world.staff_a)))
    assert "二回 休美" in html and "四回 休男" not in html


async def open_check(world) -> str:
    person = uuid4()
    await Person.insert(Person(id=person, group=world.group_a, display_name="対応 一郎"))
    session = await make_session(world.group_a, today() - RECENT, note=False)
    check = uuid4()
    await SafetyCheck.insert(SafetyCheck(id=check, session=session, person=person, opened_at=now()))
    return f"safety:{check}"


async def test_assign_comment_close_reopen_are_kept_audited_and_closed_items_stay_in_history(world, new_client):
    key = await open_check(world)
    url = f"/review/follow-ups/{quote(key)}"
    colleague = await make_account("staff", areas=[world.area_a])
    staff = await login_client(new_client, world.staff_a)

    response = await staff.form(url, {"action": "assign", "assignee": str(colleague.account_id)})
    assert response.status_code == 303 and "#item-" in response.headers["location"]
    response = await staff.form(url, {"action": "comment", "body": "明日電話します"})
    assert response.status_code == 303
    html = open_part(await page(staff))
    card = html[html.index(f'data-key="{key}"') :]
    card = card[: card.index("</li>\n")]
    assert "明日電話します" in card and f"staff {colleague.login[-4:]}" in card

    assert (await staff.form(url, {"action": "close", "body": "無事でした"})).status_code == 303
    html = await page(staff)
    assert f'data-key="{key}"' not in open_part(html)  # still derived (the check is open), but closed
    history = html[html.index("followup-history") :]
    assert f'data-key="{key}"' in history and "無事でした" in history and "明日電話します" in history

    assert (await staff.form(url, {"action": "reopen"})).status_code == 303
    assert f'data-key="{key}"' in open_part(await page(staff))

    actions = [
        row["action"]
        for row in await AuditLog.select(AuditLog.action)
        .where(AuditLog.target == f"follow_up:{key}")
        .order_by(AuditLog.at)
    ]
    assert actions == ["follow_up_assign", "follow_up_comment", "follow_up_close", "follow_up_reopen"]
    row = await FollowUp.select().where(FollowUp.key == key).first()
    assert row["assignee"] == colleague.account_id and row["closed_at"] is None and row["area"] == world.area_a


async def test_bad_input_is_422_in_japanese_keeps_the_text_and_changes_nothing(world, new_client):
    key = await open_check(world)
    url = f"/review/follow-ups/{quote(key)}"
    staff = await login_client(new_client, world.staff_a)
    response = await staff.form(url, {"action": "assign", "assignee": str(world.staff_b.account_id)})
    assert response.status_code == 422 and "この圏域の職員を選んでください" in response.text
    response = await staff.form(url, {"action": "comment", "body": "   "})
    assert response.status_code == 422 and "コメントを書いてください" in response.text
    response = await staff.form(url, {"action": "comment", "body": "長" * 2001})
    assert response.status_code == 422 and "長" * 2001 in response.text
    assert await FollowUp.count().where(FollowUp.key == key) == 0
    assert await AuditLog.count().where(AuditLog.target == f"follow_up:{key}") == 0


async def test_staff_of_another_area_can_neither_see_nor_change_an_item(world, new_client):
    key = await open_check(world)
    url = f"/review/follow-ups/{quote(key)}"
    staff_a = await login_client(new_client, world.staff_a)
    assert (await staff_a.form(url, {"action": "close"})).status_code == 303
    staff_b = await login_client(new_client, world.staff_b)
    assert f'data-key="{key}"' not in await page(staff_b)  # not even in the history
    for action in ("comment", "reopen", "assign", "close"):
        response = await staff_b.form(url, {"action": action, "body": "見ました"})
        assert response.status_code == 404, action
    assert await FollowUpComment.count().where(FollowUpComment.follow_up == key) == 0
    row = await FollowUp.select(FollowUp.closed_at).where(FollowUp.key == key).first()
    assert row["closed_at"] is not None
    organiser = await login_client(new_client, world.organiser_a)
    assert (await organiser.get("/review/follow-ups")).status_code == 403


async def test_a_pull_records_when_the_device_last_synced(world, new_client):
    device = uuid4()
    long_ago = now() - timedelta(days=30)
    await SyncClient.insert(
        SyncClient(id=device, account=world.organiser_a.account_id, created_at=long_ago, last_seen_at=long_ago)
    )
    phone = await login_client(new_client, world.organiser_a)
    assert (await phone.get(f"/api/sync/pull?client_id={device}")).status_code == 200
    row = await SyncClient.select(SyncClient.last_pull_at).where(SyncClient.id == device).first()
    assert now() - row["last_pull_at"] < timedelta(minutes=1)
    html = open_part(await page(await login_client(new_client, world.staff_a)))
    assert f'data-key="sync:{world.group_a}' not in html  # it synced just now


async def test_staff_set_the_number_of_absences_on_the_ibasho_form(world, new_client):
    ibasho = await registered_ibasho(world.group_a)
    staff = await login_client(new_client, world.staff_a)
    form = {
        "name": "ひだまりサロン",
        "kind": "salon",
        "audience": "anyone",
        "status": "active",
        "frequency": "monthly",
        "weekday": "SU",
        "nth": "1",
        "timezone": "Asia/Tokyo",
        "registration_required": "1",
    }
    edit = f"/staff/ibasho/{ibasho}/edit"
    assert 'name="absence_follow_up" type="number" value="3"' in (await staff.get(edit)).text
    refused = await staff.form(edit, {**form, "absence_follow_up": "0"})
    assert (
        refused.status_code == 422 and "何回続けて欠席したら要フォローにするかは1〜12で入力してください" in refused.text
    )
    assert (await staff.form(edit, {**form, "absence_follow_up": "2"})).status_code == 303
    row = await Ibasho.select(Ibasho.absence_follow_up).where(Ibasho.id == ibasho).first()
    assert row["absence_follow_up"] == 2
