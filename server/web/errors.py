"""Error responses: JSON with a clear message for the API, a page or a redirect for browsers.

Never a stack trace: unexpected errors are logged and answered with a plain 500.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, SerializationException
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_500_INTERNAL_SERVER_ERROR

from server.core.i18n import current_language, gettext
from server.core.labels import N_
from server.web.secret_urls import redact

log = logging.getLogger("ibasho")


def wants_html(request: Request) -> bool:
    """Pages (not /api, not the sync or static routes) answer browsers with HTML."""
    path = request.url.path
    return not path.startswith(("/api/", "/static/", "/app/")) and path not in ("/healthz", "/sw.js")


def _json_error(status_code: int, detail: str, extra=None, headers=None, code: str | None = None) -> Response:
    body: dict = {"status_code": status_code, "detail": detail}
    if code:  # for clients that act on the kind of error, not its (English) wording
        body["code"] = code
    if extra:
        body["extra"] = extra
    return Response(content=body, status_code=status_code, media_type=MediaType.JSON, headers=headers)


# What an error page says when the reason was written for developers (the API's English).
PAGE_REASONS = {
    400: N_("The page could not read what was sent. Go back and try again."),
    403: N_("Your account may not open this page."),
    404: N_("This page does not exist, or your account may not see it."),
    405: N_("This page cannot be used that way."),
    409: N_("This can no longer be done: it was changed in the meantime."),
    410: N_("This link can no longer be used."),
    429: N_("Too many tries in a short time. Please wait a while and try again."),
}
OTHER_REASON = N_("Something went wrong on the server. Please try again later.")


def page_reason(status_code: int, detail: str) -> str:
    """The reason an error page gives: the exception's own words when they are the reader's
    (pages raise translated msgids; an API's English reason may be a msgid too), otherwise
    a plain sentence for the status."""
    if current_language.get() != "ja" or not detail.isascii():
        return detail
    if (translated := gettext(detail)) != detail:
        return translated
    return gettext(PAGE_REASONS.get(status_code, OTHER_REASON if status_code >= 500 else PAGE_REASONS[400]))


def error_page(status_code: int, detail: str) -> Template:
    return Template(
        template_name="error.html",
        context={"status_code": status_code, "detail": page_reason(status_code, detail)},
        status_code=status_code,
    )


def http_exception_handler(request: Request, exc: HTTPException) -> Response:
    if wants_html(request):
        if isinstance(exc, NotAuthorizedException):
            return Redirect(path=f"/login?next={quote(request.url.path)}")
        return error_page(exc.status_code, exc.detail)
    detail = exc.detail
    if isinstance(exc.__cause__, SerializationException):
        detail = f"request body is not valid JSON: {detail}"
    return _json_error(exc.status_code, detail, exc.extra, exc.headers, getattr(exc, "code", None))


def undecodable_body(exc: Exception) -> str | None:
    """Why a request body could not be read, for the failures the JSON decoder lets through
    (Litestar only maps msgspec's DecodeError): bytes that are not UTF-8, nesting too deep."""
    if isinstance(exc, UnicodeDecodeError):
        return f"request body is not valid UTF-8: {exc.reason} at byte {exc.start}"
    if isinstance(exc, RecursionError) and "deserializing" in str(exc):  # msgspec's own depth limit
        return "request body is not valid JSON: nested too deeply"
    return None


def internal_error_handler(request: Request, exc: Exception) -> Response:
    if (reason := undecodable_body(exc)) is not None:
        return http_exception_handler(request, HTTPException(status_code=HTTP_400_BAD_REQUEST, detail=reason))
    log.exception("unhandled error on %s %s", request.method, redact(request.url.path), exc_info=exc)
    if wants_html(request):
        return error_page(HTTP_500_INTERNAL_SERVER_ERROR, "internal server error")
    return _json_error(HTTP_500_INTERNAL_SERVER_ERROR, "internal server error")
