"""Sync benchmarks on SQLite and PostgreSQL, side by side. Prints figures; asserts nothing.

    .venv/bin/python -m tests.bench.bench_sync            # both engines, full run
    .venv/bin/python -m tests.bench.bench_sync --quick    # fewer repetitions
    .venv/bin/python -m tests.bench.bench_sync --engines sqlite --profile push

Every figure goes through the real HTTP path a phone uses: the Litestar app from
``server.app.create_app`` (middleware, session cookie, CSRF, routing, msgspec decoding,
``sync.engine`` on ``PiccoloStore``), called in-process through ``httpx.ASGITransport``.
"Server time" is measured around the ASGI app call (from the first byte of the request to
the last byte of the response), so it leaves out only the client's own JSON work.
The 500-mutation push is also timed with ``sync.engine.push`` called directly, to show
what the HTTP layer adds.

The engine and the settings bind to one database per process, so the parent process runs
one child per engine (``--engine sqlite`` / ``--engine postgres``) with its own
environment, collects each child's JSON and prints one table with the ratio
PostgreSQL/SQLite. The PostgreSQL database is created fresh on
``IBASHO_TEST_POSTGRES`` (default postgresql://postgres@127.0.0.1:5432/postgres) and
dropped afterwards; when that server is unreachable, its column says so.
See tests/bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import logging
import os
import pstats
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sync.ids import uuid7

REPO = Path(__file__).resolve().parents[2]

GOAL_PUSH_P95_MS = 250.0
GOAL_PULL_S = 1.0

SURNAMES = [
    "佐藤",
    "鈴木",
    "高橋",
    "田中",
    "伊藤",
    "渡辺",
    "山本",
    "中村",
    "小林",
    "加藤",
    "吉田",
    "山田",
    "佐々木",
    "山口",
    "松本",
    "井上",
    "木村",
    "林",
    "斎藤",
    "清水",
]
SURNAME_KANA = [
    "さとう",
    "すずき",
    "たかはし",
    "たなか",
    "いとう",
    "わたなべ",
    "やまもと",
    "なかむら",
    "こばやし",
    "かとう",
    "よしだ",
    "やまだ",
    "ささき",
    "やまぐち",
    "まつもと",
    "いのうえ",
    "きむら",
    "はやし",
    "さいとう",
    "しみず",
]
GIVEN = [
    ("陽翔", "はると"),
    ("結菜", "ゆいな"),
    ("蓮", "れん"),
    ("葵", "あおい"),
    ("湊", "みなと"),
    ("陽葵", "ひまり"),
    ("一郎", "いちろう"),
    ("花子", "はなこ"),
    ("和子", "かずこ"),
    ("茂", "しげる"),
    ("幸子", "さちこ"),
    ("健太", "けんた"),
]
CATEGORIES = ["child", "adult", "senior", "parent_child", "first_time", "volunteer"]
PERSON_CATEGORIES = ["child", "adult", "senior", "parent_child"]
ROLES = ["受付", "調理", "配膳", "片付け", "見守り"]
NOTE_TEXTS = {
    "went_well": ["みんなで歌った", "カレーが好評だった", "初めての親子が三組来てくれた", "宿題を一緒にやれた"],
    "to_improve": ["受付が混んだ", "配膳が遅れた", "机が足りなかった", "雨で送迎が大変だった"],
    "handover": ["次回は椅子を増やす", "アレルギー表を更新する", "鍵は事務局に返却済み", "お米を5kg買い足す"],
    "concerns": ["Aさんの元気がない", "最近来ていない子がいる"],
}
TITLES = ["こども食堂", "きらくら食堂", "ふれあいサロン", "学習支援教室", "多世代交流カフェ"]
VENUES = ["公民館 調理室", "地区センター 和室", "〇〇寺 本堂", "集会所"]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


# --- what phones send ------------------------------------------------------------------


def person_args(rng: random.Random, group_id: str) -> dict:
    s = rng.randrange(len(SURNAMES))
    given, given_kana = rng.choice(GIVEN)
    return {
        "id": str(uuid.uuid4()),
        "group_id": group_id,
        "display_name": f"{SURNAMES[s]} {given}",
        "kana": f"{SURNAME_KANA[s]} {given_kana}",
        "category": rng.choice(PERSON_CATEGORIES),
        "registered": rng.random() < 0.8,
    }


def session_args(rng: random.Random, group_id: str, day: int) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "group_id": group_id,
        "kind": "session",
        "title": rng.choice(TITLES),
        "date": f"2026-{1 + day // 28 % 12:02d}-{1 + day % 28:02d}",
        "start_time": "10:00",
        "end_time": "13:00",
        "venue": rng.choice(VENUES),
        "status": "held",
    }


def offline_fortnight(rng: random.Random, group_id: str, member_ids: list[str]) -> list[tuple[str, dict]]:
    """500 mutations, all on fresh entities: a phone that was offline for ten gatherings.

    40 × person.upsert, then ten times: session.upsert, attendance.set for 35 people,
    tally.add for the 6 categories, role.set × 2, note.set × 2 (= 40 + 10 × 46).
    """
    people = [person_args(rng, group_id) for _ in range(40)]
    out: list[tuple[str, dict]] = [("person.upsert", p) for p in people]
    for _ in range(10):
        session = session_args(rng, group_id, rng.randrange(365))
        sid = session["id"]
        out.append(("session.upsert", session))
        for person in rng.sample(people, 35):
            status = rng.choices(["present", "absent_notified", "absent_unnotified"], [8, 1, 1])[0]
            out.append(("attendance.set", {"session_id": sid, "person_id": person["id"], "status": status}))
        for category in CATEGORIES:
            out.append(("tally.add", {"session_id": sid, "category": category, "delta": rng.randint(1, 12)}))
        for role in rng.sample(ROLES, 2):
            out.append(
                ("role.set", {"session_id": sid, "role": role, "member_id": rng.choice(member_ids), "assigned": True})
            )
        for note_field in ("went_well", "handover"):
            out.append(
                ("note.set", {"session_id": sid, "field": note_field, "text": rng.choice(NOTE_TEXTS[note_field])})
            )
    return out


def entity_of(name: str, args: dict) -> tuple[str, str]:
    """The entity a mutation writes (for counting distinct entities while seeding)."""
    if name in ("person.upsert", "session.upsert"):
        return name.split(".")[0], args["id"]
    if name == "attendance.set":
        return "attendance", f"{args['session_id']}:{args['person_id']}"
    if name == "tally.add":
        return "tally", f"{args['session_id']}:{args['category']}"
    if name == "role.set":
        return "role_assignment", f"{args['session_id']}:{args['role']}:{args['member_id']}"
    if name == "note.set":
        return "note", args["session_id"]
    raise ValueError(name)


# --- the in-process server and its phones -------------------------------------------------


class TimedApp:
    """Wraps the ASGI app and records how long each request spent inside it."""

    def __init__(self, app) -> None:
        self.app = app
        self.durations: list[float] = []

    async def __call__(self, scope, receive, send) -> None:
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            if scope["type"] == "http":
                self.durations.append(time.perf_counter() - start)


@dataclass
class Phone:
    http: Any  # httpx.AsyncClient
    timed: TimedApp
    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    next_seq: int = 1
    clock: Any = None

    def __post_init__(self) -> None:
        from sync.hlc import Clock

        self.clock = self.clock or Clock(self.client_id)

    def envelope(self, mutations: list[tuple[str, dict]]) -> dict:
        batch = []
        for name, args in mutations:
            batch.append({"id": uuid7(), "seq": self.next_seq, "name": name, "args": args, "hlc": self.clock.tick()})
            self.next_seq += 1
        return {"client_id": self.client_id, "mutations": batch}

    async def login(self, login: str, password: str) -> None:
        await self.http.get("/healthz")  # sets the csrftoken cookie
        response = await self.post("/api/auth/login", {"login": login, "password": password})
        if response.status_code != 200:
            raise RuntimeError(f"login failed: {response.status_code} {response.text}")

    async def post(self, url: str, body: dict):
        return await self.http.post(url, json=body, headers={"x-csrftoken": self.http.cookies["csrftoken"]})

    async def push(self, body: dict) -> tuple[Any, float]:
        """POST /api/sync/push; returns the response and the server time in seconds."""
        response = await self.post("/api/sync/push", body)
        return response, self.timed.durations[-1]


async def open_phone(timed: TimedApp, login: str, password: str) -> Phone:
    import httpx

    transport = httpx.ASGITransport(app=timed, client=("127.0.0.1", 50000))
    http = httpx.AsyncClient(transport=transport, base_url="http://bench.local")
    phone = Phone(http, timed)
    await phone.login(login, password)
    return phone


PASSWORD = "correct horse battery staple"


async def make_organisers(area_id, group_id, count: int, prefix: str) -> list[tuple[str, uuid.UUID]]:
    from server.auth.accounts import create_user
    from server.tables import Group

    name = (await Group.select(Group.name).where(Group.id == group_id).first())["name"]
    out = []
    for n in range(count):
        login = f"{prefix}-{n}-{secrets.token_hex(3)}"
        account_id = await create_user(
            login=login, password=PASSWORD, role="organiser", display_name=f"世話人{n + 1}", groups=[name]
        )
        out.append((login, account_id))
    return out


async def make_group(area_id, name: str):
    from server.core.clock import now
    from server.tables import Group

    group_id = uuid.uuid4()
    await Group.insert(Group(id=group_id, area=area_id, name=f"{name}-{secrets.token_hex(3)}", created_at=now()))
    return group_id


def check_results(response, what: str) -> dict[str, int]:
    if response.status_code != 200:
        raise RuntimeError(f"{what}: HTTP {response.status_code} {response.text[:500]}")
    counts: dict[str, int] = {}
    for result in response.json()["results"]:
        counts[result["status"]] = counts.get(result["status"], 0) + 1
        if result["status"] == "rejected":
            raise RuntimeError(f"{what}: a mutation was rejected: {result}")
    return counts


SERVER_ERRORS: dict[str, int] = {}  # exception class -> count, from the server's error log


class CountErrors(logging.Handler):
    """Counts the server's unhandled errors by exception class instead of printing tracebacks."""

    def emit(self, record: logging.LogRecord) -> None:
        name = record.exc_info[0].__name__ if record.exc_info else record.getMessage()[:60]
        SERVER_ERRORS[name] = SERVER_ERRORS.get(name, 0) + 1


