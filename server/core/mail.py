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
import time
from dataclasses import asdict, dataclass
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
    """Hand one message to the SMTP server, in a session of its own; raises PermanentFailure
    or TemporaryFailure."""
    try:
        await aiosmtplib.send(message, **_session_options(server))
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
        raise failure_of(error) from None


def _session_options(server: SmtpServer) -> dict:
    """aiosmtplib's keyword arguments for a session with ``server`` (its fields, ``host`` renamed)."""
    options = asdict(server)
    options["hostname"] = options.pop("host")
    return {**options, "timeout": 30}


def failure_of(error: Exception) -> PermanentFailure | TemporaryFailure:
    """What an SMTP error means for the message: 5xx is final, anything else worth a retry."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [response.code for response in error.recipients]
        failure = PermanentFailure if all(code >= 500 for code in codes) else TemporaryFailure
        return failure(f"recipients refused: {codes}")
    if isinstance(error, aiosmtplib.SMTPResponseException):
        failure = PermanentFailure if error.code >= 500 else TemporaryFailure
        return failure(f"{error.code} {error.message}"[:500])
    return TemporaryFailure(f"{type(error).__name__}: {error}"[:500])


@dataclass
class _Session:
    client: aiosmtplib.SMTP
    sent: int = 0
    used_at: float = 0.0


class SmtpSessions:
    """SMTP sessions kept open and reused for many messages, up to ``size`` at once: a batch
    of reminders costs a few connections, TLS handshakes and logins, not one per message.

    A session goes back to the idle ones after each message (a refused recipient too: the
    client resets the envelope), and is closed after ``per_session`` messages (relays cap
    them) or when it has been idle ``idle_seconds`` (relays drop idle clients). A kept
    session the relay closed meanwhile is found on its next use: that message is sent
    again at once on a new session; a new session that fails is the message's failure."""

    def __init__(self, server: SmtpServer, size: int, per_session: int = 100, idle_seconds: float = 60.0) -> None:
        self.server, self.per_session, self.idle_seconds = server, per_session, idle_seconds
        self.slots = asyncio.Semaphore(size)
        self.idle: list[_Session] = []
        self.opened = 0  # sessions opened so far (for the benchmark and the tests)

    async def _open(self) -> _Session:
        client = aiosmtplib.SMTP(**_session_options(self.server))
        await client.connect()
        self.opened += 1
        return _Session(client)

    def _kept(self) -> _Session | None:
        while self.idle:
            session = self.idle.pop()
            if time.monotonic() - session.used_at < self.idle_seconds and session.client.is_connected:
                return session
            session.client.close()
        return None

    async def send(self, message: EmailMessage) -> None:
        """Like ``send_message``, on a kept session when there is one."""
        async with self.slots:
            session = self._kept()
            if session is not None:
                try:
                    return await self._send_on(session, message)
                except (aiosmtplib.SMTPServerDisconnected, ConnectionError):
                    pass  # closed by the relay while idle: once more, on a new one
                except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
                    raise failure_of(error) from None
            try:
                session = await self._open()
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
                raise failure_of(error) from None
            try:
                await self._send_on(session, message)
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
                raise failure_of(error) from None

    async def _send_on(self, session: _Session, message: EmailMessage) -> None:
        """Send on this session and keep it, unless the connection failed (that is raised as it is)."""
        try:
            await session.client.send_message(message)
        except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused) as error:
            self._put_back(session)  # an answer, not a broken connection: the envelope was reset
            raise failure_of(error) from None
        except BaseException:
            session.client.close()
            raise
        self._put_back(session)

    def _put_back(self, session: _Session) -> None:
        session.sent += 1
        session.used_at = time.monotonic()
        if session.sent >= self.per_session or not session.client.is_connected:
            session.client.close()
        else:
            self.idle.append(session)

    async def close(self) -> None:
        for session in self.idle:
            try:
                await session.client.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                session.client.close()
        self.idle.clear()


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
