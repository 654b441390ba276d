"""Staff review benchmark: the dashboard and the fiscal-year export of an area of 500 groups,
on SQLite and PostgreSQL side by side. Prints figures; asserts nothing.

    .venv/bin/python -m tests.bench.bench_review                 # both engines (~3 min)
    .venv/bin/python -m tests.bench.bench_review --engine sqlite # one engine
    .venv/bin/python -m tests.bench.bench_review --groups 100    # a smaller area

Each group has one held session every month for 5 fiscal years, with about 30 people in
six head-count categories: 30,000 sessions and 180,000 tallies for 500 groups. Every group
is enrolled in a grant programme whose rules read what the dashboard alone does not: a
per-participant amount for the children's visits (head counts by category), an amount per
month with a session, the venue cost capped per month, a frequency requirement and a
yearly cap (``GRANT_RULES``). Timed, 5 repetitions after a warm-up: ``dashboard_lines``
(what GET /review computes, grants included), ``group_grants`` alone, and
``exports.build`` + CSV or XLSX encoding (GET /review/areas/{id}/export.*) for the latest
fiscal year, and the follow-up list (what GET /review/follow-ups computes: the items
derived for a staff member of the area, with their state). For the list, each group also has
an ibasho with registration, PEOPLE registered participants marked at every session of the
latest year (one of them absent at the last three: an item), an open safety check, and an
organiser with a phone, half of which last synced a month ago (an item each). The query
count of each is shown for the 500-group area and for a 50-group
area beside it: it must not grow with the number of groups.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time as clock
from datetime import date, time
from uuid import uuid4

GROUPS = 500
SMALL_AREA = 50
YEARS = 5
LAST_YEAR = 2025
CATEGORY_SHARES = {"child": 8, "adult": 6, "senior": 8, "parent_child": 3, "first_time": 2, "volunteer": 3}
GOALS = {
    "dashboard": 300,
    "follow-ups": 300,
    "grants alone": None,
    "export, CSV": 2000,
    "export, XLSX": 2000,
}  # None: no goal
PROFILE_ENV = "BENCH_REVIEW_PROFILE"  # the figure whose calls a child prints (stderr), if any
PEOPLE = 10  # registered participants of each group, marked at the latest fiscal year's sessions
GRANT_RULES = {
    "sessions": {"min_minutes": 120},
    "requirements": {"every_months": 2},
    "components": [
        {"kind": "per_participant", "amount": 50, "categories": ["child"], "label": "子ども"},
        {"kind": "per_month", "amount": 2500, "label": "開催月"},
        {"kind": "venue", "cap": 2000, "per": "month", "label": "会場費"},
    ],
    "caps": {"per_year": 100000},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--groups", type=int, default=GROUPS)
    parser.add_argument("--profile", choices=[label for label in GOALS], help="print where one figure's time goes")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        print(json.dumps(child(options.engine, options.groups)))
        return
    if options.profile:
        os.environ[PROFILE_ENV] = options.profile
    engines = ["sqlite", "postgres"] if options.engine == "both" else [options.engine]
    results = {engine: run_child(engine, options.groups) for engine in engines}
    report(results, options.groups)


def run_child(engine: str, groups: int) -> dict | None:
    print(f"running {engine} …", file=sys.stderr)
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.bench_review", "--child", "--engine", engine, "--groups", str(groups)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        return None
    if os.environ.get(PROFILE_ENV):
        print(done.stderr, file=sys.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(results: dict, groups: int) -> None:
    engines = list(results)
    print(
        f"\n{groups} groups × {YEARS} fiscal years of monthly sessions ({groups * 12 * YEARS:,} sessions), "
        f"timing fiscal year {LAST_YEAR}; median of 5 (max), and this process's CPU time"
    )
    print(f"{'':<28}" + "".join(f"{engine:>32}" for engine in engines) + "     goal")
    for label, goal in GOALS.items():
        cells = []
        for engine in engines:
            figures = (results[engine] or {}).get(label)
            cell = f"{figures['median']:6.0f} ms ({figures['max']:5.0f}) cpu {figures['cpu']:4.0f}" if figures else ""
            cells.append(cell or "failed")
        aim = ""
        if goal:
            verdicts = ", ".join(
                f"{engine} {'met' if results[engine] and results[engine][label]['median'] < goal else 'MISSED'}"
                for engine in engines
            )
            aim = f"     < {goal} ms ({verdicts})"
        print(f"{label:<28}" + "".join(f"{cell:>32}" for cell in cells) + aim)
        counts = [(results[engine] or {}).get("queries", {}).get(label) for engine in engines]
        print(
            f"{'  queries, ' + str(groups) + ' / ' + str(SMALL_AREA) + ' groups':<28}"
            + "".join(f"{(f'{c[0]} / {c[1]}' if c else '-'):>32}" for c in counts)
        )
    if len(engines) == 2 and all(results.values()):
        ratio = results["postgres"]["dashboard"]["median"] / results["sqlite"]["dashboard"]["median"]
        print(f"dashboard PostgreSQL/SQLite: {ratio:.2f}×")
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs")


def child(engine: str, groups: int) -> dict:
    os.environ["IBASHO_DATA_DIR"] = tempfile.mkdtemp(prefix="ibasho-bench-review-")
    os.environ.pop("DATABASE_URL", None)
    database = None
    if engine == "postgres":
        from tests.pg import create_database, postgres_admin_url

        database, os.environ["DATABASE_URL"] = create_database(postgres_admin_url(), "ibasho_bench_review")
    try:
        return asyncio.run(measure(groups))
    finally:
        if database:
            from tests.pg import drop_database, postgres_admin_url

            drop_database(postgres_admin_url(), database)


async def enrol(group_ids: list) -> None:
    """Every group into one programme with GRANT_RULES, from the first seeded year."""
    from server.core.clock import now
    from server.tables import GrantProgramme, GrantRuleVersion, GroupGrant

    programme = uuid4()
    await GrantProgramme.insert(GrantProgramme(id=programme, name=f"bench-{programme.hex[:6]}"))
    first = LAST_YEAR - YEARS + 1
    await GrantRuleVersion.insert(
        GrantRuleVersion(id=uuid4(), programme=programme, from_year=first, rules=GRANT_RULES, updated_at=now())
    )
    rows = [GroupGrant(id=uuid4(), group=g, programme=programme, first_fiscal_year=first) for g in group_ids]
    for start in range(0, len(rows), 500):
        await GroupGrant.insert(*rows[start : start + 500])


async def seed_area(groups: int) -> object:
    from server.core.clock import now
    from server.tables import Area, Group, Session, Tally

    area_id = uuid4()
    await Area.insert(Area(id=area_id, name=f"bench-{area_id.hex[:6]}", created_at=now()))
    group_rows, session_rows, tally_rows = [], [], []
    for index in range(groups):
        group_id = uuid4()
        group_rows.append(Group(id=group_id, area=area_id, name=f"団体{index:04d}", created_at=now()))
        for year in range(LAST_YEAR - YEARS + 1, LAST_YEAR + 1):
            for month in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3):
                session_id = uuid4()
                day = date(year + (month < 4), month, 10)
                session_rows.append(
                    Session(
                        id=session_id,
                        group=group_id,
                        date=day,
                        start_time=time(10),
                        end_time=time(12),
                        status="held",
                        venue_cost=1500,
                        created_at=now(),
                        updated_at=now(),
                    )
                )
                for category, share in CATEGORY_SHARES.items():  # about 30 people, varying a little
                    tally_rows.append(
                        Tally(
                            id=f"{session_id}:{category}",
                            session=session_id,
                            category=category,
                            delta_sum=share + (index + month) % 3 - 1,
                        )
                    )
    for table, rows in ((Group, group_rows), (Session, session_rows), (Tally, tally_rows)):
        for start in range(0, len(rows), 500):
            await table.insert(*rows[start : start + 500])
    await enrol([g.id for g in group_rows])
    await seed_follow_ups(area_id, [g.id for g in group_rows], session_rows)
    return area_id


async def seed_follow_ups(area_id, group_ids: list, sessions: list) -> None:
    """What the follow-up list reads: registered people marked at the latest year's sessions,
    one open safety check and one organiser's phone per group."""
    from datetime import timedelta

    from server.core.clock import now
    from server.tables import (
        Account,
        Attendance,
        GroupMembership,
        Ibasho,
        Person,
        SafetyCheck,
        Session,
        SyncClient,
    )

    first = date(LAST_YEAR, 4, 1)
    latest: dict = {}
    for s in sessions:
        if s.date >= first:
            latest.setdefault(s.group, []).append(s)
    ibasho, people, marks, checks, accounts, members, phones = [], [], [], [], [], [], []
    for index, group in enumerate(group_ids):
        place = uuid4()
        ibasho.append(Ibasho(id=place, group=group, name="サロン", registration_required=True, created_at=now()))
        roster = [Person(id=uuid4(), group=group, display_name=f"参加者{n}", category="senior") for n in range(PEOPLE)]
        people += roster
        held = sorted(latest[group], key=lambda s: s.date)
        for position, s in enumerate(held):
            for n, person in enumerate(roster):
                absent = n == 0 and position >= len(held) - 3
                status = "absent_unnotified" if absent or (n + position) % 7 == 0 else "present"
                marks.append(Attendance(id=f"{s.id}:{person.id}", session=s.id, person=person.id, status=status))
        checks.append(SafetyCheck(id=uuid4(), session=held[-1].id, person=roster[0].id, opened_at=now()))
        account = uuid4()
        accounts.append(
            Account(id=account, login=f"o{account.hex[:12]}", display_name="運営", password_hash="x", role="organiser")
        )
        members.append(GroupMembership(id=uuid4(), account=account, group=group))
        synced = now() - timedelta(days=30 if index % 2 else 1)
        phones.append(SyncClient(id=uuid4(), account=account, created_at=synced, last_seen_at=synced))
    for table, rows in (
        (Ibasho, ibasho),
        (Person, people),
        (Attendance, marks),
        (SafetyCheck, checks),
        (Account, accounts),
        (GroupMembership, members),
        (SyncClient, phones),
    ):
        for start in range(0, len(rows), 500):
            await table.insert(*rows[start : start + 500])
    for index, group in enumerate(group_ids):  # the sessions happen at the ibasho
        await Session.update({Session.ibasho: ibasho[index].id}).where(Session.group == group)


