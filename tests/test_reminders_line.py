"""Reminders by LINE (issue #16): linking through the webhook (X-Line-Signature checked), the
push with its 「欠席します」 postback, retries on 429 and 5xx, and removal of a blocked
recipient, against a fake Messaging API on loopback (tests/line_service.py)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import re
import secrets
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from server import config
from server.reminders.channels import Channels
from server.reminders.line import CHANNEL_TTL, LineSender, line_endpoint
from server.reminders.planning import refresh_deliveries
from server.reminders.worker import send_due
from server.tables import (
    Attendance,
    AuditLog,
    Group,
    GroupMembership,
    Ibasho,
    IbashoStatus,
    LineChannel,
    PushSubscription,
    ReminderDelivery,
    RoleAssignment,
    Session,
    SessionKind,
    SessionStatus,
    SubscriptionChannel,
)
from tests.factories import login_client as login_client_for
from tests.factories import make_account
from tests.line_service import FakeLineApi
from tests.test_reminders_absence import venue
from tests.test_reminders_email import first_due

pytestmark = pytest.mark.usefixtures("no_other_deliveries", "fresh_sign_up_count")
SECRET = "0123456789abcdef0123456789abcdef"


@pytest.fixture
async def line_api(monkeypatch):
    api = FakeLineApi(token=secrets.token_urlsafe(24))
    await api.start()
    monkeypatch.setattr(config, "_settings", dataclasses.replace(config.get_settings(), line_api_url=api.url))
    yield api
    await api.stop()


def user_id() -> str:
    return "U" + uuid4().hex


async def line_venue(api) -> dict:
    place = await venue()
    channel = uuid4()
    await LineChannel.insert(
        LineChannel(
            id=channel,
            group=place["group"],
            name="すみれの家",
            access_token=api.token,
            channel_secret=SECRET,
            friend_url="https://lin.ee/example",
        )
    )
    return {**place, "channel": channel}


def event(kind: str, user: str, **extra) -> dict:
    return {
        "type": kind,
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user},
        "webhookEventId": uuid4().hex.upper()[:26],
        "deliveryContext": {"isRedelivery": False},
        **({"replyToken": uuid4().hex} if kind != "unfollow" else {}),
        **extra,
    }


async def deliver(client, place, events: list[dict], secret: str = SECRET):
    body = json.dumps({"destination": "U" + "0" * 32, "events": events}).encode()
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return await client.http.post(
        f"/line/webhook/{place['channel']}",
        content=body,
        headers={"x-line-signature": signature, "content-type": "application/json"},
    )


def text(user: str, words: str) -> dict:
    return event("message", user, message={"id": "1", "type": "text", "text": words, "quoteToken": "q"})


def shown_code(page: str) -> str:
    """The code as the page shows it: 12 digits in fours, sent as read."""
    return re.search(r'data-testid="line-code"><strong>(\d{4} \d{4} \d{4})<', page)[1]


async def linked(app_client, place, user: str, person: bool = True) -> dict:
    data = {}
    if person:
        await app_client.login(place["organiser"])
        made = await app_client.post("/api/push/person-links", json={"person_id": str(place["person"])})
        await app_client.post("/api/auth/logout")
        data["person"] = made.json()["url"].split("?person=", 1)[1]
    page = await app_client.form(f"/i/{place['ibasho']}/line", data)
    assert page.status_code == 200, page.text
    assert "https://lin.ee/example" in page.text
    code = shown_code(page.text)
    answer = await deliver(app_client, place, [text(user, code)])
    assert answer.status_code == 200, answer.text
    return await PushSubscription.select().where(PushSubscription.address == user).first()


async def test_the_code_sent_from_line_links_the_user_and_a_forged_signature_is_refused(app_client, line_api):
    place = await line_venue(line_api)
    user = user_id()
    page = await app_client.get(f"/i/{place['ibasho']}")
    assert "LINEで受け取る" in page.text
    await app_client.form(f"/i/{place['ibasho']}/line", {})
    pending = await PushSubscription.select().where(
        (PushSubscription.ibasho == place["ibasho"]) & (PushSubscription.channel == "line")
    )
    code = pending[0]["endpoint"].rsplit(":", 1)[1]
    forged = await deliver(app_client, place, [text(user, code)], secret="x" * 32)
    assert forged.status_code == 400
    unsigned = await app_client.http.post(f"/line/webhook/{place['channel']}", content=b"{}")
    assert unsigned.status_code == 400
    for body in (b"[1]", b'{"events": [1]}', b'{"events": "x"}', b"{"):  # signed, but not LINE's shape
        signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
        malformed = await app_client.http.post(
            f"/line/webhook/{place['channel']}", content=body, headers={"x-line-signature": signature}
        )
        assert malformed.status_code == 400, (body, malformed.text)
    assert not await PushSubscription.exists().where(PushSubscription.address == user)
    await refresh_deliveries(place["session"])
    assert not await ReminderDelivery.exists().where(ReminderDelivery.subscription == pending[0]["id"])

    assert (await deliver(app_client, place, [text(user, "00000000")])).status_code == 200  # a wrong code: nothing
    assert (await deliver(app_client, place, [text(user, f" {code} ")])).status_code == 200
    sub = await PushSubscription.select().where(PushSubscription.address == user).first()
    assert sub["confirmed_at"] is not None
    assert sub["endpoint"] == line_endpoint(place["channel"], place["ibasho"], user)
    await refresh_deliveries(place["session"])
    assert await ReminderDelivery.exists().where(ReminderDelivery.subscription == sub["id"])


async def test_the_push_carries_a_postback_that_records_the_absence(app_client, line_api):
    place = await line_venue(line_api)
    user = user_id()
    await linked(app_client, place, user)
    due = await first_due(place)
    assert await send_due(Channels(line=LineSender()), now=due["due_at"]) == ["sent"]
    assert line_api.refused == []
    (pushed,) = line_api.to(user)
    (message,) = pushed["messages"]
    assert message["type"] == "template" and "すみれの家" in message["altText"]
    (action,) = message["template"]["actions"]
    assert action["label"] == "欠席します"

    stranger = await deliver(app_client, place, [event("postback", user_id(), postback={"data": action["data"]})])
    assert stranger.status_code == 200
    assert not await Attendance.exists().where(Attendance.person == place["person"])
    answered = await deliver(app_client, place, [event("postback", user, postback={"data": action["data"]})])
    assert answered.status_code == 200
    attendance = await Attendance.select().where(Attendance.id == f"{place['session']}:{place['person']}").first()
    assert attendance["status"] == "absent_notified"


async def test_429_and_5xx_are_retried_and_a_retry_is_never_shown_twice(app_client, line_api):
    place = await line_venue(line_api)
    user = user_id()
    await linked(app_client, place, user, person=False)
    due = await first_due(place)
    line_api.busy, line_api.failing = 1, 1
    assert await send_due(Channels(line=LineSender()), now=due["due_at"]) == ["pending"]
    row = await ReminderDelivery.select().where(ReminderDelivery.id == due["id"]).first()
    assert row["due_at"] >= due["due_at"] + timedelta(seconds=60) and row["last_error"].startswith("429")  # Retry-After
    assert await send_due(Channels(line=LineSender()), now=row["due_at"]) == ["pending"]
    row = await ReminderDelivery.select().where(ReminderDelivery.id == due["id"]).first()
    assert row["last_error"].startswith("500")
    assert await send_due(Channels(line=LineSender()), now=row["due_at"]) == ["sent"]
    (pushed,) = line_api.to(user)
    assert pushed["messages"][0]["type"] == "text"
    # a lease that ran out after LINE had it: sent again with the same retry key, shown once
    await ReminderDelivery.update({ReminderDelivery.state: "pending"}).where(ReminderDelivery.id == due["id"])
    assert await send_due(Channels(line=LineSender()), now=row["due_at"]) == ["sent"]
    assert len(line_api.to(user)) == 1


async def test_a_blocked_recipient_and_an_unfollow_unsubscribe(app_client, line_api):
    place = await line_venue(line_api)
    blocked, leaving = user_id(), user_id()
    await linked(app_client, place, blocked, person=False)
    gone = await linked(app_client, place, leaving, person=False)
    line_api.blocked.add(blocked)
    await ReminderDelivery.delete().where(ReminderDelivery.subscription == gone["id"])
    await PushSubscription.update({PushSubscription.offsets: ["2h"]}).where(PushSubscription.id == gone["id"])
    due = await first_due(place)
    assert await send_due(Channels(line=LineSender()), now=due["due_at"]) == ["removed"]
    assert not await PushSubscription.exists().where(PushSubscription.address == blocked)
    assert (await deliver(app_client, place, [event("unfollow", leaving)])).status_code == 200
    assert not await PushSubscription.exists().where(PushSubscription.address == leaving)


async def test_a_wrong_token_is_the_channels_fault_not_the_users(app_client, line_api):
    place = await line_venue(line_api)
    user = user_id()
    await linked(app_client, place, user, person=False)
    await LineChannel.update({LineChannel.access_token: "wrong"}).where(LineChannel.id == place["channel"])
    due = await first_due(place)
    at, states = due["due_at"], []
    for _ in range(6):  # retried (staff may be putting a new token in), then given up
        states.append((await send_due(Channels(line=LineSender()), now=at))[0])
        row = await ReminderDelivery.select().where(ReminderDelivery.id == due["id"]).first()
        at = row["due_at"] + timedelta(seconds=1)
    assert states == ["pending"] * 5 + ["failed"] and row["last_error"].startswith("gave up after 6 attempts: 401")
    assert line_api.refused == ["token"] * 6
    assert await PushSubscription.exists().where(
        (PushSubscription.address == user) & (PushSubscription.channel == SubscriptionChannel.line.value)
    )


async def test_staff_set_up_a_groups_channel_and_never_see_its_secrets_again(world, new_client):
    staff = await login_client_for(new_client, world.staff_a)
    typed = {
        "name": "きらくら",
        "group": str(world.group_a),
        "access_token": "tok-" + uuid4().hex,
        "channel_secret": "sec-" + uuid4().hex[:20],
        "friend_url": "http://lin.ee/x",
    }
    refused = await staff.form("/staff/line", typed)
    assert refused.status_code == 422 and "https://" in refused.text and typed["access_token"] not in refused.text
    other = await staff.form("/staff/line", {**typed, "group": str(world.group_b), "friend_url": ""})
    assert other.status_code == 422 and "団体を一覧から選んでください" in other.text
    council = await staff.form("/staff/line", {**typed, "group": "council", "friend_url": ""})
    assert council.status_code == 422  # the council's own account: admins only
    saved = await staff.form("/staff/line", {**typed, "friend_url": "https://lin.ee/x"})
    assert saved.status_code == 303
    row = await LineChannel.select().where(LineChannel.group == world.group_a).first()
    assert row["access_token"] == typed["access_token"] and row["channel_secret"] == typed["channel_secret"]
    listed = await staff.get("/staff/line")
    assert f"/line/webhook/{row['id']}" in listed.text
    assert typed["access_token"] not in listed.text and typed["channel_secret"] not in listed.text
    again = await staff.form("/staff/line", {**typed, "access_token": "new-token", "friend_url": ""})
    assert again.status_code == 303
    assert await LineChannel.count().where(LineChannel.group == world.group_a) == 1
    other_staff = await login_client_for(new_client, world.staff_b)
    assert f"/line/webhook/{row['id']}" not in (await other_staff.get("/staff/line")).text


# --- codes nobody can guess, channels the worker keeps up with --------------------------------


async def asked_for_a_code(app_client, place) -> str:
    page = await app_client.form(f"/i/{place['ibasho']}/line", {})
    assert page.status_code == 200, page.text
    assert "30分以内" in page.text
    return shown_code(page.text)


async def test_wrong_codes_are_limited_per_line_user_and_a_code_expires(app_client, line_api):
    place = await line_venue(line_api)
    code = await asked_for_a_code(app_client, place)
    assert len(code.replace(" ", "")) == 12
    guesser, owner = user_id(), user_id()
    for n in range(5):
        await deliver(app_client, place, [text(guesser, f"{n:012d}")])
    assert (
        line_api.replied()
        == [
            "コードが違うか、期限が切れています。ページのコードを確かめるか、ページで新しいコードを受け取ってください。"
        ]
        * 5
    )
    await deliver(app_client, place, [text(guesser, code)])  # even the right one, now: refused
    assert "1時間ほどたってから" in line_api.replied()[-1]
    assert not await PushSubscription.exists().where(PushSubscription.address == guesser)
    await deliver(app_client, place, [text(guesser, "ありがとう")])  # a chat is no try, and gets no answer
    assert len(line_api.replied()) == 6

    await deliver(app_client, place, [text(owner, code.replace(" ", ""))])  # its owner is not held back
    assert "のお知らせをこのトークでお送りします" in line_api.replied()[-1]
    assert await PushSubscription.exists().where(
        (PushSubscription.address == owner) & PushSubscription.confirmed_at.is_not_null()
    )

    late = await asked_for_a_code(app_client, place)  # a code older than 30 minutes links nobody
    await PushSubscription.update({PushSubscription.created_at: datetime.now(UTC) - timedelta(minutes=31)}).where(
        PushSubscription.endpoint == f"line-code:{place['channel']}:{late.replace(' ', '')}"
    )
    slow = user_id()
    await deliver(app_client, place, [text(slow, late)])
    assert "期限が切れています" in line_api.replied()[-1]
    assert not await PushSubscription.exists().where(PushSubscription.address == slow)
    assert line_api.refused == []  # every reply with the channel's token


async def test_a_paused_ibasho_hands_out_no_code_and_links_nobody(app_client, line_api):
    place = await line_venue(line_api)
    code = await asked_for_a_code(app_client, place)
    await Ibasho.update({Ibasho.status: IbashoStatus.paused.value}).where(Ibasho.id == place["ibasho"])
    refused = await app_client.form(f"/i/{place['ibasho']}/line", {})
    assert refused.status_code == 409 and "新しい申し込みを受け付けていません" in refused.text
    user = user_id()
    await deliver(app_client, place, [text(user, code)])
    assert "新しい申し込みを受け付けていません" in line_api.replied()[-1]
    assert not await PushSubscription.exists().where(PushSubscription.address == user)


async def test_the_worker_takes_up_a_new_token_and_stops_for_a_removed_channel(app_client, line_api):
    place = await line_venue(line_api)
    user = user_id()
    await linked(app_client, place, user, person=False)
    due = await first_due(place)
    clock = [1000.0]
    sender = LineSender(clock=lambda: clock[0])  # one sender for the whole test, as the worker keeps one
    channels = Channels(line=sender)

    async def send_again() -> list[str]:
        await ReminderDelivery.update(
            {ReminderDelivery.state: "pending", ReminderDelivery.due_at: due["due_at"]}
        ).where(ReminderDelivery.id == due["id"])
        line_api.keys.clear()  # a new push for the fake, not a retry it has seen
        return await send_due(channels, now=due["due_at"])

    assert await send_due(channels, now=due["due_at"]) == ["sent"]
    # staff save a reissued token: once the channel's few seconds are up, the next push uses it
    line_api.token = "rotated-" + secrets.token_urlsafe(16)
    await LineChannel.update({LineChannel.access_token: line_api.token}).where(LineChannel.id == place["channel"])
    clock[0] += CHANNEL_TTL
    assert await send_again() == ["sent"]
    assert line_api.refused == [] and len(line_api.to(user)) == 2

    # reissued again within those seconds: LINE refuses the old token once, and the retry looks again
    line_api.token = "again-" + secrets.token_urlsafe(16)
    await LineChannel.update({LineChannel.access_token: line_api.token}).where(LineChannel.id == place["channel"])
    assert await send_again() == ["pending"] and line_api.refused == ["token"]
    assert await send_again() == ["sent"] and len(line_api.to(user)) == 3

    # the channel removed: nothing more goes through it
    await LineChannel.delete().where(LineChannel.id == place["channel"])
    clock[0] += CHANNEL_TTL
    assert await send_again() == ["pending"]
    row = await ReminderDelivery.select().where(ReminderDelivery.id == due["id"]).first()
    assert row["last_error"].endswith("its LINE channel is stopped or gone") and len(line_api.to(user)) == 3
    await sender.close()


async def test_staff_stop_a_channel_and_start_it_again(app_client, new_client, line_api):
    place = await line_venue(line_api)
    user = user_id()
    await linked(app_client, place, user, person=False)
    due = await first_due(place)
    clock = [0.0]
    channels = Channels(line=LineSender(clock=lambda: clock[0]))
    staff = await login_client_for(new_client, await make_account("staff", areas=[place["area"]]))

    stopped = await staff.form(f"/staff/line/{place['channel']}/enabled", {})
    assert stopped.status_code == 303, stopped.text
    listed = await staff.get("/staff/line")
    assert "停止中" in listed.text and "再開する" in listed.text
    assert "LINEで受け取る" not in (await app_client.get(f"/i/{place['ibasho']}")).text
    assert (await app_client.form(f"/i/{place['ibasho']}/line", {})).status_code == 404  # no code handed out
    assert await send_due(channels, now=due["due_at"]) == ["pending"]
    assert line_api.pushed == []
    assert await PushSubscription.exists().where(PushSubscription.address == user)  # kept for later

    assert (await staff.form(f"/staff/line/{place['channel']}/enabled", {"enabled": "1"})).status_code == 303
    clock[0] += CHANNEL_TTL
    row = await ReminderDelivery.select().where(ReminderDelivery.id == due["id"]).first()
    assert await send_due(channels, now=row["due_at"]) == ["sent"]
    assert len(line_api.to(user)) == 1
    actions = [
        r["action"]
        for r in await AuditLog.select(AuditLog.action).where(AuditLog.target == f"line_channel:{place['channel']}")
    ]
    assert sorted(actions) == ["line_channel.start", "line_channel.stop"]


# --- an organiser's own meetings and duties (issue #16, item 4) ------------------------------


async def meeting_with_duty(place, organiser_id) -> UUID:
    """A members-only meeting (no ibasho) in three days where the organiser cooks."""
    meeting = uuid4()
    at = datetime.now(UTC)
    await Session.insert(
        Session(
            id=meeting,
            group=place["group"],
            kind=SessionKind.meeting.value,
            title="推進委員会",
            date=date.today() + timedelta(days=3),
            start_time=dt_time(18, 0),
            status=SessionStatus.scheduled.value,
            hlcs={},
            created_at=at,
            updated_at=at,
        )
    )
    await RoleAssignment.insert(
        RoleAssignment(id=f"{meeting}:調理:{organiser_id}", session=meeting, role="調理", member=organiser_id, hlcs={})
    )
    return meeting


async def first_of(session, subscription) -> dict:
    return (
        await ReminderDelivery.select()
        .where((ReminderDelivery.session == session) & (ReminderDelivery.subscription == subscription))
        .order_by(ReminderDelivery.due_at)
        .first()
    )


async def organiser_links(app_client, place, user: str) -> dict:
    """The organiser asks the app for a code and sends it from their LINE."""
    await app_client.login(place["organiser"])
    made = await app_client.post("/api/push/line", json={"group_id": str(place["group"])})
    assert made.status_code == 201, made.text
    answer = await deliver(app_client, place, [text(user, made.json()["code"])])
    assert answer.status_code == 200, answer.text
    return await PushSubscription.select().where(PushSubscription.address == user).first()


async def test_an_organiser_links_line_from_the_app_and_gets_meeting_and_duty_reminders(app_client, line_api):
    place = await line_venue(line_api)
    colleague = await make_account("organiser", groups=[place["group"]])  # same group, no LINE of theirs
    await app_client.login(place["organiser"])
    offered = await app_client.get("/api/push/line")
    assert offered.status_code == 200, offered.text
    assert offered.json() == {
        "groups": [
            {
                "group_id": str(place["group"]),
                "group": (await Group.select(Group.name).where(Group.id == place["group"]).first())["name"],
                "account": "すみれの家",
                "friend_url": "https://lin.ee/example",
                "linked": False,
            }
        ]
    }
    assert (await app_client.post("/api/push/line", json={"group_id": "x"})).status_code == 400
    other_group = await line_venue(line_api)  # someone else's group, with its own LINE account
    refused = await app_client.post("/api/push/line", json={"group_id": str(other_group["group"])})
    assert refused.status_code == 404
    assert not await PushSubscription.exists().where(PushSubscription.account == place["organiser"].account_id)

    first = await app_client.post("/api/push/line", json={"group_id": str(place["group"])})
    assert first.status_code == 201, first.text
    made = await app_client.post("/api/push/line", json={"group_id": str(place["group"])})
    shown = made.json()
    assert re.fullmatch(r"\d{4} \d{4} \d{4}", shown["code"]) and shown["account"] == "すみれの家"
    lifetime = datetime.fromisoformat(shown["expires_at"]) - datetime.now(UTC)
    assert timedelta(minutes=29) < lifetime <= timedelta(minutes=30)
    user = user_id()
    await deliver(app_client, place, [text(user, first.json()["code"])])  # replaced by the second: links nobody
    assert "期限が切れています" in line_api.replied()[-1]
    await deliver(app_client, place, [text(user, shown["code"])])
    assert line_api.replied()[-1] == "設定しました。あなたの会議と担当のお知らせをこのトークでお送りします。"
    sub = await PushSubscription.select().where(PushSubscription.address == user).first()
    assert sub["account"] == place["organiser"].account_id and sub["ibasho"] is None and sub["person"] is None
    assert sub["channel"] == "line" and sub["confirmed_at"] is not None
    assert sub["endpoint"] == line_endpoint(place["channel"], place["organiser"].account_id, user)
    assert (await app_client.get("/api/push/line")).json()["groups"][0]["linked"] is True

    meeting = await meeting_with_duty(place, place["organiser"].account_id)
    await RoleAssignment.insert(  # the colleague's duty is theirs, not in the organiser's reminder
        RoleAssignment(
            id=f"{meeting}:受付:{colleague.account_id}", session=meeting, role="受付", member=colleague.account_id
        )
    )
    await refresh_deliveries(meeting)
    due = await first_of(meeting, sub["id"])
    assert due["occurrence"].endswith(":day_before")
    sent = await send_due(Channels(line=LineSender()), now=due["due_at"])
    assert sent and set(sent) == {"sent"}  # with the ibasho's session, due the day before too
    assert line_api.refused == []
    texts = [body["messages"][0]["text"] for body in line_api.to(user)]
    assert any(words.startswith("明日はあなたが調理担当です\n推進委員会") for words in texts), texts
    assert not any("受付" in words for words in texts)  # the colleague's duty is not theirs
    assert {body["to"] for body in line_api.pushed} == {user}  # nobody else's LINE
    # once per occurrence: sent, it is not sent again
    assert await send_due(Channels(line=LineSender()), now=due["due_at"] + timedelta(minutes=1)) == []

    # the next one goes after they blocked the account: unsubscribed
    later = (
        await ReminderDelivery.select()
        .where((ReminderDelivery.subscription == sub["id"]) & (ReminderDelivery.state == "pending"))
        .order_by(ReminderDelivery.due_at)
        .first()
    )
    line_api.blocked.add(user)
    assert "removed" in await send_due(Channels(line=LineSender()), now=later["due_at"])
    assert not await PushSubscription.exists().where(PushSubscription.address == user)


async def test_quiet_hours_and_retries_hold_for_an_organisers_line_too(app_client, line_api):
    place = await line_venue(line_api)
    user = user_id()
    sub = await organiser_links(app_client, place, user)
    meeting = await meeting_with_duty(place, place["organiser"].account_id)
    await refresh_deliveries(meeting)
    due = await first_of(meeting, sub["id"])
    local = due["due_at"].astimezone(ZoneInfo("Asia/Tokyo"))
    assert 8 <= local.hour < 21  # planned out of the night's quiet hours
    await ReminderDelivery.delete().where(ReminderDelivery.id != due["id"])  # this one alone
    line_api.busy = 1
    assert await send_due(Channels(line=LineSender()), now=due["due_at"]) == ["pending"]
    row = await ReminderDelivery.select().where(ReminderDelivery.id == due["id"]).first()
    assert row["last_error"].startswith("429") and row["due_at"] > due["due_at"]
    assert await send_due(Channels(line=LineSender()), now=row["due_at"]) == ["sent"]
    (pushed,) = line_api.to(user)
    assert pushed["messages"][0]["text"].startswith("明日はあなたが調理担当です")


@pytest.fixture
async def council_channel(line_api):
    """The council's LINE account (serving every group without its own), removed after."""
    channel = uuid4()
    await LineChannel.insert(
        LineChannel(
            id=channel,
            name="市社協",
            access_token=line_api.token,
            channel_secret=SECRET,
            friend_url="https://lin.ee/council",
        )
    )
    yield channel
    await LineChannel.delete().where(LineChannel.id == channel)


