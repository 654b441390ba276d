"""Crash safety of sync: phones keep syncing while the server is killed with SIGKILL.

    .venv/bin/python -m tests.bench.bench_crash                       # SQLite and PostgreSQL, 100 kills each
    .venv/bin/python -m tests.bench.bench_crash --engines sqlite --kills 30 --clients 5

A real ``ibasho serve`` process on loopback, several phones pushing and pulling without
pause, and a killer that SIGKILLs the server at random moments and starts it again on
the same port; the phones retry as the sync contract says (same batch again after a
network error or 5xx). Afterwards every mutation must have been applied exactly once,
every phone's pull must hold every change, and the database must pass its integrity
checks. ``tests/test_crash_safety.py`` runs a reduced version in CI.

This module is also the harness shared with ``bench_load`` and the tests: a server
process on a fixed port, a fresh database per run, seeding in a child process, a
retrying phone, and the checks. It never imports ``tests.conftest`` (which makes a
database at import time) nor the server's modules: those bind to one database per
process, so the database is reached with plain SQL here.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from sync.hlc import Clock
from sync.ids import uuid7
from tests.server_process import REPO, ServerProcess

PASSWORD = "crash-and-load-password"
STATUSES = ("present", "absent_notified", "absent_unnotified")


# --- a fresh database and a server process on a fixed port ------------------------------------


@dataclass
class Database:
    """A fresh, empty database and the environment that points a server at it."""

    engine: str
    env: dict[str, str]
    data_dir: Path
    pg_name: str | None = None

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "ibasho.sqlite"

    def drop(self) -> None:
        if self.pg_name:
            from tests.pg import drop_database, postgres_admin_url

            drop_database(postgres_admin_url(), self.pg_name)
        shutil.rmtree(self.data_dir, ignore_errors=True)


def fresh_database(engine: str, prefix: str = "ibasho_crash") -> Database:
    """Raises tests.pg.PostgresUnavailable when PostgreSQL is asked for and not reachable."""
    data_dir = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    env = {**os.environ, "IBASHO_DATA_DIR": str(data_dir), "IBASHO_SECRET": secrets.token_urlsafe(32)}
    env.pop("DATABASE_URL", None)
    pg_name = None
    if engine == "postgres":
        from tests.pg import create_database, postgres_admin_url

        try:
            pg_name, env["DATABASE_URL"] = create_database(postgres_admin_url(), prefix)
        except Exception:
            shutil.rmtree(data_dir, ignore_errors=True)
            raise
    elif engine != "sqlite":
        raise ValueError(f"engine must be sqlite or postgres, not {engine!r}")
    return Database(engine, env, data_dir, pg_name)


# --- seeding, in a child process bound to the run's database ----------------------------------


def seed(db: Database, groups: int, accounts_per_group: int) -> list[dict]:
    """Migrate; make an area, ``groups`` groups and organisers. Returns
    [{"group_id", "accounts": [{"login", "account_id"}]}]."""
    result = subprocess.run(
        [sys.executable, "-m", "tests.bench.bench_crash", "_seed", str(groups), str(accounts_per_group)],
        cwd=REPO,
        env=db.env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"seeding failed: {result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


async def _seed_child(groups: int, accounts_per_group: int) -> list[dict]:
    from server import db
    from server.auth.accounts import create_user
    from server.core.changelog import publish_server_change
    from server.core.clock import now
    from server.tables import Area, Group

    await db.migrate_forwards()
    area_id = uuid.uuid4()
    await Area.insert(Area(id=area_id, name=f"area-{area_id.hex[:8]}", created_at=now()))
    seeded = []
    for g in range(groups):
        group_id, name = uuid.uuid4(), f"group-{g}-{uuid.uuid4().hex[:6]}"
        await Group.insert(Group(id=group_id, area=area_id, name=name, created_at=now()))
        await publish_server_change("group", group_id, group_id)
        accounts = []
        for a in range(accounts_per_group):
            login = f"org-{g}-{a}-{uuid.uuid4().hex[:6]}"
            account_id = await create_user(login, PASSWORD, "organiser", login, groups=[name])
            accounts.append({"login": login, "account_id": str(account_id)})
        seeded.append({"group_id": str(group_id), "accounts": accounts})
    return seeded


async def login(url: str, login_name: str) -> httpx.AsyncClient:
    """An HTTP client with a logged-in session; phones of one account share it (its cookies)."""
    http = httpx.AsyncClient(base_url=url, timeout=30, limits=httpx.Limits(max_connections=50))
    await http.get("/healthz")
    response = await http.post(
        "/api/auth/login",
        json={"login": login_name, "password": PASSWORD},
        headers={"x-csrftoken": http.cookies["csrftoken"]},
    )
    response.raise_for_status()
    return http


# --- a phone that retries like the PWA -----------------------------------------------------------


class LostMutations(AssertionError):
    """The server answered seq_gap below the outbox: mutations the phone no longer holds are gone."""


class Unavailable(Exception):
    """No answer, or a 5xx: send the same batch again later."""


@dataclass
class Phone:
    http: httpx.AsyncClient
    group_id: str
    account_id: str
    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    next_seq: int = 1
    outbox: list[dict] = field(default_factory=list)
    cursor: int = 0
    state: dict[tuple[str, str], dict] = field(default_factory=dict)
    latencies: dict[str, list[float]] | None = None  # "push"/"pull" -> seconds, when measured
    failures: int = 0  # requests that got no answer or a 5xx (retried)
    cut_off: int = 0  # of those, requests the server had received when it died

    def __post_init__(self) -> None:
        self.clock = Clock(self.client_id)

    def mutate(self, name: str, **args: Any) -> dict:
        mutation = {"id": uuid7(), "seq": self.next_seq, "name": name, "args": args, "hlc": self.clock.tick()}
        self.next_seq += 1
        self.outbox.append(mutation)
        return mutation

    @property
    def made(self) -> int:
        return self.next_seq - 1

    async def _request(self, kind: str, method: str, url: str, **kwargs) -> httpx.Response:
        began = time.perf_counter()
        try:
            if method == "POST":
                kwargs["headers"] = {"x-csrftoken": self.http.cookies.get("csrftoken", "")}
            response = await self.http.request(method, url, **kwargs)
        except httpx.TransportError as error:
            self.failures += 1
            self.cut_off += not isinstance(error, httpx.ConnectError)
            raise Unavailable(repr(error)) from error
        if response.status_code >= 500:
            self.failures += 1
            raise Unavailable(f"{response.status_code} {response.text[:200]}")
        if self.latencies is not None:
            self.latencies.setdefault(kind, []).append(time.perf_counter() - began)
        return response

    async def push(self) -> None:
        while self.outbox:
            batch = self.outbox[:500]
            response = await self._request(
                "push", "POST", "/api/sync/push", json={"client_id": self.client_id, "mutations": batch}
            )
            if response.status_code == 409:
                expected = response.json()["expected_seq"]
                if expected <= batch[0]["seq"]:
                    raise LostMutations(
                        f"{self.client_id}: server expects seq {expected}, outbox starts at {batch[0]['seq']}"
                    )
                self.outbox = [m for m in self.outbox if m["seq"] >= expected]  # an answer we never got
                continue
            if response.status_code != 200:
                raise AssertionError(f"push answered {response.status_code}: {response.text[:300]}")
            body = response.json()
            rejected = [r for r in body["results"] if r["status"] == "rejected"]
            if rejected:
                raise AssertionError(f"rejected: {rejected[:3]}")
            self.outbox = [m for m in self.outbox if m["seq"] > body["last_seq"]]

    async def pull(self, cursor: int | None = None, client_id: str | None = None) -> dict:
        """Pull to ``more: false``. Without arguments it moves this phone's cursor and state;
        with ``cursor``/``client_id`` it returns a separate state (e.g. everything from 0)."""
        own = cursor is None
        state = self.state if own else {}
        cursor = self.cursor if own else cursor
        while True:
            params = {"client_id": client_id or self.client_id, "cursor": cursor, "limit": 1000}
            response = await self._request("pull", "GET", "/api/sync/pull", params=params)
            if response.status_code != 200:
                raise AssertionError(f"pull answered {response.status_code}: {response.text[:300]}")
            page = response.json()
            for change in page["changes"]:
                key = (change["entity"], change["id"])
                if change["deleted"]:
                    state.pop(key, None)
                else:
                    state[key] = change["data"]
            cursor = page["cursor"]
            if own:
                self.outbox = [m for m in self.outbox if m["seq"] > page["last_seq"]]
                self.cursor = cursor  # saved last, as the client algorithm says
            if not page["more"]:
                return state

    async def sync(self) -> bool:
        """One push-then-pull; False when the server was unreachable (try again later)."""
        try:
            await self.push()
            await self.pull()
        except Unavailable:
            return False
        return True

    async def sync_until_done(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not await self.sync() or self.outbox:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.client_id}: could not sync within {timeout} s")
            await asyncio.sleep(0.2)


# --- what the phones do, and what must hold afterwards --------------------------------------------


@dataclass
class Expected:
    """What the phones of one group did, to check the server and every pull against."""

    tallies: dict[str, int] = field(default_factory=dict)  # tally id -> sum of every delta sent
    attendance: dict[str, str] = field(default_factory=dict)  # attendance id -> the last status sent
    notes: dict[tuple[str, str], str] = field(default_factory=dict)  # (session id, field) -> last text
    persons: dict[str, str] = field(default_factory=dict)  # person id -> display name
    sessions: set[str] = field(default_factory=set)


class Activity:
    """A gathering's worth of changes from one phone: people, attendance, counting arrivals,
    roles and notes. Each phone writes its own people and note field (so the last value it
    sent must win) and counts on the group's shared session (so every delta must add up)."""

    NOTE_FIELDS = ("went_well", "to_improve", "handover", "concerns")
    # Arrivals one phone counts at one gathering before the next one starts: three phones
    # stay far below a head count's bound (sync.limits.HEAD_COUNT) however long a run is.
    COUNTED_PER_GATHERING = 300

    def __init__(self, phone: Phone, expected: Expected, shared_session: str, number: int, rng: random.Random):
        self.phone, self.expected, self.rng = phone, expected, rng
        self.shared, self.gathering, self.counted = uuid.UUID(shared_session), 0, 0
        self.session = shared_session
        self.field = self.NOTE_FIELDS[number % len(self.NOTE_FIELDS)]
        self.people: list[str] = []
        self.note_hlc: str | None = None
        self.notes_written = 0

    def start(self) -> None:
        day = date(2026, 12, 5) + timedelta(days=7 * self.gathering)
        self.phone.mutate("session.upsert", id=self.session, group_id=self.phone.group_id, date=day.isoformat())
        self.expected.sessions.add(self.session)

    def next_gathering(self) -> None:
        """The group's next gathering (the same id on every phone of the group)."""
        self.gathering, self.counted, self.note_hlc = self.gathering + 1, 0, None
        # a version-4 id (version 5 is kept for ids derived from other records: sync/ids.py)
        digest = hashlib.sha256(f"{self.shared}:{self.gathering}".encode()).digest()
        self.session = str(uuid.UUID(bytes=digest[:16], version=4))
        self.start()

    def step(self) -> None:
        """One user action (one mutation, sometimes two)."""
        roll = self.rng.random()
        if roll < 0.15 or not self.people:
            person = str(uuid.uuid4())
            name = f"参加者 {person[:8]}"
            self.phone.mutate("person.upsert", id=person, group_id=self.phone.group_id, display_name=name)
            self.people.append(person)
            self.expected.persons[person] = name
            roll = 0.3  # and mark them, as the organiser does at the door
        if roll < 0.55:
            person, status = self.rng.choice(self.people), self.rng.choice(STATUSES)
            self.phone.mutate("attendance.set", session_id=self.session, person_id=person, status=status)
            self.expected.attendance[f"{self.session}:{person}"] = status
        elif roll < 0.85:
            if self.counted >= self.COUNTED_PER_GATHERING:
                self.next_gathering()
            category, delta = self.rng.choice(("child", "adult", "senior")), self.rng.randint(1, 3)
            self.counted += delta
            self.phone.mutate("tally.add", session_id=self.session, category=category, delta=delta)
            tally = f"{self.session}:{category}"
            self.expected.tallies[tally] = self.expected.tallies.get(tally, 0) + delta
        elif roll < 0.93:
            self.phone.mutate(
                "role.set",
                session_id=self.session,
                role="受付",
                member_id=self.phone.account_id,
                assigned=self.rng.random() < 0.5,
            )
        else:
            self.notes_written += 1
            text = f"{self.phone.client_id[:8]} の記録 {self.notes_written}"
            mutation = self.phone.mutate(
                "note.set", session_id=self.session, field=self.field, text=text, base_hlc=self.note_hlc
            )
            self.note_hlc = mutation["hlc"]  # chained: the phone's own earlier text is no conflict
            self.expected.notes[(self.session, self.field)] = text


