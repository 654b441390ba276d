"""Push subscriptions as an attacker would try them: endpoints two URL parsers read
differently, taking over someone's endpoint, filling the table from one address, and a
row that crashes the sender (server/reminders/subscriptions.py, server/reminders/queue.py)."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from uuid import uuid4

import httpx
import pytest

import server.config as config
from server.reminders.planning import refresh_deliveries
from server.reminders.queue import MAX_RETRIES
from server.reminders.sender import Sender
from server.reminders.subscriptions import endpoint_allowed
from server.reminders.tokens import manage_token_hash
from server.reminders.worker import send_due
from server.tables import DeliveryState, Ibasho, IbashoStatus, PushSubscription, ReminderDelivery
from tests.factories import DAY_BEFORE, make_account, reminder_session, subscribe

HOSTS = ("fcm.googleapis.com", "*.push.apple.com")


@pytest.fixture(autouse=True)
async def leaves_no_subscribers(push):
    """Its sessions share test_reminders' date: their subscribers must not get its reconcile's reminders."""
    yield
    await PushSubscription.delete().where(PushSubscription.endpoint.like(f"{push.origin}/%"))


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.goo\tgleapis.com/fcm/send/x",
        "https://fcm.googleapis.com\n/fcm/send/x",
        "https://fcm googleapis.com/fcm/send/x",
        "https://fcm.googleapis.com\\@evil.example/x",
        "https://fcm%2egoogleapis.com/fcm/send/x",
        "https://fcm.googleapis.com/fcm/send/a b",
        "https://FCM.googleapis.com/fcm/send/x",
        "https://fcm.googleapis.com/x#fragment",
        "https://web.push.apple.com%00/x",
        "https://-bad.push.apple.com/x",
        "https://fcm.googleapis.com./x",
        "https://fcm.googleapis.com:443@evil.example/x",
        "https:fcm.googleapis.com/x",
        "https:///x",
        "https://xn--fcm-googleapis-com/x",
        "https://xn--80ak6aa92e.push.apple.com/x",
    ],
)
def test_endpoints_two_parsers_could_read_differently_are_refused(endpoint):
    assert not endpoint_allowed(endpoint, HOSTS)


def test_real_push_endpoints_still_pass():
    assert endpoint_allowed("https://fcm.googleapis.com/fcm/send/dGVzdA:APA91b_x-y%3D", HOSTS)
    assert endpoint_allowed("https://web.push.apple.com/QGZ1bmN0aW9u?x=1", HOSTS)


async def participant(app_client, push, ibasho_id, sub=None):
    sub = sub or push.subscriber()
    body = {
        "endpoint": push.endpoint(sub),
        "keys": {"p256dh": sub.p256dh, "auth": sub.auth},
        "ibasho_id": str(ibasho_id),
    }
    return sub, await app_client.post("/api/push/subscriptions", json=body)


async def test_a_paused_ibasho_takes_no_web_push_sign_up_and_says_why(app_client, push, allow_fake):
    """A public page left open from before the pause: refused with a code its script puts in words."""
    _, ibasho_id, _ = await reminder_session()
    await Ibasho.update({Ibasho.status: IbashoStatus.paused.value}).where(Ibasho.id == ibasho_id)
    sub, response = await participant(app_client, push, ibasho_id)
    assert response.status_code == 409 and response.json()["code"] == "sign_ups_closed"
    assert not await PushSubscription.exists().where(PushSubscription.endpoint == push.endpoint(sub))
    unknown = (await participant(app_client, push, uuid4()))[1]
    assert unknown.status_code == 404


@pytest.mark.parametrize("key", ["p256dh", "auth"])
async def test_a_key_with_a_final_newline_is_refused(app_client, push, allow_fake, key):
    """A key's pattern holds to its very end: one with a newline would break the sender."""
    _, ibasho_id, _ = await reminder_session()
    sub = push.subscriber()
    keys = {"p256dh": sub.p256dh, "auth": sub.auth}
    keys[key] += "\n"
    body = {"endpoint": push.endpoint(sub), "keys": keys, "ibasho_id": str(ibasho_id)}
    response = await app_client.post("/api/push/subscriptions", json=body)
    assert response.status_code == 400 and key in response.text
    assert not await PushSubscription.exists().where(PushSubscription.endpoint == push.endpoint(sub))


async def test_a_known_endpoint_is_never_taken_over(app_client, new_client, push, allow_fake):
    _, ibasho_id, _ = await reminder_session()
    _, other_ibasho, _ = await reminder_session()
    sub, first = await participant(app_client, push, ibasho_id)
    token = first.json()["manage_url"].rsplit("/", 1)[1]
    # someone who knows the endpoint but not the browser's keys
    attacker = await new_client()
    thief = push.subscriber()
    body = {
        "endpoint": push.endpoint(sub),
        "keys": {"p256dh": thief.p256dh, "auth": thief.auth},
        "ibasho_id": str(other_ibasho),
    }
    assert (await attacker.post("/api/push/subscriptions", json=body)).status_code == 409
    organiser = await make_account("organiser")
    await attacker.login(organiser)
    del body["ibasho_id"]
    assert (await attacker.post("/api/push/subscriptions", json=body)).status_code == 409
    row = await PushSubscription.select().where(PushSubscription.endpoint == push.endpoint(sub)).first()
    assert row["ibasho"] == ibasho_id and row["account"] is None and row["p256dh"] == sub.p256dh
    assert row["manage_token_hash"] == manage_token_hash(token)  # the participant's link still works
    assert (await app_client.get(f"/push/manage/{token}")).status_code == 200


