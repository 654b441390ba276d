"""Reminders in Chromium: the service worker shows them, and participants subscribe and
answer them through the real pages.

Chromium here has no push service (subscribing neither resolves nor fails), so an init script stubs
``pushManager.subscribe`` to return a subscription whose keys the test holds and whose
endpoint is the fake push service; the server sends a due reminder there for real (VAPID
checked, body decrypted), and the test hands the decrypted payload to the service worker
through the DevTools Protocol (``ServiceWorker.deliverPushMessage``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from uuid import uuid4

import pytest

from server.reminders import tokens
from server.reminders.planning import refresh_deliveries
from server.reminders.sender import Sender, payload_for, push_client
from server.reminders.vapid import load_vapid
from server.reminders.worker import send_due
from server.tables import (
    Attendance,
    Ibasho,
    Person,
    PushSubscription,
    ReminderDelivery,
    SafetyCheck,
    Session,
    SessionStatus,
)
from tests.browser import WELCOMED
from tests.factories import make_account, make_area, make_group, start_server, unique
from tests.push_service import FakePushService, Subscriber
from tests.sync_phone import Phone

NOTIFICATIONS = """async () => (await (await navigator.serviceWorker.getRegistration("/app/")).getNotifications())
    .map((n) => ({title: n.title, body: n.body, tag: n.tag, data: n.data, actions: n.actions.map((a) => a.action)}))"""


async def app_registration_id(page, cdp) -> str:
    """The DevTools id of the app's service-worker registration (scope /app/)."""
    registrations = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
    await cdp.send("ServiceWorker.enable")
    for _ in range(200):  # the machine may be busy
        if any(r["scopeURL"].endswith("/app/") for r in registrations):
            break
        await page.wait_for_timeout(100)
    return [r["registrationId"] for r in registrations if r["scopeURL"].endswith("/app/") and not r["isDeleted"]][-1]


async def shown_notifications(page, count: int = 1, tries: int = 200) -> list[dict]:
    shown = []
    for _ in range(tries):
        shown = await page.evaluate(NOTIFICATIONS)
        if len(shown) >= count:
            break
        await page.wait_for_timeout(100)
    return shown


async def test_a_push_shows_a_japanese_notification_tagged_with_its_occurrence(chromium, live_server):
    context = await chromium.new_context(locale="ja-JP")
    await context.grant_permissions(["notifications"], origin=live_server.url)
    page = await context.new_page()
    await page.goto(f"{live_server.url}/app/")
    # the push goes to the registration: an active worker is enough (no reload, which the app may race)
    await page.wait_for_function("navigator.serviceWorker.ready.then((r) => r.active !== null)")
    cdp = await context.new_cdp_session(page)
    registration_id = await app_registration_id(page, cdp)

    session_id = uuid4()
    row = {
        "occurrence": f"{session_id}:2030-06-09T1000:day_before",
        "start_time": time(10),
        "title": "きらくら",
        "venue": "西部コミセン",
        "session": session_id,
        "date": date(2030, 6, 9),
    }
    payload = json.loads(payload_for(row, now=datetime(2030, 6, 8, 9, 0, tzinfo=UTC)))  # 18:00 JST the day before
    await cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": live_server.url, "registrationId": registration_id, "data": json.dumps(payload, ensure_ascii=False)},
    )
    shown = await shown_notifications(page)
    assert shown == [
        {
            "title": "きらくらのお知らせ",
            "body": "明日 10:00 から（西部コミセン）",
            "tag": row["occurrence"],
            "data": {"url": f"/app/#/session/{session_id}"},
            "actions": [],
        }
    ]
    await context.close()


# --- participants, through the public page ------------------------------------------------


@pytest.fixture(scope="module")
def push_service():
    service = FakePushService()
    yield service
    service.close()


@pytest.fixture(scope="module")
def push_server(push_service):
    """``ibasho serve`` that accepts the fake push service's loopback endpoints."""
    hosts = f"fcm.googleapis.com,127.0.0.1:{push_service.port}"
    server = start_server(env={**os.environ, "IBASHO_PUSH_HOSTS": hosts})
    yield server
    server.stop()


STUB_SUBSCRIBE = """(() => {
  const fake = %s;
  const subscription = {
    endpoint: fake.endpoint, expirationTime: null, options: { userVisibleOnly: true },
    getKey: () => null, unsubscribe: async () => true,
    toJSON: () => ({ endpoint: fake.endpoint, expirationTime: null, keys: fake.keys }),
  };
  if (self.PushManager) {
    PushManager.prototype.subscribe = async function () { return subscription; };
    PushManager.prototype.getSubscription = async function () { return null; };
  }
})();"""


@dataclass
class Phone_:
    context: object
    page: object
    cdp: object
    registration_id: str
    subscriber: Subscriber


