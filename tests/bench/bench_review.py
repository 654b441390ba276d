"""Staff review benchmark: the dashboard and the fiscal-year export of an area of 500 groups.
Prints figures; asserts nothing.

    .venv/bin/python -m tests.bench.bench_review              # SQLite
    .venv/bin/python -m tests.bench.bench_review --postgres   # a fresh PostgreSQL database

Each group has one ibasho and a held session every month of the fiscal year with six
head-count categories, so the area holds 6,000 sessions and 36,000 tallies. Timed:
``dashboard_lines`` (what GET /review computes) and ``exports.build`` + CSV and XLSX
encoding (what GET /review/areas/{id}/export.* computes), 5 repetitions after a warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time as clock
from datetime import date, time
from uuid import uuid4

GROUPS = 500


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--groups", type=int, default=GROUPS)
    options = parser.parse_args()
    os.environ["IBASHO_DATA_DIR"] = tempfile.mkdtemp(prefix="ibasho-bench-review-")
    os.environ.pop("DATABASE_URL", None)
    database = None
    if options.postgres:
        from tests.pg import create_database, drop_database, postgres_admin_url

        database, os.environ["DATABASE_URL"] = create_database(postgres_admin_url(), "ibasho_bench_review")
    try:
        asyncio.run(run(options.groups, options.postgres))
    finally:
        if database:
            drop_database(postgres_admin_url(), database)


async def seed(groups: int, year: int):
    from server.auth.sessions import now
    from server.tables import Area, Group, Session, Tally

    area_id = uuid4()
    await Area.insert(Area(id=area_id, name=f"bench-{area_id.hex[:6]}", created_at=now()))
    group_rows, session_rows, tally_rows = [], [], []
    for index in range(groups):
        group_id = uuid4()
        group_rows.append(Group(id=group_id, area=area_id, name=f"団体{index:04d}", created_at=now()))
        for month in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3):
            session_id = uuid4()
            day = date(year + (month < 4), month, 10)
            session_rows.append(Session(id=session_id, group=group_id, date=day, start_time=time(10), end_time=time(12),
                                        status="held", venue_cost=1500, created_at=now(), updated_at=now()))
            for category in ("child", "adult", "senior", "parent_child", "first_time", "volunteer"):
                tally_rows.append(Tally(id=f"{session_id}:{category}", session=session_id, category=category,
                                        delta_sum=(index + month) % 7))
    for table, rows in ((Group, group_rows), (Session, session_rows), (Tally, tally_rows)):
        for start in range(0, len(rows), 500):
            await table.insert(*rows[start:start + 500])
    return area_id


async def timed(label: str, work) -> None:
    await work()
    figures = []
    for _ in range(5):
        started = clock.perf_counter()
        await work()
        figures.append((clock.perf_counter() - started) * 1000)
    print(f"{label:<40} median {statistics.median(figures):8.1f} ms   max {max(figures):8.1f} ms")


async def run(groups: int, postgres: bool) -> None:
    from piccolo.engine.postgres import PostgresEngine

    from server import db

    await db.migrate_forwards()
    engine = db.engine()
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool()
    try:
        from server.review import exports
        from server.review.dashboard import dashboard_lines
        from server.tables import Group

        year = 2025
        area_id = await seed(groups, year)
        group_rows = await Group.select(Group.id, Group.name).where(Group.area == area_id).order_by(Group.name)
        print(f"{'PostgreSQL' if postgres else 'SQLite'}: {groups} groups, {groups * 12} sessions")
        await timed("dashboard", lambda: dashboard_lines([area_id], year, date(year + 1, 3, 31)))

        async def export(kind: str):
            table = await exports.build(group_rows, year, "bench")
            return exports.csv_bytes(table) if kind == "csv" else exports.xlsx_bytes(table)

        await timed("fiscal-year export, CSV", lambda: export("csv"))
        await timed("fiscal-year export, XLSX", lambda: export("xlsx"))
    finally:
        if isinstance(engine, PostgresEngine):
            await engine.close_connection_pool()


if __name__ == "__main__":
    sys.exit(main())
