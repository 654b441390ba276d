"""Pull while writes commit, on PostgreSQL: no change missed or repeated.

PostgreSQL only: there pushes run in parallel on the pool's connections; SQLite takes its
write lock at the start of every push (BEGIN IMMEDIATE), so writers never overlap.

A push takes transaction-scoped advisory locks (``server.core.changelog.hold_push_locks``) on
the groups it may write and its client when it starts, so pushes that may touch the same
records apply one at a time while other groups' go on; the change-number lock, from the
hand-out of numbers to the commit, makes change numbers visible in increasing order.
The tests here check that from the outside (a reader paging through more than 10,000
changes while four writers commit) and from the inside (a push held open at chosen points
inside its transaction while another waits and a reader pulls; another group's push and
an admin's meanwhile; two pushes on one tally; a first push retried while still in flight).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import Counter
from dataclasses import dataclass, field

import pytest

from server.sync.store import PiccoloStore
from server.tables import MutationLog, Tally
from sync import engine
from sync.hlc import Clock
from sync.ids import uuid7
from sync.mutations import Scope
from sync.wire import Mutation, PushRequest
from tests.factories import make_account, make_area, make_group

pytestmark = pytest.mark.skipif(
    os.environ.get("IBASHO_TEST_ENGINE", "sqlite") != "postgres",
    reason="PostgreSQL only: SQLite serialises writers (BEGIN IMMEDIATE), so commits never overlap",
)

WAIT = 30  # seconds: the bound on every wait here


@dataclass
class Writer:
    """A phone pushing straight into the engine, with its own client id and seqs."""

    scope: Scope
    store: PiccoloStore = field(default_factory=PiccoloStore)
    client_id: uuid.UUID = field(default_factory=uuid.uuid4)
    seq: int = 0

    def __post_init__(self) -> None:
        self.clock = Clock(str(self.client_id))

    def mutation(self, name: str, **args) -> Mutation:
        self.seq += 1
        return Mutation(id=uuid7(), seq=self.seq, name=name, args=args, hlc=self.clock.tick())

    async def push(self, mutations: list[Mutation], store: PiccoloStore | None = None):
        request = PushRequest(client_id=self.client_id, mutations=mutations)
        return await engine.push(store or self.store, self.scope, request)


async def seed() -> tuple[Scope, uuid.UUID, str]:
    """A group with an organiser and one session; returns (scope, group id, session id)."""
    group_id = await make_group(await make_area())
    organiser = await make_account("organiser", groups=[group_id])
    scope = Scope(organiser.account_id, frozenset({group_id}))
    session_id = str(uuid.uuid4())
    writer = Writer(scope)
    response = await writer.push(
        [writer.mutation("session.upsert", id=session_id, group_id=str(group_id), date="2026-06-01")]
    )
    assert [r.status for r in response.results] == ["applied"]
    return scope, group_id, session_id


async def pull_all(scope: Scope, cursor: int = 0, limit: int = 5000) -> tuple[dict, int]:
    """Everything after ``cursor``, paged; returns (state by (entity, id), final cursor)."""
    state: dict[tuple[str, str], dict | None] = {}
    while True:
        page = await engine.pull(PiccoloStore(), scope, uuid.uuid4(), cursor, limit)
        for change in page.changes:
            state[(change.entity, change.id)] = None if change.deleted else change.data
        cursor = page.cursor
        if not page.more:
            return state, cursor


# --- a reader pages through more than 10,000 changes while writers commit ----------------

WRITERS = 4
PERSONS_PER_WRITER = 1300  # a person and an attendance each: 10,400 entities
RENAME_EVERY = 5  # every 5th person is changed again, later: 1,040 more changes
CHUNK = 8  # persons per push: ~18 mutations
PAGE = 200


async def write_many(writer: Writer, session_id: str, group_id: uuid.UUID, number: int):
    """Persons, their attendance, and later a new name for some: every entity's final state
    and how many changes it had are known."""
    expected: dict[tuple[str, str], dict] = {}
    changes: Counter = Counter()
    persons = [str(uuid.uuid4()) for _ in range(PERSONS_PER_WRITER)]
    for start in range(0, len(persons), CHUNK):
        chunk = range(start, min(start + CHUNK, len(persons)))
        # Persons before attendance in every push.
        batch = []
        for index in chunk:
            person_id, name = persons[index], f"w{number} p{index}"
            batch.append(writer.mutation("person.upsert", id=person_id, group_id=str(group_id), display_name=name))
            expected[("person", person_id)] = {"display_name": name}
            changes[("person", person_id)] += 1
        for index in chunk:
            if index >= 50 and index % RENAME_EVERY == 0:  # a person pushed a few batches earlier
                renamed, name = persons[index - 50], f"w{number} renamed {index}"
                batch.append(writer.mutation("person.upsert", id=renamed, display_name=name))
                expected[("person", renamed)] = {"display_name": name}
                changes[("person", renamed)] += 1
        for index in chunk:
            person_id, status = persons[index], ("present", "absent_notified", "absent_unnotified")[index % 3]
            batch.append(writer.mutation("attendance.set", session_id=session_id, person_id=person_id, status=status))
            expected[("attendance", f"{session_id}:{person_id}")] = {"status": status, "person_id": person_id}
            changes[("attendance", f"{session_id}:{person_id}")] += 1
        response = await writer.push(batch)
        assert {r.status for r in response.results} == {"applied"}, response
    return expected, changes


@pytest.mark.slow  # PostgreSQL only (about 30 s there)
async def test_pull_pages_over_10000_changes_while_writers_commit_miss_nothing_and_repeat_nothing():
    scope, group_id, session_id = await seed()
    writers_done = asyncio.Event()
    seen: Counter = Counter()
    reader_state: dict[tuple[str, str], dict | None] = {}
    log = {"pages": 0, "pages_while_writing": 0, "caught_up_while_writing": 0, "changes": 0}

    async def reader() -> None:
        cursor, store, client_id = 0, PiccoloStore(), uuid.uuid4()
        while True:
            finished_before = writers_done.is_set()
            page = await engine.pull(store, scope, client_id, cursor, PAGE)
            log["pages"] += 1
            log["pages_while_writing"] += not finished_before
            keys = [(c.entity, c.id) for c in page.changes]
            assert len(keys) == len(set(keys)), "an entity repeats within a page"
            assert len(keys) <= PAGE
            assert page.cursor > cursor if keys else page.cursor == cursor, (cursor, page.cursor)
            for change in page.changes:
                seen[(change.entity, change.id)] += 1
                reader_state[(change.entity, change.id)] = None if change.deleted else change.data
            log["changes"] += len(keys)
            cursor = page.cursor
            if not page.more:
                if finished_before:
                    return  # this page started after the last commit and reached the end
                log["caught_up_while_writing"] += 1
                await asyncio.sleep(0.002)

    async def writers() -> list:
        try:
            return await asyncio.gather(
                *(write_many(Writer(scope), session_id, group_id, number) for number in range(WRITERS))
            )
        finally:
            writers_done.set()

    results, _ = await asyncio.wait_for(asyncio.gather(writers(), reader()), timeout=300)

    expected: dict = {}
    changes: Counter = Counter()
    for writer_expected, writer_changes in results:
        expected.update(writer_expected)
        changes.update(writer_changes)
    assert sum(changes.values()) > 10_000
    assert log["changes"] > 10_000 and log["pages"] > 10_000 // PAGE
    assert log["pages_while_writing"] > 5, f"the reader did not overlap the writers: {log}"

    # Nothing missed: every entity any writer committed reached the reader, in its final state.
    missing = sorted(set(expected) - set(reader_state))
    assert not missing, f"{len(missing)} entities never pulled, e.g. {missing[:3]}"
    for key, fields in expected.items():
        data = reader_state[key]
        assert data is not None and {name: data[name] for name in fields} == fields, (key, data, fields)
    # Nothing repeated: an entity arrives at most once per change it had.
    repeated = {key: (seen[key], changes[key]) for key in expected if seen[key] > changes[key]}
    assert not repeated, f"pulled more often than changed: {list(repeated.items())[:5]}"
    # The reader's copy is the database's: a fresh pull from 0 after everything committed.
    database, _ = await pull_all(scope)
    assert reader_state == database


# --- white box: a push held open inside its transaction ------------------------------------


class PausingStore(PiccoloStore):
    """Stops a push inside its transaction until released: ``before_number`` just before
    change numbers are handed out (rows written, nothing committed); ``holding_number``
    after that, with the change-number lock held, just before the commit."""

    def __init__(self, where: str) -> None:
        super().__init__()
        self.where = where
        self.paused = asyncio.Event()
        self.release = asyncio.Event()

    async def _pause(self) -> None:
        self.paused.set()
        await asyncio.wait_for(self.release.wait(), WAIT)

    async def publish(self, changed) -> None:
        if self.where == "before_number":
            await self._pause()
        await super().publish(changed)
        if self.where == "holding_number":
            await self._pause()


async def _started(task: asyncio.Task, store: PausingStore) -> None:
    await asyncio.wait_for(asyncio.shield(store.paused.wait()), WAIT)
    assert not task.done()


@pytest.mark.parametrize("pause", ["before_number", "holding_number"])
async def test_a_push_still_open_holds_back_later_ones_and_nothing_is_passed_over(pause):
    """Pushes are applied one at a time on PostgreSQL (an advisory lock taken at the start of
    the transaction): a later push waits for an open one, wherever it is paused, so change
    numbers become visible in order and a pull never passes over one."""
    scope, group_id, _ = await seed()
    _, cursor = await pull_all(scope)
    first, second = Writer(scope), Writer(scope)
    first_person, second_person = str(uuid.uuid4()), str(uuid.uuid4())

    held = PausingStore(pause)
    first_task = asyncio.create_task(
        first.push(
            [first.mutation("person.upsert", id=first_person, group_id=str(group_id), display_name="first")], held
        )
    )
    second_task = None
    try:
        await _started(first_task, held)
        second_task = asyncio.create_task(
            second.push(
                [second.mutation("person.upsert", id=second_person, group_id=str(group_id), display_name="second")]
            )
        )
        done, _ = await asyncio.wait({second_task}, timeout=0.5)
        assert not done, "a later push went ahead of an open one"
        middle = await engine.pull(PiccoloStore(), scope, uuid.uuid4(), cursor, 200)
        assert middle.changes == [] and middle.cursor == cursor  # nothing committed past the open one
    finally:
        held.release.set()
        await asyncio.wait_for(first_task, WAIT)
        if second_task is not None:
            await asyncio.wait_for(second_task, WAIT)

    after = await engine.pull(PiccoloStore(), scope, uuid.uuid4(), middle.cursor, 200)
    assert [c.id for c in after.changes] == [first_person, second_person]  # both, in commit order


async def test_other_groups_push_while_one_is_open_and_numbers_still_commit_in_order():
    """A push open inside its transaction holds back only pushes that may write its group;
    another group's push commits meanwhile, unless the open one already holds the change
    numbers. An admin's push (any group) waits for every open one."""
    first_scope, first_group, _ = await seed()
    second_scope, second_group, _ = await seed()
    both = Scope(first_scope.account_id, frozenset({first_group, second_group}))
    _, cursor = await pull_all(both)
    first, second = Writer(first_scope), Writer(second_scope)
    admin = Writer(Scope(first_scope.account_id, None))

    def person(writer: Writer, group_id, name: str) -> tuple[str, list[Mutation]]:
        person_id = str(uuid.uuid4())
        return person_id, [writer.mutation("person.upsert", id=person_id, group_id=str(group_id), display_name=name)]

    held = PausingStore("before_number")
    open_id, open_push = person(first, first_group, "open")
    open_task = asyncio.create_task(first.push(open_push, held))
    try:
        await _started(open_task, held)
        other_id, other_push = person(second, second_group, "other group")
        await asyncio.wait_for(second.push(other_push), WAIT)  # not held back
        admin_id, admin_push = person(admin, second_group, "admin")
        admin_task = asyncio.create_task(admin.push(admin_push))
        done, _ = await asyncio.wait({admin_task}, timeout=0.5)
        assert not done, "an admin's push went ahead of an open group push"
    finally:
        held.release.set()
        await asyncio.wait_for(open_task, WAIT)
    await asyncio.wait_for(admin_task, WAIT)
    after = await engine.pull(PiccoloStore(), both, uuid.uuid4(), cursor, 200)
    assert [c.id for c in after.changes] == [other_id, open_id, admin_id]  # in commit order

    held = PausingStore("holding_number")  # the open push holds the change numbers now
    open_id, open_push = person(first, first_group, "open again")
    open_task = asyncio.create_task(first.push(open_push, held))
    try:
        await _started(open_task, held)
        other_id, other_push = person(second, second_group, "waits for the number")
        other_task = asyncio.create_task(second.push(other_push))
        done, _ = await asyncio.wait({other_task}, timeout=0.5)
        assert not done, "a change number was handed out while a lower one was uncommitted"
    finally:
        held.release.set()
        await asyncio.wait_for(open_task, WAIT)
    await asyncio.wait_for(other_task, WAIT)
    later = await engine.pull(PiccoloStore(), both, uuid.uuid4(), after.cursor, 200)
    assert [c.id for c in later.changes] == [open_id, other_id]