def check_state(state: dict[tuple[str, str], dict], expected: Expected, who: str) -> int:
    """Every change the phones made is in this pulled state; returns how many values were checked."""
    problems = []
    for tally, total in expected.tallies.items():
        got = (state.get(("tally", tally)) or {}).get("count")
        if got != total:
            problems.append(f"tally {tally}: {got} != {total}")
    for attendance, status in expected.attendance.items():
        got = (state.get(("attendance", attendance)) or {}).get("status")
        if got != status:
            problems.append(f"attendance {attendance}: {got} != {status}")
    for (session, name), text in expected.notes.items():
        got = (state.get(("note", session)) or {}).get(name)
        if got != text:
            problems.append(f"note {session} {name}: {got!r} != {text!r}")
    for person, name in expected.persons.items():
        got = (state.get(("person", person)) or {}).get("display_name")
        if got != name:
            problems.append(f"person {person}: {got!r} != {name!r}")
    missing_sessions = [s for s in expected.sessions if ("session", s) not in state]
    problems += [f"session {s} missing" for s in missing_sessions]
    assert not problems, f"{who}: {len(problems)} differences, e.g. {problems[:5]}"
    return len(expected.tallies) + len(expected.attendance) + len(expected.notes) + len(expected.persons)


# --- plain SQL on the run's database (this process is bound to no database) ----------------------


