"""Reminders by email (and the phone choice), beside Web Push.

1. On the ibasho's public page a participant gives an address. A subscription of channel
   ``email`` is made unconfirmed, and a confirmation mail (through the outbox) carries a
   signed link; nothing is sent until it is followed (and its button pressed: a mail
   scanner that fetches links confirms nothing). So nobody can subscribe someone else.
2. Confirmed, the address gets the same deliveries as a browser: the same planning, lease,
   claim, quiet hours, one per occurrence, retries with backoff (a 4xx or no connection),
   and on a permanent failure (SMTP 5xx: a bounce) the subscription is removed
   (``queue.record``: an Outcome marked ``unusable``).
3. Each mail has a text and an HTML part, a UTF-8 subject, ``List-Unsubscribe`` (one click,
   RFC 8058), a signed stop link and, for a participant linked to their roster entry, the
   signed 「欠席します」 link: the reply page Web Push notifications open.

A participant reached through the personal QR code may instead ask to be phoned: a
subscription of channel ``phone`` (their number; the signed person link is the proof) puts
them on each session's call list (server/reminders/calls.py) and sends nothing.
"""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Annotated
from uuid import UUID, uuid4

import msgspec
from litestar import Request, get, post
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath, JSONBody, URLEncodedBody
from litestar.response import Template
from piccolo.columns.combination import Where
from piccolo.query.functions.string import Lower

from server.auth.guards import principal_of, signed_in
from server.config import get_settings
from server.core import ratelimit, signing
from server.core.clock import now
from server.core.i18n import gettext as _
from server.core.mail import PermanentFailure, SmtpServer, SmtpSessions, TemporaryFailure, compose, queue_mail
from server.db import write_transaction
from server.reminders import tokens
from server.reminders.audience import ibasho_taking_sign_ups
from server.reminders.planning import reconcile, refresh_ibasho
from server.reminders.public import ibasho_page_context
from server.reminders.sender import Outcome, notice_for
from server.reminders.subscriptions import within_sign_up_limit
from server.tables import OutboundMail, PushSubscription, SubscriptionChannel
from server.web.forms import EMAIL_PATTERN, Checker, Honeypot
from server.web.openapi import error_responses
from server.web.pages import NO_STORE
from sync import limits

ADDRESS_LENGTH = 254
PHONE_LENGTH = 40
CONCURRENCY = 20  # SMTP sessions at once: a relay takes a few in parallel from one client
CONFIRM_PURPOSE = "reminder-confirm"
CONFIRMATIONS_PER_DAY = 3  # per address, whoever asks from wherever: no mail bombing through the form
CONFIRMATION_WINDOW = timedelta(hours=24)
CONFIRMATION_FRESH = timedelta(minutes=30)  # an unconfirmed subscription's mail this young is not sent again


def endpoint_key(channel: SubscriptionChannel, owner: UUID, address: str) -> str:
    """The unique key of a subscription that is no push endpoint: one per address and ibasho."""
    return f"{channel.value}:{owner}:{address.strip().lower()}"


def confirm_token(subscription_id: UUID) -> str:
    return signing.sign("email-confirm", subscription_id.hex)


def stop_token(subscription_id: UUID) -> str:
    return signing.sign("reminder-stop", subscription_id.hex)


def _subscription_of(purpose: str, token: str) -> UUID | None:
    parts = signing.verify(purpose, token, 1)
    try:
        return UUID(hex=parts[0]) if parts else None
    except ValueError:
        return None


def link(path: str) -> str:
    return f"{get_settings().public_url}{path}"


# --- the public page's forms -----------------------------------------------------------------


@dataclass
class AddressForm(Honeypot):
    address: str = ""
    person: str = ""  # the personal QR code's token, if the page was reached through it


@dataclass
class PhoneForm(Honeypot):
    phone: str = ""
    person: str = ""


async def _page_again(ibasho_id: UUID, person: str, errors: list[str], **typed: str) -> Template:
    context = await ibasho_page_context(ibasho_id, person or None)
    return Template(
        template_name="reminders/ibasho.html",
        status_code=422,
        context={**context, "errors": errors, "typed": typed},
    )


@post("/i/{ibasho_id:uuid}/email", include_in_schema=False, cache_control=NO_STORE)
async def subscribe_email(ibasho_id: FromPath[UUID], data: URLEncodedBody[AddressForm], request: Request) -> Template:
    """Make (or refresh) an unconfirmed email subscription and mail its confirmation link.
    The answer is the same whether the address was known or not, and whether a mail went
    (``request_email`` bounds them per address); a bot is answered so too."""
    ibasho = await ibasho_taking_sign_ups(ibasho_id)
    check = Checker()
    address = check.email(data.address, _("Email address"), ADDRESS_LENGTH, required=True)
    person_link = tokens.read_person_link(data.person) if data.person else None
    if check.errors:
        return await _page_again(ibasho_id, data.person, check.errors, address=data.address)
    await within_sign_up_limit(request, None)  # 429 past the hour's allowance
    person = person_link[0] if person_link is not None and person_link[1] == ibasho_id else None
    if not data.from_a_bot:
        await request_email(address, ibasho["name"], ibasho_id=ibasho_id, person_id=person)
    return Template(
        template_name="reminders/email.html", context={"state": "sent", "ibasho": ibasho, "address": address}
    )


