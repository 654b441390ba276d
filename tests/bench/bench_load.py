"""Load: many phones syncing a gathering's worth of changes each, against a real server.

    .venv/bin/python -m tests.bench.bench_load                        # 200 phones, 60 s, PostgreSQL, 1 and 2 workers
    .venv/bin/python -m tests.bench.bench_load --phones 50 --seconds 20 --workers 1
    .venv/bin/python -m tests.bench.bench_load --engine sqlite --workers 1

Bounded and self-stopping, loopback only: a fresh database, ``ibasho serve`` on
127.0.0.1 with N worker processes, and the phones as asyncio tasks in this process.
Each phone makes ``--changes`` user actions (people, attendance, counting, roles,
notes: ``bench_crash.Activity``) spread evenly over ``--seconds`` and syncs as the PWA
does: right after a change, one sync at a time, a change during a sync triggers another
sync after it. Phones of a group (5 per organiser account) share the group's session,
so they count the same tallies. Afterwards every phone's changes are checked in the
database and in a pull from cursor 0 (``bench_crash.verify``). Prints p50/p99 latency
per request kind and throughput, one column per worker count. The load generator runs
on the same machine and takes CPU from the server; the figures are for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import time
import uuid
from typing import Any

from tests.bench.bench_crash import (
    Activity,
    Expected,
    Phone,
    Unavailable,
    fresh_database,
    login,
    seed,
    verify,
)
from tests.server_process import ServerProcess

PHONES_PER_ACCOUNT = 5


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def drive(phone: Phone, activity: Activity, changes: int, seconds: float, errors: list[str]) -> None:
    """The user makes ``changes`` changes over ``seconds``; syncs follow as in the PWA."""
    wanted = asyncio.Event()
    done = False

    async def user() -> None:
        nonlocal done
        interval = seconds / changes
        began = time.monotonic() + random.uniform(0, interval)  # phones do not tap in step
        for number in range(changes):
            await asyncio.sleep(max(0.0, began + number * interval - time.monotonic()))
            activity.step()
            wanted.set()
        done = True
        wanted.set()

    async def syncer() -> None:
        while True:
            await wanted.wait()
            wanted.clear()
            try:
                await phone.push()
                await phone.pull()
            except (Unavailable, AssertionError) as error:
                errors.append(f"{phone.client_id}: {error}")
                return
            if done and not phone.outbox and not wanted.is_set():
                return

    await asyncio.gather(user(), syncer())


async def load_run(
    engine: str,
    phones: int = 200,
    seconds: float = 60,
    workers: int = 1,
    changes: int = 26,
    seed_value: int | None = None,
) -> dict[str, Any]:
    rng = random.Random(seed_value)
    db = await asyncio.to_thread(fresh_database, engine, "ibasho_load")
    server = ServerProcess(db.env, workers=workers, log_level="critical", quiet=True)
    https = []
    try:
        groups = seed(db, groups=math.ceil(phones / PHONES_PER_ACCOUNT), accounts_per_group=1)
        server.start()
        latencies: dict[str, list[float]] = {}
        expected: dict[str, Expected] = {}
        all_phones, activities = [], []
        for group in groups:
            https.append(await login(server.url, group["accounts"][0]["login"]))
            expected[group["group_id"]] = Expected()
            session = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            for number in range(min(PHONES_PER_ACCOUNT, phones - len(all_phones))):
                phone = Phone(https[-1], group["group_id"], group["accounts"][0]["account_id"], latencies=latencies)
                activity = Activity(phone, expected[group["group_id"]], session, number, random.Random(rng.random()))
                activity.start()
                all_phones.append(phone)
                activities.append(activity)
        errors: list[str] = []
        began = time.monotonic()
        # Bounded: the phones stop on their own; the timeout is a backstop for a stuck server.
        await asyncio.wait_for(
            asyncio.gather(
                *(drive(p, a, changes, seconds, errors) for p, a in zip(all_phones, activities, strict=True))
            ),
            timeout=seconds + 300,
        )
        elapsed = time.monotonic() - began
        requests = {kind: len(values) for kind, values in latencies.items()}
        figures: dict[str, Any] = {
            "engine": engine,
            "workers": workers,
            "phones": len(all_phones),
            "elapsed_s": elapsed,
            "errors": len(errors) + sum(p.failures for p in all_phones),
            "error_examples": errors[:3],
            "requests": sum(requests.values()),
            "requests_per_s": sum(requests.values()) / elapsed,
            "mutations_per_s": sum(p.made for p in all_phones) / elapsed,
        }
        everything = [v for values in latencies.values() for v in values]
        for kind, values in [
            ("push", latencies.get("push", [])),
            ("pull", latencies.get("pull", [])),
            ("all", everything),
        ]:
            figures[f"{kind}_p50_ms"] = percentile(values, 0.50) * 1000
            figures[f"{kind}_p99_ms"] = percentile(values, 0.99) * 1000
        if not errors:
            for phone in all_phones:  # the last changes of the other phones of the group
                await phone.pull()
            figures.update(await verify(db, all_phones, expected))  # raises on a lost mutation
        return figures
    finally:
        for http in https:
            await http.aclose()
        server.stop()
        await asyncio.to_thread(db.drop)


ROWS = [
    ("phones", "phones", "{:.0f}"),
    ("run (s)", "elapsed_s", "{:.1f}"),
    ("requests", "requests", "{:.0f}"),
    ("errors", "errors", "{:.0f}"),
    ("mutations applied once", "mutations", "{:.0f}"),
    ("values checked (pulls from 0)", "values_checked", "{:.0f}"),
    ("push p50 / p99 (ms)", ("push_p50_ms", "push_p99_ms"), "{:.0f} / {:.0f}"),
    ("pull p50 / p99 (ms)", ("pull_p50_ms", "pull_p99_ms"), "{:.0f} / {:.0f}"),
    ("all requests p50 / p99 (ms)", ("all_p50_ms", "all_p99_ms"), "{:.0f} / {:.0f}"),
    ("throughput (requests/s)", "requests_per_s", "{:.1f}"),
    ("throughput (mutations/s)", "mutations_per_s", "{:.1f}"),
]


def table(runs: list[dict[str, Any]]) -> str:
    heads = [f"{r['engine']}, {r['workers']} worker{'s' if r['workers'] > 1 else ''}" for r in runs]
    lines = [f"{'':32}" + "".join(f"{h:>24}" for h in heads)]
    for label, keys, form in ROWS:
        cells = []
        for run in runs:
            values = [run.get(k) for k in (keys if isinstance(keys, tuple) else (keys,))]
            cells.append(form.format(*values) if None not in values else "-")
        lines.append(f"{label:32}" + "".join(f"{c:>24}" for c in cells))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", default="postgres", choices=["postgres", "sqlite"])
    parser.add_argument("--workers", default="1,2", help="worker counts to compare, e.g. 1,2")
    parser.add_argument("--phones", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--changes", type=int, default=26, help="changes per phone (a gathering's worth)")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    runs = []
    for workers in [int(w) for w in args.workers.split(",")]:
        print(
            f"running {args.phones} phones for {args.seconds:.0f} s against {workers} worker(s) on {args.engine}…",
            flush=True,
        )
        runs.append(asyncio.run(load_run(args.engine, args.phones, args.seconds, workers, args.changes, args.seed)))
        for example in runs[-1]["error_examples"]:
            print("  error:", example)
    print(table(runs))
    return 1 if any(r["errors"] for r in runs) else 0


if __name__ == "__main__":
    raise SystemExit(main())