async def subscribe_on_public_page(chromium, server, push: FakePushService, path: str) -> Phone_:
    """A participant's phone opens ``path`` (the poster's QR code) and taps 通知を受け取る."""
    sub = push.subscriber()
    context = await chromium.new_context(locale="ja-JP")
    await context.grant_permissions(["notifications"], origin=server.url)
    await context.add_init_script(
        STUB_SUBSCRIBE % json.dumps({"endpoint": push.endpoint(sub), "keys": {"p256dh": sub.p256dh, "auth": sub.auth}})
    )
    page = await context.new_page()
    await page.goto(f"{server.url}{path}")
    await page.get_by_role("button", name="通知を受け取る").click()
    await page.get_by_text("通知を設定しました").wait_for(timeout=30000)
    assert "/push/manage/" in await page.locator("#subscribe-status a").get_attribute("href")
    cdp = await context.new_cdp_session(page)
    return Phone_(context, page, cdp, await app_registration_id(page, cdp), sub)


async def send_first_reminder(push: FakePushService, sub: Subscriber, session_id) -> dict:
    """Make the session's first reminder due and send it as the scheduler does; returns
    what the fake push service decrypted."""
    await refresh_deliveries(session_id)
    due = (
        await ReminderDelivery.select(ReminderDelivery.due_at)
        .where(ReminderDelivery.session == session_id)
        .order_by(ReminderDelivery.due_at)
        .first()
    )["due_at"]
    async with push_client(push.ssl_context()) as client:
        while await send_due(Sender(client, load_vapid()), now=due):
            pass
    assert push.errors == []
    received = push.for_path(sub)
    assert len(received) == 1 and received[0].status == 201
    return received[0].payload


async def deliver(phone: Phone_, server, payload: dict) -> list[dict]:
    """Hand the push to the worker. A push that reaches a worker still starting up can be
    dropped; sending it again is harmless (same tag: the notification is replaced)."""
    for _ in range(3):
        await phone.cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": server.url,
                "registrationId": phone.registration_id,
                "data": json.dumps(payload, ensure_ascii=False),
            },
        )
        if shown := await shown_notifications(phone.page, tries=50):
            return shown
    return []


async def ibasho_with_session(registration_required: bool = False, days_ahead: int = 3):
    group = await make_group(await make_area())
    ibasho_id, session_id = uuid4(), uuid4()
    now = datetime.now(UTC)
    await Ibasho.insert(
        Ibasho(
            id=ibasho_id,
            group=group,
            name=unique("きらくら"),
            venue="西部コミセン",
            registration_required=registration_required,
            created_at=now,
        )
    )
    await Session.insert(
        Session(
            id=session_id,
            group=group,
            ibasho=ibasho_id,
            title="きらくら食堂",
            date=date.today() + timedelta(days=days_ahead),
            start_time=time(10, 0),
            venue="西部コミセン",
            status=SessionStatus.scheduled.value,
            hlcs={},
            created_at=now,
            updated_at=now,
        )
    )
    return group, ibasho_id, session_id


@pytest.fixture
async def only_these_deliveries():
    await ReminderDelivery.delete(force=True)  # the test sends whatever is due in the database


async def test_a_participant_subscribes_on_the_public_page_and_sees_the_reminder(
    chromium, push_server, push_service, only_these_deliveries
):
    _, ibasho_id, session_id = await ibasho_with_session()
    phone = await subscribe_on_public_page(chromium, push_server, push_service, f"/i/{ibasho_id}")
    saved = (
        await PushSubscription.select()
        .where(PushSubscription.endpoint == push_service.endpoint(phone.subscriber))
        .first()
    )
    assert saved["ibasho"] == ibasho_id and saved["person"] is None and saved["p256dh"] == phone.subscriber.p256dh

    payload = await send_first_reminder(push_service, phone.subscriber, session_id)
    shown = await deliver(phone, push_server, payload)
    assert shown == [
        {
            "title": "きらくら食堂のお知らせ",
            "body": "明日 10:00 から（西部コミセン）",
            "tag": payload["tag"],
            "data": {"url": f"/i/{ibasho_id}"},
            "actions": [],
        }
    ]
    assert payload["tag"].startswith(f"{session_id}:") and payload["tag"].endswith(":day_before")
    await phone.context.close()


IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1"
)


async def test_on_an_iphone_the_page_first_shows_how_to_add_it_to_the_home_screen(chromium, push_server):
    _, ibasho_id, _ = await ibasho_with_session()
    context = await chromium.new_context(locale="ja-JP", user_agent=IPHONE_SAFARI, has_touch=True)
    page = await context.new_page()
    await page.goto(f"{push_server.url}/i/{ibasho_id}")
    steps = page.locator("#home-screen-steps")
    await steps.get_by_text("ホーム画面に追加").first.wait_for()
    assert not await page.get_by_role("button", name="通知を受け取る").is_visible()
    manifest = await page.evaluate("""fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())""")
    assert manifest["start_url"] == f"/i/{ibasho_id}" and manifest["display"] == "standalone"
    assert manifest["name"] == (await Ibasho.select(Ibasho.name).where(Ibasho.id == ibasho_id).first())["name"]

    # opened from the Home Screen: the button is there and the steps are not
    await context.add_init_script("Object.defineProperty(navigator, 'standalone', { get: () => true });")
    page = await context.new_page()
    await page.goto(f"{push_server.url}/i/{ibasho_id}")
    await page.get_by_role("button", name="通知を受け取る").wait_for()
    assert not await page.locator("#home-screen-steps").is_visible()
    await context.close()


