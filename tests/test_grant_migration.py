"""Existing grant programmes move into rule versions (migration "grant rules into versions")
and compute as before; backwards, the fields come back. Run on a fresh database of the
engine under test, through ``ibasho migrate`` as a council would."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from datetime import date, time
from uuid import UUID, uuid4

import pytest

from migrations.ibasho_2026_12_01t13_51_59_000000 import OLD_COLUMNS
from server.core.dates import fiscal_year
from server.grants.model import Rules
from server.grants.rules import SessionIn, evaluate
from tests.factories import run_cli_ok
from tests.pg import PostgresUnavailable, create_database, drop_database, postgres_admin_url, require_postgres

FIRST_OF_THE_CHANGE = "2026-12-01T13:51:58:375771"  # undone down to (and with) this one
ENGINE = os.environ.get("IBASHO_TEST_ENGINE", "sqlite")
FIELDS = tuple(name for name in OLD_COLUMNS if name != "min_age")  # min_age was never computed
MUSASHINO = dict(zip(FIELDS, (2, 120, 2500, 2500, 0, 100000, None, False), strict=True))
AOMORI = dict(zip(FIELDS, (None, None, 0, 0, 50000, None, 3, False), strict=True))
SALON = dict(zip(FIELDS, (None, 120, 4000, 0, 0, 200000, None, True), strict=True))


class Database:
    """Plain SQL on the fresh database, with ``?`` placeholders on either engine."""

    def __init__(self, sqlite_path=None, url=None) -> None:
        self.sqlite_path, self.url = sqlite_path, url

    def run(self, statement: str, *args) -> list[dict]:
        if self.sqlite_path:
            with sqlite3.connect(self.sqlite_path) as connection:
                connection.row_factory = sqlite3.Row
                return [dict(row) for row in connection.execute(statement, args).fetchall()]
        return asyncio.run(self._postgres(statement, args))

    async def _postgres(self, statement: str, args) -> list[dict]:
        import asyncpg

        parts = statement.split("?")
        numbered = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], start=1))
        connection = await asyncpg.connect(self.url)
        try:
            return [dict(row) for row in await connection.fetch(numbered, *args)]
        finally:
            await connection.close()

    def key(self, value: UUID):
        return str(value) if self.sqlite_path else value


@pytest.fixture
def fresh(tmp_path):
    env = {**os.environ, "IBASHO_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    if ENGINE == "sqlite":
        yield env, Database(sqlite_path=tmp_path / "ibasho.sqlite")
        return
    try:
        name, url = create_database(postgres_admin_url(), "ibasho_grant_migration")
    except PostgresUnavailable as error:
        require_postgres(error)
        pytest.skip(str(error))
    try:
        yield {**env, "DATABASE_URL": url}, Database(url=url)
    finally:
        drop_database(postgres_admin_url(), name)


def seed(database: Database) -> dict[str, UUID]:
    """Three programmes as the fields held them; Musashino's enrolled from 2023 and 2024,
    the salon's with a minimum age (never computed), Aomori's enrolled nowhere."""
    area, group_a, group_b = uuid4(), uuid4(), uuid4()
    k = database.key
    database.run('INSERT INTO "area" ("id", "name") VALUES (?, ?)', k(area), "圏域")
    for group in (group_a, group_b):
        database.run('INSERT INTO "ibasho_group" ("id", "area", "name") VALUES (?, ?, ?)', k(group), k(area), "団体")
    ids = {}
    for name, spec, min_age in (("musashino", MUSASHINO, None), ("aomori", AOMORI, None), ("salon", SALON, 65)):
        ids[name] = uuid4()
        columns = ", ".join(f'"{c}"' for c in ("id", "name", "notes", "min_age", *FIELDS))
        database.run(
            f'INSERT INTO "grant_programme" ({columns}) VALUES ({", ".join("?" * (4 + len(FIELDS)))})',
            k(ids[name]),
            name,
            "メモ",
            min_age,
            *spec.values(),
        )
    for group, year in ((group_a, 2024), (group_b, 2023)):
        database.run(
            'INSERT INTO "group_grant" ("id", "group", "programme", "first_fiscal_year") VALUES (?, ?, ?, ?)',
            k(uuid4()),
            k(group),
            k(ids["musashino"]),
            year,
        )
    return ids


def versions(database: Database, programme: UUID) -> list[dict]:
    rows = database.run(
        'SELECT "from_year", "rules" FROM "grant_rule_version" WHERE "programme" = ?', database.key(programme)
    )
    decoded = [json.loads(row["rules"]) if isinstance(row["rules"], str) else row["rules"] for row in rows]
    return [{**row, "rules": rules} for row, rules in zip(rows, decoded, strict=True)]


def held(day: date, cost: int | None = 1000, end: time = time(12)) -> SessionIn:
    return SessionIn(day.isoformat(), day, time(10), end, "held", cost, participants=10)


def test_programmes_move_into_versions_that_compute_as_the_fields_did_and_back(fresh):
    env, database = fresh
    run_cli_ok("migrate", env=env)
    run_cli_ok("migrate", "--backwards", FIRST_OF_THE_CHANGE, env=env)
    ids = seed(database)
    run_cli_ok("migrate", env=env)

    [musashino] = versions(database, ids["musashino"])
    assert musashino["from_year"] == 2023  # the earliest enrolment: every year computed before still is
    rules = Rules.from_json(musashino["rules"])
    every_two_months = [held(date(2025 + (m < 4), m, 1), cost=3000 if m == 5 else 1000) for m in (5, 7, 9, 11, 1, 3)]
    result = evaluate(rules, every_two_months + [held(date(2025, 6, 1), end=time(11, 50))], 2025, 2024)
    assert result.amount_due == 6 * 2500 + 5 * 1000 + 2500  # the 1h50 session does not count; 3,000 capped
    assert evaluate(rules, every_two_months[:-1], 2025, 2024).amount_due == 0  # no session after January

    [aomori] = versions(database, ids["aomori"])
    assert aomori["from_year"] == fiscal_year(date.today())  # enrolled nowhere: from the year it moved
    startup = Rules.from_json(aomori["rules"])
    assert [evaluate(startup, [], year, 2023).amount_due for year in (2023, 2025, 2026)] == [50000, 50000, 0]

    [salon] = versions(database, ids["salon"])
    salon_rules = Rules.from_json(salon["rules"])
    assert evaluate(salon_rules, [held(date(2025, 5, 1))], 2025, 2025, registration_required=True).amount_due == 4000
    assert evaluate(salon_rules, [held(date(2025, 5, 1))], 2025, 2025, registration_required=False).amount_due == 0
    notes = database.run('SELECT "notes" FROM "grant_programme" WHERE "id" = ?', database.key(ids["salon"]))
    assert notes == [{"notes": "メモ\n対象年齢：65歳以上"}]

    run_cli_ok("migrate", "--backwards", FIRST_OF_THE_CHANGE, env=env)
    columns = ", ".join(f'"{c}"' for c in FIELDS)
    for name, spec in (("musashino", MUSASHINO), ("aomori", AOMORI), ("salon", SALON)):
        [row] = database.run(f'SELECT {columns} FROM "grant_programme" WHERE "id" = ?', database.key(ids[name]))
        assert {key: (bool(v) if key == "requires_registration" else v) for key, v in row.items()} == spec, name
