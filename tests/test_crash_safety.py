"""Sync survives SIGKILL and load, on the engine under test (reduced runs of tests/bench).

Each test makes its own fresh database (SQLite in WAL mode, or a new PostgreSQL database)
and runs real ``ibasho serve`` processes on loopback; phones talk HTTP to them. The
checks (``tests.bench.bench_crash.verify``): every mutation any phone made was applied
exactly once (tally sums equal the deltas sent, one mutation-log row per seq, last_seq
equals what each phone made), every phone's own pull and a pull from cursor 0 hold every
change, and the database passes its integrity checks (SQLite ``PRAGMA integrity_check``
and ``foreign_key_check``; PostgreSQL amcheck on every B-tree index; both: change log and
entity rows agree). Full runs: ``python -m tests.bench.bench_crash`` and ``bench_load``.
"""

from __future__ import annotations

import os

import pytest

from tests.bench.bench_crash import crash_run
from tests.bench.bench_load import load_run
from tests.pg import PostgresUnavailable, require_postgres

ENGINE = os.environ.get("IBASHO_TEST_ENGINE", "sqlite")

pytestmark = pytest.mark.slow  # each takes 15-70 s


async def run(coroutine):
    try:
        return await coroutine
    except PostgresUnavailable as error:
        require_postgres(error)


async def test_sigkill_twenty_times_while_phones_sync_loses_nothing_and_applies_nothing_twice():
    figures = await run(crash_run(ENGINE, clients=3, kills=20, uptime=(0.2, 0.8)))
    print(figures)
    assert figures["kills"] == 20
    assert figures["mutations"] > 100
    # Kills landed on requests in flight, not only between them (connections refused meanwhile).
    assert figures["requests_cut_off"] > 0


async def test_twenty_phones_under_load_no_errors_no_lost_mutations():
    # Two workers where they are meant to be used (PostgreSQL); SQLite runs one.
    figures = await run(load_run(ENGINE, phones=20, seconds=6, workers=2 if ENGINE == "postgres" else 1, changes=12))
    print(figures)
    assert figures["errors"] == 0, figures["error_examples"]
    assert figures["mutations"] >= 20 * 13
