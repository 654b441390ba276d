"""Database engine selection and start-up tasks shared by every entry point."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import sqlite3
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import unquote, urlparse
from weakref import WeakKeyDictionary

from piccolo.columns import JSON, JSONB
from piccolo.engine import sqlite as sqlite_engine
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table

from server.config import get_settings


def postgres_config(url: str) -> dict:
    parsed = urlparse(url)
    return {
        "host": parsed.hostname or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": unquote(parsed.username or "postgres"),
        "password": unquote(parsed.password) if parsed.password else None,
        "database": parsed.path.lstrip("/") or "postgres",
    }


def _lean_uuid(value: bytes) -> uuid.UUID:
    if len(value) != 36:
        return sqlite_engine.convert_uuid_out(value)  # raises as Piccolo's does
    made = object.__new__(uuid.UUID)  # what uuid.UUID(text) makes, without parsing it in Python
    object.__setattr__(made, "int", int(value.replace(b"-", b""), 16))
    object.__setattr__(made, "is_safe", uuid.SafeUUID.unknown)
    return made


def _lean_int(value: bytes) -> int:
    try:
        return int(value)
    except ValueError:  # a float stored in an INTEGER column ("1.0"): Piccolo's rule
        return sqlite_engine.convert_int_out(value)


LEAN_CONVERTERS = {
    "UUID": _lean_uuid,
    "INTEGER": _lean_int,
    "DATE": lambda value: dt.date.fromisoformat(value.decode()),
    "TIME": lambda value: dt.time.fromisoformat(value.decode()),
    "BOOLEAN": lambda value: value == b"1",
    "TIMESTAMPTZ": lambda value: dt.datetime.fromisoformat(value.decode()).replace(tzinfo=dt.UTC),
}


def use_lean_sqlite_converters() -> None:
    """The same values as the converters Piccolo registers for SQLite's column types, made
    without its per-value wrapper and Decimal round trip: those took more time than SQLite
    itself for thousands of rows (the review pages' 6,000 sessions: 166 ms read, 72 ms with
    these; tests/test_sqlite_converters.py holds them to Piccolo's results)."""
    for type_name, converter in LEAN_CONVERTERS.items():
        sqlite3.register_converter(type_name, converter)


def make_engine() -> Engine:
    settings = get_settings()
    if settings.is_sqlite:
        use_lean_sqlite_converters()
        path = settings.sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        # A generous busy timeout: several writers queue instead of failing.
        return SQLiteEngine(path=str(path), timeout=30)
    if settings.database_url.startswith(("postgres://", "postgresql://")):
        return PostgresEngine(config=postgres_config(settings.database_url))
    raise ValueError(f"DATABASE_URL must start with sqlite:/// or postgresql://, got {settings.database_url!r}")


def engine() -> Engine:
    from piccolo.engine.finder import engine_finder

    found = engine_finder()
    assert found is not None, "PICCOLO_CONF did not give an engine"
    return found


@asynccontextmanager
async def write_transaction() -> AsyncIterator[None]:
    """A transaction that will write.

    On SQLite it is IMMEDIATE: the write lock is taken at BEGIN, so a writer waits out the busy
    timeout. A DEFERRED transaction that reads first and then writes fails at once with
    "database is locked" if another process committed in between, because SQLite cannot
    wait its way out of a stale snapshot. Writers of one process also queue on an asyncio
    lock first: in turn, instead of polling SQLite's busy handler, whose growing sleeps let
    an unlucky push wait for seconds while others overtake it.
    """
    db = engine()
    if not isinstance(db, SQLiteEngine):
        async with db.transaction():
            yield
        return
    if _writing.get():  # nested in this task's own write transaction
        async with db.transaction(transaction_type=TransactionType.immediate):
            yield
        return
    async with _sqlite_writer_lock():
        token = _writing.set(True)
        try:
            async with db.transaction(transaction_type=TransactionType.immediate):
                yield
        finally:
            _writing.reset(token)


@asynccontextmanager
async def read_transaction() -> AsyncIterator[None]:
    """One connection and one snapshot for a read of several queries (a pull page): on SQLite
    every query outside a transaction opens a connection of its own, with a thread, which
    cost more than the queries; and every query then sees the same state. It never writes,
    so on SQLite (WAL) it takes no lock and waits for no writer."""
    if _writing.get():  # already inside this task's write transaction
        yield
        return
    async with engine().transaction():
        yield


_writing: ContextVar[bool] = ContextVar("ibasho_sqlite_writing", default=False)
_writer_locks: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = WeakKeyDictionary()


def _sqlite_writer_lock() -> asyncio.Lock:
    """One lock per event loop (the CLI and the tests run more than one loop in a process)."""
    loop = asyncio.get_running_loop()
    if loop not in _writer_locks:
        _writer_locks[loop] = asyncio.Lock()
    return _writer_locks[loop]


async def prepare_sqlite(db: Engine) -> None:
    """WAL lets readers run beside the one writer; the setting persists in the file."""
    if isinstance(db, SQLiteEngine):
        await db.run_ddl("PRAGMA journal_mode=WAL")
        await db.run_ddl("PRAGMA foreign_keys=ON")


async def migrate_forwards() -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    await prepare_sqlite(engine())
    result = await run_forwards(app_name="ibasho", migration_id="all")
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}")