async def test_choosing_absent_on_a_notification_records_absent_notified(
    chromium, push_server, push_service, only_these_deliveries, app_client
):
    group, ibasho_id, session_id = await ibasho_with_session(registration_required=True)
    person_id = uuid4()
    await Person.insert(
        Person(
            id=person_id,
            group=group,
            display_name="山田 花子",
            registered=True,
            hlcs={},
            updated_at=datetime.now(UTC),
        )
    )
    organiser = await make_account("organiser", groups=[group])
    await app_client.login(organiser)
    organiser_phone = Phone(app_client)
    await organiser_phone.pull()

    link, _ = tokens.person_link(person_id, ibasho_id)  # what the roster's 通知用QR encodes
    phone = await subscribe_on_public_page(chromium, push_server, push_service, f"/i/{ibasho_id}?person={link}")
    assert (
        await PushSubscription.select(PushSubscription.person)
        .where(PushSubscription.endpoint == push_service.endpoint(phone.subscriber))
        .first()
    )["person"] == person_id

    payload = await send_first_reminder(push_service, phone.subscriber, session_id)
    [shown] = await deliver(phone, push_server, payload)
    assert shown["actions"] == ["absent"] and shown["tag"] == payload["tag"]

    # Choose 「欠席します」: the worker's own click handler, in the worker, on the notification
    # it showed (a synthetic NotificationEvent is untrusted and could not waitUntil).
    worker = next(w for w in phone.context.service_workers if w.url.endswith("/sw.js"))
    answered = await worker.evaluate("""async () => {
        const [notification] = await self.registration.getNotifications();
        return handleNotificationClick(notification, "absent");
    }""")
    assert answered is True
    [confirmation] = await shown_notifications(phone.page)
    assert confirmation["tag"] == payload["tag"] and "お伝えしました" in confirmation["body"]

    attendance_id = f"{session_id}:{person_id}"
    changes = await organiser_phone.pull()
    assert [(c["entity"], c["id"], c["data"]["status"]) for c in changes] == [
        ("attendance", attendance_id, "absent_notified")
    ]
    assert (await Attendance.select(Attendance.status).where(Attendance.id == attendance_id).first())[
        "status"
    ] == "absent_notified"
    assert not await SafetyCheck.exists().where(SafetyCheck.session == session_id)
    await phone.context.close()


async def test_an_organiser_turns_on_reminders_in_the_app_and_gets_them(
    chromium, push_server, push_service, only_these_deliveries
):
    """Subscribing from the PWA (a tap, then permission), re-sent on every start, and a
    reminder of their group's session shown by the app's worker."""
    group, _, session_id = await ibasho_with_session()
    organiser = await make_account("organiser", groups=[group])
    sub = push_service.subscriber()
    endpoint = push_service.endpoint(sub)
    context = await chromium.new_context(locale="ja-JP")
    await context.grant_permissions(["notifications"], origin=push_server.url)
    # As a browser keeps a subscription: getSubscription() answers it once subscribe() made it.
    remembered = STUB_SUBSCRIBE.replace(
        "{ return subscription; }", "{ sessionStorage.setItem('subscribed', '1'); return subscription; }"
    ).replace(
        "async function () { return null; }",
        "async function () { return sessionStorage.getItem('subscribed') ? subscription : null; }",
    )
    await context.add_init_script(
        remembered % json.dumps({"endpoint": endpoint, "keys": {"p256dh": sub.p256dh, "auth": sub.auth}})
    )
    await context.add_init_script(WELCOMED)
    page = await context.new_page()
    await page.goto(f"{push_server.url}/app/")
    await page.wait_for_load_state("networkidle")  # the login form's script is running
    await page.fill("input[name=login]", organiser.login)
    await page.fill("input[name=password]", organiser.password)
    await page.click("button[type=submit]")
    await page.click("[data-testid=reminders-enable]")
    await page.wait_for_selector("[data-testid=reminders][data-state=on]")
    saved = await PushSubscription.select().where(PushSubscription.endpoint == endpoint).first()
    assert saved["account"] == organiser.account_id and saved["ibasho"] is None

    # The server lost it (or the push service replaced it): the next start sends it again.
    await PushSubscription.delete().where(PushSubscription.endpoint == endpoint)
    await page.reload()
    for _ in range(100):
        if await PushSubscription.exists().where(PushSubscription.endpoint == endpoint):
            break
        await page.wait_for_timeout(100)
    assert (
        await PushSubscription.select(PushSubscription.account).where(PushSubscription.endpoint == endpoint).first()
    ) == {"account": organiser.account_id}

    payload = await send_first_reminder(push_service, sub, session_id)
    cdp = await context.new_cdp_session(page)
    phone = Phone_(context, page, cdp, await app_registration_id(page, cdp), sub)
    shown = await deliver(phone, push_server, payload)
    assert [(n["title"], n["tag"]) for n in shown] == [("きらくら食堂のお知らせ", payload["tag"])]
    await context.close()
