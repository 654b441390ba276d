"""Removing an organiser: staff of the group's area (and admins) remove them from a group,
deactivate the account or end its logins, from the group page. Their next pull and push
are refused or no longer carry the group, every step is audited, and concerns never leave
the council through an admin's pull either."""

from __future__ import annotations

import uuid

import pytest

from server.tables import Account, AuditLog, GroupMembership, PushSubscription
from tests.factories import make_account, make_group
from tests.sync_phone import Phone


async def signed_in(new_client, person):
    client = await new_client()
    await client.login(person)
    return client


async def phone_of(new_client, person) -> Phone:
    return Phone(await signed_in(new_client, person))


async def make_session(phone: Phone, group_id) -> str:
    session_id = str(uuid.uuid4())
    phone.mutate("session.upsert", id=session_id, group_id=str(group_id), date="2026-12-06", title="サロン")
    phone.mutate("note.set", session_id=session_id, field="concerns", text="Aさんの様子が気になる")
    await phone.sync()
    return session_id


def action_url(group_id, account_id, action: str) -> str:
    return f"/staff/groups/{group_id}/organisers/{account_id}/{action}"


async def pull_status(phone: Phone) -> tuple[int, dict]:
    response = await phone.http.get("/api/sync/pull", params={"client_id": phone.client_id, "cursor": 0})
    return response.status_code, response.json()


async def audited(account_id, action: str) -> bool:
    return await AuditLog.exists().where((AuditLog.action == action) & (AuditLog.target == f"account:{account_id}"))


async def test_an_organiser_removed_from_their_only_group_is_logged_out_at_once(world, new_client):
    phone = await phone_of(new_client, world.organiser_a)
    session_id = await make_session(phone, world.group_a)
    other_phone = await phone_of(new_client, await make_account("organiser", groups=[world.group_a]))
    await other_phone.pull()
    staff = await signed_in(new_client, world.staff_a)
    page = (await staff.get(f"/staff/groups/{world.group_a}")).text
    assert action_url(world.group_a, world.organiser_a.account_id, "remove") in page

    await PushSubscription.insert(
        PushSubscription(
            id=uuid.uuid4(),
            endpoint="https://fcm.googleapis.com/fcm/send/x" + uuid.uuid4().hex,
            p256dh="B" * 87,
            auth="A" * 22,
            account=world.organiser_a.account_id,
        )
    )
    response = await staff.form(action_url(world.group_a, world.organiser_a.account_id, "remove"), {})
    assert response.status_code == 303
    assert not await PushSubscription.exists().where(PushSubscription.account == world.organiser_a.account_id)

    status, body = await pull_status(phone)
    assert status == 401 and body["code"] == "session_ended"
    phone.mutate("note.set", session_id=session_id, field="went_well", text="まだ書ける？")
    refused = await phone.push()
    assert refused.status_code == 401 and refused.json()["code"] == "session_ended"
    assert not await GroupMembership.exists().where(
        (GroupMembership.account == world.organiser_a.account_id) & (GroupMembership.group == world.group_a)
    )
    assert await audited(world.organiser_a.account_id, "organiser.remove")
    # the group's other phones drop the member
    changes = await other_phone.pull()
    assert any(c["entity"] == "member" and c["deleted"] for c in changes)
    # and a fresh login gives nothing of the group
    again = await signed_in(new_client, world.organiser_a)
    me = (await again.get("/api/me")).json()
    assert me["groups"] == []


async def test_removal_from_one_of_two_groups_drops_only_that_group(world, new_client):
    second = await make_group(world.area_a)
    both = await make_account("organiser", groups=[world.group_a, second])
    phone = await phone_of(new_client, both)
    kept_session = await make_session(phone, world.group_a)
    lost_session = await make_session(phone, second)
    staff = await signed_in(new_client, world.staff_a)
    assert (await staff.form(action_url(second, both.account_id, "remove"), {})).status_code == 303

    status, body = await pull_status(phone)
    assert status == 200
    assert body["groups"] == [str(world.group_a)]  # the phone drops everything of the other group
    assert {c["data"]["id"] for c in body["changes"] if c["entity"] == "session"} == {kept_session}
    phone.mutate("note.set", session_id=lost_session, field="went_well", text="x")
    phone.mutate("note.set", session_id=kept_session, field="went_well", text="y")
    response = await phone.push()
    assert [r["status"] for r in response.json()["results"]] == ["rejected", "applied"]


