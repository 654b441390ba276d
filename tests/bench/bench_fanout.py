"""Reminder fan-out: 10,000 reminders to the fake push service, ibasho's sender beside
pywebpush, in one run. Prints figures; asserts nothing.

    .venv/bin/python -m tests.bench.bench_fanout                  # 10,000 messages (~2 min)
    .venv/bin/python -m tests.bench.bench_fanout --count 2000     # quicker
    .venv/bin/python -m tests.bench.bench_fanout --latency-ms 0   # one scenario only
    .venv/bin/python -m tests.bench.bench_fanout --profile        # cProfile the real sender

**ibasho**: ``server.reminders.worker.send_all_due``, as the scheduler runs it: in each of
two lanes, claim a batch in one transaction (SQLite, a fresh file), encrypt, sign (the cached
VAPID header), post over the shared ``push_client()`` with bounded concurrency, record the
outcomes.
**pywebpush**: the peer an engineer would pick instead: ``webpush_async`` per message over
one shared ``aiohttp.ClientSession``, the same messages and number in flight, no database.

The fake push service (tests/push_service.py: HTTPS, HTTP/2 and HTTP/1.1) runs in its own
process, so the CPU time per message is the sender's own (``time.process_time`` of this
process). It verifies each request's VAPID JWT (once per distinct header, as a real service
may) and decrypts every body; the run counts what it received and any error.

Two scenarios by default: the service answering at once (loopback: the ratio shows CPU
per message only) and after 20 ms (a push service's round trip from Japan). Goals (issue
#17): ibasho ≥ 1.5× pywebpush at 20 ms and ≥ 1.0× at 0 ms, with its database work.
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
import ssl
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

# One data dir (database, VAPID key) for this run and the sender processes it spawns.
os.environ.setdefault("IBASHO_BENCH_FANOUT_DIR", tempfile.mkdtemp(prefix="ibasho-bench-fanout-"))
DATA_DIR = Path(os.environ["IBASHO_BENCH_FANOUT_DIR"])
os.environ["IBASHO_DATA_DIR"] = str(DATA_DIR)
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("IBASHO_SECRET", "bench-fanout-secret")

SESSION_DAY = date(2030, 6, 9)
DUE = datetime(2030, 6, 8, 9, 0, tzinfo=UTC)  # the day before, 18:00 JST


def push_service_process(count: int, key: tuple[int, bytes], latency: float, ready, stop, report) -> None:
    """The fake push service, in a child process: ``count`` endpoints sharing one key pair."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from tests.push_service import FakePushService, Subscriber

    service = FakePushService(latency=latency)
    subscriber = Subscriber(path="", private_key=ec.derive_private_key(key[0], ec.SECP256R1()), auth_secret=key[1])
    for n in range(count):
        service.subscribers[f"/push/{n}"] = subscriber
    ready.send((service.port, service.ca_file.read_text()))
    cpu = time.process_time()
    stop.recv()  # blocks until the parent is done
    report.send(
        (
            len(service.received),
            sum(r.status == 201 for r in service.received),
            service.errors[:5],
            len(service.errors),
            sorted({r.http_version for r in service.received}),
            time.process_time() - cpu,
        )
    )
    service.close()


class RemoteService:
    """The parent's handle on the child: its port, and what it received since the last reset."""

    def __init__(self, count: int, key: tuple[int, bytes], latency: float) -> None:
        ctx = multiprocessing.get_context("spawn")
        ready_r, ready_w = ctx.Pipe(False)
        self.stop_r, self.stop_w = ctx.Pipe(False)
        self.report_r, report_w = ctx.Pipe(False)
        self.process = ctx.Process(
            target=push_service_process, args=(count, key, latency, ready_w, self.stop_r, report_w)
        )
        self.process.start()
        self.port, self.ca = ready_r.recv()
        self.ssl_context = ssl.create_default_context(cadata=self.ca)  # trusts the child's certificate

    def finish(self) -> tuple[int, int, list[str], int, list[str], float]:
        self.stop_w.send("stop")
        result = self.report_r.recv()
        self.process.join(10)
        return result


async def bench_session(name: str) -> tuple:
    """A new area, group and ibasho with one session on SESSION_DAY at 10:00: (ibasho, session)."""
    from uuid import uuid4

    from server.tables import Area, Group, Ibasho, Session, SessionStatus

    now = datetime.now(UTC)
    area, group, ibasho, session = uuid4(), uuid4(), uuid4(), uuid4()
    await Area.insert(Area(id=area, name=f"bench {area}", created_at=now))
    await Group.insert(Group(id=group, area=area, name=f"bench {group}", created_at=now))
    await Ibasho.insert(Ibasho(id=ibasho, group=group, name=name, created_at=now))
    await Session.insert(
        Session(
            id=session,
            group=group,
            ibasho=ibasho,
            title=name,
            date=SESSION_DAY,
            start_time=datetime(2030, 1, 1, 10).time(),
            venue="西部コミセン",
            status=SessionStatus.scheduled.value,
            hlcs={},
            created_at=now,
            updated_at=now,
        )
    )
    return ibasho, session


