"""Web Push reminders end to end against a fake push service on loopback.

The fake (tests/push_service.py) verifies each request's VAPID JWT and decrypts its body
with the subscriber's private key; the tests script its answers.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey

from server.reminders.planning import reconcile, refresh_deliveries
from server.reminders.queue import BACKOFF_BASE, LEASE, claim
from server.reminders.sender import Sender, push_client
from server.reminders.subscriptions import endpoint_allowed
from server.reminders.tokens import manage_token_hash
from server.reminders.vapid import Vapid, ensure_key, load_vapid
from server.reminders.worker import send_due
from server.tables import (
    GroupMembership,
    PushSubscription,
    RoleAssignment,
    Session,
    SessionStatus,
)
from tests.factories import (
    DAY_BEFORE,
    SESSION_DAY,
    TWO_HOURS,
    deliveries,
    make_account,
    reminder_session,
    subscribe,
)
from tests.push_service import FakePushService
from tests.server_process import REPO
from tests.sync_phone import Phone

pytestmark = pytest.mark.usefixtures("no_other_deliveries")


async def one_subscriber_due(push):
    """A session on SESSION_DAY with one participant subscribed and its two reminders pending."""
    _, ibasho_id, session_id = await reminder_session()
    sub, sub_id = await subscribe(push, ibasho_id)
    await refresh_deliveries(session_id, now=DAY_BEFORE - timedelta(days=1))
    return sub, sub_id


# --- keys and the API --------------------------------------------------------------------


def test_vapid_key_is_made_once_outside_the_repo(tmp_path):
    path, created = ensure_key(tmp_path / "keys" / "vapid.pem")
    assert created and path.stat().st_mode & 0o777 == 0o600
    again, created_again = ensure_key(path)
    assert again == path and not created_again
    assert len(Vapid(path.read_bytes(), "mailto:x@example.org").application_server_key) == 87


def test_vapid_header_is_cached_per_origin_with_the_port():
    vapid = load_vapid()
    first = vapid.authorization("http://127.0.0.1:9999/push/a", now=1_000_000)
    assert vapid.authorization("http://127.0.0.1:9999/push/b", now=1_000_100) == first
    assert vapid.authorization("http://127.0.0.1:9998/push/a", now=1_000_100) != first
    assert vapid.authorization("http://127.0.0.1:9999/push/a", now=1_000_000 + 12 * 3600) != first


@pytest.mark.parametrize(
    "endpoint, ok",
    [
        ("https://fcm.googleapis.com/fcm/send/abc", True),
        ("https://updates.push.services.mozilla.com/wpush/v2/x", True),
        ("https://web.push.apple.com/QX", True),
        ("https://wns2-par02p.notify.windows.com/w/?token=x", True),
        ("http://fcm.googleapis.com/fcm/send/abc", False),
        ("https://fcm.googleapis.com:8443/fcm/send/abc", False),
        ("https://user@fcm.googleapis.com/x", False),
        ("https://push.apple.com.evil.example/x", False),
        ("https://evilpush.apple.com/x", False),
        ("https://127.0.0.1/x", False),
        ("https://10.0.0.1/x", False),
        ("https://[::1]/x", False),
        ("http://169.254.169.254/latest/meta-data", False),
        ("http://127.0.0.1:5555/x", False),
        ("file:///etc/passwd", False),
    ],
)
def test_only_known_push_services_are_accepted(endpoint, ok):
    hosts = ("fcm.googleapis.com", "updates.push.services.mozilla.com", "*.push.apple.com", "*.notify.windows.com")
    assert endpoint_allowed(endpoint, hosts) is ok


def test_a_configured_loopback_fake_may_use_http_on_its_port_only():
    hosts = ("fcm.googleapis.com", "127.0.0.1:5555")
    assert endpoint_allowed("http://127.0.0.1:5555/push/x", hosts)
    assert not endpoint_allowed("http://127.0.0.1:5556/push/x", hosts)
    assert not endpoint_allowed("http://10.0.0.1:5555/push/x", ("10.0.0.1:5555",))


async def test_public_key_is_served(app_client):
    response = await app_client.get("/api/push/public-key")
    assert response.status_code == 200
    assert response.json() == {"public_key": load_vapid().application_server_key}


async def test_a_participant_subscribes_for_an_ibasho_and_manages_it_by_link(app_client, push, allow_fake):
    _, ibasho_id, _ = await reminder_session()
    sub = push.subscriber()
    body = {
        "endpoint": push.endpoint(sub),
        "keys": {"p256dh": sub.p256dh, "auth": sub.auth},
        "ibasho_id": str(ibasho_id),
    }
    response = await app_client.post("/api/push/subscriptions", json=body)
    assert response.status_code == 201, response.text
    token = response.json()["manage_url"].rsplit("/", 1)[1]
    row = await PushSubscription.select().where(PushSubscription.endpoint == push.endpoint(sub)).first()
    assert row["ibasho"] == ibasho_id and row["account"] is None
    assert row["manage_token_hash"] == manage_token_hash(token) and token not in row["manage_token_hash"]

    # the same browser again (its keys prove it) keeps one row and rotates the link
    again = await app_client.post("/api/push/subscriptions", json=body)
    assert again.status_code == 201 and again.json()["id"] == str(row["id"])
    new_token = again.json()["manage_url"].rsplit("/", 1)[1]
    assert (
        await app_client.http.delete(f"/api/push/subscriptions/{token}", headers=await app_client.csrf())
    ).status_code == 404
    gone = await app_client.http.delete(f"/api/push/subscriptions/{new_token}", headers=await app_client.csrf())
    assert gone.status_code == 204
    assert not await PushSubscription.exists().where(PushSubscription.id == row["id"])


async def test_refused_subscriptions(app_client, push, allow_fake):
    _, ibasho_id, _ = await reminder_session()
    sub = push.subscriber()
    keys = {"p256dh": sub.p256dh, "auth": sub.auth}
    internal = await app_client.post(
        "/api/push/subscriptions",
        json={"endpoint": "http://169.254.169.254/latest", "keys": keys, "ibasho_id": str(ibasho_id)},
    )
    assert internal.status_code == 400
    anonymous = await app_client.post("/api/push/subscriptions", json={"endpoint": push.endpoint(sub), "keys": keys})
    assert anonymous.status_code == 401
    unknown = await app_client.post(
        "/api/push/subscriptions", json={"endpoint": push.endpoint(sub), "keys": keys, "ibasho_id": str(uuid4())}
    )
    assert unknown.status_code == 404
    bad_keys = await app_client.post(
        "/api/push/subscriptions",
        json={"endpoint": push.endpoint(sub), "keys": {"p256dh": "x", "auth": "y"}, "ibasho_id": str(ibasho_id)},
    )
    assert bad_keys.status_code == 400


async def test_an_organiser_subscribes_as_their_account_and_gets_their_groups_reminders(app_client, push, allow_fake):
    group, _, session_id = await reminder_session()
    organiser = await make_account("organiser")
    await GroupMembership.insert(GroupMembership(id=uuid4(), account=organiser.account_id, group=group))
    await app_client.login(organiser)
    sub = push.subscriber()
    response = await app_client.post(
        "/api/push/subscriptions",
        json={"endpoint": push.endpoint(sub), "keys": {"p256dh": sub.p256dh, "auth": sub.auth}},
    )
    assert response.status_code == 201 and response.json()["manage_url"] is None
    row = await PushSubscription.select().where(PushSubscription.id == response.json()["id"]).first()
    assert row["account"] == organiser.account_id
    assert await refresh_deliveries(session_id, now=DAY_BEFORE - timedelta(days=1)) == 2
    deleted = await app_client.http.delete(
        "/api/push/subscriptions", params={"endpoint": push.endpoint(sub)}, headers=await app_client.csrf()
    )
    assert deleted.status_code == 204


# --- deliveries ---------------------------------------------------------------------------


async def test_reminders_are_made_once_per_subscription_and_sent_at_their_times(push, sender):
    _, ibasho_id, session_id = await reminder_session()
    sub, _ = await subscribe(push, ibasho_id)
    before = DAY_BEFORE - timedelta(days=1)
    assert await refresh_deliveries(session_id, now=before) == 2
    assert await refresh_deliveries(session_id, now=before) == 0  # unique per (occurrence, subscription)
    assert await reconcile(now=before) == 0
    assert [r["due_at"] for r in await deliveries()] == [DAY_BEFORE, TWO_HOURS]

    assert await send_due(sender, now=DAY_BEFORE - timedelta(minutes=1)) == []
    assert await send_due(sender, now=DAY_BEFORE) == ["sent"]
    assert await send_due(sender, now=DAY_BEFORE + timedelta(hours=1)) == []
    assert await send_due(sender, now=TWO_HOURS) == ["sent"]
    assert push.errors == []
    first, second = push.for_path(sub)
    assert first.payload["title"] == "きらくらのお知らせ" and first.payload["body"].startswith("明日 10:00")
    assert second.payload["body"].startswith("本日 10:00")
    assert first.payload["tag"].startswith(str(session_id))
    assert first.payload["url"] == f"/i/{ibasho_id}"  # a participant has no organiser app: the public page
    assert "actions" not in first.payload  # not linked to a roster entry: nothing to answer
    assert first.headers["urgency"] == "normal" and second.headers["urgency"] == "high"
    assert int(first.headers["ttl"]) == 16 * 3600  # until the start, not past it
    assert first.headers["content-type"] == "application/octet-stream"
    assert first.headers["topic"] != second.headers["topic"]
    assert all(r["state"] == "sent" for r in await deliveries())


async def test_410_removes_the_subscription(push, sender):
    sub, sub_id = await one_subscriber_due(push)
    push.answer(sub, 410)
    assert await send_due(sender, now=DAY_BEFORE) == ["removed"]
    assert not await PushSubscription.exists().where(PushSubscription.id == sub_id)
    assert await deliveries() == []


async def test_404_removes_the_subscription(push, sender):
    sub, sub_id = await one_subscriber_due(push)
    push.answer(sub, 404)
    assert await send_due(sender, now=DAY_BEFORE) == ["removed"]
    assert not await PushSubscription.exists().where(PushSubscription.id == sub_id)


async def test_413_fails_without_retry(push, sender):
    sub, sub_id = await one_subscriber_due(push)
    push.answer(sub, 413)
    assert await send_due(sender, now=DAY_BEFORE) == ["failed"]
    row = (await deliveries(due_at=DAY_BEFORE))[0]
    assert row["state"] == "failed" and row["last_error"].startswith("413")
    assert await PushSubscription.exists().where(PushSubscription.id == sub_id)


async def test_429_is_retried_no_sooner_than_retry_after(push, sender):
    sub, _ = await one_subscriber_due(push)
    push.answer(sub, (429, {"Retry-After": "3600"}))
    assert await send_due(sender, now=DAY_BEFORE) == ["pending"]
    row = (await deliveries(occurrence=(await deliveries())[0]["occurrence"]))[0]
    assert row["due_at"] >= DAY_BEFORE + timedelta(seconds=3600)
    assert await send_due(sender, now=DAY_BEFORE + timedelta(seconds=3599)) == []
    assert await send_due(sender, now=row["due_at"]) == ["sent"]
    assert [r.status for r in push.for_path(sub)] == [429, 201]
    assert len({r.headers["topic"] for r in push.for_path(sub)}) == 1


async def test_5xx_is_retried_with_backoff_at_most_five_times(push, sender):
    sub, _ = await one_subscriber_due(push)
    push.answer(sub, *[500] * 10)
    now, delays = DAY_BEFORE, []
    states = []
    for _ in range(7):
        states += await send_due(sender, now=now)
        rows = [r for r in await deliveries() if r["occurrence"].endswith(":day_before")]
        if rows[0]["state"] != "pending":
            break
        delays.append((rows[0]["due_at"] - now).total_seconds())
        now = rows[0]["due_at"]
    assert states == ["pending"] * 5 + ["failed"]
    assert all(later > earlier for earlier, later in pairwise(delays))  # exponential
    assert delays[0] >= BACKOFF_BASE
    assert len(push.for_path(sub)) == 6  # the first send and five retries


async def test_retries_never_go_past_the_ttl(push, sender):
    sub, _ = await one_subscriber_due(push)
    push.answer(sub, (503, {"Retry-After": str(3 * 3600)}))
    sent = await send_due(sender, now=TWO_HOURS)  # both due; the start is an hour away
    assert sorted(sent) == ["failed", "sent"]
    failed = [r for r in await deliveries() if r["state"] == "failed"][0]
    assert "gave up" in failed["last_error"]


async def test_timeouts_are_retried(push, sender):
    sub, _ = await one_subscriber_due(push)
    push.close()
    assert await send_due(sender, now=DAY_BEFORE) == ["pending"]


async def test_a_fan_out_reuses_its_connections_and_survives_the_service_closing_them():
    """The sender keeps its connections open across requests, and a push service closes a
    busy one now and then: the request cut off with it is sent again at once on a new
    connection, not left to the backoff."""
    service = FakePushService(requests_per_connection=10)
    try:
        _, ibasho_id, session_id = await reminder_session()
        subs = [await subscribe(service, ibasho_id) for _ in range(40)]
        await refresh_deliveries(session_id, now=DAY_BEFORE - timedelta(days=1))
        async with push_client(service.ssl_context()) as client:
            states = await send_due(Sender(client, load_vapid(), concurrency=2), now=DAY_BEFORE)
        assert states == ["sent"] * 40
        assert service.errors == []
        connections = {r.client_port for r in service.received}
        assert 4 <= len(connections) <= 10  # reused (40 requests, ≤ 10 each), and replaced when closed
        for sub, _ in subs:  # each reached its subscriber; a repeat of a cut-off request replaces (same Topic)
            received = service.for_path(sub)
            assert received and len({r.headers["topic"] for r in received}) == 1
    finally:
        service.close()


async def test_a_request_cut_off_with_its_connection_is_sent_again_at_once(push, sender, monkeypatch):
    """Lost after it was sent (the service dropped the connection): once more at once, on
    a fresh connection. A refused connection (the service is down) waits for the backoff."""
    sub, _ = await one_subscriber_due(push)
    post, calls = Sender._post, []

    async def cut_off_once(self, url, body, headers):
        calls.append(url)
        if len(calls) == 1:
            raise aiohttp.ServerDisconnectedError()
        return await post(self, url, body, headers)

    monkeypatch.setattr(Sender, "_post", cut_off_once)
    assert await send_due(sender, now=DAY_BEFORE) == ["sent"]
    assert len(calls) == 2 and len(push.for_path(sub)) == 1

    async def refused(self, url, body, headers):
        calls.append(url)
        raise aiohttp.ClientConnectorError(
            ConnectionKey("127.0.0.1", 1, True, True, None, None, None), OSError(111, "refused")
        )

    monkeypatch.setattr(Sender, "_post", refused)
    calls.clear()
    assert await send_due(sender, now=TWO_HOURS) == ["pending"] and len(calls) == 1


async def test_refusals_remove_the_subscription_only_after_three_in_a_row(push, sender):
    group, ibasho_id, session_id = await reminder_session()
    sub, sub_id = await subscribe(push, ibasho_id)
    await refresh_deliveries(session_id, now=DAY_BEFORE - timedelta(days=1))
    push.answer(sub, 401, 403)
    assert await send_due(sender, now=DAY_BEFORE) == ["failed"]
    assert await send_due(sender, now=TWO_HOURS) == ["failed"]
    sub_row = await PushSubscription.select().where(PushSubscription.id == sub_id).first()
    assert sub_row["consecutive_failures"] == 2
    # another session: a success resets the count
    _, _, other = await reminder_session(day=SESSION_DAY + timedelta(days=7))
    await Session.update({Session.ibasho: ibasho_id}).where(Session.id == other)
    await refresh_deliveries(other, now=DAY_BEFORE)
    assert await send_due(sender, now=DAY_BEFORE + timedelta(days=7)) == ["sent"]
    assert (await PushSubscription.select().where(PushSubscription.id == sub_id).first())["consecutive_failures"] == 0
    push.answer(sub, 400, 400, 400)
    for offset in (14, 21, 28):
        _, _, later = await reminder_session(day=SESSION_DAY + timedelta(days=offset))
        await Session.update({Session.ibasho: ibasho_id}).where(Session.id == later)
        await refresh_deliveries(later, now=DAY_BEFORE)
    outcomes = []
    for offset in (14, 21, 28):
        outcomes += await send_due(sender, limit=1, now=DAY_BEFORE + timedelta(days=offset))
    assert outcomes == ["failed", "failed", "removed"]
    assert not await PushSubscription.exists().where(PushSubscription.id == sub_id)


async def test_cancelling_or_moving_a_session_withdraws_or_updates_its_reminders(push, sender):
    _, ibasho_id, session_id = await reminder_session()
    sub, _ = await subscribe(push, ibasho_id)
    before = DAY_BEFORE - timedelta(days=1)
    await refresh_deliveries(session_id, now=before)
    await Session.update({Session.start_time: time(14, 0)}).where(Session.id == session_id)  # moved
    assert await refresh_deliveries(session_id, now=before) == 2  # new occurrences for the new time
    assert len(await deliveries(state="withdrawn")) == 2
    rows = await deliveries(state="pending")
    assert sorted(r["due_at"] for r in rows) == [DAY_BEFORE, datetime(2030, 6, 9, 3, 0, tzinfo=UTC)]
    await Session.update({Session.status: SessionStatus.cancelled.value}).where(Session.id == session_id)
    await reconcile(now=before)
    assert await deliveries(state="pending", session=session_id) == []
    await send_due(sender, now=datetime(2030, 6, 9, 5, tzinfo=UTC))
    assert push.for_path(sub) == []


async def test_a_scheduler_killed_between_claim_and_send_loses_nothing(push, sender):
    _, ibasho_id, session_id = await reminder_session()
    subs = [await subscribe(push, ibasho_id) for _ in range(5)]
    await refresh_deliveries(session_id, now=DAY_BEFORE - timedelta(days=1))
    claimed = await claim(now=DAY_BEFORE)  # ...and the process dies here
    assert len(claimed) == 5
    assert await send_due(sender, now=DAY_BEFORE + timedelta(seconds=30)) == []  # leased: nobody else takes them
    # the claim of one had gone out before the crash
    outcome = await sender.send(claimed[0], DAY_BEFORE)
    assert outcome.status == 201
    restarted = await send_due(sender, now=DAY_BEFORE + LEASE + timedelta(seconds=1))
    assert restarted == ["sent"] * 5
    assert push.errors == []
    per_sub = {sub.path: push.for_path(sub) for sub, _ in subs}
    assert sorted(len(v) for v in per_sub.values()) == [1, 1, 1, 1, 2]
    twice = [v for v in per_sub.values() if len(v) == 2][0]
    assert twice[0].headers["topic"] == twice[1].headers["topic"]
    assert await send_due(sender, now=DAY_BEFORE + timedelta(hours=1)) == []


async def test_two_schedulers_never_send_a_delivery_twice(push):
    _, ibasho_id, session_id = await reminder_session()
    subs = [await subscribe(push, ibasho_id) for _ in range(30)]
    await refresh_deliveries(session_id, now=DAY_BEFORE - timedelta(days=1))
    async with push_client(push.ssl_context()) as one, push_client(push.ssl_context()) as two:
        a, b = Sender(one, load_vapid()), Sender(two, load_vapid())

        async def worker(sender):
            states = []
            while batch := await send_due(sender, limit=3, now=TWO_HOURS):
                states += batch
            return states

        results = await asyncio.gather(worker(a), worker(b), worker(a), worker(b))
    assert sum(len(r) for r in results) == 60
    assert push.errors == []
    assert len(push.received) == 60
    assert all(len(push.for_path(sub)) == 2 for sub, _ in subs)
    assert {r["state"] for r in await deliveries()} == {"sent"}


async def test_reminders_follow_the_ibashos_time_zone(push, sender):
    _, ibasho_id, session_id = await reminder_session(tz="Europe/Berlin", day=date(2030, 3, 31), start=time(9, 0))
    await subscribe(push, ibasho_id)
    await refresh_deliveries(session_id, now=datetime(2030, 3, 1, tzinfo=UTC))
    rows = await deliveries()
    # 30 March 2030 18:00 CET (before the switch) and 31 March 08:00 CEST (07:00 is quiet)
    assert [r["due_at"] for r in rows] == [
        datetime(2030, 3, 30, 17, 0, tzinfo=UTC),
        datetime(2030, 3, 31, 6, 0, tzinfo=UTC),
    ]


_SCHEDULER = """
import asyncio, sys
from datetime import datetime
from server.reminders.planning import reconcile, refresh_deliveries
from server.reminders.queue import BACKOFF_BASE, LEASE, claim
from server.reminders.sender import Sender, push_client
from server.reminders.worker import send_due