async def counted(work) -> tuple[object, int]:
    """``work()``'s result and how many queries it sent."""
    from server.tables import Group

    engine_class = type(Group._meta.db)
    original = engine_class.run_querystring
    seen = 0

    async def counting(self, querystring, *args, **kwargs):
        nonlocal seen
        seen += 1
        return await original(self, querystring, *args, **kwargs)

    engine_class.run_querystring = counting
    try:
        return await work(), seen
    finally:
        engine_class.run_querystring = original


async def timed(work) -> dict:
    """Wall time, and this process's CPU time (its SQLite thread included; not PostgreSQL's
    server): on a machine shared with other work, the CPU time says what the code costs."""
    await work()
    figures, cpu = [], []
    for _ in range(5):
        started, used = clock.perf_counter(), clock.process_time()
        await work()
        figures.append((clock.perf_counter() - started) * 1000)
        cpu.append((clock.process_time() - used) * 1000)
    return {"median": statistics.median(figures), "max": max(figures), "cpu": statistics.median(cpu)}


async def profiled(work) -> None:
    """One run of ``work`` under cProfile: the 25 functions with the most time of their own."""
    import cProfile
    import pstats

    await work()  # warm
    profile = cProfile.Profile()
    profile.enable()
    await work()
    profile.disable()
    pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(25)


