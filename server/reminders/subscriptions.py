"""Web Push API: the VAPID public key, saving and deleting subscriptions.

Who may use it: anyone may read the public key. Participants (no account) subscribe for
one active ibasho and get a secret management link (only its hash is stored); a signed-in
account (an organiser) subscribes as itself. The endpoint must be an https URL on a
known push service (IBASHO_PUSH_HOSTS), so the server never posts to internal addresses.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
import secrets
from typing import Annotated
from uuid import UUID, uuid4

import msgspec
from litestar import HttpMethod, Request, Response, delete, get, post, route
from litestar.exceptions import ClientException, HTTPException, NotAuthorizedException, NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_204_NO_CONTENT, HTTP_409_CONFLICT, HTTP_429_TOO_MANY_REQUESTS

from server.auth.principal import Principal
from server.config import get_settings
from server.core import ratelimit
from server.core.clock import now as current_time
from server.reminders import tokens
from server.reminders.audience import ibasho_taking_sign_ups
from server.reminders.sender import endpoint_url
from server.reminders.tokens import manage_token_hash
from server.reminders.vapid import load_vapid
from server.tables import PushSubscription
from server.web.openapi import NO_NUL, Late, PathText, error_responses, text
from sync.limits import check_patterns

_KEY = msgspec.Meta(pattern=r"^[A-Za-z0-9_\-]+=*$")


class SubscriptionKeys(msgspec.Struct, forbid_unknown_fields=True):
    p256dh: Annotated[str, _KEY, msgspec.Meta(min_length=80, max_length=120)]
    auth: Annotated[str, _KEY, msgspec.Meta(min_length=16, max_length=32)]

    def __post_init__(self) -> None:
        check_patterns(self)  # a key with a final newline would break the sender on every retry


def _endpoint_schema() -> dict:
    """Only what endpoint_allowed accepts, on the hosts this server is configured with."""
    return {"pattern": endpoint_pattern()}


# Unknown keys are refused (400), so the document can list exactly what is taken: a key the
# server ignored could still hold a NUL, which the middleware refuses. These are the keys of
# a browser's PushSubscription.toJSON() and ours.
class SubscriptionIn(msgspec.Struct, forbid_unknown_fields=True):
    endpoint: Annotated[str, msgspec.Meta(max_length=2000), Late(_endpoint_schema)]
    keys: SubscriptionKeys
    expirationTime: int | None = None  # sent by browsers, unused: an expired one draws the push service's 404/410
    ibasho_id: UUID | None = None
    # from a participant's personal QR code (absence.create_person_link): ties the
    # subscription to their roster entry so they can answer 「欠席します」
    person_token: text(200) | None = None


class SubscriptionOut(msgspec.Struct):
    id: UUID
    manage_url: str | None = None
    # A participant's: the secret at the end of manage_url, which DELETE /subscriptions/{token} takes.
    token: str | None = None


class PublicKey(msgspec.Struct):
    public_key: str


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# A host name as push services have them: lower-case letters, digits and hyphens in dots.
_HOST_NAME = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*")


def endpoint_allowed(endpoint: str, hosts: tuple[str, ...] | None = None) -> bool:
    """An https URL on an allowed push-service host; http only for an explicitly allowed
    loopback ``host:port``. Read by the parser that sends to it (``endpoint_url``), and only
    if that parser gives it back unchanged: a URL two parsers could read differently (a
    space, tab, backslash or percent sign in its host) is refused here, not found later by
    the sender on every retry. No user info, no fragment, no IP literals unless listed."""
    hosts = get_settings().push_hosts if hosts is None else hosts
    if "xn--" in endpoint.lower():  # punycode: the parser decodes it (and may fail doing so); no push service uses it
        return False
    try:
        url = endpoint_url(endpoint)
        if url.user is not None or url.fragment or url.scheme not in ("https", "http"):
            return False
        if not _PATH_AND_QUERY_RE.fullmatch(url.raw_path_qs):  # sent as it is: only URL characters
            return False
        if url.raw_host != (url.raw_host or "").lower():  # a host in capitals reads two ways
            return False
        host, port = url.host or "", url.explicit_port
    except (TypeError, ValueError):  # UnicodeError (IDNA) is a ValueError
        return False
    netloc = f"{host}:{port}" if port else host
    if netloc in hosts and _is_loopback(host):
        return True  # a loopback fake, configured on purpose (tests)
    if url.scheme != "https" or port not in (None, 443) or not _HOST_NAME.fullmatch(host):
        return False  # (an IP literal has no letters to match a push service's name below)
    return any(
        host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:]))
        for pattern in hosts
        if not _is_loopback(pattern.split(":")[0])
    )


# Labels without "--", so never an IDNA "xn--" label the URL parser would decode.
_LABEL = r"[a-z0-9]{1,20}(?:-[a-z0-9]{1,20}){0,2}"
# Characters the URL parser keeps as they are in a path or query ("%" too, escape or not).
# No dot-only path segment: "." and ".." are resolved away, and the URL would not read back.
_CHARS = r"-A-Za-z0-9_~!$&'()*+,;=:@%"
_SEGMENT = rf"\.{{0,2}}[{_CHARS}][{_CHARS}.]*"
_PATH_AND_QUERY = rf"(?:/(?:{_SEGMENT})?)+(?:\?[{_CHARS}./?]+)?"  # no empty query: "?" alone is dropped
_PATH_AND_QUERY_RE = re.compile(_PATH_AND_QUERY)


def endpoint_pattern(hosts: tuple[str, ...] | None = None) -> str:
    """A regular expression for endpoints that ``endpoint_allowed`` accepts on ``hosts``
    (not all of them: enough for every push service's URLs), for the API document."""
    hosts = get_settings().push_hosts if hosts is None else hosts
    origins = []
    for entry in hosts:
        host, _, port = entry.partition(":")
        if _is_loopback(host):
            origins += [
                rf"{scheme}://{re.escape(entry)}"
                for scheme, default in (("https", "443"), ("http", "80"))
                if port != default
            ]  # a default port would not read back
        elif _HOST_NAME.fullmatch(entry.removeprefix("*.")):
            name = re.escape(entry.removeprefix("*."))
            origins.append(rf"https://(?:{_LABEL}\.){{1,3}}{name}" if entry.startswith("*.") else rf"https://{name}")
    if not origins:
        return r"^[^\s\S]$"  # no push service configured: nothing is accepted
    return rf"^(?:{'|'.join(origins)}){_PATH_AND_QUERY}$"


def _account_of(request: Request) -> Principal | None:
    user = request.scope.get("user")
    return user if isinstance(user, Principal) else None


@get("/public-key", sync_to_thread=False)
def public_key() -> PublicKey:
    return PublicKey(public_key=load_vapid().application_server_key)


class SubscriptionTaken(HTTPException):
    status_code = HTTP_409_CONFLICT


@post(
    "/subscriptions",
    responses=error_responses(
        400,
        401,
        403,
        404,
        409,
        413,
        429,
        why={
            400: "Not JSON, a field missing or of the wrong type, or an endpoint not on a known push service",
            401: "Not logged in, and no ibasho chosen",
            404: "No such active ibasho, or the personal QR code's link has expired (or was never issued)",
            409: "The endpoint belongs to another owner, or was subscribed a moment ago from elsewhere; "
            'with `"code": "sign_ups_closed"` when the ibasho is paused or closed',
            429: "Too many new subscriptions from this address; `Retry-After` says when to try again",
        },
    ),
)
async def save_subscription(data: JSONBody[SubscriptionIn], request: Request) -> SubscriptionOut:
    """Save or refresh a subscription (keyed by endpoint). A known endpoint changes hands
    only for its own browser, which proves itself with the same keys, and an organiser's
    stays theirs: nobody who merely knows an endpoint can take it over."""
    if not endpoint_allowed(data.endpoint):
        raise ClientException("endpoint is not on a known push service")
    account = _account_of(request)
    existing = (
        await PushSubscription.select(
            PushSubscription.id,
            PushSubscription.account,
            PushSubscription.ibasho,
            PushSubscription.p256dh,
            PushSubscription.auth,
        )
        .where(PushSubscription.endpoint == data.endpoint)
        .first()
    )
    if existing is not None:
        same_browser = hmac.compare_digest(
            f"{existing['p256dh']}.{existing['auth']}", f"{data.keys.p256dh}.{data.keys.auth}"
        )
        own_account = account is not None and existing["account"] == account.account_id
        if existing["account"] is not None and not (own_account and data.ibasho_id is None):
            raise SubscriptionTaken(detail="this browser already gets an organiser's reminders")
        if existing["account"] is None and not same_browser:
            raise SubscriptionTaken(detail="this endpoint is subscribed with other keys")
    else:
        await within_sign_up_limit(request, account)
    now = current_time()
    values = {
        PushSubscription.p256dh: data.keys.p256dh,
        PushSubscription.auth: data.keys.auth,
        PushSubscription.updated_at: now,
        PushSubscription.consecutive_failures: 0,
    }
    token: str | None = None
    if data.ibasho_id is not None:
        await ibasho_taking_sign_ups(data.ibasho_id)
        token = secrets.token_urlsafe(32)
        values |= {
            PushSubscription.ibasho: data.ibasho_id,
            PushSubscription.account: None,
            PushSubscription.manage_token_hash: manage_token_hash(token),
        }
        if existing is None or existing["ibasho"] != data.ibasho_id:
            values[PushSubscription.person] = None  # a person belongs to one group's ibasho
        if data.person_token is not None:
            link = tokens.read_person_link(data.person_token)
            if link is None or link[1] != data.ibasho_id:  # the link no longer leads anywhere: 404
                raise NotFoundException("this personal QR code has expired: ask the organisers to show it again")
            values[PushSubscription.person] = link[0]
    elif account is not None:
        values |= {
            PushSubscription.account: account.account_id,
            PushSubscription.ibasho: None,
            PushSubscription.manage_token_hash: "",
            PushSubscription.person: None,
        }
    else:
        raise NotAuthorizedException("log in, or choose an ibasho")
    if existing is not None:
        sub_id = existing["id"]
        await PushSubscription.update(values).where(PushSubscription.id == sub_id)
    else:
        sub_id = uuid4()
        row = PushSubscription(
            id=sub_id,
            endpoint=data.endpoint,
            offsets=[],
            created_at=now,
            **{column._meta.name: value for column, value in values.items()},
        )
        inserted = await PushSubscription.insert(row).on_conflict(action="DO NOTHING").returning(PushSubscription.id)
        if not inserted:  # the same endpoint a moment ago, from elsewhere: never merged
            raise SubscriptionTaken(detail="this endpoint was just subscribed")
    return SubscriptionOut(id=sub_id, manage_url=f"/push/manage/{token}" if token else None, token=token)


async def within_sign_up_limit(request: Request, account: Principal | None) -> None:
    """New subscriptions per hour: per client address for participants (enough for a salon
    on the venue's Wi-Fi, too few to fill the table from one machine), per account for an
    organiser (each one is sent every reminder of their groups)."""
    if account is not None:
        key = f"subscribe-account:{account.account_id}"
    else:
        key = f"subscribe:{ratelimit.client_network(request.client.host if request.client else None)}"
    if await ratelimit.hit(key, 3600) > get_settings().subscriptions_per_address_per_hour:
        raise TooManySignUps(
            detail="too many new subscriptions from this address; try again later", headers={"Retry-After": "3600"}
        )


class TooManySignUps(HTTPException):
    status_code = HTTP_429_TOO_MANY_REQUESTS


@delete("/subscriptions/{token:str}", responses=error_responses(403, 404, why={404: "No such subscription"}))
async def delete_by_token(token: PathText) -> None:
    """A participant stops reminders with their management link's token."""
    deleted = (
        await PushSubscription.delete()
        .where(PushSubscription.manage_token_hash == manage_token_hash(token))
        .returning(PushSubscription.id)
    )
    if not deleted:
        raise NotFoundException("no such subscription")


Endpoint = Annotated[str, QueryParameter(pattern=NO_NUL, max_length=2000, description="the subscription's endpoint")]


@delete(
    "/subscriptions",
    responses=error_responses(400, 401, 403, 404, why={401: "Not logged in", 404: "No such subscription of yours"}),
)
async def delete_own(endpoint: Endpoint, request: Request) -> None:
    """A signed-in account stops reminders on one browser."""
    account = _account_of(request)
    if account is None:
        raise NotAuthorizedException("log in first")
    deleted = (
        await PushSubscription.delete()
        .where((PushSubscription.endpoint == endpoint) & (PushSubscription.account == account.account_id))
        .returning(PushSubscription.id)
    )
    if not deleted:
        raise NotFoundException("no such subscription")


def options_for(path: str, *handlers: HTTPRouteHandler) -> HTTPRouteHandler:
    """Litestar 2 answers OPTIONS on a path with several handlers with the methods of the
    first one registered only (a Litestar 2 bug): this handler lists
    them all. Register it before them, so Litestar makes no OPTIONS handler of its own."""
    allowed = ", ".join(sorted({"OPTIONS", *(method for handler in handlers for method in handler.http_methods)}))

    @route(path, http_method=HttpMethod.OPTIONS, include_in_schema=False, sync_to_thread=False)
    def options() -> Response:
        return Response(None, status_code=HTTP_204_NO_CONTENT, headers={"Allow": allowed})

    return options


subscriptions_options = options_for("/subscriptions", save_subscription, delete_own)


HANDLERS = [public_key, subscriptions_options, save_subscription, delete_by_token, delete_own]