def log(message: str) -> None:
    print(f"  [{os.environ.get('IBASHO_BENCH_ENGINE', '?')}] {message}", file=sys.stderr, flush=True)


@contextmanager
def maybe_profile(enabled: bool, title: str, out: dict):
    if not enabled:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        if os.environ.get("BENCH_PROFILE_OUT"):  # for pstats or snakeviz
            profiler.dump_stats(os.environ["BENCH_PROFILE_OUT"])
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text).sort_stats("cumulative")
        stats.print_stats(45)
        text.write("\n--- by own time ---\n")
        stats.sort_stats("tottime").print_stats(25)
        out[title] = text.getvalue()


# --- the benchmarks ------------------------------------------------------------------------


async def bench_push(timed: TimedApp, group_id, organisers, reps: int, warmup: int, profile: bool, profiles: dict):
    """(a) 500 mutations on fresh entities from a fresh client, through HTTP and through the engine alone."""
    import msgspec

    from server.sync.store import PiccoloStore
    from sync import engine
    from sync.mutations import Scope
    from sync.wire import PushRequest

    rng = random.Random(1)
    members = [str(account_id) for _, account_id in organisers]
    login, account_id = organisers[0]
    scope = Scope(account_id, frozenset([group_id]))
    http_server, http_client, direct = [], [], []
    # HTTP and engine-only pushes alternate, so both meet the same database size and load.
    with maybe_profile(profile, "push (HTTP)", profiles):
        for rep in range(warmup + reps):
            phone = await open_phone(timed, login, PASSWORD)
            body = phone.envelope(offline_fortnight(rng, str(group_id), members))
            start = time.perf_counter()
            response, server = await phone.push(body)
            client = time.perf_counter() - start
            counts = check_results(response, "push")
            assert counts.get("applied") == 500, counts
            await phone.http.aclose()

            alone = Phone(http=None, timed=timed)
            request = msgspec.convert(alone.envelope(offline_fortnight(rng, str(group_id), members)), PushRequest)
            start = time.perf_counter()
            result = await engine.push(PiccoloStore(), scope, request)
            elapsed = time.perf_counter() - start
            assert all(r.status == "applied" for r in result.results)
            if rep >= warmup:
                http_server.append(server)
                http_client.append(client)
                direct.append(elapsed)
    log(
        f"push over HTTP: p50 {statistics.median(http_server) * 1000:.0f} ms; "
        f"via engine.push: p50 {statistics.median(direct) * 1000:.0f} ms"
    )
    return {
        "push_http_p50_ms": statistics.median(http_server) * 1000,
        "push_http_p95_ms": percentile(http_server, 95) * 1000,
        "push_http_client_p95_ms": percentile(http_client, 95) * 1000,
        "push_engine_p50_ms": statistics.median(direct) * 1000,
        "push_engine_p95_ms": percentile(direct, 95) * 1000,
        "push_reps": reps,
    }


