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
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import pytest

from tests.pg import (
    PostgresUnavailable,
    create_database,
    drop_database,
    postgres_admin_url,
    require_postgres,
)
from tests.server_process import REPO, ServerProcess  # noqa: F401 (REPO: for the tests)

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
from server.auth.accounts import create_user  # noqa: E402
from server.auth.sessions import now  # noqa: E402
from server.reminders import listeners as reminder_listeners  # noqa: E402
from server.tables import Area, Group  # noqa: E402

PASSWORD = "correct horse battery"


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


def unique(prefix: str) -> str:
    """A name no other test uses (tests share the run's database)."""
    return f"{prefix}-{uuid4().hex[:10]}"


# --- factories ---------------------------------------------------------------------


async def make_area(name: str | None = None) -> UUID:
    area_id = uuid4()
    await Area.insert(Area(id=area_id, name=name or unique("area"), created_at=now()))
    return area_id


async def make_group(area_id: UUID, name: str | None = None) -> UUID:
    group_id = uuid4()
    await Group.insert(Group(id=group_id, area=area_id, name=name or unique("group"), created_at=now()))
    return group_id


async def _names(table, ids) -> list[str]:
    return [row["name"] for row in await table.select(table.name).where(table.id.is_in(list(ids)))] if ids else []


@dataclass
class Person:
    """Someone who can log in, with the data they may see."""

    login: str
    password: str
    account_id: UUID
    area_ids: tuple[UUID, ...] = ()
    group_ids: tuple[UUID, ...] = ()


async def make_account(role: str, areas=(), groups=(), login: str | None = None) -> Person:
    login = login or unique(role)
    account_id = await create_user(
        login=login,
        password=PASSWORD,
        role=role,
        display_name=f"{role} {login[-4:]}",
        areas=await _names(Area, areas),
        groups=await _names(Group, groups),
    )
    return Person(login, PASSWORD, account_id, tuple(areas), tuple(groups))


@dataclass
class World:
    """Two areas, a group in each, and people of every role: the usual cast of a scope test."""

    area_a: UUID
    area_b: UUID
    group_a: UUID
    group_b: UUID
    admin: Person
    staff_a: Person
    staff_b: Person
    organiser_a: Person
    organiser_b: Person


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


class Client:
    """An HTTP client that behaves like a browser: keeps cookies and echoes the CSRF token."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        http.follow_redirects = False  # tests look at redirects themselves
        self.http = http

    async def csrf(self) -> dict[str, str]:
        if "csrftoken" not in self.http.cookies:
            await self.http.get("/healthz")
        return {"x-csrftoken": self.http.cookies["csrftoken"]}

    async def get(self, url: str, **kwargs) -> httpx.Response:
        return await self.http.get(url, **kwargs)

    async def post(self, url: str, **kwargs) -> httpx.Response:
        headers = {**(await self.csrf()), **kwargs.pop("headers", {})}
        return await self.http.post(url, headers=headers, **kwargs)

    async def form(self, url: str, data: dict, **kwargs) -> httpx.Response:
        """Submit an HTML form the way a browser does (token in the body, no header)."""
        await self.csrf()
        return await self.http.post(url, data={"_csrf_token": self.http.cookies["csrftoken"], **data}, **kwargs)

    async def login(self, person: Person) -> httpx.Response:
        response = await self.post("/api/auth/login", json={"login": person.login, "password": person.password})
        assert response.status_code == 200, response.text
        return response


def asgi_client(app) -> httpx.AsyncClient:
    """In-process HTTP on the tests' own event loop (the database pool lives there too);
    the app's lifespan is not run: the session fixture above does its work."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver.local")


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


def start_server(env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> ServerProcess:
    """``ibasho serve`` in a subprocess; ``env`` replaces the whole environment when given."""
    server = ServerProcess(env if env is not None else dict(os.environ), args=args)
    server.start()
    return server


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
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
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
    from server.reminders import delivery
    from server.reminders.vapid import load_vapid

    async with delivery.push_client(verify=push.ssl_context()) as client:
        yield delivery.Sender(client, load_vapid())


@pytest.fixture
async def no_other_deliveries():
    """For modules that count deliveries (``pytestmark = pytest.mark.usefixtures(...)``):
    the scheduler claims whatever is due in the database, other tests' rows included."""
    from server.tables import ReminderDelivery

    await ReminderDelivery.delete(force=True)