async def measure(groups: int) -> dict:
    from piccolo.engine.postgres import PostgresEngine

    from server import db

    await db.migrate_forwards()
    engine = db.engine()
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool()
    try:
        from server.grants.data import group_grants
        from server.review import exports
        from server.review.dashboard import dashboard_lines
        from server.tables import Group
        from server.web import spreadsheets

        started = clock.perf_counter()
        big, small = await seed_area(groups), await seed_area(SMALL_AREA)
        print(f"seeded in {clock.perf_counter() - started:.0f} s", file=sys.stderr)
        as_of = date(LAST_YEAR + 1, 3, 31)

        def dashboard(area):
            return lambda: dashboard_lines([area], LAST_YEAR, as_of)

        from server.auth.principal import Principal
        from server.review import followups
        from server.tables import Role

        def follow_ups(area):
            staff = Principal(uuid4(), "bench", "bench", Role.staff, "ja", "bench", area_ids=frozenset([area]))

            async def work():
                items = await followups.derived_items(staff, as_of)
                await followups.attach_state(items)
                return items

            return work

        def grants(area):
            async def work():
                rows = await Group.select(Group.id).where(Group.area == area)
                return await group_grants([row["id"] for row in rows], LAST_YEAR, as_of=as_of)

            return work

        def export(area, kind):
            async def work():
                rows = await Group.select(Group.id, Group.name).where(Group.area == area).order_by(Group.name)
                table = await exports.build(rows, LAST_YEAR, "bench")
                return spreadsheets.csv_bytes(table) if kind == "csv" else spreadsheets.xlsx_bytes(table)

            return work

        works = {
            "dashboard": dashboard,
            "follow-ups": follow_ups,
            "grants alone": grants,
            "export, CSV": lambda area: export(area, "csv"),
            "export, XLSX": lambda area: export(area, "xlsx"),
        }
        result: dict = {"queries": {}}
        for label, work in works.items():
            if os.environ.get(PROFILE_ENV) == label:
                await profiled(work(big))
            result[label] = await timed(work(big))
            result["queries"][label] = [(await counted(work(area)))[1] for area in (big, small)]
        return result
    finally:
        if isinstance(engine, PostgresEngine):
            await engine.close_connection_pool()


if __name__ == "__main__":
    sys.exit(main())