async def bench_pull(timed: TimedApp, area_id, target: int, reps: int, profile: bool, profiles: dict):
    """(b) Seed ``target`` entities in a group of its own, then pull them all from cursor 0."""
    group_id = await make_group(area_id, "大きな居場所")
    organisers = await make_organisers(area_id, group_id, 2, "pull")
    members = [str(a) for _, a in organisers]
    phone = await open_phone(timed, organisers[0][0], PASSWORD)

    async def pull_all(limit: int) -> tuple[int, int, float, float, int]:
        cursor, changes, pages, server, size = 0, 0, 0, 0.0, 0
        start = time.perf_counter()
        while True:
            response = await phone.http.get(
                "/api/sync/pull", params={"client_id": phone.client_id, "cursor": cursor, "limit": limit}
            )
            server += timed.durations[-1]
            if response.status_code != 200:
                raise RuntimeError(f"pull: HTTP {response.status_code} {response.text[:300]}")
            page = response.json()
            size += len(response.content)
            changes += len(page["changes"])
            pages += 1
            cursor = page["cursor"]
            if not page["more"]:
                return changes, pages, server, time.perf_counter() - start, size

    existing = (await pull_all(1000))[0]  # the members of the new group are already there
    rng = random.Random(2)
    stream, seen = [], set()
    while len(seen) < target - existing:
        for name, args in offline_fortnight(rng, str(group_id), members):
            key = entity_of(name, args)
            if key not in seen and len(seen) >= target - existing:
                break
            seen.add(key)
            stream.append((name, args))
        else:
            continue
        break
    seed_start = time.perf_counter()
    for start in range(0, len(stream), 500):
        check_results((await phone.push(phone.envelope(stream[start : start + 500])))[0], "seed")
    seed_seconds = time.perf_counter() - seed_start
    log(f"seeded {len(seen)} entities with {len(stream)} mutations in {seed_seconds:.1f} s")

    figures: dict[str, Any] = {"seed_mutations_per_s": len(stream) / seed_seconds}
    for limit in (1000, 5000):
        runs = []
        with maybe_profile(profile and limit == 1000, f"pull limit {limit} (HTTP)", profiles):
            for _ in range(reps):
                runs.append(await pull_all(limit))
        changes, pages = runs[0][0], runs[0][1]
        figures[f"pull_{limit}_changes"] = changes
        figures[f"pull_{limit}_pages"] = pages
        figures[f"pull_{limit}_server_s"] = statistics.median(r[2] for r in runs)
        figures[f"pull_{limit}_client_s"] = statistics.median(r[3] for r in runs)
        figures[f"pull_{limit}_kib"] = runs[0][4] / 1024
        log(f"pull limit {limit}: {changes} changes in {pages} pages, {figures[f'pull_{limit}_server_s']:.2f} s")
    figures["pull_reps"] = reps
    await phone.http.aclose()
    return figures


