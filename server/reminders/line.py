"""Reminders by LINE, through a LINE公式アカウント's Messaging API channel (``line-bot-sdk``).

1. Staff register the channel of the council or of one group (its channel access token and
   secret, and the account's 友だち追加 link): ``LineChannel``, on /staff/line.
2. On the ibasho's public page a participant asks for LINE: a pending subscription is made
   with a code, and the page shows the code and the friend-add link. The participant
   adds the account and sends the code; the webhook (``/line/webhook/<channel>``, its
   ``X-Line-Signature`` checked: HMAC-SHA256 of the body with the channel secret, base64)
   links their LINE userId, and replies. Only who holds that LINE account can send the
   code from it. Nobody can guess another's code: 12 random digits, good for 30 minutes,
   and a LINE user may send ``WRONG_CODES_PER_HOUR`` wrong ones an hour (then the reply
   says to wait; a LINE account needs a phone number, so they are not had by the
   thousand). A paused or closed ibasho links nobody.
   An organiser does the same from the app (``GET``/``POST /api/push/line``) for one of
   their groups, on the channel serving it (``line_channels.group_channel``): the code
   links their account, and their meetings and duties come by LINE.
3. Deliveries go through the same queue as the other channels, each through the channel
   its subscription was linked on (a userId means nothing on another). A message to a
   person linked to their roster entry carries a 「欠席します」 postback button; the postback in the webhook
   records the absence as the Web Push reply does (the delivery's own signed token, and
   only from the LINE user it was sent to). ``X-Line-Retry-Key`` is the delivery id, so a
   retried push is never shown twice.
4. Failures: 429 and 5xx are retried with backoff (``Retry-After`` honoured); a refusal of
   the recipient (400/403: blocked, or not a friend) removes the subscription; an unfollow
   event (the user blocked the account) removes it too. A 401 is the channel's token, not
   the user: retried, then given up, never unsubscribed.

``IBASHO_LINE_API_URL`` says where the Messaging API is (the tests' fake one on loopback).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import aiohttp
import msgspec
from linebot.v3 import WebhookParser
from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    AsyncApiClient,
    AsyncMessagingApi,
    ButtonsTemplate,
    Configuration,
    PostbackAction,
    PushMessageRequest,
    ReplyMessageRequest,
    TemplateMessage,
    TextMessage,
)
from linebot.v3.messaging.exceptions import ApiException
from linebot.v3.webhooks import FollowEvent, MessageEvent, PostbackEvent, TextMessageContent, UnfollowEvent
from litestar import Request, get, post
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import FromPath, JSONBody, URLEncodedBody
from litestar.response import Template

from server.auth.guards import principal_of, signed_in
from server.auth.principal import Principal
from server.config import get_settings
from server.core import ratelimit
from server.core.clock import now
from server.core.i18n import gettext as _
from server.db import write_transaction
from server.reminders import tokens
from server.reminders.absence import ABSENT, record_absence, reply_of
from server.reminders.audience import closed_message, ibasho_taking_sign_ups
from server.reminders.line_channels import channel_for, channel_of, code_endpoint, group_channel, line_endpoint
from server.reminders.planning import refresh_account, refresh_ibasho
from server.reminders.sender import Outcome, notice_for, retry_after_seconds
from server.reminders.subscriptions import options_for, within_sign_up_limit
from server.tables import Group, IbashoStatus, LineChannel, PushSubscription, ReminderDelivery, SubscriptionChannel
from server.web.forms import Honeypot
from server.web.openapi import error_responses
from server.web.pages import NO_STORE

log = logging.getLogger("ibasho.reminders")

CODE_LIFETIME = timedelta(minutes=30)
CODE_DIGITS = 12
WRONG_CODES_PER_HOUR = 5
_CODE_LIKE = re.compile(r"[0-9]{6,20}")  # what counts as a try at a code (other chat is let be)
_CODE_NOISE = str.maketrans("０１２３４５６７８９", "0123456789", " \u3000-－ー")
CONCURRENCY = 20
CHANNEL_TTL = 15.0  # seconds: the worker's tick
ABSENT_DATA = "absent="


@dataclass
class LineForm(Honeypot):
    person: str = ""  # the personal QR code's token, if the page was reached through it


@post("/i/{ibasho_id:uuid}/line", include_in_schema=False, cache_control=NO_STORE)
async def subscribe_line(ibasho_id: FromPath[UUID], data: URLEncodedBody[LineForm], request: Request) -> Template:
    """A code to send to the ibasho's LINE account from the participant's own LINE."""
    ibasho = await ibasho_taking_sign_ups(ibasho_id)
    channel = await channel_for(ibasho_id)
    if channel is None:
        raise NotFoundException("this ibasho has no LINE account")
    await within_sign_up_limit(request, None)
    code = new_code()
    page = Template(
        template_name="reminders/email.html",
        context={
            "state": "line",
            "ibasho": ibasho,
            "code": in_fours(code),
            "friend_url": channel["friend_url"],
            "account": channel["name"],
        },
    )
    if data.from_a_bot:
        return page  # a code that leads nowhere
    person_link = tokens.read_person_link(data.person) if data.person else None
    person = person_link[0] if person_link and person_link[1] == ibasho_id else None
    await keep_code(channel["id"], code, ibasho_id=ibasho_id, person_id=person)
    return page


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def in_fours(code: str) -> str:
    """The code as shown: read and typed in fours."""
    return " ".join(code[i : i + 4] for i in range(0, CODE_DIGITS, 4))


async def keep_code(
    channel_id: UUID,
    code: str,
    *,
    ibasho_id: UUID | None = None,
    person_id: UUID | None = None,
    account_id: UUID | None = None,
) -> datetime:
    """A pending subscription that the code, sent from LINE within ``CODE_LIFETIME``, links
    (a participant's of an ibasho, or an organiser's account's); returns when it expires."""
    at = now()
    await PushSubscription.delete().where(  # the codes nobody sent in time
        PushSubscription.endpoint.like(f"{code_endpoint(channel_id, '')}%")
        & (PushSubscription.created_at < at - CODE_LIFETIME)
    )
    await PushSubscription.insert(
        PushSubscription(
            id=uuid4(),
            endpoint=code_endpoint(channel_id, code),
            ibasho=ibasho_id,
            account=account_id,
            person=person_id,
            channel=SubscriptionChannel.line.value,
            offsets=[],
            created_at=at,
            updated_at=at,
        )
    )
    return at + CODE_LIFETIME


# --- an organiser's own meetings and duties ---------------------------------------------------


class OwnLineGroup(msgspec.Struct):
    group_id: UUID
    group: str
    # the LINE公式アカウント serving the group (its own, else the council's); null: none does
    # (or it is stopped), and LINE is not offered
    account: str | None = None
    friend_url: str | None = None
    linked: bool = False  # this account gets its reminders there already


class OwnLine(msgspec.Struct):
    groups: list[OwnLineGroup]


class OwnLineIn(msgspec.Struct, forbid_unknown_fields=True):
    group_id: UUID


class OwnLineCode(msgspec.Struct):
    group_id: UUID
    account: str
    friend_url: str
    code: str  # 12 digits in fours, as shown
    expires_at: datetime


async def _own_groups(principal: Principal) -> list[OwnLineGroup]:
    if not principal.group_ids:
        return []
    groups = await Group.select(Group.id, Group.name).where(Group.id.is_in(list(principal.group_ids)))
    mine = [
        channel_of(row["endpoint"])
        for row in await PushSubscription.select(PushSubscription.endpoint).where(
            (PushSubscription.account == principal.account_id)
            & (PushSubscription.channel == SubscriptionChannel.line.value)
            & PushSubscription.confirmed_at.is_not_null()
        )
    ]
    found = []
    for group in sorted(groups, key=lambda g: g["name"]):
        channel = await group_channel(group["id"])
        found.append(
            OwnLineGroup(group_id=group["id"], group=group["name"])
            if channel is None
            else OwnLineGroup(
                group_id=group["id"],
                group=group["name"],
                account=channel["name"],
                friend_url=channel["friend_url"],
                linked=channel["id"] in mine,
            )
        )
    return found


@get("/line", guards=[signed_in], cache_control=NO_STORE, responses=error_responses(401, 403))
async def own_line(request: Request) -> OwnLine:
    """Whether the signed-in organiser's groups can send them their reminders by LINE."""
    return OwnLine(groups=await _own_groups(principal_of(request)))


@post(
    "/line",
    guards=[signed_in],
    status_code=201,
    cache_control=NO_STORE,
    responses=error_responses(
        400,
        401,
        403,
        404,
        429,
        why={
            404: "Not a group of yours, or no running LINE account serves it",
            429: "Too many new subscriptions for this account; `Retry-After` says when to try again",
        },
    ),
)
async def own_line_code(data: JSONBody[OwnLineIn], request: Request) -> OwnLineCode:
    """A code for the organiser to send from their own LINE to the account serving one of
    their groups: that links their meetings and duties (their account's, no one else's)."""
    principal = principal_of(request)
    if data.group_id not in principal.group_ids:
        raise NotFoundException("no such group of yours")
    channel = await group_channel(data.group_id)
    if channel is None:
        raise NotFoundException("no LINE account serves this group")
    await within_sign_up_limit(request, principal)
    code = new_code()
    await PushSubscription.delete().where(  # one code at a time: the last one asked for
        PushSubscription.endpoint.like(f"{code_endpoint(channel['id'], '')}%")
        & (PushSubscription.account == principal.account_id)
    )
    expires = await keep_code(channel["id"], code, account_id=principal.account_id)
    return OwnLineCode(
        group_id=data.group_id,
        account=channel["name"],
        friend_url=channel["friend_url"],
        code=in_fours(code),
        expires_at=expires,
    )


# --- the webhook ------------------------------------------------------------------------------


# LINE's platform signs the body with the channel secret; it sends no cookie, so no CSRF token.
@post("/line/webhook/{channel_id:uuid}", include_in_schema=False, exclude_from_csrf=True, status_code=200)
async def webhook(channel_id: FromPath[UUID], request: Request) -> dict:
    channel = await LineChannel.select().where(LineChannel.id == channel_id).first()
    if channel is None:
        raise NotFoundException("no such LINE channel")
    body = (await request.body()).decode("utf-8", errors="replace")
    try:
        events = WebhookParser(channel["channel_secret"]).parse(body, request.headers.get("x-line-signature", ""))
    except InvalidSignatureError:
        raise ClientException("invalid X-Line-Signature") from None
    except (ValueError, TypeError, KeyError, AttributeError):  # signed, but not LINE's shape
        raise ClientException("not a webhook body") from None
    for event in events:
        user = getattr(event.source, "user_id", None)
        if not user:
            continue  # a group or room: not a person's subscription
        try:
            if isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
                answer = await _link(channel_id, event.message.text, user)
                if answer:
                    await _reply(channel, event.reply_token, answer)
            elif isinstance(event, PostbackEvent) and event.postback.data.startswith(ABSENT_DATA):
                await _absent(event.postback.data.removeprefix(ABSENT_DATA), user)
            elif isinstance(event, UnfollowEvent):
                await _unsubscribe(channel_id, user)
            elif isinstance(event, FollowEvent):
                pass  # the code they then send links them
        except NotFoundException:
            continue  # a stale code or reply: nothing to do, and LINE must still get a 200
    return {}


async def _link(channel_id: UUID, text: str, user: str) -> str | None:
    """Link the LINE user whose message is a pending code; returns the reply (None: the
    message was no try at a code). Every try counts before the code is looked up, so a
    user past the hour's wrong tries learns nothing, not even from a right code."""
    code = text.translate(_CODE_NOISE)
    if not _CODE_LIKE.fullmatch(code):
        return None
    tries = f"line-code:{channel_id}:{user}"
    if await ratelimit.hit(tries, 3600) > WRONG_CODES_PER_HOUR:
        return _("Too many wrong codes. Please wait an hour and send the code again.")
    async with write_transaction():
        pending = (
            await PushSubscription.select(
                PushSubscription.id,
                PushSubscription.ibasho,
                PushSubscription.account,
                PushSubscription.ibasho.name.as_alias("name"),
                PushSubscription.ibasho.status.as_alias("status"),
            )
            .where(
                (PushSubscription.endpoint == code_endpoint(channel_id, code))
                & (PushSubscription.created_at > now() - CODE_LIFETIME)
            )
            .first()
        )
        if pending is None:
            return _("This code is wrong or has expired. Check the code on the page, or get a new one there.")
        if pending["ibasho"] is not None and pending["status"] != IbashoStatus.active.value:
            return closed_message()
        endpoint = line_endpoint(channel_id, pending["ibasho"] or pending["account"], user)
        await PushSubscription.delete().where(PushSubscription.endpoint == endpoint)  # linked again: the new one
        await PushSubscription.update(
            {
                PushSubscription.endpoint: endpoint,
                PushSubscription.address: user,
                PushSubscription.confirmed_at: now(),
                PushSubscription.updated_at: now(),
            }
        ).where(PushSubscription.id == pending["id"])
    await ratelimit.take_back(tries, 3600)  # a right code is no wrong try
    if pending["ibasho"] is None:  # an organiser's: their groups' upcoming meetings and duties
        await refresh_account(pending["account"])
        return _("Done. You will get the reminders of your meetings and duties here.")
    await refresh_ibasho(pending["ibasho"])
    return _("Done. You will get the reminders of “%(name)s” here.") % {"name": pending["name"]}


async def _reply(channel: dict, reply_token: str | None, words: str) -> None:
    """Answer a webhook message (LINE's reply API, free of the push quota); a failure is
    only logged: the link is made, and LINE must still get its 200."""
    if not reply_token:
        return
    async with AsyncApiClient(_configuration(channel)) as client:
        try:
            await AsyncMessagingApi(client).reply_message(
                ReplyMessageRequest(replyToken=reply_token, messages=[TextMessage(text=words)])
            )
        except (ApiException, aiohttp.ClientError, OSError, TimeoutError) as error:
            log.warning("LINE reply on channel %s failed: %s", channel["id"], error)


def _configuration(channel: dict) -> Configuration:
    return Configuration(host=get_settings().line_api_url, access_token=channel["access_token"])


async def _absent(token: str, user: str) -> None:
    delivery_id = tokens.read_absence(token)
    sent_to = (
        None
        if delivery_id is None
        else await ReminderDelivery.select(ReminderDelivery.subscription.address.as_alias("address"))
        .where(ReminderDelivery.id == delivery_id)
        .first()
    )
    if sent_to is None or sent_to["address"] != user:
        raise NotFoundException("no such reminder of this user")
    reply = await reply_of(token)
    if reply.going_ahead and not reply.too_late(now()) and reply.status != ABSENT:
        await record_absence(reply)


async def _unsubscribe(channel_id: UUID, user: str) -> None:
    await PushSubscription.delete().where(
        PushSubscription.endpoint.like(f"line:{channel_id}:%") & (PushSubscription.address == user)
    )


HANDLERS = [subscribe_line, webhook]
API_HANDLERS = [options_for("/line", own_line, own_line_code), own_line, own_line_code]


# --- the sender -------------------------------------------------------------------------------


def line_message(row: dict, at: datetime) -> TemplateMessage | TextMessage:
    notice = notice_for(row, at)
    if notice.get("actions"):  # a participant linked to their roster entry
        return TemplateMessage(
            altText=f"{notice['title']} {notice['body']}"[:400],
            template=ButtonsTemplate(
                title=notice["title"][:40],
                text=notice["body"][:60],
                actions=[
                    PostbackAction(
                        label="欠席します", data=ABSENT_DATA + tokens.absence(row["id"]), displayText="欠席します"
                    )
                ],
            ),
        )
    return TextMessage(text=f"{notice['title']}\n{notice['body']}")


class LineSender:
    """Pushes through each channel's Messaging API, one API client per channel and token.

    A channel looked up is trusted for ``channel_ttl`` seconds only (and not at all after
    LINE refused its token), so the worker, which lives as long as the server, takes up a
    token staff replaced, and stops sending for a channel removed, within a round or two."""

    def __init__(self, concurrency: int = CONCURRENCY, channel_ttl: float = CHANNEL_TTL, clock=time.monotonic) -> None:
        self.limit = asyncio.Semaphore(concurrency)
        self.channel_ttl, self.clock = channel_ttl, clock
        self._channels: dict[UUID, tuple[float, dict | None]] = {}  # channel → (when looked up, its row if running)
        self._lookup = asyncio.Lock()  # a batch's sends wait for one lookup, not one each
        # (channel, hash of its token) → client; one of an old token is closed with the rest
        # (a send still in flight may be using it)
        self._apis: dict[tuple[UUID, str], tuple[AsyncApiClient, AsyncMessagingApi]] = {}

    async def _channel(self, channel_id: UUID) -> dict | None:
        async with self._lookup:
            cached = self._channels.get(channel_id)
            if cached is None or self.clock() - cached[0] >= self.channel_ttl:
                row = await LineChannel.select().where(LineChannel.id == channel_id).first()
                cached = (self.clock(), row if row is not None and row["enabled"] else None)
                self._channels[channel_id] = cached
            return cached[1]

    async def _api(self, channel_id: UUID) -> AsyncMessagingApi | None:
        channel = await self._channel(channel_id)
        if channel is None:
            return None
        key = (channel["id"], hashlib.sha256(channel["access_token"].encode()).hexdigest())
        if key not in self._apis:
            client = AsyncApiClient(_configuration(channel))
            self._apis[key] = (client, AsyncMessagingApi(client))
        return self._apis[key][1]

    async def send(self, row: dict, at: datetime) -> Outcome:
        """Through the channel the subscription was linked on (its userId is good there
        only), whichever ibasho or meeting the reminder is of."""
        channel_id = channel_of(row.get("endpoint") or "")
        api = await self._api(channel_id) if channel_id else None
        if api is None:
            return Outcome(status=None, error="its LINE channel is stopped or gone")
        request = PushMessageRequest(to=row["address"], messages=[line_message(row, at)])
        async with self.limit:
            try:
                await api.push_message_with_http_info(request, x_line_retry_key=str(row["id"]))
            except ApiException as error:
                status = error.status or 0
                if status == 409:  # this retry key was accepted before: it went out
                    return Outcome(status=202)
                if status == 401:  # the token: perhaps replaced since, so the retry looks again
                    self._channels.pop(channel_id, None)
                headers = error.headers or {}
                return Outcome(
                    status=status,
                    retry_after=retry_after_seconds(headers.get("Retry-After") or headers.get("retry-after"), at),
                    error=str(error.body or error.reason)[:500],
                    unusable=status in (400, 403),  # the recipient: blocked, not a friend, no such user
                )
            except (aiohttp.ClientError, OSError, TimeoutError) as error:
                return Outcome(status=None, error=f"{type(error).__name__}: {error}"[:500])
        return Outcome(status=202)

    async def close(self) -> None:
        for client, _api in self._apis.values():
            await client.close()
        self._apis.clear()