async def request_email(
    address: str,
    name: str,
    *,
    ibasho_id: UUID | None = None,
    account_id: UUID | None = None,
    person_id: UUID | None = None,
) -> bool:
    """Make (or refresh) the unconfirmed email subscription of an ibasho's participant or of
    an organiser's account, and mail it the confirmation link and a new management link.

    Anyone may type anyone's address, so the mails to one mailbox (``mailbox``: ``+tags``
    and capitals are the same one) are bounded: none while an unconfirmed subscription of
    this ibasho or account to it had its mail less than ``CONFIRMATION_FRESH`` ago (that
    link still works), and ``CONFIRMATIONS_PER_DAY`` in any 24 hours over all ibasho,
    accounts and requesters.
    Refused, nothing changes (the mailed links stay good). Returns whether a mail went; the
    caller answers the same either way, so nobody learns whether the address was known."""
    endpoint = endpoint_key(SubscriptionChannel.email, ibasho_id or account_id, address)
    manage = secrets.token_urlsafe(32)
    at = now()
    async with write_transaction():
        await _take_turn(address)
        existing = (
            await PushSubscription.select(PushSubscription.id).where(PushSubscription.endpoint == endpoint).first()
        )
        if await _fresh_confirmation(ibasho_id, account_id, address, at):
            return False
        if await _confirmations_sent(address, at) >= CONFIRMATIONS_PER_DAY:
            return False
        values = {PushSubscription.manage_token_hash: tokens.manage_token_hash(manage), PushSubscription.updated_at: at}
        if person_id is not None:
            values[PushSubscription.person] = person_id
        if existing is not None:
            sub_id = existing["id"]
            await PushSubscription.update(values).where(PushSubscription.id == sub_id)
        else:
            sub_id = uuid4()
            await PushSubscription.insert(
                PushSubscription(
                    id=sub_id,
                    endpoint=endpoint,
                    ibasho=ibasho_id,
                    account=account_id,
                    channel=SubscriptionChannel.email.value,
                    address=address,
                    offsets=[],
                    created_at=at,
                    **{column._meta.name: value for column, value in values.items()},
                )
            )
        text = _(
            "You asked for the reminders of “%(name)s” by email.\n\n"
            "To start them, open this link and press the button:\n%(confirm)s\n\n"
            "To choose which reminders you get, or to stop them, keep this link:\n%(manage)s\n\n"
            "If you did not ask for this, ignore this mail: nothing will be sent."
        ) % {
            "name": name,
            "confirm": link(f"/push/email/confirm/{confirm_token(sub_id)}"),
            "manage": link(f"/push/manage/{manage}"),
        }
        await queue_mail(address, _("Please confirm: reminders of %(name)s") % {"name": name}, text, CONFIRM_PURPOSE)
    return True


def mailbox(address: str) -> str:
    """The mailbox an address reaches, for the limits only: lower case, and the local part
    without a ``+tag`` (``a+1@x.jp`` and ``A+2@x.jp`` are both ``a@x.jp``), so tags do not
    multiply one person's allowance. Mail still goes to the address as typed."""
    local, _at, domain = address.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def _same_mailbox(address: str) -> Where:
    """A LIKE that finds at least every address of the mailbox (callers keep those whose
    ``mailbox`` is the same): a backslash (an escape on PostgreSQL) is matched by ``_``."""
    local, _at, domain = mailbox(address).rpartition("@")
    return Lower(OutboundMail.to_address).like(f"{local}%@{domain}".replace("\\", "_"))


async def _take_turn(address: str) -> None:
    """Requests for one mailbox, one at a time: the counter row ``hit`` upserts stays locked
    until the caller's write transaction ends (on SQLite every write transaction is one at
    a time already), so no two requests count the same mails (PostgreSQL's READ COMMITTED
    would let them) or make the same subscription."""
    await ratelimit.hit(f"confirm-mail:{mailbox(address)}", int(CONFIRMATION_WINDOW.total_seconds()))