async def bench_concurrent(
    timed: TimedApp, area_id, clients: int, rounds: int, batch: int, groups: int, profile: bool, profiles: dict
):
    """(c) ``clients`` phones in ``groups`` groups push batches at once; tallies are shared
    within a group, so the counts also show whether concurrent increments survive."""
    from server.tables import Tally

    rng = random.Random(3)
    phones: list[Phone] = []
    plan = []  # per phone: (group_id, people ids, session ids, member ids)
    groups = max(1, min(groups, clients))
    group_ids = []
    for g in range(groups):
        group_id = await make_group(area_id, f"同時{g}")
        group_ids.append(group_id)
        per_group = clients // groups + (1 if g < clients % groups else 0)
        organisers = await make_organisers(area_id, group_id, per_group, f"conc{g}")
        members = [str(a) for _, a in organisers]
        setup = await open_phone(timed, organisers[0][0], PASSWORD)
        people = [person_args(rng, str(group_id)) for _ in range(40)]
        sessions = [session_args(rng, str(group_id), day) for day in (10, 11)]
        body = setup.envelope([("person.upsert", p) for p in people] + [("session.upsert", s) for s in sessions])
        check_results((await setup.push(body))[0], "setup")
        await setup.http.aclose()
        for login, _ in organisers:
            phones.append(await open_phone(timed, login, PASSWORD))
            plan.append((str(group_id), [p["id"] for p in people], [s["id"] for s in sessions], members))

    expected: dict[str, int] = {}
    latencies: list[float] = []
    failures: list[str] = []
    applied = 0

    def batch_for(index: int) -> tuple[list[tuple[str, dict]], list[tuple[str, int]]]:
        group_id, people, sessions, members = plan[index]
        out, tallies = [], []
        for _ in range(batch):
            kind = rng.choices(["attendance", "tally", "person", "note", "role"], [30, 10, 5, 3, 2])[0]
            sid = rng.choice(sessions)
            if kind == "attendance":
                out.append(
                    (
                        "attendance.set",
                        {
                            "session_id": sid,
                            "person_id": rng.choice(people),
                            "status": rng.choice(["present", "absent_notified"]),
                        },
                    )
                )
            elif kind == "tally":
                delta = rng.choice([1, 1, 1, 2, -1])
                category = rng.choice(CATEGORIES)
                out.append(("tally.add", {"session_id": sid, "category": category, "delta": delta}))
                tallies.append((f"{sid}:{category}", delta))
            elif kind == "person":
                out.append(("person.upsert", person_args(rng, group_id)))
            elif kind == "note":
                note_field = rng.choice(["went_well", "to_improve", "handover"])
                out.append(
                    ("note.set", {"session_id": sid, "field": note_field, "text": rng.choice(NOTE_TEXTS[note_field])})
                )
            else:
                out.append(
                    (
                        "role.set",
                        {
                            "session_id": sid,
                            "role": rng.choice(ROLES),
                            "member_id": rng.choice(members),
                            "assigned": rng.random() < 0.7,
                        },
                    )
                )
        return out, tallies

    gave_up = 0

    async def run_phone(index: int) -> None:
        nonlocal applied, gave_up
        phone = phones[index]
        for _ in range(rounds):
            mutations, tallies = batch_for(index)
            body = phone.envelope(mutations)
            for attempt in range(20):  # a phone retries the same batch after an error
                start = time.perf_counter()
                response = await phone.post("/api/sync/push", body)
                latencies.append(time.perf_counter() - start)
                if response.status_code == 200:
                    break
                failures.append(f"HTTP {response.status_code}: {response.text[:200]}")
                await asyncio.sleep(0.05 * (attempt + 1))
            else:
                gave_up += 1
                return  # this phone stops; the others go on
            counts = check_results(response, "concurrent push")
            applied += counts.get("applied", 0)
            for key, delta in tallies:
                expected[key] = expected.get(key, 0) + delta

    start, cpu_start = time.perf_counter(), time.process_time()
    with maybe_profile(profile, "concurrent", profiles):
        await asyncio.gather(*(run_phone(i) for i in range(len(phones))))
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    for phone in phones:
        await phone.http.aclose()

    actual = {
        row["id"]: row["delta_sum"]
        for row in await Tally.select(Tally.id, Tally.delta_sum).where(Tally.id.is_in(list(expected)))
    }
    lost = sum(abs(expected[k] - actual.get(k, 0)) for k in expected)
    reference_s, reference_rows = await plain_write_reference(group_ids, [uuid.UUID(p.client_id) for p in phones])
    wrong = sum(1 for k in expected if expected[k] != actual.get(k, 0))
    log(
        f"{clients} clients: {applied} mutations in {wall:.1f} s; {len(failures)} failed pushes "
        f"({dict(SERVER_ERRORS)}), {gave_up} phones gave up; "
        f"{wrong}/{len(expected)} tallies off by {lost} in total"
    )
    return {
        "conc_mutations_per_s": applied / wall,
        "conc_cpu_us_per_mutation": cpu / max(applied, 1) * 1e6,
        "reference_mutations_per_s": applied / reference_s,
        "reference_fraction": (applied / wall) / (applied / reference_s),
        "reference_rows": reference_rows,
        "conc_push_p50_ms": statistics.median(latencies) * 1000,
        "conc_push_p95_ms": percentile(latencies, 95) * 1000,
        "conc_failed_pushes": len(failures),
        "conc_gave_up": gave_up,
        "conc_server_errors": dict(SERVER_ERRORS),
        "conc_tallies_wrong": wrong,
        "conc_tallies": len(expected),
        "conc_tally_delta_lost": lost,
        "conc_clients": clients,
        "conc_rounds": rounds,
        "conc_batch": batch,
        "conc_wall_s": wall,
    }


