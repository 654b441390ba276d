"""Test harness: one fresh, migrated database per run, on SQLite or PostgreSQL.

``IBASHO_TEST_ENGINE=sqlite`` (default) uses a temporary SQLite file;
``IBASHO_TEST_ENGINE=postgres`` creates a fresh database on the local PostgreSQL
(``IBASHO_TEST_POSTGRES``, default postgresql://postgres@127.0.0.1:5432/postgres)
and drops it at the end. The environment is set here, before any server module
reads its settings.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from pathlib import Path

import httpx
import pytest

from tests.pg import (
    PostgresUnavailable,
    create_database,
    drop_database,
    postgres_admin_url,
    require_postgres,
)

ENGINE = os.environ.get("IBASHO_TEST_ENGINE", "sqlite")
RUN_DIR = Path(tempfile.mkdtemp(prefix="ibasho-test-"))
_PG_DATABASE: str | None = None

os.environ["IBASHO_DATA_DIR"] = str(RUN_DIR / "data")
os.environ["IBASHO_SECRET"] = secrets.token_urlsafe(32)
os.environ.pop("DATABASE_URL", None)
if ENGINE == "postgres":
    try:
        _PG_DATABASE, os.environ["DATABASE_URL"] = create_database(postgres_admin_url(), "ibasho_test")
    except PostgresUnavailable as error:
        require_postgres(error)  # fails under CI, skips the run elsewhere
elif ENGINE != "sqlite":
    raise pytest.UsageError(f"IBASHO_TEST_ENGINE must be sqlite or postgres, not {ENGINE!r}")

from piccolo.engine.postgres import PostgresEngine  # noqa: E402

from server import db  # noqa: E402
from server.app import create_app  # noqa: E402
from server.reminders import listeners as reminder_listeners  # noqa: E402

pytest.register_assert_rewrite("tests.factories", "tests.browser")
from tests.factories import (  # noqa: E402 (server modules read the environment set above)
    Client,
    World,
    asgi_client,
    make_account,
    make_area,
    make_group,
    start_server,
)


def pytest_report_header(config) -> str:
    return f"ibasho test database: {ENGINE} ({os.environ.get('DATABASE_URL') or 'SQLite in ' + str(RUN_DIR)})"


def pytest_sessionfinish(session, exitstatus) -> None:
    if _PG_DATABASE:
        drop_database(postgres_admin_url(), _PG_DATABASE)
    shutil.rmtree(RUN_DIR, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
async def migrated_database():
    """Migrate once; on PostgreSQL keep a connection pool on the tests' event loop."""
    await db.migrate_forwards()
    reminder_listeners.register()  # as the app does: tests change sessions without building it
    engine = db.engine()
    pooled = isinstance(engine, PostgresEngine)
    if pooled:
        await engine.start_connection_pool(min_size=1, max_size=10)
    yield
    if pooled:
        await engine.close_connection_pool()


@pytest.fixture(scope="session")
def app():
    return create_app()


# --- a cast of areas, groups and people ---------------------------------------------------


@pytest.fixture
async def world() -> World:
    area_a, area_b = await make_area(), await make_area()
    group_a, group_b = await make_group(area_a), await make_group(area_b)
    return World(
        area_a=area_a,
        area_b=area_b,
        group_a=group_a,
        group_b=group_b,
        admin=await make_account("admin"),
        staff_a=await make_account("staff", areas=[area_a]),
        staff_b=await make_account("staff", areas=[area_b]),
        organiser_a=await make_account("organiser", groups=[group_a]),
        organiser_b=await make_account("organiser", groups=[group_b]),
    )


# --- clients -----------------------------------------------------------------------


@pytest.fixture
async def app_client(app):
    async with asgi_client(app) as http:
        yield Client(http)


@pytest.fixture
async def new_client(app):
    """Open more clients (more phones, more browsers) on one app: ``await new_client()``."""
    opened: list[httpx.AsyncClient] = []

    async def opener() -> Client:
        http = asgi_client(app)
        opened.append(http)
        return Client(http)

    yield opener
    for http in opened:
        await http.aclose()


