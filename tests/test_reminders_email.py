"""Reminders by email (issue #16): a confirmed address gets the scheduler's deliveries
through a real SMTP server on loopback (aiosmtpd), with the same rules as Web Push."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from email.header import decode_header
from urllib.parse import urlsplit
from uuid import uuid4

import pytest

from server.core.mail import SmtpServer, send_outbox
from server.reminders.channels import Channels
from server.reminders.email import EmailSender, endpoint_key, request_email
from server.reminders.planning import refresh_deliveries
from server.reminders.worker import send_due
from server.tables import (
    Attendance,
    PushSubscription,
    ReminderDelivery,
    SubscriptionChannel,
)
from tests.factories import Client, asgi_client
from tests.test_reminders_absence import venue

pytestmark = pytest.mark.usefixtures("no_other_deliveries", "fresh_sign_up_count")


def paths(text: str) -> list[str]:
    return [urlsplit(url).path for url in re.findall(r"https?://\S+", text)]


async def person_token(client, place) -> str:
    await client.login(place["organiser"])
    made = await client.post("/api/push/person-links", json={"person_id": str(place["person"])})
    assert made.status_code == 201, made.text
    await client.post("/api/auth/logout")
    return made.json()["url"].split("?person=", 1)[1]


async def email_subscriber(place, address: str, person: bool = True):
    sub_id = uuid4()
    await PushSubscription.insert(
        PushSubscription(
            id=sub_id,
            endpoint=endpoint_key(SubscriptionChannel.email, place["ibasho"], address),
            p256dh="",
            auth="",
            ibasho=place["ibasho"],
            person=place["person"] if person else None,
            channel=SubscriptionChannel.email.value,
            address=address,
            confirmed_at=datetime.now(UTC),
            offsets=[],
            created_at=datetime.now(UTC),
            updated_at=datetime.now(UTC),
        )
    )
    return sub_id


async def first_due(place):
    await refresh_deliveries(place["session"])
    return (
        await ReminderDelivery.select()
        .where(ReminderDelivery.session == place["session"])
        .order_by(ReminderDelivery.due_at)
        .first()
    )


def email_channel(smtp) -> Channels:
    return Channels(email=EmailSender(SmtpServer.from_url(smtp.url)))


async def test_an_address_gets_nothing_until_its_confirmation_link_is_followed(app_client, smtp):
    place = await venue()
    token = await person_token(app_client, place)
    address = f"hanako-{uuid4().hex[:8]}@example.jp"

    bad = await app_client.form(f"/i/{place['ibasho']}/email", {"address": "hanako@", "person": token})
    assert bad.status_code == 422
    assert "メールアドレスの形が正しくない" in bad.text and 'value="hanako@"' in bad.text
    assert not await PushSubscription.exists().where(PushSubscription.address == "hanako@")

    asked = await app_client.form(f"/i/{place['ibasho']}/email", {"address": address, "person": token})
    assert asked.status_code == 200, asked.text
    assert "確認のメールを送りました" in asked.text
    assert asked.headers["cache-control"] == "no-store"
    sub = await PushSubscription.select().where(PushSubscription.address == address).first()
    assert sub["channel"] == "email" and sub["confirmed_at"] is None and sub["person"] == place["person"]
    await refresh_deliveries(place["session"])
    assert not await ReminderDelivery.exists().where(ReminderDelivery.subscription == sub["id"])

    await send_outbox(SmtpServer.from_url(smtp.url))
    (confirmation,) = smtp.to(address)
    body = confirmation.get_body(("plain",)).get_content()
    confirm_path = next(p for p in paths(body) if p.startswith("/push/email/confirm/"))
    manage_path = next(p for p in paths(body) if p.startswith("/push/manage/"))

    page = await app_client.get(confirm_path)  # a mail scanner fetching the link confirms nothing
    assert page.status_code == 200 and "メールでの通知を始める" in page.text
    assert (await PushSubscription.select().where(PushSubscription.id == sub["id"]).first())["confirmed_at"] is None
    forged = await app_client.form(confirm_path[:-3] + "AAA", {})
    assert forged.status_code == 404
    done = await app_client.form(confirm_path, {})
    assert done.status_code == 200 and "設定しました" in done.text
    assert await ReminderDelivery.exists().where(ReminderDelivery.subscription == sub["id"])
    assert (await app_client.get(manage_path)).status_code == 200  # the kept link chooses or stops


async def test_the_reminder_mail_has_both_parts_a_reply_link_and_a_stop_link(app_client, smtp):
    place = await venue()
    address = f"taro-{uuid4().hex[:8]}@example.jp"
    sub_id = await email_subscriber(place, address)
    due = await first_due(place)
    assert await send_due(email_channel(smtp), now=due["due_at"]) == ["sent"]
    (mail,) = smtp.to(address)

    assert mail["From"].addresses[0].addr_spec == "noreply@ibasho.invalid"
    assert mail["Subject"] == "すみれの家のお知らせ"
    raw = mail.as_string()
    assert re.search(r"^Subject: =\?utf-8\?", raw, re.MULTILINE | re.IGNORECASE)
    assert decode_header(re.search(r"^Subject: (.+)$", raw, re.MULTILINE)[1])[0][1].lower() == "utf-8"
    assert mail["Date"] and mail["Message-ID"] and mail["Auto-Submitted"] == "auto-generated"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail.get_content_type() == "multipart/alternative"
    text = mail.get_body(("plain",)).get_content()
    markup = mail.get_body(("html",)).get_content()
    assert "10:00 から（西部コミセン）" in text and "西部コミセン" in markup
    reply = next(p for p in paths(text) if p.startswith("/push/reply/"))
    assert f'href="http://127.0.0.1:8000{reply}"' in markup

    # 「欠席します」 from the mail: the push reply's page and API, the same record
    page = await app_client.get(reply)
    assert page.status_code == 200 and "欠席します" in page.text
    answered = await app_client.post("/api/push/absences/" + reply.rsplit("/", 1)[1])
    assert answered.status_code == 200, answered.text
    attendance = await Attendance.select().where(Attendance.id == f"{place['session']}:{place['person']}").first()
    assert attendance["status"] == "absent_notified"

    # a mail client's one-click unsubscribe (RFC 8058): no cookie, no CSRF token
    stop = urlsplit(mail["List-Unsubscribe"].strip("<>")).path
    assert stop in [p for p in paths(text)]
    stopped = await app_client.http.post(stop, content="List-Unsubscribe=One-Click")
    assert stopped.status_code == 200
    assert not await PushSubscription.exists().where(PushSubscription.id == sub_id)


async def test_a_bounce_unsubscribes_and_a_temporary_refusal_is_retried(smtp):
    place = await venue()
    gone, busy = f"gone-{uuid4().hex[:8]}@example.jp", f"busy-{uuid4().hex[:8]}@example.jp"
    gone_id = await email_subscriber(place, gone, person=False)
    busy_id = await email_subscriber(place, busy, person=False)
    smtp.refuse |= {gone: 550, busy: 451}
    due = await first_due(place)
    states = await send_due(email_channel(smtp), now=due["due_at"])
    assert sorted(states) == ["pending", "removed"]
    assert not await PushSubscription.exists().where(PushSubscription.id == gone_id)
    retry = (
        await ReminderDelivery.select()
        .where(ReminderDelivery.subscription == busy_id)
        .order_by(ReminderDelivery.due_at)
        .first()
    )
    assert retry["state"] == "pending" and retry["attempts"] == 1 and "451" in retry["last_error"]
    assert retry["due_at"] >= due["due_at"] + timedelta(seconds=30)

    del smtp.refuse[busy]  # the mailbox is back: the retry goes, once
    assert await send_due(email_channel(smtp), now=retry["due_at"]) == ["sent"]
    assert len(smtp.to(busy)) == 1
    assert await send_due(email_channel(smtp), now=retry["due_at"] + timedelta(minutes=1)) == []


async def test_no_smtp_server_is_retried_then_given_up():
    place = await venue()
    await email_subscriber(place, f"x-{uuid4().hex[:8]}@example.jp", person=False)
    due = await first_due(place)
    channel = Channels(email=EmailSender(SmtpServer.from_url("smtp://127.0.0.1:9")))
    at, states = due["due_at"], []
    for _ in range(6):
        states = await send_due(channel, now=at)
        row = await ReminderDelivery.select().where(ReminderDelivery.id == due["id"]).first()
        at = row["due_at"] + timedelta(seconds=1)
    assert states == ["failed"] and row["last_error"].startswith("gave up after 6 attempts")


async def test_an_organiser_gets_meetings_and_duties_by_email_once_confirmed(app_client, smtp):
    place = await venue()
    address = f"org-{uuid4().hex[:8]}@example.jp"
    await app_client.login(place["organiser"])
    assert (await app_client.post("/api/push/email", json={"address": "org@"})).status_code == 400
    asked = await app_client.post("/api/push/email", json={"address": address})
    assert asked.status_code == 202, asked.text
    sub = await PushSubscription.select().where(PushSubscription.address == address).first()
    assert sub["account"] == place["organiser"].account_id and sub["ibasho"] is None and sub["confirmed_at"] is None
    await send_outbox(SmtpServer.from_url(smtp.url))
    (confirmation,) = smtp.to(address)
    confirm_path = next(p for p in paths(confirmation.get_body(("plain",)).get_content()) if "/confirm/" in p)
    done = await app_client.form(confirm_path, {})
    assert done.status_code == 200 and "あなたの会議と担当のお知らせ" in done.text
    due = await first_due(place)
    assert due["subscription"] == sub["id"]
    assert "sent" in await send_due(email_channel(smtp), now=due["due_at"])  # (the reconcile's others too)
    _, reminder = smtp.to(address)  # after the confirmation
    assert f"/app/#/session/{place['session']}" in reminder.get_body(("plain",)).get_content()


# --- nobody's mailbox is filled through the form (mail bombing) ------------------------------


def stranger_client(app, n: int) -> Client:
    return Client(asgi_client(app, f"198.18.{uuid4().int % 250}.{n}"))


async def test_one_address_gets_at_most_three_confirmations_a_day_whoever_asks_from_wherever(app, smtp):
    first, second = await venue(), await venue()
    address = f"victim-{uuid4().hex[:8]}@example.jp"
    capitals = address.split("@")[0].upper() + "@example.jp"
    server = SmtpServer.from_url(smtp.url)

    async def ask(n: int, place, typed: str = address) -> None:
        async with stranger_client(app, n).http as http:
            answer = await Client(http).form(f"/i/{place['ibasho']}/email", {"address": typed})
        assert answer.status_code == 200 and "確認のメールを送りました" in answer.text  # the same, mail or no mail
        await send_outbox(server)

    async def age_the_subscriptions() -> None:  # as if half an hour had passed since each mail
        await PushSubscription.update({PushSubscription.updated_at: datetime.now(UTC) - timedelta(hours=1)}).where(
            PushSubscription.address.is_in([address, capitals])
        )

    await ask(1, first)
    (mail,) = smtp.to(address)
    manage_path = next(p for p in paths(mail.get_body(("plain",)).get_content()) if p.startswith("/push/manage/"))
    for n in range(2, 6):  # again and again while its mail is fresh: no second mail
        await ask(n, first)
    assert len(smtp.to(address)) == 1
    assert (await app_client_get(app, manage_path)).status_code == 200  # its links still work

    await age_the_subscriptions()
    await ask(6, first)
    await ask(7, second, capitals)  # another ibasho, in capitals
    assert len([m for m in smtp.received if m["To"].lower() == address]) == 3
    for n in range(8, 14):
        await age_the_subscriptions()
        await ask(n, first if n % 2 else second)
    assert len([m for m in smtp.received if m["To"].lower() == address]) == 3
    other = f"other-{uuid4().hex[:8]}@example.jp"  # another address is not held back by this one's
    await ask(14, first, other)
    assert len(smtp.to(other)) == 1


async def test_plus_tags_and_capitals_count_as_one_mailbox_but_mail_goes_as_typed(app, smtp):
    first, second = await venue(), await venue()
    local = f"victim-{uuid4().hex[:8]}"
    server = SmtpServer.from_url(smtp.url)

    async def ask(n: int, place, tag: str) -> None:
        async with stranger_client(app, n).http as http:
            typed = f"{local}+{tag}@Example.jp"
            answer = await Client(http).form(f"/i/{place['ibasho']}/email", {"address": typed})
        assert answer.status_code == 200 and "確認のメールを送りました" in answer.text
        await send_outbox(server)

    def mails() -> list:
        return [m for m in smtp.received if m["To"].lower().startswith(f"{local}+")]

    for n in range(1, 5):  # a fresh confirmation to the mailbox: a new tag gets no second one
        await ask(n, first, f"t{n}")
    assert [m["To"] for m in mails()] == [f"{local}+t1@Example.jp"]  # as typed
    for n in range(5, 12):  # past the fresh half hour, over two ibasho: three a day in all
        await PushSubscription.update({PushSubscription.updated_at: datetime.now(UTC) - timedelta(hours=1)}).where(
            PushSubscription.address.like(f"{local}+%")
        )
        await ask(n, first if n % 2 else second, f"t{n}")
    assert len(mails()) == 3


async def app_client_get(app, path: str):
    async with asgi_client(app) as http:
        return await http.get(path)


async def test_an_organisers_own_address_counts_with_the_public_forms(app, app_client, smtp):
    place = await venue()
    address = f"org-{uuid4().hex[:8]}@example.jp"
    for n in range(3):
        async with stranger_client(app, n).http as http:
            assert (await Client(http).form(f"/i/{place['ibasho']}/email", {"address": address})).status_code == 200
        await PushSubscription.update({PushSubscription.updated_at: datetime.now(UTC) - timedelta(hours=1)}).where(
            PushSubscription.address == address
        )
    await app_client.login(place["organiser"])
    asked = await app_client.post("/api/push/email", json={"address": address})
    assert asked.status_code == 202 and asked.json() == {"address": address}  # as when a mail goes
    await send_outbox(SmtpServer.from_url(smtp.url))
    assert len(smtp.to(address)) == 3
    assert await PushSubscription.count().where(PushSubscription.address == address) == 1  # none made for nothing


async def test_requests_at_the_same_moment_mail_once(smtp):
    place = await venue()
    address = f"race-{uuid4().hex[:8]}@example.jp"
    sent = await asyncio.gather(*(request_email(address, "すみれの家", ibasho_id=place["ibasho"]) for _ in range(6)))
    assert sent.count(True) == 1
    await send_outbox(SmtpServer.from_url(smtp.url))
    assert len(smtp.to(address)) == 1


async def test_a_bot_filling_the_hidden_field_is_thanked_and_nothing_is_mailed(app_client, smtp):
    place = await venue()
    address = f"bot-{uuid4().hex[:8]}@example.jp"
    page = await app_client.get(f"/i/{place['ibasho']}")
    assert page.text.count('name="website"') >= 1
    answer = await app_client.form(f"/i/{place['ibasho']}/email", {"address": address, "website": "http://spam"})
    assert answer.status_code == 200 and "確認のメールを送りました" in answer.text
    await send_outbox(SmtpServer.from_url(smtp.url))
    assert smtp.to(address) == [] and not await PushSubscription.exists().where(PushSubscription.address == address)


async def test_a_batch_goes_on_a_few_kept_sessions_and_a_dropped_one_is_opened_again(smtp):
    place = await venue()
    addresses = [f"many-{n}-{uuid4().hex[:6]}@example.jp" for n in range(30)]
    for address in addresses:
        await email_subscriber(place, address, person=False)
    smtp.refuse[addresses[0]] = 550  # a bounce on the way leaves its session usable
    due = await first_due(place)
    sender = EmailSender(SmtpServer.from_url(smtp.url), concurrency=4)
    channel = Channels(email=sender)
    states = await send_due(channel, now=due["due_at"])
    assert sorted(states) == ["removed"] + ["sent"] * 29
    assert len(smtp.received) == 29 and len(set(smtp.peers)) <= 4 and sender.sessions.opened <= 4

    smtp.restart()  # the relay drops the kept sessions: the next messages open new ones
    again = f"again-{uuid4().hex[:6]}@example.jp"
    await email_subscriber(place, again, person=False)
    await refresh_deliveries(place["session"])
    assert await send_due(channel, now=due["due_at"]) == ["sent"]
    assert len(smtp.to(again)) == 1 and smtp.peers[-1] not in smtp.peers[:-1]
    await sender.close()