async def main():
    now = datetime.fromisoformat(sys.argv[1])
    async with push_client() as client:  # trusts the fake service through SSL_CERT_FILE
        sender, count = Sender(client), 0
        while batch := await send_due(sender, limit=2, now=now):
            count += len(batch)
    print(count)

asyncio.run(main())
"""


async def test_three_scheduler_processes_on_one_database_send_each_delivery_once(push):
    _, ibasho_id, session_id = await reminder_session()
    subs = [await subscribe(push, ibasho_id) for _ in range(24)]
    await refresh_deliveries(session_id, now=DAY_BEFORE - timedelta(days=1))
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _SCHEDULER,
            TWO_HOURS.isoformat(),
            cwd=REPO,
            env={**os.environ, "SSL_CERT_FILE": str(push.ca_file)},
            stdout=asyncio.subprocess.PIPE,
        )
        for _ in range(3)
    ]
    counts = [int((await process.communicate())[0]) for process in processes]
    assert all(process.returncode == 0 for process in processes)
    assert sum(counts) == 48
    assert push.errors == []
    assert len(push.received) == 48
    assert all(len(push.for_path(sub)) == 2 for sub, _ in subs)
    assert {r["state"] for r in await deliveries(session=session_id)} == {"sent"}  # other tests leave theirs


def test_ibasho_vapid_makes_the_key_once_where_configured(tmp_path):
    key = tmp_path / "secret" / "vapid.pem"
    env = {**os.environ, "IBASHO_VAPID_KEY": str(key), "IBASHO_DATA_DIR": str(tmp_path / "data")}
    first = subprocess.run(
        [sys.executable, "-m", "server.cli", "vapid"], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    second = subprocess.run(
        [sys.executable, "-m", "server.cli", "vapid"], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    assert "created" in first.stdout and "already exists" in second.stdout
    assert first.stdout.splitlines()[-1] == second.stdout.splitlines()[-1]  # the same public key
    assert key.exists() and not (tmp_path / "data" / "vapid_private.pem").exists()


async def test_the_public_page_calendar_and_management_link(app_client, push, allow_fake):
    _, ibasho_id, session_id = await reminder_session(day=date.today() + timedelta(days=3))
    page = await app_client.get(f"/i/{ibasho_id}")
    assert page.status_code == 200 and "通知を受け取る" in page.text and "コミセン" in page.text
    feed = await app_client.get(f"/i/{ibasho_id}/calendar.ics")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    assert f"UID:{session_id}@ibasho" in feed.text and "DTSTART;TZID=Asia/Tokyo:" in feed.text and "\r\n" in feed.text
    await Session.update({Session.status: SessionStatus.cancelled.value}).where(Session.id == session_id)
    assert "STATUS:CANCELLED" in (await app_client.get(f"/i/{ibasho_id}/calendar.ics")).text
    assert (await app_client.get(f"/i/{uuid4()}")).status_code == 404

    sub = push.subscriber()
    saved = await app_client.post(
        "/api/push/subscriptions",
        json={
            "endpoint": push.endpoint(sub),
            "keys": {"p256dh": sub.p256dh, "auth": sub.auth},
            "ibasho_id": str(ibasho_id),
        },
    )
    manage = await app_client.get(saved.json()["manage_url"])
    assert manage.status_code == 200 and "通知を止める" in manage.text
    assert "すでに止まっています" in (await app_client.get("/push/manage/not-a-token")).text


async def test_the_calendar_feed_parses_with_icalendar_and_holds_the_sessions_times(app_client):
    import icalendar  # a test requirement (pyproject test extras): icalendar>=6.1

    _, ibasho_id, first = await reminder_session(day=date.today() + timedelta(days=3), start=time(10, 0))
    evening, overnight, cancelled = uuid4(), uuid4(), uuid4()
    group = (await Session.select(Session.group).where(Session.id == first).first())["group"]
    for session_id, day, start, end, status in (
        (evening, date.today() + timedelta(days=10), time(18, 30), time(20, 0), SessionStatus.scheduled),
        (overnight, date.today() + timedelta(days=17), time(22, 0), time(1, 0), SessionStatus.scheduled),
        (cancelled, date.today() + timedelta(days=24), time(9, 0), time(11, 0), SessionStatus.cancelled),
    ):
        await Session.insert(
            Session(
                id=session_id,
                group=group,
                ibasho=ibasho_id,
                title="夜カフェ",
                date=day,
                start_time=start,
                end_time=end,
                venue="",
                status=status.value,
                hlcs={},
                created_at=datetime.now(UTC),
                updated_at=datetime.now(UTC),
            )
        )
    await Session.update({Session.end_time: time(13, 0)}).where(Session.id == first)

    response = await app_client.get(f"/i/{ibasho_id}/calendar.ics")
    feed = icalendar.Calendar.from_ical(response.content)
    [tz] = feed.walk("VTIMEZONE")
    assert tz["TZID"] == "Asia/Tokyo"
    events = {str(e["UID"]).split("@")[0]: e for e in feed.walk("VEVENT")}
    tokyo = ZoneInfo("Asia/Tokyo")
    expected = {
        str(first): (date.today() + timedelta(days=3), time(10, 0), 0, time(13, 0), "CONFIRMED"),
        str(evening): (date.today() + timedelta(days=10), time(18, 30), 0, time(20, 0), "CONFIRMED"),
        str(overnight): (date.today() + timedelta(days=17), time(22, 0), 1, time(1, 0), "CONFIRMED"),
        str(cancelled): (date.today() + timedelta(days=24), time(9, 0), 0, time(11, 0), "CANCELLED"),
    }
    assert set(events) == set(expected)
    for uid, (day, start, end_days, end, status) in expected.items():
        event = events[uid]
        assert event["DTSTART"].params["TZID"] == "Asia/Tokyo" and event["DTEND"].params["TZID"] == "Asia/Tokyo"
        assert event["DTSTART"].dt == datetime.combine(day, start, tzinfo=tokyo)
        assert event["DTEND"].dt == datetime.combine(day + timedelta(days=end_days), end, tzinfo=tokyo)
        assert event["DTSTART"].dt.utcoffset() == timedelta(hours=9)
        assert str(event["STATUS"]) == status
    assert str(events[str(first)]["LOCATION"]) == "コミセン"


async def test_a_calendar_feed_in_a_zone_with_daylight_saving_gives_exact_utc_times(app_client):
    import icalendar

    _, ibasho_id, session_id = await reminder_session(
        tz="Europe/Berlin", day=date.today() + timedelta(days=3), start=time(9, 0)
    )
    feed = icalendar.Calendar.from_ical((await app_client.get(f"/i/{ibasho_id}/calendar.ics")).content)
    assert feed.walk("VTIMEZONE") == []
    [event] = feed.walk("VEVENT")
    starts = datetime.combine(date.today() + timedelta(days=3), time(9, 0), tzinfo=ZoneInfo("Europe/Berlin"))
    assert event["DTSTART"].dt == starts and event["DTSTART"].dt.utcoffset() == timedelta(0)
    assert event["DTEND"].dt == starts + timedelta(hours=2)  # no end time: two hours


async def test_sessions_changed_through_sync_get_their_reminders_at_once(app_client, push):
    """Created, moved, cancelled on a phone: the deliveries follow at the push, no reconcile."""
    group, ibasho_id, _ = await reminder_session()
    sub, sub_id = await subscribe(push, ibasho_id)
    organiser = await make_account("organiser", groups=[group])
    await app_client.login(organiser)
    phone = Phone(app_client)
    session_id, day = str(uuid4()), date.today() + timedelta(days=4)

    def pending():
        return deliveries(session=UUID(session_id), state="pending")

    phone.mutate(
        "session.upsert",
        id=session_id,
        group_id=str(group),
        ibasho_id=str(ibasho_id),
        title="きらくら",
        date=day.isoformat(),
        start_time="10:00",
    )
    assert (await phone.push()).status_code == 200
    created = await pending()
    assert len(created) == 2 and {r["subscription"] for r in created} == {sub_id}

    phone.mutate("session.upsert", id=session_id, start_time="14:00")  # moved
    assert (await phone.push()).status_code == 200
    moved = await pending()
    assert len(moved) == 2 and all("T1400:" in r["occurrence"] for r in moved)
    assert len(await deliveries(session=UUID(session_id), state="withdrawn")) == 2

    phone.mutate("session.upsert", id=session_id, status="cancelled")
    assert (await phone.push()).status_code == 200
    assert await pending() == []
    assert len(await deliveries(session=UUID(session_id), state="withdrawn")) == 4


async def test_an_organiser_on_duty_is_told_their_role_the_day_before_never_at_night(push, sender):
    group, _, session_id = await reminder_session()
    cook, idle = await make_account("organiser", groups=[group]), await make_account("organiser", groups=[group])
    cook_sub, _ = await subscribe(push, account=cook.account_id)
    idle_sub, _ = await subscribe(push, account=idle.account_id)
    now = datetime.now(UTC)
    for role, member, assigned in (
        ("調理", cook, True),
        ("受付", cook, True),
        ("片付け", cook, False),
        ("配膳", idle, False),
    ):
        await RoleAssignment.insert(
            RoleAssignment(
                id=f"{session_id}:{role}:{member.account_id}",
                session=session_id,
                role=role,
                member=member.account_id,
                assigned=assigned,
                hlcs={},
                updated_at=now,
            )
        )
    # a day-before rule that would fall in quiet hours (21:30) is deferred to 08:00, not dropped
    await Session.update({Session.reminder_rule: {"day_before_at": "21:30"}}).where(Session.id == session_id)
    await refresh_deliveries(session_id, now=DAY_BEFORE - timedelta(days=1))
    deferred = datetime(2030, 6, 8, 23, 0, tzinfo=UTC)  # 08:00 JST on the day
    assert await send_due(sender, now=datetime(2030, 6, 8, 12, 30, tzinfo=UTC)) == []  # 21:30 JST
    assert await send_due(sender, now=deferred - timedelta(minutes=1)) == []
    assert sorted(await send_due(sender, now=deferred)) == ["sent"] * 4  # day-before and 2 h, both at 08:00
    assert push.errors == []
    [cook_day_before] = [r.payload for r in push.for_path(cook_sub) if r.payload["tag"].endswith(":day_before")]
    assert cook_day_before["title"] == "本日はあなたが受付・調理担当です"  # sent on the day: not 明日
    assert cook_day_before["url"] == f"/app/#/session/{session_id}"
    assert all(not r.payload["title"].endswith("担当です") for r in push.for_path(idle_sub))


async def test_the_duty_reminder_reads_tomorrow_at_18_and_follows_the_roster(push, sender):
    group, _, session_id = await reminder_session()
    cook = await make_account("organiser", groups=[group])
    cook_sub, _ = await subscribe(push, account=cook.account_id)
    await refresh_deliveries(session_id, now=DAY_BEFORE - timedelta(days=1))
    # assigned after the deliveries were made: the roster at send time counts
    await RoleAssignment.insert(
        RoleAssignment(
            id=f"{session_id}:調理:{cook.account_id}",
            session=session_id,
            role="調理",
            member=cook.account_id,
            assigned=True,
            hlcs={},
            updated_at=datetime.now(UTC),
        )
    )
    assert await send_due(sender, now=DAY_BEFORE) == ["sent"]
    [message] = [r.payload for r in push.for_path(cook_sub)]
    assert message["title"] == "明日はあなたが調理担当です"
    assert message["body"] == "きらくら 明日 10:00 から（コミセン）"
