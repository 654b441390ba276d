"""A burst of logins against a real server: does the rest of the server stay responsive?

    .venv/bin/python -m tests.bench.bench_login                 # 200 logins at once, SQLite, 1 worker
    .venv/bin/python -m tests.bench.bench_login --logins 100 --engine postgres

Argon2 costs tens of milliseconds of CPU per login on purpose. Hashed on the event loop,
a burst of logins (a council's staff at 9:00, a training session of volunteers) stalls
every other request of that process; hashed in worker threads it does not. The bench
seeds ``--logins`` organiser accounts, starts ``ibasho serve``, measures ``/healthz``
while idle, then fires all logins at once (good passwords, distinct accounts) while a
probe keeps asking ``/healthz`` every 50 ms, and prints the probe's latency in both
phases side by side with their ratio, and the logins' own latency and rate.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx

from tests.bench.bench_crash import PASSWORD, fresh_database, seed
from tests.bench.bench_load import percentile
from tests.server_process import ServerProcess


async def probe(url: str, stop: asyncio.Event, every: float = 0.05) -> list[tuple[float, float]]:
    """(when it was sent, seconds since the probe started; its latency), every ``every`` s."""
    samples = []
    start = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        await http.get("/healthz")  # connected before the clock starts
        while not stop.is_set():
            began = time.perf_counter()
            await http.get("/healthz")
            samples.append((began - start, time.perf_counter() - began))
            await asyncio.sleep(every)
    return samples


async def one_login(url: str, login: str) -> tuple[int, float]:
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        await http.get("/healthz")
        began = time.perf_counter()
        response = await http.post(
            "/api/auth/login",
            json={"login": login, "password": PASSWORD},
            headers={"x-csrftoken": http.cookies["csrftoken"]},
        )
        return response.status_code, time.perf_counter() - began


async def measure(url: str, logins: list[str]) -> dict:
    stop = asyncio.Event()
    idle = asyncio.create_task(probe(url, stop))
    await asyncio.sleep(3)
    stop.set()
    idle_latencies = await idle

    stop = asyncio.Event()
    during = asyncio.create_task(probe(url, stop))
    began = time.perf_counter()
    results = await asyncio.gather(*(one_login(url, login) for login in logins))
    elapsed = time.perf_counter() - began
    stop.set()
    during_samples = await during
    return {
        "idle": [latency for _, latency in idle_latencies],
        "during": [latency for _, latency in during_samples],
        "slowest": during_samples,
        "logins": results,
        "elapsed": elapsed,
    }


def ms(value: float) -> str:
    return f"{value * 1000:,.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logins", type=int, default=200)
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()

    database = fresh_database(args.engine, prefix="ibasho_login")
    try:
        print(f"seeding {args.logins} accounts (argon2: this takes a while)…", flush=True)
        (group,) = seed(database, 1, args.logins)
        logins = [account["login"] for account in group["accounts"]]
        server = ServerProcess({**database.env, "IBASHO_LOGIN_MAX_FAILURES_PER_ADDRESS": "100000"}, quiet=True)
        server.start()
        try:
            figures = asyncio.run(measure(server.url, logins))
        finally:
            server.stop()
    finally:
        database.drop()

    statuses = [status for status, _ in figures["logins"]]
    login_latencies = [seconds for _, seconds in figures["logins"]]
    idle, during = figures["idle"], figures["during"]
    print(f"\n{args.logins} concurrent logins, {args.engine}, 1 worker")
    print(f"{'':28}{'idle':>12}{'during burst':>16}{'ratio':>8}")
    for label, q in (("/healthz p50", 0.5), ("/healthz p99", 0.99), ("/healthz max", 1.0)):
        a, b = percentile(idle, q) if q < 1 else max(idle), percentile(during, q) if q < 1 else max(during)
        print(f"{label:28}{ms(a):>12}{ms(b):>16}{b / a:>7.1f}×")
    print(
        "slowest probes during the burst (seconds into it → latency):",
        ", ".join(f"{at:.1f} s → {ms(seconds)}" for at, seconds in sorted(figures["slowest"], key=lambda x: -x[1])[:3]),
    )
    print(
        f"logins: {statuses.count(200)} × 200, others {sorted(set(statuses) - {200}) or 'none'}; "
        f"p50 {ms(percentile(login_latencies, 0.5))}, p99 {ms(percentile(login_latencies, 0.99))}, "
        f"{len(logins) / figures['elapsed']:.1f} logins/s"
    )


if __name__ == "__main__":
    main()