# Where the rows of the concurrent run are: (table, filter by its groups $1 and clients $2).
_UNDER_SESSIONS = 'session IN (SELECT id FROM gathering WHERE "group" = ANY($1::uuid[]))'
REFERENCE_ROWS = [
    ("person", '"group" = ANY($1::uuid[])'),
    ("attendance", _UNDER_SESSIONS),
    ("tally", _UNDER_SESSIONS),
    ("note", _UNDER_SESSIONS),
    ("role_assignment", _UNDER_SESSIONS),
    ("safety_check", _UNDER_SESSIONS),
    ("change_log", '"group" = ANY($1::uuid[])'),
    ("mutation_log", "client = ANY($2::uuid[])"),
    ("sync_client", "id = ANY($2::uuid[])"),
]


async def plain_write_reference(group_ids: list, client_ids: list) -> tuple[float, int]:
    """The rows the concurrent run left (entities, mutation log, change log, clients),
    written again straight into copies of their tables in the same database, with the
    fastest plain method: COPY in one transaction on PostgreSQL, ``executemany`` in one
    transaction on SQLite. Returns the seconds it took and the number of rows. It writes
    each row once, where ibasho rewrote a tally at every increment: a ceiling, not a peer."""
    from server import db
    from server.config import get_settings

    settings = get_settings()
    if settings.is_sqlite:
        return await asyncio.to_thread(_sqlite_reference, str(settings.sqlite_path), group_ids, client_ids)
    import asyncpg

    connection = await asyncpg.connect(**db.postgres_config(settings.database_url))
    try:
        await connection.execute("DROP SCHEMA IF EXISTS bench_reference CASCADE; CREATE SCHEMA bench_reference")
        copied = []
        for table, where in REFERENCE_ROWS:
            await connection.execute(f"CREATE TABLE bench_reference.{table} (LIKE public.{table} INCLUDING ALL)")
            query = f"SELECT * FROM public.{table} WHERE {where} AND $1::uuid[] IS NOT NULL AND $2::uuid[] IS NOT NULL"
            copied.append((table, await connection.fetch(query, group_ids, client_ids)))
        start = time.perf_counter()
        async with connection.transaction():
            for table, rows in copied:
                if rows:
                    await connection.copy_records_to_table(
                        table, schema_name="bench_reference", records=rows, columns=list(rows[0].keys())
                    )
        elapsed = time.perf_counter() - start
        await connection.execute("DROP SCHEMA bench_reference CASCADE")
    finally:
        await connection.close()
    return elapsed, sum(len(rows) for _, rows in copied)


