"""Reminder fan-out per channel: 5,000 recipients by Web Push (the fake push service), by
email (aiosmtpd) and by LINE (the fake Messaging API, tests/line_service.py),
each through the scheduler's own ``send_all_due``: claim in batches, send, record.
Prints figures; asserts nothing.

    .venv/bin/python -m tests.bench.bench_channels                # 5,000 per channel
    .venv/bin/python -m tests.bench.bench_channels --count 1000   # quicker

Each fake service runs in its own process, so the CPU time per message is the sender's own
(``time.process_time`` of this process, database work included). The SMTP server counts
the messages it accepts and the sessions they came on: a few sessions at once
(server/reminders/email.py CONCURRENCY), each kept for many messages (``SmtpSessions``);
``--one-session-each`` compares the sender as it was, one session per message.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import time
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from tests.bench.bench_fanout import DUE, RemoteService, bench_session, line, prepare, real


def smtp_process(ready, stop, report) -> None:
    """aiosmtpd on loopback in a child process, counting what it accepts."""
    from aiosmtpd.controller import Controller

    from tests.server_process import free_port

    class Counter:
        accepted = 0
        sessions = 0

        async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
            Counter.sessions += 1  # a client greets once per session
            session.host_name = hostname
            return responses

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
            Counter.accepted += 1
            return "250 Message accepted"

    port = free_port()
    controller = Controller(Counter(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.send(port)
    stop.recv()
    controller.stop()
    report.send((Counter.accepted, Counter.sessions, time.process_time()))


def line_process(token: str, ready, stop, report) -> None:
    """The fake Messaging API (tests/line_service.py) in a child process."""
    from tests.line_service import FakeLineApi

    async def run() -> None:
        api = FakeLineApi(token=token)
        await api.start()
        ready.send(api.port)
        await asyncio.get_running_loop().run_in_executor(None, stop.recv)
        report.send((len(api.pushed), api.refused[:3], time.process_time()))
        await api.stop()

    asyncio.run(run())


async def recipients(count: int, channel, address, endpoint=None) -> None:
    """One more session of a new ibasho, ``count`` confirmed recipients of ``channel`` subscribed
    to it; ``endpoint(ibasho, n)`` keys them (else as an email address is keyed)."""
    from server.reminders import planning
    from server.reminders.email import endpoint_key
    from server.tables import PushSubscription

    now = datetime.now(UTC)
    ibasho, session = await bench_session("すみれの家")
    rows = [
        PushSubscription(
            id=uuid4(),
            endpoint=endpoint(ibasho, n) if endpoint else endpoint_key(channel, ibasho, address(n)),
            ibasho=ibasho,
            channel=channel.value,
            address=address(n),
            confirmed_at=now,
            offsets=["day_before"],
            created_at=now,
            updated_at=now,
        )
        for n in range(count)
    ]
    for start in range(0, count, 500):
        await PushSubscription.insert(*rows[start : start + 500])
    await planning.refresh_deliveries(session, now=DUE - timedelta(days=1))


class SessionEach:
    """The reminder mails as they were sent before sessions were kept: one SMTP session
    per message, as many at once as the sender allows (for comparison)."""

    def __init__(self, server, size: int) -> None:
        self.server, self.slots, self.opened = server, asyncio.Semaphore(size), 0

    async def send(self, message) -> None:
        from server.core.mail import send_message

        async with self.slots:
            self.opened += 1
            await send_message(message, self.server)

    async def close(self) -> None:
        pass


async def email_run(count: int, limit: int, one_session_each: bool = False) -> None:
    from server.core.mail import SmtpServer
    from server.reminders import worker
    from server.reminders.channels import Channels
    from server.reminders.email import CONCURRENCY, EmailSender

    ctx = multiprocessing.get_context("spawn")
    ready_r, ready_w = ctx.Pipe(False)
    stop_r, stop_w = ctx.Pipe(False)
    report_r, report_w = ctx.Pipe(False)
    child = ctx.Process(target=smtp_process, args=(ready_w, stop_r, report_w))
    child.start()
    port = ready_r.recv()
    try:
        from server.tables import SubscriptionChannel

        await recipients(count, SubscriptionChannel.email, lambda n: f"p{n}@example.jp")
        sender = EmailSender(SmtpServer.from_url(f"smtp://127.0.0.1:{port}"))
        if one_session_each:
            sender.sessions = SessionEach(sender.server, CONCURRENCY)
        wall, cpu = time.perf_counter(), time.process_time()
        states = await worker.send_all_due(Channels(email=sender), limit=limit, now=DUE)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        await sender.close()
        name = "email/1" if one_session_each else "email"
        print(line(name, len(states), wall, cpu) + f"  ({states.count('sent'):,} sent; claimed and recorded)")
    finally:
        stop_w.send("stop")
        accepted, sessions, service_cpu = report_r.recv()
        child.join(10)
        print(
            f"  SMTP server: {accepted:,} accepted on {sessions:,} sessions; "
            f"{service_cpu / max(accepted, 1) * 1000:.3f} ms CPU/msg of its own"
        )


async def line_run(count: int, limit: int) -> None:
    import dataclasses
    import secrets

    from server import config
    from server.reminders import worker
    from server.reminders.channels import Channels
    from server.reminders.line import LineSender
    from server.reminders.line_channels import line_endpoint
    from server.tables import LineChannel, SubscriptionChannel

    token = secrets.token_urlsafe(24)
    ctx = multiprocessing.get_context("spawn")
    ready_r, ready_w = ctx.Pipe(False)
    stop_r, stop_w = ctx.Pipe(False)
    report_r, report_w = ctx.Pipe(False)
    child = ctx.Process(target=line_process, args=(token, ready_w, stop_r, report_w))
    child.start()
    port = ready_r.recv()
    config._settings = dataclasses.replace(config.get_settings(), line_api_url=f"http://127.0.0.1:{port}")
    sender = LineSender()
    try:
        await LineChannel.delete().where(LineChannel.group.is_null())
        channel = uuid4()
        await LineChannel.insert(LineChannel(id=channel, name="bench", access_token=token, channel_secret="s" * 32))
        user = lambda n: f"U{n:032x}"  # noqa: E731
        await recipients(
            count, SubscriptionChannel.line, user, lambda ibasho, n: line_endpoint(channel, ibasho, user(n))
        )
        wall, cpu = time.perf_counter(), time.process_time()
        states = await worker.send_all_due(Channels(line=sender), limit=limit, now=DUE)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(line("LINE", len(states), wall, cpu) + f"  ({states.count('sent'):,} sent; claimed and recorded)")
    finally:
        await sender.close()
        stop_w.send("stop")
        pushed, refused, service_cpu = report_r.recv()
        child.join(10)
        print(
            f"  fake Messaging API: {pushed:,} accepted, refused {refused}; "
            f"{service_cpu / max(pushed, 1) * 1000:.3f} ms CPU/msg of its own"
        )


async def webpush_run(count: int, limit: int, concurrency: int) -> None:
    import secrets

    from cryptography.hazmat.primitives.asymmetric import ec

    key = (ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value, secrets.token_bytes(16))
    service = RemoteService(count, key, 0.0)
    try:
        await prepare(count, service.port, key)
        wall, cpu, states = await real(limit, concurrency, service.ssl_context)
        print(line("webpush", len(states), wall, cpu) + f"  ({states.count('sent'):,} sent; claimed and recorded)")
    finally:
        received, accepted, _errors, error_count, _versions, _cpu = service.finish()
        print(f"  push service: {received:,} received, {accepted:,} accepted, {error_count} errors")


async def main(args) -> None:
    from server import db
    from server.reminders.sender import CONCURRENCY

    await db.migrate_forwards()
    print(f"fan-out of {args.count:,} reminders per channel (SQLite, {os.cpu_count()} cores, batch {args.limit})")
    if "webpush" in args.channels:
        await webpush_run(args.count, args.limit, CONCURRENCY)
    if "email" in args.channels:
        await email_run(args.count, args.limit, args.one_session_each)
    if "line" in args.channels:
        await line_run(args.count, args.limit)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5_000)
    parser.add_argument("--limit", type=int, default=500, help="deliveries claimed per batch")
    parser.add_argument("--channels", nargs="+", default=["webpush", "email", "line"])
    parser.add_argument("--one-session-each", action="store_true", help="email as before: one SMTP session per message")
    asyncio.run(main(parser.parse_args()))