async def fetch(db: Database, sql: str) -> list[tuple]:
    if db.engine == "sqlite":
        connection = sqlite3.connect(db.sqlite_path, timeout=30)
        try:
            return connection.execute(sql).fetchall()
        finally:
            connection.close()
    import asyncpg

    connection = await asyncpg.connect(db.env["DATABASE_URL"])
    try:
        return [tuple(row) for row in await connection.fetch(sql)]
    finally:
        await connection.close()


# Synced tables and the entity name their change-log rows carry.
SYNCED_TABLES = {
    "gathering": "session",
    "person": "person",
    "attendance": "attendance",
    "tally": "tally",
    "role_assignment": "role_assignment",
    "note": "note",
    "safety_check": "safety_check",
}


async def integrity_problems(db: Database, phones: list[Phone]) -> list[str]:
    """Storage integrity and the bookkeeping of exactly-once, on either engine."""
    problems = []
    if db.engine == "sqlite":
        check = await fetch(db, "PRAGMA integrity_check")
        if check != [("ok",)]:
            problems.append(f"PRAGMA integrity_check: {check[:5]}")
        if foreign := await fetch(db, "PRAGMA foreign_key_check"):
            problems.append(f"PRAGMA foreign_key_check: {foreign[:5]}")
    else:
        try:
            await fetch(db, "CREATE EXTENSION IF NOT EXISTS amcheck")
            indexes = await fetch(
                db,
                "SELECT c.oid::regclass::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE a.amname = 'btree' AND n.nspname = 'public'",
            )
            for (index,) in indexes:  # raises on a corrupt B-tree
                await fetch(db, f"SELECT bt_index_parent_check('{index}'::regclass, true)")
        except Exception as error:  # noqa: BLE001 - amcheck missing is not corruption
            if "amcheck" not in str(error) or "corrupt" in str(error):
                problems.append(f"amcheck: {error}")
    duplicates = await fetch(
        db, "SELECT client, seq, count(*) FROM mutation_log GROUP BY client, seq HAVING count(*) > 1"
    )
    if duplicates:
        problems.append(f"mutations logged twice: {duplicates[:5]}")
    for table, entity in SYNCED_TABLES.items():
        orphans = await fetch(
            db,
            f"SELECT count(*) FROM change_log c WHERE c.entity = '{entity}' AND NOT EXISTS "
            f"(SELECT 1 FROM {table} t WHERE CAST(t.id AS TEXT) = c.entity_id)",
        )
        unlogged = await fetch(
            db,
            f"SELECT count(*) FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM change_log c "
            f"WHERE c.key = '{entity}:' || CAST(t.id AS TEXT))",
        )
        if orphans[0][0] or unlogged[0][0]:
            problems.append(
                f"{table}: {orphans[0][0]} change-log rows without a row, {unlogged[0][0]} rows never published"
            )
    clients = {
        str(row[0]): (row[1], row[2], row[3])
        for row in await fetch(
            db,
            (
                "SELECT s.id, s.last_seq, count(m.id), sum(CASE WHEN m.status = 'applied' THEN 1 ELSE 0 END) "
                "FROM sync_client s LEFT JOIN mutation_log m ON m.client = s.id GROUP BY s.id, s.last_seq"
            ),
        )
    }
    for phone in phones:
        last_seq, logged, applied = clients.get(phone.client_id, (0, 0, 0))
        if not last_seq == logged == applied == phone.made:
            problems.append(
                f"client {phone.client_id}: made {phone.made}, last_seq {last_seq}, logged {logged}, applied {applied}"
            )
    return problems


