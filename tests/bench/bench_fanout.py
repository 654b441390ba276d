"""Reminder fan-out: 10,000 reminders to the fake push service, the real sender beside a
naive baseline, in one run. Prints figures; asserts nothing.

    .venv/bin/python -m tests.bench.bench_fanout               # 10,000 messages each (~1 min)
    .venv/bin/python -m tests.bench.bench_fanout --count 2000  # quicker
    .venv/bin/python -m tests.bench.bench_fanout --profile     # cProfile the real sender

**Real**: ``server.reminders.delivery.send_due`` in a loop, as the scheduler runs it: claim a
batch in one transaction (SQLite, a fresh file), encrypt, sign (the cached VAPID header),
post over one shared ``httpx.AsyncClient`` with bounded concurrency, record the outcomes.
**Baseline**: the same messages, no database at all, one request at a time, a new VAPID
JWT for every message (what a first, straightforward sender does).

The fake push service (tests/push_service.py) runs in its own process, so the CPU time per
message is the sender's own (``time.process_time`` of this process). It still verifies
each request's VAPID JWT (once per distinct header, as a real service may) and decrypts
every body; the run counts what it received and any error. Goal (issue #5): the real
sender ≥ 10× the baseline and ≥ 1,000 messages/s.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import multiprocessing
import os
import pstats
import shutil
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

DATA_DIR = Path(tempfile.mkdtemp(prefix="ibasho-bench-fanout-"))
os.environ["IBASHO_DATA_DIR"] = str(DATA_DIR)
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("IBASHO_SECRET", "bench-fanout-secret")

SESSION_DAY = date(2030, 6, 9)
DUE = datetime(2030, 6, 8, 9, 0, tzinfo=timezone.utc)  # the day before, 18:00 JST


def push_service_process(count: int, key: tuple[int, bytes], latency: float, ready, stop, report) -> None:
    """The fake push service, in a child process: ``count`` endpoints sharing one key pair."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from tests.push_service import FakePushService, Subscriber

    service = FakePushService(latency=latency)
    subscriber = Subscriber(path="", private_key=ec.derive_private_key(key[0], ec.SECP256R1()), auth_secret=key[1])
    for n in range(count):
        service.subscribers[f"/push/{n}"] = subscriber
    ready.send(service.port)
    stop.recv()  # blocks until the parent is done
    report.send((len(service.received), sum(r.status == 201 for r in service.received), service.errors[:5],
                 len(service.errors)))
    service.close()


class RemoteService:
    """The parent's handle on the child: its port, and what it received since the last reset."""

    def __init__(self, count: int, key: tuple[int, bytes], latency: float) -> None:
        ctx = multiprocessing.get_context("spawn")
        ready_r, ready_w = ctx.Pipe(False)
        self.stop_r, self.stop_w = ctx.Pipe(False)
        self.report_r, report_w = ctx.Pipe(False)
        self.process = ctx.Process(target=push_service_process, args=(count, key, latency, ready_w, self.stop_r, report_w))
        self.process.start()
        self.port = ready_r.recv()

    def finish(self) -> tuple[int, int, list[str], int]:
        self.stop_w.send("stop")
        result = self.report_r.recv()
        self.process.join(10)
        return result


async def prepare(count: int, port: int, key) -> tuple:
    """One ibasho, one session, ``count`` participants subscribed: ``count`` deliveries due."""
    from uuid import uuid4

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from server import db
    from server.reminders import delivery as d
    from server.tables import Area, Group, Ibasho, PushSubscription, Session, SessionStatus
    from tests.push_service import b64

    await db.migrate_forwards()
    now = datetime.now(timezone.utc)
    area, group, ibasho, session = uuid4(), uuid4(), uuid4(), uuid4()
    await Area.insert(Area(id=area, name="bench", created_at=now))
    await Group.insert(Group(id=group, area=area, name="bench", created_at=now))
    await Ibasho.insert(Ibasho(id=ibasho, group=group, name="きらくら", created_at=now))
    await Session.insert(Session(id=session, group=group, ibasho=ibasho, title="きらくら", date=SESSION_DAY,
                                 start_time=datetime(2030, 1, 1, 10).time(), venue="西部コミセン",
                                 status=SessionStatus.scheduled.value, hlcs={}, created_at=now, updated_at=now))
    public = ec.derive_private_key(key[0], ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    rows = [PushSubscription(id=uuid4(), endpoint=f"http://127.0.0.1:{port}/push/{n}", p256dh=b64(public),
                             auth=b64(key[1]), ibasho=ibasho, offsets=[], created_at=now, updated_at=now)
            for n in range(count)]
    for start in range(0, count, 500):
        await PushSubscription.insert(*rows[start:start + 500])
    started = time.perf_counter()
    created = await d.refresh_deliveries(session, now=DUE - timedelta(days=1))
    return session, created, time.perf_counter() - started


async def real(limit: int, concurrency: int) -> tuple[float, float, list[str]]:
    import httpx

    from server.reminders import delivery as d

    states: list[str] = []
    async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=concurrency)) as client:
        sender = d.Sender(client, concurrency=concurrency)
        wall, cpu = time.perf_counter(), time.process_time()
        while batch := await d.send_due(sender, limit=limit, now=DUE):
            states += batch
        return time.perf_counter() - wall, time.process_time() - cpu, states