def _sqlite_reference(path: str, group_ids: list, client_ids: list) -> tuple[float, int]:
    import sqlite3

    connection = sqlite3.connect(path, isolation_level=None)
    try:
        groups = ",".join(f"'{g}'" for g in group_ids)
        clients = ",".join(f"'{c}'" for c in client_ids)
        copied = []
        for table, where in REFERENCE_ROWS:
            schema = connection.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
            connection.execute(f"DROP TABLE IF EXISTS reference_{table}")
            connection.execute(schema.replace(f'"{table}"', f'"reference_{table}"', 1))
            clause = where.replace("= ANY($1::uuid[])", f"IN ({groups})")
            clause = clause.replace("= ANY($2::uuid[])", f"IN ({clients})")
            cursor = connection.execute(f"SELECT * FROM {table} WHERE {clause}")
            copied.append((table, [tuple(row) for row in cursor], len(cursor.description)))
        start = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        for table, rows, width in copied:
            marks = ",".join("?" * width)
            connection.executemany(f"INSERT INTO reference_{table} VALUES ({marks})", rows)
        connection.execute("COMMIT")
        elapsed = time.perf_counter() - start
        for table, _, _ in copied:
            connection.execute(f"DROP TABLE reference_{table}")
    finally:
        connection.close()
    return elapsed, sum(len(rows) for _, rows, _ in copied)


async def child_main(args) -> dict:
    import contextlib

    from piccolo.engine.postgres import PostgresEngine

    from server import db
    from server.app import create_app, database_lifespan
    from server.core.clock import now
    from server.tables import Area

    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    server_log = logging.getLogger("ibasho")
    server_log.addHandler(CountErrors())
    server_log.propagate = False
    with contextlib.redirect_stdout(io.StringIO()):  # Piccolo's migration chatter
        await db.migrate_forwards()
    app = create_app()
    timed = TimedApp(app)
    figures: dict[str, Any] = {"engine": args.engine}
    profiles: dict[str, str] = {}
    engine = db.engine()
    figures["engine_detail"] = (
        f"PostgreSQL {(await engine.get_version()) if isinstance(engine, PostgresEngine) else ''}".strip()
        if isinstance(engine, PostgresEngine)
        else f"SQLite {__import__('sqlite3').sqlite_version} (WAL)"
    )
    async with database_lifespan(app):  # as in production: the PostgreSQL pool, SQLite pragmas
        area_id = uuid.uuid4()
        await Area.insert(Area(id=area_id, name=f"北区-{secrets.token_hex(3)}", created_at=now()))
        group_id = await make_group(area_id, "こども食堂ひまわり")
        organisers = await make_organisers(area_id, group_id, 3, "push")
        if "push" in args.only:
            figures |= await bench_push(
                timed, group_id, organisers, args.reps, args.warmup, args.profile == "push", profiles
            )
        if "pull" in args.only:
            figures |= await bench_pull(
                timed, area_id, args.pull_changes, args.pull_reps, args.profile == "pull", profiles
            )
        if "concurrent" in args.only:
            figures |= await bench_concurrent(
                timed,
                area_id,
                args.clients,
                args.rounds,
                args.batch,
                args.groups,
                args.profile == "concurrent",
                profiles,
            )
    figures["profiles"] = profiles
    return figures