async def prepare(count: int, port: int, key) -> tuple:
    """One ibasho, one session, ``count`` participants subscribed: ``count`` deliveries due."""
    from uuid import uuid4

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from server import db
    from server.reminders import planning
    from server.tables import PushSubscription
    from tests.push_service import b64

    await db.migrate_forwards()
    now = datetime.now(UTC)
    ibasho, session = await bench_session("きらくら")
    public = (
        ec.derive_private_key(key[0], ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    rows = [
        PushSubscription(
            id=uuid4(),
            endpoint=f"https://127.0.0.1:{port}/push/{n}",
            p256dh=b64(public),
            auth=b64(key[1]),
            ibasho=ibasho,
            offsets=[],
            created_at=now,
            updated_at=now,
        )
        for n in range(count)
    ]
    for start in range(0, count, 500):
        await PushSubscription.insert(*rows[start : start + 500])
    started = time.perf_counter()
    created = await planning.refresh_deliveries(session, now=DUE - timedelta(days=1))
    return session, created, time.perf_counter() - started


async def real(limit: int, concurrency: int, trust: ssl.SSLContext) -> tuple[float, float, list[str]]:
    from server.reminders import sender as push_sender
    from server.reminders import worker

    async with push_sender.push_client(verify=trust) as client:
        sender = push_sender.Sender(client, concurrency=concurrency)
        wall, cpu = time.perf_counter(), time.process_time()
        states = await worker.send_all_due(sender, limit=limit, now=DUE)
        return time.perf_counter() - wall, time.process_time() - cpu, states


def sender_process(limit: int, concurrency: int, ca: str, start, report) -> None:
    """One more scheduler process on the same database, as ``ibasho serve --workers N`` runs."""
    from server.reminders import sender as push_sender
    from server.reminders import worker

    async def run() -> tuple[int, float]:
        async with push_sender.push_client(verify=ssl.create_default_context(cadata=ca)) as client:
            sender = push_sender.Sender(client, concurrency=concurrency)
            start.wait()
            cpu = time.process_time()
            states = await worker.send_all_due(sender, limit=limit, now=DUE)
            return len(states), time.process_time() - cpu

    report.send(asyncio.run(run()))


def real_processes(count: int, limit: int, concurrency: int, service: RemoteService) -> tuple[float, float, int]:
    """``count`` sender processes draining the due deliveries together: wall, summed CPU, messages."""
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    pipes = [ctx.Pipe(False) for _ in range(count)]
    processes = [ctx.Process(target=sender_process, args=(limit, concurrency, service.ca, start, w)) for _, w in pipes]
    for process in processes:
        process.start()
    time.sleep(3)  # the processes import and connect before the clock starts
    wall = time.perf_counter()
    start.set()
    results = [r.recv() for r, _ in pipes]
    wall = time.perf_counter() - wall
    for process in processes:
        process.join(10)
    return wall, sum(cpu for _, cpu in results), sum(n for n, _ in results)


async def due_rows(session_id, count: int, service: RemoteService) -> list[dict]:
    """``count`` deliveries as the sender's rows, read beforehand (for the peers without a database)."""
    from server.tables import PushSubscription

    subs = (
        await PushSubscription.select(
            PushSubscription.id, PushSubscription.endpoint, PushSubscription.p256dh, PushSubscription.auth
        )
        .where(PushSubscription.endpoint.like(f"https://127.0.0.1:{service.port}/%"))
        .limit(count)
    )
    occurrence = f"{session_id}:2030-06-09T1000:day_before"
    return [
        {
            "id": sub["id"],
            "occurrence": occurrence,
            "endpoint": sub["endpoint"],
            "p256dh": sub["p256dh"],
            "auth": sub["auth"],
            "session": session_id,
            "title": "きらくら",
            "venue": "西部コミセン",
            "date": SESSION_DAY,
            "start_time": datetime(2030, 1, 1, 10).time(),
            "ibasho_id": None,
            "account_id": None,
            "expires_at": DUE + timedelta(hours=16),
        }
        for sub in subs
    ]


async def pywebpush_peer(session_id, count: int, concurrency: int, service: RemoteService) -> tuple[float, float, int]:
    """What a competent engineer would write instead (issue #17): pywebpush 2.x's
    ``webpush_async`` for each message over one shared ``aiohttp.ClientSession``, with the
    same number of requests in flight and the same payloads and headers; no database (the
    rows are read beforehand), a VAPID JWT signed per message as pywebpush does."""
    import aiohttp
    from py_vapid import Vapid as PyVapid
    from pywebpush import webpush_async

    from server.reminders.sender import payload_for, topic_of
    from server.reminders.vapid import load_vapid

    rows = await due_rows(session_id, count, service)
    vapid = PyVapid.from_pem(load_vapid().private_pem)
    limit = asyncio.Semaphore(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency, ssl=service.ssl_context)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(row: dict) -> bool:
            async with limit:
                response = await webpush_async(
                    subscription_info={
                        "endpoint": row["endpoint"],
                        "keys": {"p256dh": row["p256dh"], "auth": row["auth"]},
                    },
                    data=payload_for(row, DUE).decode(),
                    vapid_private_key=vapid,
                    vapid_claims={"sub": "mailto:admin@ibasho.invalid"},
                    ttl=int((row["expires_at"] - DUE).total_seconds()),
                    headers={"Urgency": "normal", "Topic": topic_of(row["occurrence"])},
                    timeout=10,
                    aiohttp_session=session,
                )
                return response.status == 201

        wall, cpu = time.perf_counter(), time.process_time()
        ok = sum(await asyncio.gather(*(one(row) for row in rows)))
        return time.perf_counter() - wall, time.process_time() - cpu, ok


def line(name: str, count: int, wall: float, cpu: float) -> str:
    rate, cost = count / wall, cpu / count * 1000
    return f"  {name:<10} {count:>7,} msgs  {wall:7.2f} s  {rate:8,.0f} msg/s  {cost:6.3f} ms CPU/msg"


async def main(args) -> None:
    import secrets

    from cryptography.hazmat.primitives.asymmetric import ec

    from server import db

    private = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
    key = (private, secrets.token_bytes(16))
    print(
        f"fan-out of {args.count:,} reminders (SQLite, {os.cpu_count()} cores; the fake push service in its own "
        f"process; sender batch {args.limit}, concurrency {args.concurrency} for both)"
    )
    try:
        for latency_ms in args.latency_ms:
            await scenario(args, key, latency_ms)
    finally:
        await db.engine().close_connection_pool() if hasattr(db.engine(), "pool") and db.engine().pool else None
        shutil.rmtree(DATA_DIR, ignore_errors=True)


async def scenario(args, key, latency_ms: float) -> None:
    from server.tables import DeliveryState, ReminderDelivery

    service = RemoteService(args.count, key, latency_ms / 1000)
    try:
        session_id, created, made = await prepare(args.count, service.port, key)
        print(
            f"\nservice answers after {latency_ms:g} ms — made {created:,} deliveries (two per subscription) "
            f"in {made:.2f} s, sending the first {args.count:,}"
        )
        peer_wall, peer_cpu, peer_ok = await pywebpush_peer(session_id, args.count, args.concurrency, service)
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        real_wall, real_cpu, states = await real(args.limit, args.concurrency, service.ssl_context)
        if profiler:
            profiler.disable()
        print(line("pywebpush", args.count, peer_wall, peer_cpu) + f"  ({peer_ok:,} accepted; no database)")
        print(
            line("ibasho", len(states), real_wall, real_cpu)
            + f"  ({states.count('sent'):,} sent; claimed and recorded)"
        )
        ratio = (len(states) / real_wall) / (args.count / peer_wall)
        goal = 1.5 if latency_ms >= 20 else 1.0
        print(f"  ibasho/pywebpush: {ratio:.2f}×  (goal ≥ {goal}× at {latency_ms:g} ms)")
        if args.processes > 1:  # the second half of the deliveries: the sessions' 2-hours-before reminders
            await ReminderDelivery.update({ReminderDelivery.due_at: DUE}).where(
                ReminderDelivery.state == DeliveryState.pending.value
            )
            wall, cpu, sent = real_processes(args.processes, args.limit, args.concurrency, service)
            print(
                line(f"ibasho ×{args.processes}", sent, wall, cpu) + f"  ({args.processes} scheduler processes, "
                f"CPU summed)  {sent / wall / (args.count / peer_wall):.2f}× pywebpush"
            )
        if profiler:
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(25)
            print(out.getvalue())
    finally:
        received, accepted, errors, error_count, versions, cpu = service.finish()
        print(
            f"  push service: {received:,} received over HTTP/{' and '.join(versions)}, {accepted:,} accepted "
            f"(201), {error_count} errors {errors}; {cpu / max(received, 1) * 1000:.3f} ms CPU/msg of its own"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--limit", type=int, default=500, help="deliveries claimed per batch")
    parser.add_argument("--concurrency", type=int, default=0, help="requests in flight (default: the sender's)")
    parser.add_argument(
        "--latency-ms",
        type=float,
        nargs="+",
        default=[0.0, 20.0],
        help="scenarios: the fake push service answers after this long (a remote service's round trip)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=2,
        help="also drain the rest with this many scheduler processes at once (1: skip)",
    )
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="cumulative", help="profile order: cumulative or tottime")
    arguments = parser.parse_args()
    if not arguments.concurrency:
        from server.reminders.sender import CONCURRENCY

        arguments.concurrency = CONCURRENCY
    asyncio.run(main(arguments))
