"""Mail through a real SMTP server on loopback: the message as a mail client reads it, the
outbox's retries, bounces and claims."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.core import mail
from server.core.clock import now
from server.tables import MailState, OutboundMail


@pytest.fixture
async def outbox_of_this_test():
    """The outbox is shared by the run's database: each test sends only its own mail."""
    await OutboundMail.update({OutboundMail.state: MailState.failed.value}).where(
        OutboundMail.state.is_in([MailState.pending.value, MailState.sending.value])
    )


async def test_a_message_arrives_with_its_japanese_subject_and_body_readable(smtp, outbox_of_this_test):
    await mail.queue_mail(
        "hanako@example.jp", "居場所の登録申請を受け付けました", "山田 花子 様\n\nhttps://x/apply/1", "test"
    )
    server = mail.SmtpServer.from_url(smtp.url)
    assert await mail.send_outbox(server) == ["sent"]
    (message,) = smtp.to("hanako@example.jp")
    assert message["Subject"] == "居場所の登録申請を受け付けました"  # RFC 2047, decoded by the client
    assert "=?utf-8?" in message.as_string().split("\n\n", 1)[0].lower()  # encoded on the wire
    assert message.get_content_type() == "text/plain" and message.get_content_charset() == "utf-8"
    assert message.get_content().startswith("山田 花子 様") and "https://x/apply/1" in message.get_content()
    assert message["From"].addresses[0].display_name == "いばしょ" and message["Message-ID"]
    assert await mail.send_outbox(server) == []  # once


async def test_a_refused_address_fails_for_good_and_a_busy_server_is_tried_again(smtp, outbox_of_this_test):
    smtp.refuse = {"gone@example.jp": 550, "busy@example.jp": 451}
    gone = await mail.queue_mail("gone@example.jp", "件名", "本文", "test")
    busy = await mail.queue_mail("busy@example.jp", "件名", "本文", "test")
    server = mail.SmtpServer.from_url(smtp.url)
    assert sorted(await mail.send_outbox(server)) == ["failed", "pending"]
    rows = {row["id"]: row for row in await OutboundMail.select().where(OutboundMail.id.is_in([gone, busy]))}
    assert rows[gone]["state"] == "failed" and "550" in rows[gone]["last_error"]
    assert rows[busy]["state"] == "pending" and rows[busy]["next_attempt_at"] > now()
    smtp.refuse = {}
    later = rows[busy]["next_attempt_at"] + timedelta(seconds=1)
    assert await mail.send_outbox(server, at=later) == ["sent"]
    assert len(smtp.to("busy@example.jp")) == 1 and smtp.to("gone@example.jp") == []


async def test_a_server_that_never_answers_is_given_up_after_the_attempts(outbox_of_this_test):
    from tests.server_process import free_port

    mail_id = await mail.queue_mail("someone@example.jp", "件名", "本文", "test")
    nowhere = mail.SmtpServer.from_url(f"smtp://127.0.0.1:{free_port()}")
    at = now()
    for _ in range(mail.MAX_ATTEMPTS):
        await mail.send_outbox(nowhere, at=at)
        at = (await OutboundMail.select(OutboundMail.next_attempt_at).where(OutboundMail.id == mail_id).first())[
            "next_attempt_at"
        ] + timedelta(seconds=1)
    row = await OutboundMail.select().where(OutboundMail.id == mail_id).first()
    assert row["state"] == "failed" and row["attempts"] == mail.MAX_ATTEMPTS and "gave up" in row["last_error"]


async def test_two_workers_never_send_one_message_twice(smtp, outbox_of_this_test):
    """Two processes' workers at once (as ``ibasho serve --workers 2`` runs them)."""
    import asyncio

    ids = [await mail.queue_mail(f"p{n}@example.jp", "件名", "本文", "test") for n in range(10)]
    server = mail.SmtpServer.from_url(smtp.url)
    first, second = await asyncio.gather(mail.send_outbox(server), mail.send_outbox(server))
    assert len(first) + len(second) == 10
    assert sorted(message["To"] for message in smtp.received) == sorted(f"p{n}@example.jp" for n in range(10))
    assert await OutboundMail.count().where(OutboundMail.id.is_in(ids) & (OutboundMail.state == "sent")) == 10


def test_the_smtp_url_says_where_and_how():
    plain = mail.SmtpServer.from_url("smtp://mail.example.jp")
    assert (plain.host, plain.port, plain.use_tls, plain.start_tls, plain.username) == (
        "mail.example.jp",
        25,
        False,
        None,
        None,
    )
    login = mail.SmtpServer.from_url("smtp://shakyo%40example.jp:p%40ss@mail.example.jp:587")
    assert (login.username, login.password, login.port) == ("shakyo@example.jp", "p@ss", 587)
    tls = mail.SmtpServer.from_url("smtps://mail.example.jp")
    assert (tls.port, tls.use_tls, tls.start_tls) == (465, True, False)
    with pytest.raises(ValueError, match="IBASHO_SMTP_URL"):
        mail.SmtpServer.from_url("http://mail.example.jp")