# --- the parent: one child per engine, one table -----------------------------------------


ROWS = [
    # key, label, unit, goal (max), better
    ("push_http_p50_ms", "push 500 mutations, p50 (HTTP, server)", "ms", None),
    ("push_http_p95_ms", "push 500 mutations, p95 (HTTP, server)", "ms", GOAL_PUSH_P95_MS),
    ("push_engine_p50_ms", "push 500 mutations, p50 (engine.push only)", "ms", None),
    ("push_engine_p95_ms", "push 500 mutations, p95 (engine.push only)", "ms", None),
    ("pull_1000_server_s", "pull 10,000 changes, limit 1000 (HTTP, server)", "s", GOAL_PULL_S),
    ("pull_1000_pages", "  pages", "", None),
    ("pull_5000_server_s", "pull 10,000 changes, limit 5000 (HTTP, server)", "s", GOAL_PULL_S),
    ("pull_5000_pages", "  pages", "", None),
    ("pull_1000_kib", "  JSON transferred", "KiB", None),
    ("seed_mutations_per_s", "seeding: sequential 500-pushes", "mut/s", None),
    ("conc_mutations_per_s", "20 clients concurrently: mutations applied", "mut/s", None),
    ("conc_cpu_us_per_mutation", "  CPU of this process per mutation (server + phones)", "µs", None),
    ("reference_mutations_per_s", "  the same rows written plainly (COPY / executemany)", "mut/s", None),
    ("reference_fraction", "  ibasho as a fraction of the plain write (goal ≥ 25 %)", "×", None),
    ("conc_push_p50_ms", "  push of 50 under load, p50", "ms", None),
    ("conc_push_p95_ms", "  push of 50 under load, p95", "ms", None),
    ("conc_failed_pushes", "  pushes that failed (retried)", "", None),
    ("conc_tally_delta_lost", "  tally increments lost (should be 0)", "", None),
]