async def verify(db: Database, phones: list[Phone], expected: dict[str, Expected]) -> dict[str, int]:
    """After the phones have synced everything: the server's state, every phone's own pull and
    a pull from cursor 0 all hold every change; returns what was checked."""
    checked = 0
    for phone in phones:
        check_state(phone.state, expected[phone.group_id], f"phone {phone.client_id} (incremental pull)")
        from_zero = await phone.pull(cursor=0, client_id=str(uuid.uuid4()))
        checked += check_state(from_zero, expected[phone.group_id], f"phone {phone.client_id} (pull from 0)")
    tallies = dict(await fetch(db, "SELECT id, delta_sum FROM tally"))
    wanted = {k: v for e in expected.values() for k, v in e.tallies.items()}
    assert {k: tallies.get(k) for k in wanted} == wanted, "tally sums in the database differ from the deltas sent"
    problems = await integrity_problems(db, phones)
    assert not problems, problems
    return {"mutations": sum(p.made for p in phones), "values_checked": checked}


# --- the crash run --------------------------------------------------------------------------------


async def crash_run(
    engine: str,
    clients: int = 3,
    kills: int = 20,
    uptime: tuple[float, float] = (0.3, 1.5),
    seed_value: int | None = None,
    log=print,
) -> dict[str, Any]:
    """Phones sync continuously while the server is SIGKILLed ``kills`` times; verify afterwards."""
    rng = random.Random(seed_value)
    db = await asyncio.to_thread(fresh_database, engine)  # tests.pg runs its own event loop
    server = ServerProcess(db.env, log_level="critical", quiet=True)
    https: list[httpx.AsyncClient] = []
    try:
        (group,) = seed(db, groups=1, accounts_per_group=clients)
        server.start()
        session = str(uuid.uuid4())
        expected = Expected()
        phones, activities = [], []
        for number, account in enumerate(group["accounts"]):
            https.append(await login(server.url, account["login"]))
            phone = Phone(https[-1], group["group_id"], account["account_id"])
            activity = Activity(phone, expected, session, number, random.Random(rng.random()))
            activity.start()
            phones.append(phone)
            activities.append(activity)
        stop = asyncio.Event()

        async def keep_syncing(activity: Activity) -> None:
            while not stop.is_set():
                for _ in range(activity.rng.randint(1, 6)):
                    activity.step()
                if not await activity.phone.sync():
                    await asyncio.sleep(activity.rng.uniform(0.02, 0.1))  # back off (briefly: a test)

        workers = [asyncio.create_task(keep_syncing(a)) for a in activities]
        restart_seconds = []
        try:
            for _ in range(kills):
                await asyncio.sleep(rng.uniform(*uptime))
                for task in workers:
                    if task.done():
                        task.result()  # a phone failed: stop at its error
                server.kill()
                restart_seconds.append(await asyncio.to_thread(server.start))
        finally:
            stop.set()
            results = await asyncio.gather(*workers, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        for phone in phones:
            await phone.sync_until_done()
        for phone in phones:
            await phone.pull()  # everyone sees everyone's last changes
        figures = await verify(db, phones, {group["group_id"]: expected})
        server.stop()
        if engine == "sqlite":  # once more with the server gone and the WAL checkpointed
            problems = await integrity_problems(db, phones)
            assert not problems, problems
        figures.update(
            engine=engine,
            clients=clients,
            kills=kills,
            requests_failed=sum(p.failures for p in phones),
            requests_cut_off=sum(p.cut_off for p in phones),
            restart_s_median=sorted(restart_seconds)[len(restart_seconds) // 2] if restart_seconds else 0.0,
        )
        return figures
    finally:
        for http in https:
            await http.aclose()
        server.kill()
        await asyncio.to_thread(db.drop)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--min-uptime", type=float, default=0.3)
    parser.add_argument("--max-uptime", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=None, help="random seed, to repeat a run")
    args = parser.parse_args()
    from tests.pg import PostgresUnavailable

    for engine in args.engines.split(","):
        began = time.monotonic()
        try:
            figures = asyncio.run(
                crash_run(engine, args.clients, args.kills, (args.min_uptime, args.max_uptime), args.seed)
            )
        except PostgresUnavailable as error:
            print(f"{engine}: skipped ({error})")
            continue
        print(
            f"{engine:8} {figures['kills']} SIGKILLs survived, {figures['clients']} phones, "
            f"{figures['mutations']} mutations applied exactly once, {figures['values_checked']} values checked "
            f"in pulls from 0, {figures['requests_cut_off']} requests cut off mid-way and "
            f"{figures['requests_failed']} failed in all (retried), "
            f"restart {figures['restart_s_median']:.2f} s (median), {time.monotonic() - began:.0f} s in all",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "_seed":
        print(json.dumps(asyncio.run(_seed_child(int(sys.argv[2]), int(sys.argv[3])))))
        raise SystemExit(0)
    raise SystemExit(main())