async def test_an_organisers_subscription_stays_theirs(app_client, new_client, push, allow_fake):
    _, ibasho_id, _ = await reminder_session()
    organiser = await make_account("organiser")
    phone = await new_client()
    await phone.login(organiser)
    sub = push.subscriber()
    own = {"endpoint": push.endpoint(sub), "keys": {"p256dh": sub.p256dh, "auth": sub.auth}}
    assert (await phone.post("/api/push/subscriptions", json=own)).status_code == 201
    # from a public page, with the very keys (a copy of them): still not turned anonymous
    stranger = await new_client()
    assert (
        await stranger.post("/api/push/subscriptions", json={**own, "ibasho_id": str(ibasho_id)})
    ).status_code == 409
    other = await new_client()
    await other.login(await make_account("organiser"))
    assert (await other.post("/api/push/subscriptions", json=own)).status_code == 409
    assert (await phone.post("/api/push/subscriptions", json=own)).status_code == 201  # the owner refreshes
    row = await PushSubscription.select().where(PushSubscription.endpoint == own["endpoint"]).first()
    assert row["account"] == organiser.account_id and row["ibasho"] is None


async def test_anonymous_sign_ups_are_bounded_per_address(app, push, allow_fake, monkeypatch):
    settings = config.get_settings()
    monkeypatch.setattr(config, "_settings", dataclasses.replace(settings, subscriptions_per_address_per_hour=3))
    _, ibasho_id, _ = await reminder_session()
    transport = httpx.ASGITransport(app=app, client=(f"198.19.{uuid4().int % 250}.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        await http.get("/healthz")
        headers = {"x-csrftoken": http.cookies["csrftoken"]}
        statuses = []
        for _ in range(5):
            sub = push.subscriber()
            response = await http.post(
                "/api/push/subscriptions",
                headers=headers,
                json={
                    "endpoint": push.endpoint(sub),
                    "keys": {"p256dh": sub.p256dh, "auth": sub.auth},
                    "ibasho_id": str(ibasho_id),
                },
            )
            statuses.append(response.status_code)
    assert statuses == [201, 201, 201, 429, 429]
    assert int(response.headers["retry-after"]) > 0


async def test_a_row_that_breaks_the_sender_never_blocks_the_queue(push, sender, monkeypatch):
    """A subscription stored before endpoints were checked, and a send that raises: the
    batch goes on, the bad rows leave the queue instead of coming back at every lease."""
    _, ibasho_id, session_id = await reminder_session()
    good, _ = await subscribe(push, ibasho_id)
    broken, broken_id = await subscribe(push, ibasho_id)
    await PushSubscription.update({PushSubscription.endpoint: "https://fcm.goo\tgleapis.com/x"}).where(
        PushSubscription.id == broken_id
    )
    crashing, crashing_id = await subscribe(push, ibasho_id)
    await refresh_deliveries(session_id, now=DAY_BEFORE - timedelta(days=1))
    encrypt = Sender.encrypt

    def failing(self, data, row):
        if row["subscription"] == crashing_id:
            raise RuntimeError("a bug in one row")
        return encrypt(self, data, row)

    monkeypatch.setattr(Sender, "encrypt", failing)
    states = await send_due(sender, now=DAY_BEFORE)
    assert states.count(DeliveryState.sent.value) == 1
    assert push.for_path(good)
    assert not await PushSubscription.exists().where(PushSubscription.id == broken_id)  # unusable: removed
    tried = (
        await ReminderDelivery.select()
        .where((ReminderDelivery.subscription == crashing_id) & (ReminderDelivery.attempts == 1))
        .first()
    )
    assert tried["state"] == DeliveryState.pending.value and tried["due_at"] > DAY_BEFORE  # retried with backoff
    assert "a bug in one row" in tried["last_error"]
    # and given up after the retries, not claimed for ever
    moment = DAY_BEFORE
    for _ in range(MAX_RETRIES + 1):
        moment += timedelta(hours=1)
        await send_due(sender, now=moment)
    states = {r["state"] for r in await ReminderDelivery.select().where(ReminderDelivery.subscription == crashing_id)}
    assert DeliveryState.claimed.value not in states and DeliveryState.failed.value in states


async def test_an_organisers_new_subscriptions_are_bounded_too(new_client, push, allow_fake, monkeypatch):
    settings = config.get_settings()
    monkeypatch.setattr(config, "_settings", dataclasses.replace(settings, subscriptions_per_address_per_hour=2))
    phone = await new_client()
    await phone.login(await make_account("organiser"))
    statuses = []
    for _ in range(3):
        sub = push.subscriber()
        statuses.append(
            (
                await phone.post(
                    "/api/push/subscriptions",
                    json={"endpoint": push.endpoint(sub), "keys": {"p256dh": sub.p256dh, "auth": sub.auth}},
                )
            ).status_code
        )
    assert statuses == [201, 201, 429]
