"""Builds the Litestar application: routes, templates, CSRF, errors and the lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from pathlib import Path

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import HTTPException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.static_files import create_static_files_router
from litestar.types import Receive, Scope, Send
from piccolo.engine.postgres import PostgresEngine

from server import db
from server.api import api_router
from server.auth.context import RequestContextMiddleware
from server.auth.credentials import credentials_router
from server.auth.routes import auth_router
from server.committees import reminders as committee_reminders
from server.committees.pages import committees_router
from server.config import get_settings
from server.core.mail import run_mail
from server.core.periodic import every
from server.council import council_router
from server.data_rights.pages import data_rights_router
from server.directory.pages import directory_router
from server.events import reminders as event_reminders
from server.events.pages import events_router
from server.grants.pages import grants_router
from server.pwa.routes import pwa_router
from server.registration.pages import registration_router
from server.reminders import listeners as reminder_listeners
from server.reminders.router import push_router
from server.reminders.worker import run_reminders
from server.review.routes import review_router
from server.sync.api import sync_router
from server.sync.sessions_ahead import keep_sessions_ahead
from server.web.errors import http_exception_handler, internal_error_handler
from server.web.health import healthz
from server.web.middleware import add_security_headers, head_as_get
from server.web.openapi import SCHEMA_PLUGINS
from server.web.templating import template_config

STATIC_DIR = Path(__file__).resolve().parent / "static"
MAX_REQUEST_BODY = 1024 * 1024  # 1 MiB, per the sync contract


@asynccontextmanager
async def database_lifespan(app: Litestar) -> AsyncIterator[None]:
    engine = db.engine()
    await db.prepare_sqlite(engine)
    pool = isinstance(engine, PostgresEngine)
    if pool:
        await engine.start_connection_pool()
    background = asyncio.create_task(keep_sessions_ahead())
    reminders = asyncio.create_task(run_reminders())
    mail = asyncio.create_task(run_mail())
    # reminder mails of the council's events and committees (people without Web Push)
    mails = [
        asyncio.create_task(every(timedelta(minutes=5), event_reminders.queue_due, "event reminders queued")),
        asyncio.create_task(every(timedelta(minutes=5), committee_reminders.queue_due, "committee reminders queued")),
    ]
    try:
        yield
    finally:
        for task in (background, reminders, mail, *mails):
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        if pool:
            await engine.close_connection_pool()


class IbashoApp(Litestar):
    """Litestar answering HEAD on every GET route (uptime monitors send it)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "HEAD":  # before routing, which would answer 405
            scope, send = head_as_get(scope, send)
        await super().__call__(scope, receive, send)


def create_app() -> Litestar:
    settings = get_settings()
    reminder_listeners.register()  # areas publish changes; the reminders react (server/core/events.py)
    return IbashoApp(
        route_handlers=[
            healthz,
            auth_router,
            credentials_router,
            api_router,
            council_router,
            committees_router,
            data_rights_router,
            directory_router,
            events_router,
            registration_router,
            review_router,
            grants_router,
            sync_router,
            pwa_router,
            push_router,
            create_static_files_router(path="/static", directories=[STATIC_DIR], include_in_schema=False),
        ],
        middleware=[DefineMiddleware(RequestContextMiddleware)],
        before_send=[add_security_headers],
        csrf_config=CSRFConfig(
            secret=settings.secret,
            cookie_secure=settings.secure_cookies,
            cookie_samesite="strict",
        ),
        template_config=template_config(),
        exception_handlers={HTTPException: http_exception_handler, Exception: internal_error_handler},
        openapi_config=OpenAPIConfig(
            title="ibasho",
            version="0.1.0",
            path="/schema",
            render_plugins=[JsonRenderPlugin()],
        ),
        plugins=SCHEMA_PLUGINS,
        lifespan=[database_lifespan],
        request_max_body_size=MAX_REQUEST_BODY,
        debug=False,
    )
