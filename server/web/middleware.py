"""What every request and answer goes through: NUL refused, the security headers, HEAD answered as GET.
Who is asking is decided in server/auth/context.py."""

from __future__ import annotations

from http.cookies import SimpleCookie

from litestar.exceptions import ClientException
from litestar.types import Message, Receive, Scope, Send

from server.core.labels import N_

# No inline script or style anywhere: pages and the PWA load only same-origin files.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'; manifest-src 'self'; worker-src 'self'"
)

SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    # Invitation and management links carry secrets in the URL: never leak them as a referrer.
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)


def cookies_of(scope: Scope) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header is treated as no cookie
                continue
    return {key: morsel.value for key, morsel in jar.items()}


def header_of(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == wanted:
            return value.decode("latin-1")
    return None


# PostgreSQL text cannot hold NUL, so a NUL anywhere in a request would end in a 500 deep
# inside some query; no field of ibasho needs one. What a NUL looks like depends on the body:
# "%00" in a form is one, but in JSON it is just the three characters someone typed.
FORM_NUL = (b"\x00", b"%00")
JSON_NUL = (b"\x00", b"\\u0000")
NUL_REFUSED = N_("text must not contain NUL characters")  # English for the API, translated on pages
# Sync refuses a NUL per mutation (sync/mutations.py), so one pasted character cannot
# block a phone's whole outbox.
CHECKED_PER_MUTATION = "/api/sync/push"


def without_nul(receive: Receive, markers: tuple[bytes, ...]) -> Receive:
    """``receive`` that refuses (400) a body holding a NUL, checked as the body streams in."""
    tail = b""

    async def checked() -> Message:
        nonlocal tail
        message = await receive()
        if message["type"] == "http.request":
            window = tail + message.get("body", b"")
            if any(marker in window for marker in markers):
                raise ClientException(NUL_REFUSED)
            tail = window[-5:]  # a marker split across two chunks
        return message

    return checked


def nul_markers(scope: Scope) -> tuple[bytes, ...] | None:
    if scope["path"] == CHECKED_PER_MUTATION:
        return None
    content_type = (header_of(scope, b"content-type") or "").lower()
    return FORM_NUL if content_type.startswith(("application/x-www-form-urlencoded", "multipart/")) else JSON_NUL


# Personal data never rests in an HTTP cache, the browser's or a proxy's.
API_HEADERS = SECURITY_HEADERS + ((b"cache-control", b"no-store"),)


async def add_security_headers(message: Message, scope: Scope) -> None:
    """The app's ``before_send`` hook: it sees every response, where route middleware such as
    the one above never sees the router's own 404 and 405, nor errors raised before it."""
    if message["type"] == "http.response.start":
        extra = API_HEADERS if scope["path"].startswith("/api/") else SECURITY_HEADERS
        names = {name for name, _ in extra}
        message["headers"] = [h for h in message.get("headers", []) if h[0].lower() not in names] + list(extra)


def head_as_get(scope: Scope, send: Send) -> tuple[Scope, Send]:
    """HEAD is GET without the body (RFC 9110 §9.3.2), for every GET route: the app answers
    a GET and only its status and headers (Content-Length included) go out. Litestar
    itself answers 405 to HEAD on a route that declares only GET."""

    async def headers_only(message: Message) -> None:
        if message["type"] in ("http.response.body", "http.response.pathsend"):
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(message)

    return {**scope, "method": "GET"}, headers_only
