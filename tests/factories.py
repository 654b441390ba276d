"""Helpers the test modules share: rows to test against, clients, the CLI, hostile strings.

Test modules import them from here (never from tests/conftest.py or from another test
module); pytest fixtures still come from tests/conftest.py. Importing this module imports
server modules, which read their settings: tests/conftest.py sets the environment first
(pytest always loads it before the test modules).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from uuid import UUID, uuid4

import httpx

from server.auth.accounts import create_user
from server.core.clock import now
from server.sync.store import backfill_change_log
from server.tables import (
    Area,
    GrantProgramme,
    GrantRuleVersion,
    Group,
    GroupGrant,
    Ibasho,
    Note,
    PushSubscription,
    ReminderDelivery,
    Session,
    SessionStatus,
    Tally,
)
from server.tables import Person as PersonRow
from tests.server_process import REPO, ServerProcess
from tests.sync_phone import Phone

PASSWORD = "correct horse battery"


def unique(prefix: str) -> str:
    """A name no other test uses (tests share the run's database)."""
    return f"{prefix}-{uuid4().hex[:10]}"


# --- areas, groups and the people who log in ----------------------------------------------


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
    """Two areas, a group in each, and people of every role: the usual cast of a scope test
    (the ``world`` fixture in tests/conftest.py makes one)."""

    area_a: UUID
    area_b: UUID
    group_a: UUID
    group_b: UUID
    admin: Person
    staff_a: Person
    staff_b: Person
    organiser_a: Person
    organiser_b: Person


# --- clients -------------------------------------------------------------------------------


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


def redirected_to(response, path: str) -> bool:
    """A POST answered the browser way: 303 to ``path``."""
    return response.status_code == 303 and response.headers["location"] == path


def asgi_client(app, host: str = "127.0.0.1") -> httpx.AsyncClient:
    """In-process HTTP on the tests' own event loop (the database pool lives there too);
    the app's lifespan is not run: the session fixture in tests/conftest.py does its work.
    ``host``: the client's address, as the per-address limits see it."""
    transport = httpx.ASGITransport(app=app, client=(host, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver.local")


# --- a real server process, the CLI --------------------------------------------------------


def start_server(env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> ServerProcess:
    """``ibasho serve`` in a subprocess; ``env`` replaces the whole environment when given."""
    server = ServerProcess(env if env is not None else dict(os.environ), args=args)
    server.start()
    return server


def run_cli(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    """``ibasho <args>`` in a subprocess, its output captured."""
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        cwd=REPO,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_cli_ok(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """``run_cli`` that must succeed (``ibasho migrate`` and the like)."""
    result = run_cli(*args, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


# --- reminders: a session on SESSION_DAY at START in Tokyo, and its subscribers ---------------

SESSION_DAY = date(2030, 6, 9)
START = time(10, 0)
DAY_BEFORE = datetime(2030, 6, 8, 9, 0, tzinfo=UTC)  # 18:00 JST
TWO_HOURS = datetime(2030, 6, 8, 23, 0, tzinfo=UTC)  # 08:00 JST


async def reminder_session(tz="Asia/Tokyo", day=SESSION_DAY, start=START) -> tuple[UUID, UUID, UUID]:
    """A scheduled session of a new ibasho in a new group: ``(group, ibasho_id, session_id)``."""
    group = await make_group(await make_area())
    ibasho_id, session_id = uuid4(), uuid4()
    await Ibasho.insert(
        Ibasho(id=ibasho_id, group=group, name=unique("きらくら"), timezone=tz, created_at=datetime.now(UTC))
    )
    await Session.insert(
        Session(
            id=session_id,
            group=group,
            ibasho=ibasho_id,
            title="きらくら",
            date=day,
            start_time=start,
            venue="コミセン",
            status=SessionStatus.scheduled.value,
            hlcs={},
            created_at=datetime.now(UTC),
            updated_at=datetime.now(UTC),
        )
    )
    return group, ibasho_id, session_id


async def subscribe(push, ibasho_id=None, account=None):
    """A subscriber of the fake push service (the ``push`` fixture), stored as a participant's
    subscription for ``ibasho_id`` or an organiser's for ``account``: ``(subscriber, id)``."""
    sub = push.subscriber()
    sub_id = uuid4()
    await PushSubscription.insert(
        PushSubscription(
            id=sub_id,
            endpoint=push.endpoint(sub),
            p256dh=sub.p256dh,
            auth=sub.auth,
            ibasho=ibasho_id,
            account=account,
            offsets=[],
            created_at=datetime.now(UTC),
            updated_at=datetime.now(UTC),
        )
    )
    return sub, sub_id


async def deliveries(**where):
    """The reminder deliveries whose columns equal ``where``, earliest due first."""
    rows = await ReminderDelivery.select().order_by(ReminderDelivery.due_at)
    return [r for r in rows if all(r[k] == v for k, v in where.items())]


# --- review: held sessions with tallies and notes, registered participants ------------------

CONCERN = "Aさん、最近元気がない"


async def make_session(
    group_id: UUID,
    day: date = date(2025, 5, 10),
    *,
    status="held",
    start=time(10),
    end=time(12),
    venue_cost: int | None = 1500,
    tallies: dict | None = None,
    note: bool = True,
    ibasho: UUID | None = None,
    **fields,
) -> UUID:
    """A session as staff review it: held, counted, with a note whose concerns are CONCERN
    (``fields``: any other column of the session)."""
    session_id = uuid4()
    await Session.insert(
        Session(
            id=session_id,
            group=group_id,
            ibasho=ibasho,
            date=day,
            start_time=start,
            end_time=end,
            status=status,
            venue_cost=venue_cost,
            created_at=now(),
            updated_at=now(),
            **fields,
        )
    )
    for category, n in (tallies if tallies is not None else {"child": 5, "senior": 3, "volunteer": 4}).items():
        await Tally.insert(Tally(id=f"{session_id}:{category}", session=session_id, category=category, delta_sum=n))
    if note:
        await Note.insert(
            Note(
                id=session_id,
                session=session_id,
                went_well="楽しかった",
                to_improve="配膳を早く",
                handover="米を買う",
                concerns=CONCERN,
            )
        )
    return session_id


async def count_queries(monkeypatch, work) -> int:
    """How many queries ``work()`` sends to the database."""
    engine_class = type(Group._meta.db)
    original = engine_class.run_querystring
    seen = []

    async def counting(self, querystring, *args, **kwargs):
        seen.append(querystring)
        return await original(self, querystring, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(engine_class, "run_querystring", counting)
        await work()
    return len(seen)


async def make_programme(
    rules: dict, *, from_year: int = 2000, enrol: UUID | None = None, first_year: int = 2025
) -> UUID:
    """A grant programme with one rule version (rules JSON, docs/grants.md), and the group
    ``enrol`` enrolled in it from ``first_year``."""
    programme_id = uuid4()
    await GrantProgramme.insert(GrantProgramme(id=programme_id, name=unique("grant")))
    await GrantRuleVersion.insert(
        GrantRuleVersion(id=uuid4(), programme=programme_id, from_year=from_year, rules=rules, updated_at=now())
    )
    if enrol:
        await GroupGrant.insert(
            GroupGrant(id=uuid4(), group=enrol, programme=programme_id, first_fiscal_year=first_year)
        )
    return programme_id


async def make_person(group_id: UUID, name: str = "山田花子") -> UUID:
    """A participant of the group (a ``person`` row, not someone who logs in)."""
    person_id = uuid4()
    await PersonRow.insert(PersonRow(id=person_id, group=group_id, display_name=name, kana="やまだはなこ"))
    return person_id


async def rename_account(person: Person, display_name: str) -> None:
    """Give someone who logs in a name of the kind a group's members have (a screen in
    Japanese shows them)."""
    from server.tables import Account

    await Account.update({Account.display_name: display_name}).where(Account.id == person.account_id)


async def wait_for_db(query, attempts: int = 150):
    """The rows a query finds once a phone's push has reached the database (it pushes on its own)."""
    import asyncio

    for _ in range(attempts):
        rows = await query()
        if rows:
            return rows
        await asyncio.sleep(0.1)
    return []


async def login_client(new_client, person: Person) -> Client:
    """A new client (the ``new_client`` fixture) logged in as ``person``."""
    client = await new_client()
    await client.login(person)
    return client


async def synced_phone(new_client, person: Person) -> Phone:
    """A phone of ``person`` that has pulled everything so far."""
    phone = Phone(await login_client(new_client, person))
    await phone.pull()
    return phone


# --- hostile text ------------------------------------------------------------------------------

SCRIPT = '<script>alert("x")</script>'
SQL = "Robert'); DROP TABLE account; --"
NASTY = f"{SCRIPT}{SQL}"
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"


def shown_escaped(html: str) -> bool:
    """NASTY (or SCRIPT) appears in the page as text, never as markup."""
    return SCRIPT not in html and ESCAPED in html.replace("&quot;", "&#34;")


# --- a venue for the organiser app's browser tests ---------------------------------------------


async def make_venue(registration_required: bool = True, people: int = 6) -> dict:
    """A group with two organisers (Japanese names), an ibasho, participants and a session today."""
    area = await make_area()
    group = await make_group(area, name=f"ひまわりの会{uuid4().int % 10**8}")  # unique, and no Latin letters
    first = await make_account("organiser", groups=[group])
    second = await make_account("organiser", groups=[group])
    await rename_account(first, "田中 花子")
    await rename_account(second, "佐藤 美咲")
    ibasho = uuid4()
    await Ibasho.insert(
        Ibasho(
            id=ibasho, group=group, name="きらくらサロン", registration_required=registration_required, created_at=now()
        )
    )
    names = [("新井 花子", "あらい はなこ"), ("上田 健", "うえだ けん"), ("イシカワ 明", "いしかわ あきら")]
    names += [(f"参加者{i:02d}", f"さんかしゃ{i:02d}") for i in range(people - len(names))]
    persons = [
        PersonRow(id=uuid4(), group=group, display_name=n, kana=k, category="senior", hlcs={}, updated_at=now())
        for n, k in names
    ]
    await PersonRow.insert(*persons)
    session = await add_session(group, ibasho, date.today())
    await backfill_change_log()  # phones pull what was written straight into the tables
    return {
        "area": area,
        "group": group,
        "ibasho": ibasho,
        "session": str(session),
        "organisers": (first, second),
        "people": persons,
    }


async def add_session(group, ibasho, day, kind="session", title="きらくら", **fields) -> UUID:
    """A session as a phone first sees it: scheduled, nothing recorded yet."""
    return await make_session(
        group,
        day,
        ibasho=ibasho,
        kind=kind,
        title=title,
        status="scheduled",
        venue_cost=None,
        tallies={},
        note=False,
        venue="西部コミセン",
        hlcs={},
        **fields,
    )


async def staff_organiser_action(server: ServerProcess, staff: Person, group: UUID, account: UUID, action: str) -> None:
    """Staff, logged in over HTTP to a live server, act on one organiser of a group:
    ``remove`` them from it, or ``logout`` their phones (server/council/organisers.py)."""
    async with httpx.AsyncClient(base_url=server.url) as http:
        await http.get("/healthz")  # the CSRF cookie
        login = await http.post(
            "/api/auth/login",
            json={"login": staff.login, "password": staff.password},
            headers={"x-csrftoken": http.cookies["csrftoken"]},
        )
        assert login.status_code == 200, login.text
        response = await http.post(
            f"/staff/groups/{group}/organisers/{account}/{action}", data={"_csrf_token": http.cookies["csrftoken"]}
        )
        assert response.status_code == 303, response.text