def fmt(value: Any, unit: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "ms":
        return f"{value:.0f} ms"
    if unit == "×":
        return f"{value * 100:.1f} %"
    if unit in ("mut/s", "KiB", "µs"):
        return f"{value:,.0f} {unit}"
    return f"{value:.2f}"


def print_table(results: dict[str, dict | str]) -> None:
    sqlite, postgres = results.get("sqlite"), results.get("postgres")
    width = 48
    print()
    print(f"{'':{width}} {'SQLite':>12} {'PostgreSQL':>12} {'PG/SQLite':>10}   goal")
    sample = next((r for r in results.values() if isinstance(r, dict)), {})
    for key, label, unit, goal in ROWS:
        label = label.replace("10,000", f"{sample.get('pull_1000_changes', 10_000):,}")
        label = label.replace("20 clients", f"{sample.get('conc_clients', 20)} clients")
        cells, values = [], []
        for result in (sqlite, postgres):
            value = result.get(key) if isinstance(result, dict) else None
            values.append(value)
            cells.append(
                fmt(value, unit) if isinstance(result, dict) else "not run" if result is None else result.split()[0]
            )
        if all(isinstance(v, (int, float)) for v in values) and values[0]:
            ratio = f"{values[1] / values[0]:.2f}×"
        else:
            ratio = ""
        goal_text = ""
        if goal is not None:
            shown = f"< {goal:.0f} ms" if unit == "ms" else f"< {goal:.0f} s"
            verdicts = [("met" if v < goal else "MISSED") if isinstance(v, (int, float)) else "-" for v in values]
            goal_text = f"{shown}  (SQLite {verdicts[0]}, PostgreSQL {verdicts[1]})"
        print(f"{label:{width}} {cells[0]:>12} {cells[1]:>12} {ratio:>10}   {goal_text}")
    for name, result in results.items():
        if isinstance(result, str):
            print(f"\n{name}: {result}")
        elif result.get("conc_server_errors") or result.get("conc_gave_up"):
            print(
                f"\n{name}: server errors during the concurrent run: {result['conc_server_errors']}; "
                f"phones that gave up after 20 tries: {result['conc_gave_up']}"
            )
    details = [f"{r['engine_detail']}" for r in results.values() if isinstance(r, dict)]
    any_result = next((r for r in results.values() if isinstance(r, dict)), {})
    print(
        f"\n{', '.join(details)}; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs. "
        f"push: {any_result.get('push_reps', '?')} repetitions (fresh client, 500 fresh entities each); "
        f"pull: median of {any_result.get('pull_reps', '?')}; "
        f"concurrent: {any_result.get('conc_clients', '?')} clients "
        f"× {any_result.get('conc_rounds', '?')} rounds × {any_result.get('conc_batch', '?')} mutations."
    )


def run_child(engine: str, args, passthrough: list[str]) -> dict | str:
    from tests.pg import (
        PostgresUnavailable,
        create_database,
        drop_database,
        postgres_admin_url,
    )

    run_dir = Path(tempfile.mkdtemp(prefix=f"ibasho-bench-{engine}-"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "IBASHO_TEST_ENGINE")}
    env |= {
        "IBASHO_DATA_DIR": str(run_dir / "data"),
        "IBASHO_SECRET": secrets.token_urlsafe(32),
        "PICCOLO_CONF": "server.piccolo_conf",
        "IBASHO_BENCH_ENGINE": engine,
    }
    database = None
    try:
        if engine == "postgres":
            try:
                database, env["DATABASE_URL"] = create_database(postgres_admin_url(), "ibasho_bench")
            except PostgresUnavailable as error:
                print(f"PostgreSQL skipped: {error}", file=sys.stderr)
                return f"skipped ({error})"
        out = run_dir / "figures.json"
        command = [
            sys.executable,
            "-m",
            "tests.bench.bench_sync",
            "--engine",
            engine,
            "--json-out",
            str(out),
            *passthrough,
        ]
        print(f"running {engine} …", file=sys.stderr, flush=True)
        completed = subprocess.run(command, cwd=REPO, env=env, check=False)
        if completed.returncode != 0:
            return f"failed (exit {completed.returncode})"
        return json.loads(out.read_text())
    finally:
        if database:
            drop_database(postgres_admin_url(), database)
        shutil.rmtree(run_dir, ignore_errors=True)


def parse(argv: list[str]):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", default="sqlite,postgres", help="comma-separated: sqlite, postgres")
    parser.add_argument("--only", default="push,pull,concurrent", help="comma-separated: push, pull, concurrent")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, for a smoke run")
    parser.add_argument("--reps", type=int, default=30, help="push repetitions (default 30)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--pull-changes", type=int, default=10_000)
    parser.add_argument("--pull-reps", type=int, default=5, help="whole pulls per limit; the median is shown")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--groups", type=int, default=4, help="groups the concurrent clients are spread over")
    parser.add_argument(
        "--profile", choices=["push", "pull", "concurrent"], help="cProfile one benchmark and print the top"
    )
    parser.add_argument("--json", action="store_true", help="print the collected figures as JSON too")
    parser.add_argument("--engine", help=argparse.SUPPRESS)  # set by the parent for its children
    parser.add_argument("--json-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.reps, args.pull_reps, args.rounds = min(args.reps, 8), min(args.pull_reps, 2), min(args.rounds, 4)
    args.only = set(args.only.split(","))
    return args


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse(argv)
    if args.engine:  # a child: the environment already names its database
        figures = asyncio.run(child_main(args))
        Path(args.json_out).write_text(json.dumps(figures, ensure_ascii=False, default=str))
        return
    passthrough = [a for a in argv if not a.startswith("--engines") and a != "--json"]
    if "--engines" in argv:  # drop the value too
        i = argv.index("--engines")
        passthrough = [a for j, a in enumerate(argv) if j not in (i, i + 1) and a != "--json"]
    results: dict[str, dict | str] = {}
    for engine in args.engines.split(","):
        results[engine] = run_child(engine, args, passthrough)
    for name, result in results.items():
        if isinstance(result, dict):
            for title, text in result.get("profiles", {}).items():
                print(f"\n===== {name}: {title} =====\n{text}")
    print_table(results)
    if args.json:
        print(
            json.dumps(
                {
                    k: ({kk: vv for kk, vv in v.items() if kk != "profiles"} if isinstance(v, dict) else v)
                    for k, v in results.items()
                },
                ensure_ascii=False,
                indent=1,
            )
        )


if __name__ == "__main__":
    main()
