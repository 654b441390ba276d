"""Email: messages composed in Japanese-friendly form, an outbox, and SMTP through aiosmtplib.

A message someone must get (an applicant told of their registration, say) is written to the
outbox in the transaction of the change it reports, and the mail worker sends it: so no
change goes untold, and a mail server that is down only delays it. Each process's worker
claims a message before sending it (only one claim of a row succeeds); a claim whose
process died is taken again after ``LEASE``: at worst a message goes twice, never not at all. An
SMTP answer of 5xx is final (a wrong address: retrying cannot help); anything else (a 4xx,
no connection, a timeout) is retried with a growing pause, then given up.

``IBASHO_SMTP_URL`` says where: ``smtp://user:password@host:587`` (STARTTLS when the server
offers it), ``smtps://…:465`` (TLS from the start), ``smtp://host:25`` without a login.
Unset, mail waits in the outbox (visible to admins) until it is set.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from urllib.parse import unquote, urlsplit
from uuid import UUID, uuid4

import aiosmtplib

from server.config import get_settings
from server.core.clock import now
from server.tables import MailState, OutboundMail

log = logging.getLogger("ibasho.mail")

MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)
BACKOFF_BASE = 60.0  # seconds; doubles each attempt, with up to 50 % jitter
BATCH = 50


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool  # TLS from the start (smtps)
    start_tls: bool | None  # None: if the server offers it

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("IBASHO_SMTP_URL must look like smtp://user:password@host:587 or smtps://host:465")
        tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if tls else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=tls,
            start_tls=False if tls else None,
        )


class PermanentFailure(Exception):
    """The mail server refused the message for good (5xx): a wrong or closed address."""


class TemporaryFailure(Exception):
    """Worth trying again later: a 4xx, no connection, a timeout."""


def compose(to: str, subject: str, text: str, html: str | None = None) -> EmailMessage:
    """A message with a UTF-8 subject and body (RFC 2047 and 8-bit MIME, which every current
    client reads), a plain text part and, if given, an HTML alternative."""
    settings = get_settings()
    message = EmailMessage()
    message["From"] = formataddr((settings.mail_from_name, settings.mail_from))
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.mail_from.rsplit("@", 1)[-1])
    message.set_content(text, charset="utf-8")
    if html is not None:
        message.add_alternative(html, subtype="html", charset="utf-8")
    return message


async def send_message(message: EmailMessage, server: SmtpServer) -> None:
    """Hand one message to the SMTP server; raises PermanentFailure or TemporaryFailure."""
    try:
        await aiosmtplib.send(
            message,
            hostname=server.host,
            port=server.port,
            username=server.username,
            password=server.password,
            use_tls=server.use_tls,
            start_tls=server.start_tls,
            timeout=30,
        )
    except aiosmtplib.SMTPRecipientsRefused as error:
        codes = [response.code for response in error.recipients]
        failure = PermanentFailure if all(code >= 500 for code in codes) else TemporaryFailure
        raise failure(f"recipients refused: {codes}") from None
    except aiosmtplib.SMTPResponseException as error:
        failure = PermanentFailure if error.code >= 500 else TemporaryFailure
        raise failure(f"{error.code} {error.message}"[:500]) from None
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
        raise TemporaryFailure(f"{type(error).__name__}: {error}"[:500]) from None


# --- the outbox ------------------------------------------------------------------------------


async def queue_mail(to: str, subject: str, text: str, purpose: str, once: str | None = None) -> UUID | None:
    """Put a message in the outbox (call it inside the transaction of the change it tells);
    the mail worker sends it. ``purpose`` names why, for the admins' view (e.g. "registration").
    A message with a ``once`` key (a reminder: "what:for whom:which") is queued only the first
    time; later calls return None. Call it inside a write transaction then: the key is unique."""
    if once is not None and await OutboundMail.exists().where(OutboundMail.once_key == once):
        return None
    mail_id = uuid4()
    await OutboundMail.insert(
        OutboundMail(
            id=mail_id,
            to_address=to,
            subject=subject,
            body=text,
            purpose=purpose,
            once_key=once,
            state=MailState.pending.value,
            attempts=0,
            next_attempt_at=now(),
            created_at=now(),
        )
    )
    return mail_id


def backoff(attempts: int) -> timedelta:
    delay = BACKOFF_BASE * 2 ** (attempts - 1)
    return timedelta(seconds=delay + random.uniform(0, delay / 2))


async def _claim(row: dict, at: datetime) -> bool:
    """Take one due message for this process; False if another took it first."""
    taken = (
        await OutboundMail.update(
            {OutboundMail.state: MailState.sending.value, OutboundMail.next_attempt_at: at + LEASE}
        )
        .where(
            (OutboundMail.id == row["id"])
            & (OutboundMail.state == row["state"])
            & (OutboundMail.next_attempt_at == row["next_attempt_at"])
        )
        .returning(OutboundMail.id)
    )
    return bool(taken)


async def send_outbox(server: SmtpServer, at: datetime | None = None) -> list[str]:
    """Send what is due in the outbox (and what a dead process had claimed); returns the
    new states."""
    at = at or now()
    due = (
        await OutboundMail.select()
        .where(
            OutboundMail.state.is_in([MailState.pending.value, MailState.sending.value])
            & (OutboundMail.next_attempt_at <= at)
        )
        .order_by(OutboundMail.next_attempt_at)
        .limit(BATCH)
    )
    states = []
    for row in due:
        if not await _claim(row, at):
            continue
        attempts = row["attempts"] + 1
        try:
            await send_message(compose(row["to_address"], row["subject"], row["body"]), server)
        except PermanentFailure as error:
            changes = {OutboundMail.state: MailState.failed.value, OutboundMail.last_error: str(error)}
        except TemporaryFailure as error:
            gave_up = attempts >= MAX_ATTEMPTS
            changes = {
                OutboundMail.state: MailState.failed.value if gave_up else MailState.pending.value,
                OutboundMail.next_attempt_at: at + backoff(attempts),
                OutboundMail.last_error: ("gave up: " if gave_up else "") + str(error),
            }
        else:
            changes = {OutboundMail.state: MailState.sent.value, OutboundMail.sent_at: at, OutboundMail.last_error: ""}
        await OutboundMail.update({**changes, OutboundMail.attempts: attempts}).where(OutboundMail.id == row["id"])
        states.append(changes[OutboundMail.state])
    return states


async def run_mail(tick: timedelta = timedelta(seconds=20)) -> None:
    """Runs in the server's lifespan when IBASHO_SMTP_URL is set: sends the outbox."""
    url = get_settings().smtp_url
    if not url:
        log.info("IBASHO_SMTP_URL is not set: mail waits in the outbox")
        return
    server = SmtpServer.from_url(url)
    while True:
        try:
            await send_outbox(server)
        except Exception:
            log.exception("mail round failed")
        await asyncio.sleep(tick.total_seconds())