async def migrate_backwards(migration_id: str = "all") -> None:
    from piccolo.apps.migrations.commands.backwards import run_backwards

    result = await run_backwards(app_name="ibasho", migration_id=migration_id, auto_agree=True)
    if not result.success:
        raise RuntimeError(f"backwards migration failed: {result.message}")


ROWS_PER_STATEMENT = 500
_NUMBERED = re.compile(r"\$\d+")


async def run_sql(sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Rows of one statement, straight on the driver, in the caller's transaction if there
    is one. ``sql`` numbers its parameters ``$1, $2, …`` in order (PostgreSQL's style; they
    become ``?`` on SQLite). For the sync hot paths: Piccolo builds and compiles a query
    string per call, which took more CPU than the database did."""
    db = engine()
    current = db.current_transaction.get()
    if isinstance(db, PostgresEngine):
        if current is not None:
            return [dict(row) for row in await current.connection.fetch(sql, *args)]
        async with db.pool.acquire() if db.pool else _new_connection(db) as connection:
            return [dict(row) for row in await connection.fetch(sql, *args)]
    sql = _NUMBERED.sub("?", sql)
    if current is not None:
        cursor = await current.connection.execute(sql, list(args))
        return list(await cursor.fetchall())
    connection = await db.get_connection()
    try:
        cursor = await connection.execute(sql, list(args))
        rows = list(await cursor.fetchall())
        await connection.commit()
        return rows
    finally:
        await connection.close()


@asynccontextmanager
async def _new_connection(db: PostgresEngine):
    connection = await db.get_new_connection()
    try:
        yield connection
    finally:
        await connection.close()


async def write_rows(
    table: type[Table], rows: list[dict[str, Any]], *, on_conflict: str | None = None, update: list[str] = ()
) -> None:
    """INSERT many rows (all with the same keys, named by column) in few statements, as an
    upsert when ``on_conflict`` names the key column.

    Straight on the driver (``run_sql``): building a Piccolo object and query string per
    row was most of the time of a 500-mutation push. JSON is encoded here (sqlite3 and
    asyncpg both take it as text). On PostgreSQL the rows go as one array per column
    (``unnest``), so the statement is the same for any number of rows and is prepared once.
    """
    if not rows:
        return
    names = list(rows[0])
    columns = {c._meta.db_column_name: c for c in table._meta.columns}
    as_json = {name for name, c in columns.items() if isinstance(c, (JSON, JSONB))}
    quoted = ", ".join(f'"{name}"' for name in names)
    tail = ""
    if on_conflict:
        assignments = ", ".join(f'"{name}" = excluded."{name}"' for name in update)
        tail = f' ON CONFLICT ("{on_conflict}") DO UPDATE SET {assignments}'

    def value(row: dict[str, Any], name: str) -> Any:
        return json.dumps(row[name], ensure_ascii=False) if name in as_json else row[name]

    head = f'INSERT INTO "{table._meta.tablename}" ({quoted}) '
    if isinstance(engine(), PostgresEngine):
        arrays = ", ".join(f"${n}::{_array_type(columns[name])}" for n, name in enumerate(names, start=1))
        sql = f"{head}SELECT * FROM unnest({arrays}){tail}"
        for start in range(0, len(rows), ROWS_PER_STATEMENT * 10):
            chunk = rows[start : start + ROWS_PER_STATEMENT * 10]
            await run_sql(sql, [[value(row, name) for row in chunk] for name in names])
        return
    one_row = "(" + ", ".join("?" for _ in names) + ")"
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        chunk = rows[start : start + ROWS_PER_STATEMENT]
        values = [value(row, name) for row in chunk for name in names]
        await run_sql(head + "VALUES " + ", ".join([one_row] * len(chunk)) + tail, values)


def _array_type(column: Any) -> str:
    """The PostgreSQL array type for a column's values (``jsonb[]``, ``varchar[]``…): with no
    length, since a cast to ``varchar(n)`` would cut a longer text where the insert refuses it."""
    return re.sub(r"\(.*\)", "", column.column_type.lower()) + "[]"