async def baseline(session_id, count: int) -> tuple[float, float, int]:
    """One at a time, a fresh VAPID signature each time, no database (rows read beforehand)."""
    import httpx

    from server.reminders import delivery as d
    from server.reminders.vapid import load_vapid
    from server.tables import PushSubscription

    subs = await PushSubscription.select(PushSubscription.id, PushSubscription.endpoint, PushSubscription.p256dh,
                                         PushSubscription.auth).limit(count)
    occurrence = f"{session_id}:2030-06-09T1000:day_before"
    rows = [{"id": sub["id"], "occurrence": occurrence, "endpoint": sub["endpoint"], "p256dh": sub["p256dh"],
             "auth": sub["auth"], "session": session_id, "title": "きらくら", "venue": "西部コミセン",
             "date": SESSION_DAY, "start_time": datetime(2030, 1, 1, 10).time(), "ibasho_id": None,
             "account_id": None, "expires_at": DUE + timedelta(hours=16)} for sub in subs]
    vapid = load_vapid()
    ok = 0
    async with httpx.AsyncClient(timeout=10) as client:
        sender = d.Sender(client, vapid, concurrency=1)
        wall, cpu = time.perf_counter(), time.process_time()
        for row in rows:
            vapid._cache.clear()  # naive: sign every message
            ok += (await sender.send(row, DUE)).status == 201
        return time.perf_counter() - wall, time.process_time() - cpu, ok


def line(name: str, count: int, wall: float, cpu: float) -> str:
    return f"  {name:<10} {count:>7,} msgs  {wall:7.2f} s  {count / wall:8,.0f} msg/s  {cpu / count * 1000:6.3f} ms CPU/msg"


async def main(args) -> None:
    import secrets

    from cryptography.hazmat.primitives.asymmetric import ec

    from server import db

    private = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
    key = (private, secrets.token_bytes(16))
    service = RemoteService(args.count, key, args.latency_ms / 1000)
    try:
        session_id, created, made = await prepare(args.count, service.port, key)
        print(f"fan-out of {args.count:,} reminders (SQLite, {os.cpu_count()} cores; fake push service in its own "
              f"process answering after {args.latency_ms:g} ms; sender batch {args.limit}, concurrency {args.concurrency})")
        print(f"  made {created:,} deliveries (two per subscription) in {made:.2f} s")
        base_wall, base_cpu, base_ok = await baseline(session_id, args.baseline or args.count)
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        real_wall, real_cpu, states = await real(args.limit, args.concurrency)
        if profiler:
            profiler.disable()
        base_count = args.baseline or args.count
        print(line("baseline", base_count, base_wall, base_cpu) + f"  ({base_ok:,} accepted)")
        print(line("real", len(states), real_wall, real_cpu) + f"  ({states.count('sent'):,} sent)")
        speedup = (len(states) / real_wall) / (base_count / base_wall)
        print(f"  real/baseline: {speedup:.1f}×  (goal ≥ 10×);  real {len(states) / real_wall:,.0f} msg/s "
              f"(goal ≥ 1,000)")
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(25)
            print(out.getvalue())
    finally:
        received, accepted, errors, error_count = service.finish()
        print(f"  push service: {received:,} received, {accepted:,} accepted (201), {error_count} errors {errors}")
        await db.engine().close_connection_pool() if hasattr(db.engine(), "pool") and db.engine().pool else None
        shutil.rmtree(DATA_DIR, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=0, help="baseline messages (default: --count)")
    parser.add_argument("--limit", type=int, default=500, help="deliveries claimed per batch")
    parser.add_argument("--concurrency", type=int, default=0, help="requests in flight (default: the sender's)")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="the fake push service answers after this long (a remote service's round trip)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="cumulative", help="profile order: cumulative or tottime")
    arguments = parser.parse_args()
    if not arguments.concurrency:
        from server.reminders.delivery import CONCURRENCY

        arguments.concurrency = CONCURRENCY
    asyncio.run(main(arguments))