async def test_a_group_without_its_own_account_uses_the_councils_and_none_is_said_so(
    app_client, line_api, council_channel
):
    served = await venue()  # no LINE account of its own: the council's serves it
    await app_client.login(served["organiser"])
    (group,) = (await app_client.get("/api/push/line")).json()["groups"]
    assert group["account"] == "市社協" and group["friend_url"] == "https://lin.ee/council"

    # the same organiser in a second group with an account of its own, which staff stopped
    own = await line_venue(line_api)
    await GroupMembership.insert(
        GroupMembership(id=uuid4(), account=served["organiser"].account_id, group=own["group"])
    )
    await LineChannel.update({LineChannel.enabled: False}).where(LineChannel.id == own["channel"])
    await app_client.login(served["organiser"])  # the membership is read at login
    groups = {g["group_id"]: g for g in (await app_client.get("/api/push/line")).json()["groups"]}
    assert groups[str(own["group"])]["account"] is None  # never the council's instead
    none = await app_client.post("/api/push/line", json={"group_id": str(own["group"])})
    assert none.status_code == 404

    user = user_id()
    sub = await organiser_links(app_client, {**served, "channel": council_channel}, user)
    assert sub["endpoint"] == line_endpoint(council_channel, served["organiser"].account_id, user)
    await refresh_deliveries(served["session"])
    await refresh_deliveries(own["session"])
    assert await ReminderDelivery.exists().where(
        (ReminderDelivery.session == served["session"]) & (ReminderDelivery.subscription == sub["id"])
    )
    # the other group's sessions are not its channel's to carry
    assert not await ReminderDelivery.exists().where(
        (ReminderDelivery.session == own["session"]) & (ReminderDelivery.subscription == sub["id"])
    )