async def test_deactivation_and_logging_out_end_every_login(world, new_client):
    phone = await phone_of(new_client, world.organiser_a)
    staff = await signed_in(new_client, world.staff_a)
    await PushSubscription.insert(
        PushSubscription(
            id=uuid.uuid4(),
            endpoint="https://fcm.googleapis.com/fcm/send/y" + uuid.uuid4().hex,
            p256dh="B" * 87,
            auth="A" * 22,
            account=world.organiser_a.account_id,
        )
    )
    assert (await staff.form(action_url(world.group_a, world.organiser_a.account_id, "logout"), {})).status_code == 303
    assert (await pull_status(phone))[1]["code"] == "session_ended"
    # a lost phone gets no reminder either (a meeting's name and place)
    assert not await PushSubscription.exists().where(PushSubscription.account == world.organiser_a.account_id)
    assert await audited(world.organiser_a.account_id, "organiser.logout")

    phone = await phone_of(new_client, world.organiser_a)  # a new login works: the account is active
    assert (await pull_status(phone))[0] == 200
    assert (
        await staff.form(action_url(world.group_a, world.organiser_a.account_id, "deactivate"), {})
    ).status_code == 303
    assert (await pull_status(phone))[1]["code"] == "session_ended"
    assert not (await Account.select(Account.active).where(Account.id == world.organiser_a.account_id).first())[
        "active"
    ]
    login = await (await new_client()).post(
        "/api/auth/login", json={"login": world.organiser_a.login, "password": world.organiser_a.password}
    )
    assert login.status_code == 401
    assert await audited(world.organiser_a.account_id, "organiser.deactivate")
    # reactivated with a link to a new password (server/auth/credentials.py): the old one
    # may be saved on whatever phone the account was deactivated for
    reactivated = await staff.form(action_url(world.group_a, world.organiser_a.account_id, "reactivate"), {})
    assert reactivated.status_code == 200 and "/reset/" in reactivated.text
    assert await audited(world.organiser_a.account_id, "organiser.reactivate")


async def test_who_may_remove_or_deactivate(world, new_client):
    target = world.organiser_a.account_id
    outsider = await signed_in(new_client, world.staff_b)
    organiser = await signed_in(new_client, world.organiser_b)
    assert (await outsider.form(action_url(world.group_a, target, "remove"), {})).status_code == 404
    assert (await organiser.form(action_url(world.group_a, target, "remove"), {})).status_code == 403
    # B's staff cannot reach A's organiser through B's own group either
    assert (await outsider.form(action_url(world.group_b, target, "deactivate"), {})).status_code == 404
    staff = await signed_in(new_client, world.staff_a)
    assert (await staff.form(action_url(world.group_a, target, "explode"), {})).status_code == 404
    # an organiser of groups in two areas: area A's staff may remove from A, not deactivate
    shared = await make_account("organiser", groups=[world.group_a, world.group_b])
    assert (await staff.form(action_url(world.group_a, shared.account_id, "deactivate"), {})).status_code == 403
    assert (await Account.select(Account.active).where(Account.id == shared.account_id).first())["active"]
    admin = await signed_in(new_client, world.admin)
    assert (await admin.form(action_url(world.group_a, shared.account_id, "deactivate"), {})).status_code == 303
    assert not await AuditLog.exists().where(AuditLog.target == f"account:{target}")


