"""Per-request context: who is asking (the session cookie) and in which language."""

from __future__ import annotations

from litestar.exceptions import ClientException, NotFoundException
from litestar.types import ASGIApp, Receive, Scope, Send

from server.auth.logins import LOGIN_COOKIE, lookup_login
from server.core.i18n import LANGUAGE_COOKIE, current_language, pick_language
from server.web.middleware import NUL_REFUSED, cookies_of, header_of, nul_markers, without_nul


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"]:
            # No route or file name holds a NUL; file lookups would fail on it with a 500.
            raise NotFoundException("no such path")
        if b"%00" in scope.get("query_string", b""):
            raise ClientException(NUL_REFUSED)
        cookies = cookies_of(scope)
        principal, ended = await lookup_login(cookies.get(LOGIN_COOKIE))
        scope["user"] = principal
        scope["auth"] = ended  # why a once-valid login no longer works (server/auth/guards.py)
        language = pick_language(cookies.get(LANGUAGE_COOKIE), header_of(scope, b"accept-language"))
        if principal is not None and LANGUAGE_COOKIE not in cookies:
            language = principal.language
        token = current_language.set(language)
        try:
            markers = nul_markers(scope)
            await self.app(scope, without_nul(receive, markers) if markers else receive, send)
        finally:
            current_language.reset(token)