# --- a real server process on loopback -------------------------------------------------


@pytest.fixture(scope="session")
def live_server():
    server = start_server()
    yield server
    server.stop()


# --- a real browser ----------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="session")
async def chromium():
    """Debian's Chromium through Playwright's async API (never `playwright install`);
    required under CI. Async, so tests can check the database on the same event loop."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI: apt-get install chromium")
        pytest.skip("browser tests skipped: no Chromium at /usr/bin/chromium (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        # A Japanese phone's browser: its own words and the date and time boxes (2026/12/02,
        # 11:00) follow the process's language, with Debian's chromium-l10n installed.
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, env={**os.environ, "LANG": "ja_JP.UTF-8"}
        )
        yield browser
        await browser.close()


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory):
    """What the README's run command starts: a fresh SQLite database with the demo council."""
    env = {**os.environ, "IBASHO_DATA_DIR": str(tmp_path_factory.mktemp("demo-data"))}
    env.pop("DATABASE_URL", None)
    server = start_server(env=env, args=("--demo",))
    yield server
    server.stop()


# --- Web Push: a fake push service on loopback ---------------------------------------------


@pytest.fixture
def push():
    """A fake push service (HTTPS, HTTP/2) that checks VAPID and decrypts what it gets."""
    from tests.push_service import FakePushService

    service = FakePushService()
    yield service
    service.close()


@pytest.fixture
def smtp(monkeypatch):
    """A real SMTP server on loopback (aiosmtpd), and the settings pointing at it."""
    import dataclasses

    from server import config
    from tests.mail_service import FakeMailServer

    server = FakeMailServer()
    monkeypatch.setattr(config, "_settings", dataclasses.replace(config.get_settings(), smtp_url=server.url))
    yield server
    server.stop()


@pytest.fixture
def allow_fake(push, monkeypatch):
    """The server accepts the fake's endpoints (IBASHO_PUSH_HOSTS with its loopback port)."""
    import dataclasses

    import server.config as config

    settings = config.get_settings()
    monkeypatch.setattr(
        config, "_settings", dataclasses.replace(settings, push_hosts=(*settings.push_hosts, f"127.0.0.1:{push.port}"))
    )


@pytest.fixture
async def sender(push):
    """The reminders' real sender, trusting the fake's throwaway certificate authority."""
    from server.reminders.sender import Sender, push_client
    from server.reminders.vapid import load_vapid

    async with push_client(verify=push.ssl_context()) as client:
        yield Sender(client, load_vapid())


@pytest.fixture
async def no_other_deliveries():
    """For modules that count deliveries (``pytestmark = pytest.mark.usefixtures(...)``):
    the scheduler claims whatever is due in the database, other tests' rows included."""
    from server.tables import ReminderDelivery

    await ReminderDelivery.delete(force=True)


@pytest.fixture
async def fresh_event_apply_count():
    """The per-address count of event applications from loopback, cleared before and after:
    the in-process client and the live server both apply from 127.0.0.1, so a test that
    spends the hour's applications would otherwise leave later tests refused."""
    from server.core.ratelimit import client_network
    from server.tables import RateCounter

    key = f"event-apply:{client_network('127.0.0.1')}"
    await RateCounter.delete().where(RateCounter.key == key)
    yield
    await RateCounter.delete().where(RateCounter.key == key)


@pytest.fixture
async def fresh_sign_up_count():
    """The per-address count of new subscriptions from loopback, cleared before and after,
    for modules that sign up often from the in-process client (its limit is an hour's)."""
    from server.core.ratelimit import client_network
    from server.tables import RateCounter

    key = f"subscribe:{client_network('127.0.0.1')}"
    await RateCounter.delete().where(RateCounter.key == key)
    yield
    await RateCounter.delete().where(RateCounter.key == key)
