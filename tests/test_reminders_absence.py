"""Absence replies (issue #5, item 6): a registered participant linked to their own
subscription through the organiser's personal QR code answers a reminder with 「欠席します」.

The reminder goes through the fake push service (VAPID checked, body decrypted), so the
absence URL the tests use is the one the participant's phone would have received.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from uuid import uuid4

import pytest

from server.reminders import tokens
from server.reminders.planning import refresh_deliveries
from server.reminders.worker import send_due
from server.tables import (
    Attendance,
    ChangeLog,
    Ibasho,
    Person,
    PushSubscription,
    ReminderDelivery,
    SafetyCheck,
    Session,
    SessionKind,
    SessionStatus,
)
from tests.factories import make_account, make_area, make_group, unique
from tests.sync_phone import Phone

pytestmark = pytest.mark.usefixtures("no_other_deliveries")


async def venue(registration_required: bool = True):
    """A group with a registration-based ibasho, a registered participant, an organiser and a
    session three days from now (replies are taken until it starts, by the real clock)."""
    area = await make_area()
    group = await make_group(area)
    ibasho_id, person_id, session_id = uuid4(), uuid4(), uuid4()
    now = datetime.now(UTC)
    await Ibasho.insert(
        Ibasho(
            id=ibasho_id,
            group=group,
            name=unique("すみれの家"),
            registration_required=registration_required,
            created_at=now,
        )
    )
    await Person.insert(
        Person(id=person_id, group=group, display_name="山田 花子", registered=True, hlcs={}, updated_at=now)
    )
    await Session.insert(
        Session(
            id=session_id,
            group=group,
            ibasho=ibasho_id,
            title="すみれの家",
            date=date.today() + timedelta(days=3),
            start_time=time(10, 0),
            venue="西部コミセン",
            status=SessionStatus.scheduled.value,
            hlcs={},
            created_at=now,
            updated_at=now,
        )
    )
    organiser = await make_account("organiser", groups=[group])
    return {
        "area": area,
        "group": group,
        "ibasho": ibasho_id,
        "person": person_id,
        "session": session_id,
        "organiser": organiser,
    }


async def linked_subscription(app_client, push, place) -> tuple:
    """What the participant's phone does after scanning the organiser's QR code."""
    await app_client.login(place["organiser"])
    link = await app_client.post("/api/push/person-links", json={"person_id": str(place["person"])})
    assert link.status_code == 201, link.text
    token = link.json()["url"].split("?person=", 1)[1]
    await app_client.post("/api/auth/logout")
    sub = push.subscriber()
    saved = await app_client.post(
        "/api/push/subscriptions",
        json={
            "endpoint": push.endpoint(sub),
            "keys": {"p256dh": sub.p256dh, "auth": sub.auth},
            "ibasho_id": str(place["ibasho"]),
            "person_token": token,
        },
    )
    assert saved.status_code == 201, saved.text
    return sub, saved.json()["id"]


async def delivered(push, sender, place, sub) -> dict:
    """Make the day-before reminder due, send it, and return what the phone decrypted."""
    await refresh_deliveries(place["session"])
    due = (
        await ReminderDelivery.select(ReminderDelivery.due_at)
        .where(ReminderDelivery.session == place["session"])
        .order_by(ReminderDelivery.due_at)
        .first()
    )["due_at"]
    states = await send_due(sender, now=due)
    assert states and set(states) == {"sent"}
    assert push.errors == []
    return push.for_path(sub)[-1].payload


async def test_only_the_groups_organisers_get_a_personal_qr_code(app_client, new_client):
    place = await venue()
    await app_client.login(place["organiser"])
    response = await app_client.post("/api/push/person-links", json={"person_id": str(place["person"])})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["url"].startswith(f"http://testserver.local/i/{place['ibasho']}?person=")
    assert body["qr_svg"].startswith("<svg")
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(minutes=14) < expires - datetime.now(UTC) <= timedelta(minutes=15)

    others = {
        "anonymous": (None, 401),
        "organiser of another group": (await make_account("organiser", groups=[await make_group(place["area"])]), 404),
        "staff of the area": (await make_account("staff", areas=[place["area"]]), 404),
        "admin": (await make_account("admin"), 404),
    }
    for who, (person, status) in others.items():
        client = await new_client()
        if person:
            await client.login(person)
        refused = await client.post("/api/push/person-links", json={"person_id": str(place["person"])})
        assert refused.status_code == status, who
    unknown = await app_client.post("/api/push/person-links", json={"person_id": str(uuid4())})
    assert unknown.status_code == 404


async def test_a_personal_qr_code_needs_a_registered_participant_and_a_registration_based_ibasho(app_client):
    open_to_all = await venue(registration_required=False)
    await app_client.login(open_to_all["organiser"])
    response = await app_client.post("/api/push/person-links", json={"person_id": str(open_to_all["person"])})
    assert response.status_code == 409

    place = await venue()
    await app_client.login(place["organiser"])
    await Person.update({Person.registered: False}).where(Person.id == place["person"])
    assert (
        await app_client.post("/api/push/person-links", json={"person_id": str(place["person"])})
    ).status_code == 409


async def test_subscribing_through_the_personal_link_ties_the_subscription_to_the_person(app_client, push, allow_fake):
    place = await venue()
    sub, sub_id = await linked_subscription(app_client, push, place)
    row = await PushSubscription.select().where(PushSubscription.id == sub_id).first()
    assert row["person"] == place["person"] and row["ibasho"] == place["ibasho"] and row["account"] is None

    token, _ = tokens.person_link(place["person"], place["ibasho"])
    page = await app_client.get(f"/i/{place['ibasho']}", params={"person": token})
    assert page.status_code == 200 and f'data-person="{token}"' in page.text
    assert "参加できないことを運営の方に伝えられます" in page.text

    # an expired link, a link for another ibasho, a forged one: a link that leads nowhere (404),
    # and the page says so
    expired, _ = tokens.person_link(place["person"], place["ibasho"], now=datetime.now().timestamp() - 3600)
    elsewhere, _ = tokens.person_link(place["person"], uuid4())
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    for bad in (expired, elsewhere, forged):
        other = push.subscriber()
        refused = await app_client.post(
            "/api/push/subscriptions",
            json={
                "endpoint": push.endpoint(other),
                "keys": {"p256dh": other.p256dh, "auth": other.auth},
                "ibasho_id": str(place["ibasho"]),
                "person_token": bad,
            },
        )
        assert refused.status_code == 404 and "expired" in refused.json()["detail"], bad
        page = await app_client.get(f"/i/{place['ibasho']}", params={"person": bad})
        assert "期限切れ" in page.text and "data-person" not in page.text

    # the same phone subscribing again from the plain poster keeps its link to the person
    again = await app_client.post(
        "/api/push/subscriptions",
        json={
            "endpoint": push.endpoint(sub),
            "keys": {"p256dh": sub.p256dh, "auth": sub.auth},
            "ibasho_id": str(place["ibasho"]),
        },
    )
    assert again.status_code == 201
    assert (await PushSubscription.select(PushSubscription.person).where(PushSubscription.id == sub_id).first())[
        "person"
    ] == place["person"]


async def test_an_absence_reply_records_absent_notified_once_and_organisers_pull_it(
    app_client, new_client, push, allow_fake, sender
):
    place = await venue()
    sub, _ = await linked_subscription(app_client, push, place)
    plain = push.subscriber()  # a neighbour subscribed from the poster: no reply possible
    await app_client.post(
        "/api/push/subscriptions",
        json={
            "endpoint": push.endpoint(plain),
            "keys": {"p256dh": plain.p256dh, "auth": plain.auth},
            "ibasho_id": str(place["ibasho"]),
        },
    )
    message = await delivered(push, sender, place, sub)
    assert message["actions"] == [{"action": "absent", "title": "欠席します"}]
    assert message["absent_url"].startswith("/api/push/absences/")
    token = message["absent_url"].rsplit("/", 1)[1]
    assert message["url"] == f"/push/reply/{token}"  # iOS: the notification opens the same button
    assert "actions" not in push.for_path(plain)[-1].payload

    organiser = await new_client()
    await organiser.login(place["organiser"])
    phone = Phone(organiser)
    await phone.pull()

    page = await app_client.get(message["url"])
    assert page.status_code == 200 and "欠席します" in page.text and "西部コミセン" in page.text

    # no CSRF token: the service worker has none, and the secret URL is the whole authority
    reply = await app_client.http.post(message["absent_url"])
    assert reply.status_code == 200, reply.text
    assert reply.json() == {"status": "absent_notified", "session_id": str(place["session"])}
    attendance_id = f"{place['session']}:{place['person']}"
    assert (await Attendance.select(Attendance.status).where(Attendance.id == attendance_id).first())[
        "status"
    ] == "absent_notified"
    assert not await SafetyCheck.exists().where(SafetyCheck.session == place["session"])
    changes = await phone.pull()
    assert [(c["entity"], c["data"]["status"]) for c in changes] == [("attendance", "absent_notified")]
    assert phone.get("attendance", attendance_id)["person_id"] == str(place["person"])

    change_no = (
        await ChangeLog.select(ChangeLog.change_no).where(ChangeLog.key == f"attendance:{attendance_id}").first()
    )["change_no"]
    again = await app_client.http.post(message["absent_url"])
    assert again.status_code == 200  # idempotent: nothing new for the phones
    assert (await ChangeLog.select(ChangeLog.change_no).where(ChangeLog.key == f"attendance:{attendance_id}").first())[
        "change_no"
    ] == change_no
    assert await phone.pull() == []
    assert "運営の方にお伝えしました" in (await app_client.get(message["url"])).text


async def test_wrong_or_dead_absence_tokens_are_404(app_client, push, allow_fake, sender):
    place = await venue()
    sub, sub_id = await linked_subscription(app_client, push, place)
    message = await delivered(push, sender, place, sub)
    token = message["absent_url"].rsplit("/", 1)[1]
    delivery_id = tokens.read_absence(token)
    for bad in (
        "nope",
        token[:-2] + ("xx" if not token.endswith("xx") else "yy"),
        tokens.absence(uuid4()),
        tokens.sign("person-link", delivery_id.hex),
    ):  # a MAC of another purpose
        assert (await app_client.http.post(f"/api/push/absences/{bad}")).status_code == 404, bad
        assert (await app_client.get(f"/push/reply/{bad}")).status_code == 404
    # the participant stopped reminders: their old notification can answer nothing any more
    await PushSubscription.delete().where(PushSubscription.id == sub_id)
    assert (await app_client.http.post(message["absent_url"])).status_code == 404
    assert not await Attendance.exists().where(Attendance.session == place["session"])


async def test_no_absence_reply_once_the_session_has_started_or_was_cancelled(app_client, push, allow_fake, sender):
    """At the venue the organisers take attendance: a late tap must not overwrite it."""
    place = await venue()
    sub, _ = await linked_subscription(app_client, push, place)
    message = await delivered(push, sender, place, sub)
    started = datetime.now(UTC) - timedelta(minutes=5)
    tokyo = started.astimezone(timezone(timedelta(hours=9)))
    await Session.update({Session.date: tokyo.date(), Session.start_time: tokyo.time().replace(microsecond=0)}).where(
        Session.id == place["session"]
    )
    late = await app_client.http.post(message["absent_url"])
    assert late.status_code == 409 and "started" in late.json()["detail"]
    assert "開始時刻を過ぎました" in (await app_client.get(message["url"])).text

    await Session.update(
        {Session.date: date.today() + timedelta(days=3), Session.status: SessionStatus.cancelled.value}
    ).where(Session.id == place["session"])
    assert (await app_client.http.post(message["absent_url"])).status_code == 409
    assert not await Attendance.exists().where(Attendance.session == place["session"])


async def test_a_participant_removed_from_the_roster_can_no_longer_reply(app_client, push, allow_fake, sender):
    place = await venue()
    sub, _ = await linked_subscription(app_client, push, place)
    message = await delivered(push, sender, place, sub)
    await Person.update({Person.deleted: True}).where(Person.id == place["person"])
    assert (await app_client.http.post(message["absent_url"])).status_code == 404
    assert not await Attendance.exists().where(Attendance.session == place["session"])


async def test_added_to_the_home_screen_the_page_keeps_a_good_personal_link_only(app_client):
    """iPhone: the Home Screen web app starts at the manifest's start_url, so a still-good
    personal link travels with it; a forged or another ibasho's token does not."""
    place = await venue()
    token, _ = tokens.person_link(place["person"], place["ibasho"])
    manifest = await app_client.get(f"/i/{place['ibasho']}/manifest.webmanifest", params={"person": token})
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    assert manifest.json()["start_url"] == f"/i/{place['ibasho']}?person={token}"
    other, _ = tokens.person_link(place["person"], uuid4())
    for bad in (other, token[:-2] + "xx"):
        refused = await app_client.get(f"/i/{place['ibasho']}/manifest.webmanifest", params={"person": bad})
        assert refused.json()["start_url"] == f"/i/{place['ibasho']}"
    assert (await app_client.get(f"/i/{uuid4()}/manifest.webmanifest")).status_code == 404


@pytest.mark.parametrize("change", ["made a meeting", "moved to another ibasho"])
async def test_a_session_the_subscription_no_longer_hears_of_shows_nothing(
    app_client, push, allow_fake, sender, change
):
    """An old notification must not reveal a members-only meeting (its title, place and
    time), nor another ibasho's session, nor take an absence for it."""
    place = await venue()
    sub, _ = await linked_subscription(app_client, push, place)
    message = await delivered(push, sender, place, sub)
    if change == "made a meeting":
        values = {Session.kind: SessionKind.meeting.value, Session.title: "理事会（非公開）"}
    else:
        other = uuid4()
        await Ibasho.insert(Ibasho(id=other, group=place["group"], name=unique("別の居場所")))
        values = {Session.ibasho: other, Session.title: "理事会（非公開）"}
    await Session.update(values).where(Session.id == place["session"])
    page = await app_client.get(message["url"])
    assert page.status_code == 404 and "理事会" not in page.text
    assert (await app_client.http.post(message["absent_url"])).status_code == 404
    assert not await Attendance.exists().where(Attendance.session == place["session"])
