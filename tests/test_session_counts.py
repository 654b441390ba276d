"""Each session's counts (present, 無断欠席, head counts) kept by the database's triggers:
they follow every way marks and head counts are written — phones' pushes, raw upserts,
updates, deletes, cascades, two transactions at once — and the backfill counts the same."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import random
import uuid
from pathlib import Path

import pytest

from server.core.dates import fiscal_year
from server.db import engine, write_rows, write_transaction
from server.grants.data import load_sessions as grant_sessions
from server.review.data import load_sessions as review_sessions
from server.review.data import today
from server.tables import Attendance, Person, Session, Tally
from tests.factories import make_person, make_session, synced_phone

STATUSES = ["present", "absent_notified", "absent_unnotified", "unmarked"]
CATEGORIES = ["child", "adult", "senior", "volunteer"]
MIGRATION = Path(__file__).parent.parent / "migrations" / "ibasho_2026_12_02t01_17_35_000000.py"


async def kept(session_id) -> dict:
    row = await Session.select(Session.present_count, Session.walk_in_count).where(Session.id == session_id)
    return row[0]


async def recounted(session_id) -> dict:
    """The counts worked out here from the rows, by the rules the review pages state."""
    marks = [r["status"] for r in await Attendance.select(Attendance.status).where(Attendance.session == session_id)]
    tallies = await Tally.select(Tally.category, Tally.delta_sum).where(Tally.session == session_id)
    return {
        "present_count": marks.count("present"),
        "walk_in_count": sum(max(0, t["delta_sum"]) for t in tallies if t["category"] != "volunteer"),
    }


async def test_a_phones_marks_and_head_counts_move_the_sessions_counts(new_client, world):
    phone = await synced_phone(new_client, world.organiser_a)
    session_id = str(uuid.uuid4())
    phone.mutate("session.upsert", id=session_id, group_id=str(world.group_a), date="2026-11-01", title="きらくら")
    people = [str(uuid.uuid4()) for _ in range(4)]
    for n, person in enumerate(people):
        phone.mutate("person.upsert", id=person, group_id=str(world.group_a), display_name=f"参加者{n}")
    for person, status in zip(people, ["present", "present", "present", "absent_unnotified"], strict=True):
        phone.mutate("attendance.set", session_id=session_id, person_id=person, status=status)
    for category, delta in [("child", 5), ("volunteer", 3), ("adult", 2), ("adult", -4)]:
        phone.mutate("tally.add", session_id=session_id, category=category, delta=delta)
    await phone.sync()
    assert await kept(session_id) == {"present_count": 3, "walk_in_count": 5}

    phone.mutate("attendance.set", session_id=session_id, person_id=people[0], status="absent_notified")
    phone.mutate("attendance.set", session_id=session_id, person_id=people[1], status="present")  # no change
    phone.mutate("tally.add", session_id=session_id, category="adult", delta=6)  # -2 + 6: counts 4
    phone.mutate("person.delete", id=people[3])  # a tombstone: the mark stays, and counts
    await phone.sync()
    assert await kept(session_id) == {"present_count": 2, "walk_in_count": 9}
    assert await kept(session_id) == await recounted(session_id)

    await Person.delete().where(Person.id == uuid.UUID(people[1]))  # deleted outright: its mark goes by cascade
    assert await kept(session_id) == {"present_count": 1, "walk_in_count": 9}
    await Session.delete().where(Session.id == uuid.UUID(session_id))  # its rows go with it, without an error
    assert await Attendance.count().where(Attendance.session == uuid.UUID(session_id)) == 0


async def test_every_kind_of_write_keeps_the_counts_equal_to_a_recount(world):
    """Random upserts (raw, as a push writes them), updates and deletes of marks and head
    counts over three sessions, checked against a recount after each batch."""
    rng = random.Random(20261202)
    sessions = [await make_session(world.group_a, tallies={}, note=False) for _ in range(3)]
    people = [await make_person(world.group_a, f"参加者{n}") for n in range(8)]
    for _batch in range(25):
        async with write_transaction():
            for _ in range(rng.randint(1, 12)):
                session, person = rng.choice(sessions), rng.choice(people)
                action = rng.random()
                if action < 0.45:
                    await write_rows(
                        Attendance,
                        [
                            {
                                "id": f"{session}:{person}",
                                "session": session,
                                "person": person,
                                "status": rng.choice(STATUSES),
                            }
                        ],
                        on_conflict="id",
                        update=["status"],
                    )
                elif action < 0.6:
                    await Attendance.delete().where(Attendance.id == f"{session}:{person}")
                elif action < 0.85:
                    category = rng.choice(CATEGORIES)
                    await write_rows(
                        Tally,
                        [
                            {
                                "id": f"{session}:{category}",
                                "session": session,
                                "category": category,
                                "delta_sum": rng.randint(-5, 9),
                            }
                        ],
                        on_conflict="id",
                        update=["delta_sum"],
                    )
                elif action < 0.95:
                    await Tally.update({Tally.delta_sum: Tally.delta_sum + rng.randint(-4, 4)}).where(
                        Tally.session == session
                    )
                else:
                    await Tally.delete().where(Tally.id == f"{session}:{rng.choice(CATEGORIES)}")
        for session in sessions:
            assert await kept(session) == await recounted(session)
    totals = [await kept(s) for s in sessions]
    assert any(t["present_count"] for t in totals) and any(t["walk_in_count"] for t in totals)  # it counted


async def test_the_backfill_counts_what_the_triggers_count(world):
    session = await make_session(world.group_a, tallies={"child": 4, "senior": -1, "volunteer": 2}, note=False)
    for n, status in enumerate(["present", "present", "absent_unnotified"]):
        person = await make_person(world.group_a, f"参加者{n}")
        await Attendance.insert(Attendance(id=f"{session}:{person}", session=session, person=person, status=status))
    expected = await kept(session)
    assert expected == {"present_count": 2, "walk_in_count": 4}
    empty = await make_session(world.group_a, tallies={}, note=False)
    await Session.update({Session.present_count: 7, Session.walk_in_count: 7}).where(Session.id.is_in([session, empty]))
    spec = importlib.util.spec_from_file_location("session_counts_migration", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    await engine().run_ddl(migration.recount())
    assert await kept(session) == expected
    assert await kept(empty) == {"present_count": 0, "walk_in_count": 0}  # not NULL


async def test_rows_moved_to_another_session_and_one_upsert_of_new_and_old_rows_count_right(world):
    first = await make_session(world.group_a, tallies={}, note=False)
    second = await make_session(world.group_a, tallies={}, note=False)
    people = [await make_person(world.group_a, f"参加者{n}") for n in range(4)]

    def marks(session, statuses):
        return [
            {"id": f"{session}:{p}", "session": session, "person": p, "status": status}
            for p, status in zip(people, statuses, strict=False)
        ]

    async with write_transaction():
        await write_rows(Attendance, marks(first, ["present", "present"]))
        # one statement: two marks changed, two new
        await write_rows(
            Attendance,
            marks(first, ["absent_notified", "present", "present", "present"]),
            on_conflict="id",
            update=["status"],
        )
    assert await kept(first) == {"present_count": 3, "walk_in_count": 0}
    await Tally.insert(Tally(id=f"{first}:child", session=first, category="child", delta_sum=5))
    await Attendance.update({Attendance.session: second}).where(Attendance.id == f"{first}:{people[1]}")
    await Tally.update({Tally.session: second}).where(Tally.id == f"{first}:child")
    assert await kept(first) == {"present_count": 2, "walk_in_count": 0} == await recounted(first)
    assert await kept(second) == {"present_count": 1, "walk_in_count": 5} == await recounted(second)


async def test_the_review_and_grant_loaders_read_the_kept_counts(world):
    """Present and head counts as the pages count them: 無断欠席 and notified absences are not
    present, negative sums and the volunteers are not participants."""
    session = await make_session(world.group_a, today(), tallies={"child": 4, "adult": -2, "volunteer": 3}, note=False)
    for n, status in enumerate(["present", "present", "absent_unnotified", "absent_notified"]):
        person = await make_person(world.group_a, f"参加者{n}")
        await Attendance.insert(Attendance(id=f"{session}:{person}", session=session, person=person, status=status))
    year = fiscal_year(today())
    (row,) = [s for s in await review_sessions([world.group_a], year) if s.id == session]
    assert (row.registered_present, row.walk_ins, row.attendance, row.volunteers) == (2, 4, 6, 3)
    (counted,) = [s for _group, s in await grant_sessions([world.group_a], year) if s.id == str(session)]
    assert counted.participants == 6


@pytest.mark.skipif(
    os.environ.get("IBASHO_TEST_ENGINE", "sqlite") != "postgres",
    reason="PostgreSQL only: SQLite runs one write transaction at a time",
)
async def test_two_transactions_marking_one_session_at_once_both_count(world):
    """The second waits on the session's row, then adds to what the first committed (a
    recount in the trigger, from its own snapshot, would have missed the first's marks)."""
    session = await make_session(world.group_a, tallies={}, note=False)
    people = [await make_person(world.group_a, f"参加者{n}") for n in range(5)]
    first_wrote = asyncio.Event()

    async def mark(who, wait: bool) -> None:
        async with engine().transaction():
            rows = [{"id": f"{session}:{p}", "session": session, "person": p, "status": "present"} for p in who]
            await write_rows(Attendance, rows)
            if wait:
                first_wrote.set()
                await asyncio.sleep(0.3)  # holds the session's row while the other tries

    async def second() -> None:
        await first_wrote.wait()
        await mark(people[3:], wait=False)

    await asyncio.gather(mark(people[:3], wait=True), second())
    assert (await kept(session))["present_count"] == 5
