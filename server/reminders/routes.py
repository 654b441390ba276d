"""Web Push API: the VAPID public key, saving and deleting subscriptions.

Who may use it: anyone may read the public key. Participants (no account) subscribe for
one active ibasho and get a secret management link (only its hash is stored); a signed-in
account (an organiser) subscribes as itself. The endpoint must be an https URL on a
known push service (IBASHO_PUSH_HOSTS), so the server never posts to internal addresses.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from datetime import datetime, timezone
from typing import Annotated
from urllib.parse import urlsplit
from uuid import UUID, uuid4

import msgspec
from litestar import Request, Router, delete, get, post
from litestar.exceptions import ClientException, NotAuthorizedException, NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody

from server.auth.principal import Principal
from server.config import get_settings
from server.reminders import tokens
from server.reminders.vapid import load_vapid
from server.tables import Ibasho, IbashoStatus, PushSubscription

_KEY = msgspec.Meta(pattern=r"^[A-Za-z0-9_\-]+=*$")


class SubscriptionKeys(msgspec.Struct):
    p256dh: Annotated[str, _KEY, msgspec.Meta(min_length=80, max_length=120)]
    auth: Annotated[str, _KEY, msgspec.Meta(min_length=16, max_length=32)]


class SubscriptionIn(msgspec.Struct):
    endpoint: Annotated[str, msgspec.Meta(max_length=2000)]
    keys: SubscriptionKeys
    ibasho_id: UUID | None = None
    # from a participant's personal QR code (absence.create_person_link): ties the
    # subscription to their roster entry so they can answer 「欠席します」
    person_token: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class SubscriptionOut(msgspec.Struct):
    id: UUID
    manage_url: str | None = None


class PublicKey(msgspec.Struct):
    public_key: str


def manage_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def endpoint_allowed(endpoint: str, hosts: tuple[str, ...] | None = None) -> bool:
    """An https URL on an allowed push-service host; http only for an explicitly allowed
    loopback ``host:port``. No user info, no IP literals unless listed with their port."""
    hosts = get_settings().push_hosts if hosts is None else hosts
    try:
        parts = urlsplit(endpoint)
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        return False
    if not host or parts.username or parts.password or parts.scheme not in ("https", "http"):
        return False
    netloc = f"{host}:{port}" if port else host
    if netloc in hosts and _is_loopback(host):
        return True  # a loopback fake, configured on purpose (tests)
    if parts.scheme != "https" or port not in (None, 443):
        return False
    try:
        ipaddress.ip_address(host)
        return False  # no IP literals
    except ValueError:
        pass
    return any(host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:]))
               for pattern in hosts if not _is_loopback(pattern.split(":")[0]))


def _account_of(request: Request) -> Principal | None:
    user = request.scope.get("user")
    return user if isinstance(user, Principal) else None


@get("/public-key", sync_to_thread=False)
def public_key() -> PublicKey:
    return PublicKey(public_key=load_vapid().application_server_key)


@post("/subscriptions")
async def save_subscription(data: JSONBody[SubscriptionIn], request: Request) -> SubscriptionOut:
    """Save or refresh a subscription (keyed by endpoint)."""
    if not endpoint_allowed(data.endpoint):
        raise ClientException("endpoint is not on a known push service")
    account = _account_of(request)
    now = datetime.now(timezone.utc)
    values = {PushSubscription.p256dh: data.keys.p256dh, PushSubscription.auth: data.keys.auth,
              PushSubscription.updated_at: now, PushSubscription.consecutive_failures: 0}
    token: str | None = None
    if data.ibasho_id is not None:
        ibasho = await Ibasho.select(Ibasho.id).where(
            (Ibasho.id == data.ibasho_id) & (Ibasho.status == IbashoStatus.active.value)).first()
        if ibasho is None:
            raise NotFoundException("no such active ibasho")
        token = secrets.token_urlsafe(32)
        values |= {PushSubscription.ibasho: data.ibasho_id, PushSubscription.account: None,
                   PushSubscription.manage_token_hash: manage_token_hash(token)}
        if data.person_token is not None:
            link = tokens.read_person_link(data.person_token)
            if link is None or link[1] != data.ibasho_id:
                raise ClientException("this personal QR code has expired: ask the organisers to show it again")
            values[PushSubscription.person] = link[0]
    elif account is not None:
        values |= {PushSubscription.account: account.account_id, PushSubscription.ibasho: None,
                   PushSubscription.manage_token_hash: "", PushSubscription.person: None}
    else:
        raise NotAuthorizedException("log in, or choose an ibasho")
    existing = await PushSubscription.select(PushSubscription.id, PushSubscription.ibasho).where(
        PushSubscription.endpoint == data.endpoint).first()
    if existing is not None:
        sub_id = existing["id"]
        if existing["ibasho"] != data.ibasho_id:
            values.setdefault(PushSubscription.person, None)  # a person belongs to one group's ibasho
        await PushSubscription.update(values).where(PushSubscription.id == sub_id)
    else:
        sub_id = uuid4()
        row = PushSubscription(id=sub_id, endpoint=data.endpoint, offsets=[], created_at=now,
                               **{column._meta.name: value for column, value in values.items()})
        await PushSubscription.insert(row).on_conflict(
            target=PushSubscription.endpoint, action="DO UPDATE", values=list(values.items()))
        sub_id = (await PushSubscription.select(PushSubscription.id).where(
            PushSubscription.endpoint == data.endpoint).first())["id"]
    return SubscriptionOut(id=sub_id, manage_url=f"/push/manage/{token}" if token else None)


@delete("/subscriptions/{token:str}")
async def delete_by_token(token: FromPath[str]) -> None:
    """A participant stops reminders with their management link's token."""
    deleted = await PushSubscription.delete().where(
        PushSubscription.manage_token_hash == manage_token_hash(token)).returning(PushSubscription.id)
    if not deleted:
        raise NotFoundException("no such subscription")


@delete("/subscriptions")
async def delete_own(endpoint: FromQuery[str], request: Request) -> None:
    """A signed-in account stops reminders on one browser."""
    account = _account_of(request)
    if account is None:
        raise NotAuthorizedException("log in first")
    deleted = await PushSubscription.delete().where(
        (PushSubscription.endpoint == endpoint) & (PushSubscription.account == account.account_id)
    ).returning(PushSubscription.id)
    if not deleted:
        raise NotFoundException("no such subscription")


def _public_handlers() -> list:
    from server.reminders.absence import reply_page
    from server.reminders.poster import ibasho_poster
    from server.reminders.public import ibasho_calendar, ibasho_manifest, ibasho_page, manage_page, manage_timing

    return [ibasho_page, ibasho_calendar, ibasho_manifest, manage_page, manage_timing, reply_page, ibasho_poster]


def _absence_handlers() -> list:
    from server.reminders.absence import create_person_link, reply_absent

    return [create_person_link, reply_absent]


push_router = Router(path="/", route_handlers=[
    Router(path="/api/push", route_handlers=[public_key, save_subscription, delete_by_token, delete_own,
                                             *_absence_handlers()]),
    *_public_handlers(),
])