# --- concurrent pushes that touch the same rows ------------------------------------------------


async def test_two_phones_counting_at_the_same_moment_add_up():
    scope, _, session_id = await seed()
    first, second = Writer(scope), Writer(scope)
    held = PausingStore("before_number")
    first_task = asyncio.create_task(
        first.push([first.mutation("tally.add", session_id=session_id, category="child", delta=1)], held)
    )
    second_task = None
    try:
        await _started(first_task, held)  # the first push has written count 1, not committed
        second_task = asyncio.create_task(
            second.push([second.mutation("tally.add", session_id=session_id, category="child", delta=1)])
        )
        await asyncio.wait({second_task}, timeout=0.5)
    finally:
        held.release.set()
        await asyncio.wait_for(first_task, WAIT)
        if second_task is not None:
            await asyncio.wait_for(second_task, WAIT)
    row = await Tally.select(Tally.delta_sum).where(Tally.id == f"{session_id}:child").first()
    assert row["delta_sum"] == 2


async def test_a_first_push_retried_while_still_in_flight_is_applied_once():
    scope, _, session_id = await seed()
    phone = Writer(scope)
    batch = [phone.mutation("tally.add", session_id=session_id, category="adult", delta=1)]
    held = PausingStore("before_number")
    first_task = asyncio.create_task(phone.push(batch, held))
    second_task = None
    try:
        await _started(first_task, held)
        second_task = asyncio.create_task(phone.push(batch))  # the phone timed out and sends it again
        await asyncio.wait({second_task}, timeout=0.5)
    finally:
        held.release.set()
        responses = [await asyncio.wait_for(first_task, WAIT)]
        if second_task is not None:
            responses.append(await asyncio.wait_for(second_task, WAIT))
    assert sorted(r.results[0].status for r in responses) == ["applied", "duplicate"]
    assert await MutationLog.count().where(MutationLog.mutation_id == batch[0].id) == 1