async def _fresh_confirmation(ibasho_id: UUID | None, account_id: UUID | None, address: str, at: datetime) -> bool:
    """Whether an unconfirmed subscription of this ibasho or account, to the same mailbox,
    had its confirmation mail less than ``CONFIRMATION_FRESH`` ago (its link still works)."""
    owner = PushSubscription.ibasho == ibasho_id if ibasho_id is not None else PushSubscription.account == account_id
    rows = await PushSubscription.select(PushSubscription.address).where(
        owner
        & (PushSubscription.channel == SubscriptionChannel.email.value)
        & PushSubscription.confirmed_at.is_null()
        & (PushSubscription.updated_at > at - CONFIRMATION_FRESH)
    )
    return any(mailbox(row["address"]) == mailbox(address) for row in rows)


async def _confirmations_sent(address: str, at: datetime) -> int:
    """Confirmation mails to this mailbox (in any case, with any ``+tag``) in the last 24
    hours: counted in the outbox itself, whose rows are kept, so the window slides."""
    rows = (
        await OutboundMail.select(OutboundMail.to_address)
        .where(_same_mailbox(address))
        .where((OutboundMail.purpose == CONFIRM_PURPOSE) & (OutboundMail.created_at > at - CONFIRMATION_WINDOW))
    )
    return sum(mailbox(row["to_address"]) == mailbox(address) for row in rows)


class OwnEmailIn(msgspec.Struct, forbid_unknown_fields=True):
    address: Annotated[str, msgspec.Meta(max_length=ADDRESS_LENGTH, pattern=f"^{EMAIL_PATTERN}$")]

    def __post_init__(self) -> None:
        limits.check_patterns(self)  # the whole address, as the API document reads the pattern


@post(
    "/email",
    guards=[signed_in],
    status_code=202,
    responses=error_responses(400, 401, 403, 429, why={400: "Not an email address"}),
)
async def own_email(data: JSONBody[OwnEmailIn], request: Request) -> dict:
    """An organiser's meetings and duties by email too: the confirmation mail goes first."""
    check = Checker()
    address = check.email(data.address, _("Email address"), ADDRESS_LENGTH, required=True)
    if check.errors:
        raise ClientException(check.errors[0])
    await within_sign_up_limit(request, principal_of(request))
    await request_email(address, _("your meetings and duties"), account_id=principal_of(request).account_id)
    return {"address": address}


@post("/i/{ibasho_id:uuid}/phone", include_in_schema=False, cache_control=NO_STORE)
async def subscribe_phone(ibasho_id: FromPath[UUID], data: URLEncodedBody[PhoneForm], request: Request) -> Template:
    """A registered participant (through their personal QR code) asks to be phoned; the
    same allowance per client address as the other sign-ups, and a bot is thanked alike."""
    ibasho = await ibasho_taking_sign_ups(ibasho_id)
    check = Checker()
    phone = check.phone(data.phone, _("Phone number"), PHONE_LENGTH, required=True)
    person_link = tokens.read_person_link(data.person) if data.person else None
    if person_link is None or person_link[1] != ibasho_id:
        check.fail(_("This personal QR code has expired. Ask the organisers to show it again."))
    if check.errors:
        return await _page_again(ibasho_id, data.person, check.errors, phone=data.phone)
    await within_sign_up_limit(request, None)  # 429 past the hour's allowance
    thanks = Template(
        template_name="reminders/email.html", context={"state": "phone", "ibasho": ibasho, "phone": phone}
    )
    if data.from_a_bot:
        return thanks
    person_id = person_link[0]
    endpoint = endpoint_key(SubscriptionChannel.phone, ibasho_id, person_id.hex)
    at = now()
    values = {PushSubscription.address: phone, PushSubscription.updated_at: at, PushSubscription.confirmed_at: at}
    async with write_transaction():
        existing = (
            await PushSubscription.select(PushSubscription.id).where(PushSubscription.endpoint == endpoint).first()
        )
        if existing is not None:
            await PushSubscription.update(values).where(PushSubscription.id == existing["id"])
        else:
            await PushSubscription.insert(
                PushSubscription(
                    id=uuid4(),
                    endpoint=endpoint,
                    p256dh="",
                    auth="",
                    ibasho=ibasho_id,
                    person=person_id,
                    channel=SubscriptionChannel.phone.value,
                    offsets=[],
                    created_at=at,
                    **{column._meta.name: value for column, value in values.items()},
                )
            )
    return thanks


async def _email_subscription(token: str, purpose: str) -> dict:
    sub_id = _subscription_of(purpose, token)
    row = (
        None
        if sub_id is None
        else await PushSubscription.select(
            PushSubscription.id,
            PushSubscription.ibasho,
            PushSubscription.address,
            PushSubscription.confirmed_at,
            PushSubscription.ibasho.name.as_alias("name"),
        )
        .where((PushSubscription.id == sub_id) & (PushSubscription.channel != SubscriptionChannel.webpush.value))
        .first()
    )
    if row is None:
        raise NotFoundException("no such subscription")
    return {**row, "name": row["name"] or _("your meetings and duties")}  # an organiser's own