@pytest.mark.parametrize("role", ["admin_without_area", "staff_of_other_area"])
async def test_concerns_do_not_leak_through_pull(world, new_client, role):
    """The review pages hide 気になる参加者 from an admin not assigned to the area; pull too."""
    phone = await phone_of(new_client, world.organiser_a)
    session_id = await make_session(phone, world.group_a)
    # a conflicting concerns text, so the note's conflicts hold one too
    other = await phone_of(new_client, await make_account("organiser", groups=[world.group_a]))
    other.mutate("note.set", session_id=session_id, field="concerns", text="Bさんも気になる")
    await other.sync()
    person = world.admin if role == "admin_without_area" else world.staff_b
    watcher = await phone_of(new_client, person)
    await watcher.pull()
    note = watcher.get("note", session_id)
    if role == "staff_of_other_area":
        assert note is None  # not in scope at all
        return
    assert note is not None and note["went_well"] == ""
    assert note["concerns"] == "" and "concerns" not in note["hlcs"]
    assert all(c["field"] != "concerns" for c in note["conflicts"])
    staff = await phone_of(new_client, world.staff_a)  # the area's own staff see them
    await staff.pull()
    assert staff.get("note", session_id)["concerns"] == "Bさんも気になる"


async def test_a_removed_organisers_pending_reminders_of_that_group_go_at_once(world, new_client):
    from datetime import date, time, timedelta

    from server.reminders.planning import refresh_deliveries
    from server.tables import ReminderDelivery, Session

    second = await make_group(world.area_a)
    both = await make_account("organiser", groups=[world.group_a, second])
    sub = uuid.uuid4()
    await PushSubscription.insert(
        PushSubscription(
            id=sub,
            endpoint="https://fcm.googleapis.com/fcm/send/z" + uuid.uuid4().hex,
            p256dh="B" * 87,
            auth="A" * 22,
            account=both.account_id,
        )
    )
    meeting = uuid.uuid4()
    await Session.insert(
        Session(
            id=meeting,
            group=second,
            kind="meeting",
            title="運営会議",
            date=date.today() + timedelta(days=3),
            start_time=time(10),
            hlcs={},
        )
    )
    await refresh_deliveries(meeting)
    pending = ReminderDelivery.select(ReminderDelivery.state).where(ReminderDelivery.subscription == sub)
    assert {row["state"] for row in await pending} == {"pending"}
    staff = await signed_in(new_client, world.staff_a)
    assert (await staff.form(action_url(second, both.account_id, "remove"), {})).status_code == 303
    assert {row["state"] for row in await pending} == {"withdrawn"}


async def test_concerns_leave_in_an_export_only_for_the_areas_own_staff(world, new_client):
    import io
    import json
    import zipfile

    from server.tables import StaffArea

    phone = await phone_of(new_client, world.organiser_a)
    session_id = await make_session(phone, world.group_a)

    async def exported(person) -> dict:
        admin = await signed_in(new_client, person)
        response = await admin.get(f"/admin/groups/{world.group_a}/export.zip")
        assert response.status_code == 200
        document = json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("group.json"))
        return next(note for note in document["note"] if note["session_id"] == session_id)

    assert (await exported(world.admin))["concerns"] == ""
    await StaffArea.insert(StaffArea(id=uuid.uuid4(), account=world.admin.account_id, area=world.area_a))
    assert (await exported(world.admin))["concerns"] == "Aさんの様子が気になる"


async def test_an_unused_invitation_can_be_revoked(world, new_client, app_client):
    from server.auth.routes import create_invitation, invitation_token_hash
    from server.tables import Invitation

    token = await create_invitation(world.group_a, world.staff_a.account_id, "渡し間違えた")
    invitation = (
        await Invitation.select(Invitation.id).where(Invitation.token_hash == invitation_token_hash(token)).first()
    )
    url = f"/staff/groups/{world.group_a}/invitations/{invitation['id']}/revoke"
    assert (await (await signed_in(new_client, world.staff_b)).form(url, {})).status_code == 404
    staff = await signed_in(new_client, world.staff_a)
    assert url in (await staff.get(f"/staff/groups/{world.group_a}")).text
    assert (await staff.form(url, {})).status_code == 303
    assert (await app_client.get(f"/invite/{token}")).status_code == 410
    assert (await staff.form(url, {})).status_code == 404  # once
    assert await AuditLog.exists().where(AuditLog.action == "invitation.revoke")
