"""The audit log holds every staff action that changes data or shows personal data, each
with the group it concerns, and the admins' page filters it by person, group and action."""

from __future__ import annotations

from server.tables import AuditLog
from tests.factories import make_session, redirected_to, unique


async def entries(account_id, action: str) -> list[dict]:
    return await AuditLog.select().where((AuditLog.account == account_id) & (AuditLog.action == action))


async def test_staff_actions_are_each_written_with_their_group(world, new_client):
    staff = await new_client()
    await staff.login(world.staff_a)
    session = await make_session(world.group_a)
    me = world.staff_a.account_id

    saved = await staff.form(
        f"/review/sessions/{session}/review", {"review_state": "follow_up", "review_comment": "次回お電話します"}
    )
    assert redirected_to(saved, f"/review/sessions/{session}")
    (review,) = await entries(me, "review.save")
    assert review["group"] == world.group_a and review["target"] == f"session:{session}"
    assert "follow_up" in review["detail"] and "次回お電話します" in review["detail"]  # the staff comment

    assert (await staff.form(f"/staff/groups/{world.group_a}/invitations", {"note": "佐藤さん"})).status_code == 200
    (invitation,) = await entries(me, "invitation.create")
    assert invitation["group"] == world.group_a and invitation["detail"] == "佐藤さん"

    assert (await staff.get(f"/review/groups/{world.group_a}/export.csv?year=2025")).status_code == 200
    assert (await staff.get(f"/review/areas/{world.area_a}/export.xlsx?year=2025")).status_code == 200
    assert [row["group"] for row in await entries(me, "export.group")] == [world.group_a]
    assert len(await entries(me, "export.area")) == 1

    assert (await staff.get(f"/review/sessions/{session}/sheet")).status_code == 200
    assert (await staff.get("/review/safety")).status_code == 200
    assert len(await entries(me, "sheet.print")) == 1 and len(await entries(me, "safety.view")) == 1

    renamed = unique("きらくら会")
    edited = await staff.form(f"/staff/groups/{world.group_a}/edit", {"area": str(world.area_a), "name": renamed})
    assert redirected_to(edited, f"/staff/groups/{world.group_a}")
    (update,) = await entries(me, "group.update")
    assert update["group"] == world.group_a and update["detail"] == renamed

    refused = await staff.form(f"/review/sessions/{session}/review", {"review_state": "nonsense"})
    assert refused.status_code == 422 and len(await entries(me, "review.save")) == 1  # nothing saved: no entry


async def test_account_changes_are_written(world, app_client):
    await app_client.login(world.admin)
    name = unique("中央圏域")
    assert redirected_to(await app_client.form("/admin/areas", {"name": name}), "/admin/areas")
    (created,) = await entries(world.admin.account_id, "area.create")
    assert created["detail"] == name
    response = await app_client.form(f"/admin/accounts/{world.staff_b.account_id}/revoke-sessions", {})
    assert response.status_code in (200, 303)
    assert await entries(world.admin.account_id, "account.revoke-sessions")


async def test_the_audit_page_filters_by_person_group_and_action(world, new_client):
    session_a, session_b = await make_session(world.group_a), await make_session(world.group_b)
    for person, session in ((world.staff_a, session_a), (world.staff_b, session_b)):
        staff = await new_client()
        await staff.login(person)
        await staff.form(f"/review/sessions/{session}/review", {"review_state": "reviewed"})
        await staff.get(f"/review/sessions/{session}")  # shows the concerns: view_concerns
    admin = await new_client()
    await admin.login(world.admin)

    page = (await admin.get("/review/audit")).text
    assert "開催回の確認を保存" in page and "気になる参加者の記録を閲覧" in page
    assert ">review.save<" not in page and ">view_concerns<" not in page

    by_group = (await admin.get(f"/review/audit?group={world.group_a}")).text
    assert f"/review/sessions/{session_a}" in by_group and f"/review/sessions/{session_b}" not in by_group

    by_person = (await admin.get(f"/review/audit?who={world.staff_b.account_id}")).text
    assert f"/review/sessions/{session_b}" in by_person and f"/review/sessions/{session_a}" not in by_person

    by_action = (await admin.get(f"/review/audit?action=view_concerns&group={world.group_a}")).text
    assert by_action.count('data-action="view_concerns"') == 1 and 'data-action="review.save"' not in by_action

    everything = (await admin.get("/review/audit?who=not-an-id&group=")).text  # a hand-edited link
    assert f"/review/sessions/{session_a}" in everything