async def _to_confirm(token: str) -> dict:
    """The subscription a confirmation link names; a participant's ibasho must still take sign-ups."""
    sub = await _email_subscription(token, "email-confirm")
    if sub["ibasho"] is not None and sub["confirmed_at"] is None:
        await ibasho_taking_sign_ups(sub["ibasho"])
    return sub


@get("/push/email/confirm/{token:str}", include_in_schema=False, cache_control=NO_STORE)
async def confirm_page(token: FromPath[str]) -> Template:
    sub = await _to_confirm(token)
    state = "confirmed" if sub["confirmed_at"] else "confirm"
    return Template(template_name="reminders/email.html", context={"state": state, "sub": sub, "token": token})


@post("/push/email/confirm/{token:str}", include_in_schema=False, cache_control=NO_STORE)
async def confirm(token: FromPath[str]) -> Template:
    sub = await _to_confirm(token)
    if sub["confirmed_at"] is None:
        await PushSubscription.update({PushSubscription.confirmed_at: now()}).where(PushSubscription.id == sub["id"])
        if sub["ibasho"] is not None:
            await refresh_ibasho(sub["ibasho"])
        else:  # an organiser's: their groups' upcoming meetings and duties
            await reconcile()
    return Template(template_name="reminders/email.html", context={"state": "confirmed", "sub": sub})


@get("/push/stop/{token:str}", include_in_schema=False, cache_control=NO_STORE)
async def stop_page(token: FromPath[str]) -> Template:
    sub = await _email_subscription(token, "reminder-stop")
    return Template(template_name="reminders/email.html", context={"state": "stop", "sub": sub, "token": token})


# The signed token is the whole authority, as for absence replies; a mail client's one-click
# unsubscribe (RFC 8058) posts here with no cookie, so no CSRF token can be asked for.
@post(
    "/push/stop/{token:str}", include_in_schema=False, exclude_from_csrf=True, status_code=200, cache_control=NO_STORE
)
async def stop(token: FromPath[str]) -> Template:
    sub_id = _subscription_of("reminder-stop", token)
    if sub_id is None:
        raise NotFoundException("no such subscription")
    await PushSubscription.delete().where(  # twice is the same as once
        (PushSubscription.id == sub_id) & (PushSubscription.channel != SubscriptionChannel.webpush.value)
    )
    return Template(template_name="reminders/email.html", context={"state": "stopped"})


HANDLERS = [subscribe_email, subscribe_phone, confirm_page, confirm, stop_page, stop]
API_HANDLERS = [own_email]


# --- the message and its sender --------------------------------------------------------------


def reminder_message(row: dict, at: datetime) -> EmailMessage:
    """One reminder as a mail: the notification's words, its links made absolute."""
    notice = notice_for(row, at)
    stop_url = link(f"/push/stop/{stop_token(row['subscription'])}")
    lines = [notice["body"], ""]
    links: list[tuple[str, str]] = []
    if notice.get("actions"):  # a participant linked to their roster entry can answer
        links.append((_("If you cannot come, tell the organisers here"), link(notice["url"])))
    else:
        links.append((_("Details"), link(notice["url"])))
    links.append((_("Stop these reminders"), stop_url))
    lines += [f"{label}:\n{url}\n" for label, url in links]
    text = "\n".join(lines)
    body = "".join(f'<p><a href="{html.escape(url)}">{html.escape(label)}</a></p>' for label, url in links)
    markup = (
        '<!doctype html><html lang="ja"><body style="font-size:18px;line-height:1.6">'
        f"<p><strong>{html.escape(notice['title'])}</strong></p><p>{html.escape(notice['body'])}</p>{body}</body></html>"
    )
    message = compose(row["address"], notice["title"], text, markup)
    message["List-Unsubscribe"] = f"<{stop_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    return message


class EmailSender:
    """Sends reminder mails through IBASHO_SMTP_URL on a few SMTP sessions at once, each
    kept open for many messages (``SmtpSessions``)."""

    def __init__(self, server: SmtpServer | None = None, concurrency: int = CONCURRENCY) -> None:
        url = get_settings().smtp_url
        self.server = server or (SmtpServer.from_url(url) if url else None)
        self.sessions = SmtpSessions(self.server, concurrency) if self.server else None

    async def send(self, row: dict, at: datetime) -> Outcome:
        if self.sessions is None:
            return Outcome(status=None, error="IBASHO_SMTP_URL is not set")
        try:
            await self.sessions.send(reminder_message(row, at))
        except PermanentFailure as error:  # a bounce: the address is gone
            return Outcome(status=None, error=str(error), unusable=True)
        except TemporaryFailure as error:
            return Outcome(status=None, error=str(error))
        return Outcome(status=202)

    async def close(self) -> None:
        if self.sessions is not None:
            await self.sessions.close()
