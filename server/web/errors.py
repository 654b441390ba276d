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


def http_exception_handler(request: Request, exc: HTTPException) -> Response:
    if wants_html(request):
        if isinstance(exc, NotAuthorizedException):
            return Redirect(path=f"/login?next={quote(request.url.path)}")
        return Template(
            template_name="error.html",
            context={"status_code": exc.status_code, "detail": exc.detail},
            status_code=exc.status_code,
        )
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
    return _json_error(HTTP_500_INTERNAL_SERVER_ERROR, "internal server error")
