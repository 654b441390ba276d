"""The same migrations run forwards and backwards on SQLite and PostgreSQL (through ``ibasho migrate``)."""

from __future__ import annotations

import asyncio
import os
import sqlite3

import pytest

from server.piccolo_app import APP_CONFIG
from tests.factories import run_cli_ok
from tests.pg import (
    PostgresUnavailable,
    create_database,
    drop_database,
    postgres_admin_url,
    require_postgres,
)

TABLES = {table._meta.tablename for table in APP_CONFIG.table_classes}
FOREIGN_KEY_INDEXES = {"tally_session", "gathering_group_date", "attendance_session"}  # a sample


def sqlite_tables(path, kind: str = "table") -> set[str]:
    with sqlite3.connect(path) as connection:
        return {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = ?", (kind,))}


async def postgres_tables(url: str, kind: str = "table") -> set[str]:
    import asyncpg

    query = {
        "table": "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public'",
        "index": "SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public'",
    }[kind]
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(query)
    finally:
        await connection.close()
    return {row["name"] for row in rows}


def test_there_are_tables_to_migrate():
    assert {"area", "ibasho_group", "gathering", "attendance", "tally", "change_log", "reminder_delivery"} <= TABLES


def test_sqlite_forwards_backwards_forwards(tmp_path):
    env = {**os.environ, "IBASHO_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    database = tmp_path / "ibasho.sqlite"
    run_cli_ok("migrate", env=env)
    assert TABLES <= sqlite_tables(database)
    assert FOREIGN_KEY_INDEXES <= sqlite_tables(database, "index")
    run_cli_ok("migrate", "--backwards", "all", env=env)
    assert not TABLES & sqlite_tables(database)
    assert not FOREIGN_KEY_INDEXES & sqlite_tables(database, "index")
    run_cli_ok("migrate", env=env)
    assert TABLES <= sqlite_tables(database)


def test_postgres_forwards_backwards_forwards(tmp_path):
    try:
        name, url = create_database(postgres_admin_url(), "ibasho_migrations")
    except PostgresUnavailable as error:
        require_postgres(error)
        pytest.skip(str(error))
    try:
        env = {**os.environ, "IBASHO_DATA_DIR": str(tmp_path), "DATABASE_URL": url}
        run_cli_ok("migrate", env=env)
        assert TABLES <= asyncio.run(postgres_tables(url))
        assert FOREIGN_KEY_INDEXES <= asyncio.run(postgres_tables(url, "index"))
        run_cli_ok("migrate", "--backwards", "all", env=env)
        assert not FOREIGN_KEY_INDEXES & asyncio.run(postgres_tables(url, "index"))
        assert not TABLES & asyncio.run(postgres_tables(url))
        run_cli_ok("migrate", env=env)
        assert TABLES <= asyncio.run(postgres_tables(url))
    finally:
        drop_database(postgres_admin_url(), name)
