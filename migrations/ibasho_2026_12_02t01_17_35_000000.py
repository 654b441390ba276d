"""Has the database keep each session's counts (``gathering.present_count`` and
``walk_in_count``, added by the migration before) as attendance marks and head counts
change, and fills them in for the sessions there are.

Triggers, not the code that writes: phones' pushes, staff pages, erasure and cascades all
write these rows, some as raw statements (server/db.py write_rows), and every one of them
must move the counts. Each trigger adds what the changed rows count now and takes away
what they counted before, so two transactions changing the same session's marks both land
(a recount in a trigger could miss the other's rows under READ COMMITTED). PostgreSQL's
fire once per statement, on its transition tables: a push of 500 marks updates each of its
sessions once. SQLite has only row triggers, which run in the engine itself.

The counting rules are written out here, not imported, so that this migration keeps
meaning what it meant: a registered person counts as present by the mark's status; a
head count counts when it is not the volunteers' and its sum is above zero.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-02T01:17:35:000000"
VERSION = "1.38.0"
DESCRIPTION = "session counts kept by triggers"

# Per table: each count column and what one row adds to it ({r}: the row's name).
COUNTS = {
    "attendance": {
        "present_count": "CASE WHEN {r}.\"status\" = 'present' THEN 1 ELSE 0 END",
    },
    "tally": {
        "walk_in_count": 'CASE WHEN {r}."category" <> \'volunteer\' AND {r}."delta_sum" > 0 '
        'THEN {r}."delta_sum" ELSE 0 END',
    },
}


class Raw(Table):
    """Only a handle for raw statements."""


def is_postgres() -> bool:
    return Raw._meta.db.engine_type == "postgres"


def sqlite_step(table: str, row: str, sign: str) -> str:
    """Adds (``+``) or takes away (``-``) what ``row`` (NEW or OLD) counts."""
    counts = COUNTS[table]
    assignments = ", ".join(f'"{column}" = "{column}" {sign} ({rule.format(r=row)})' for column, rule in counts.items())
    return f'UPDATE "gathering" SET {assignments} WHERE "id" = {row}."session";'


def sqlite_triggers(table: str) -> list[str]:
    changed = " OR ".join(
        [f"({rule.format(r='OLD')}) IS NOT ({rule.format(r='NEW')})" for rule in COUNTS[table].values()]
        + ['OLD."session" IS NOT NEW."session"']
    )
    name = f"{table}_session_counts"
    return [
        f'CREATE TRIGGER "{name}_insert" AFTER INSERT ON "{table}" BEGIN {sqlite_step(table, "NEW", "+")} END',
        f'CREATE TRIGGER "{name}_update" AFTER UPDATE ON "{table}" WHEN {changed} '
        f"BEGIN {sqlite_step(table, 'OLD', '-')} {sqlite_step(table, 'NEW', '+')} END",
        f'CREATE TRIGGER "{name}_delete" AFTER DELETE ON "{table}" BEGIN {sqlite_step(table, "OLD", "-")} END',
    ]


def postgres_step(table: str, signed_rows: str) -> str:
    """One UPDATE of the sessions from ``signed_rows`` (a subquery of each changed row's
    session and signed counts), skipping the sessions whose counts did not move."""
    columns = list(COUNTS[table])
    sums = ", ".join(f'SUM("{column}") AS "{column}"' for column in columns)
    assignments = ", ".join(f'"{column}" = g."{column}" + d."{column}"' for column in columns)
    moved = " OR ".join(f'd."{column}" <> 0' for column in columns)
    return (
        f'UPDATE "gathering" AS g SET {assignments} '
        f'FROM (SELECT "session", {sums} FROM ({signed_rows}) AS x GROUP BY "session") AS d '
        f'WHERE g."id" = d."session" AND ({moved});'
    )


def postgres_rows(table: str, rows: str, sign: str) -> str:
    counts = ", ".join(f'{sign}({rule.format(r="r")}) AS "{column}"' for column, rule in COUNTS[table].items())
    return f'SELECT r."session", {counts} FROM {rows} AS r'


def postgres_triggers(table: str) -> list[str]:
    name = f"{table}_session_counts"
    added, removed = postgres_rows(table, "new_rows", "+"), postgres_rows(table, "old_rows", "-")
    function = (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ BEGIN "
        f"IF TG_OP = 'INSERT' THEN {postgres_step(table, added)} "
        f"ELSIF TG_OP = 'DELETE' THEN {postgres_step(table, removed)} "
        f"ELSE {postgres_step(table, added + ' UNION ALL ' + removed)} END IF; "
        "RETURN NULL; END $$ LANGUAGE plpgsql"
    )
    transition = {
        "INSERT": "NEW TABLE AS new_rows",
        "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "DELETE": "OLD TABLE AS old_rows",
    }
    return [function] + [
        f'CREATE TRIGGER "{name}_{event.lower()}" AFTER {event} ON "{table}" REFERENCING {tables} '
        f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        for event, tables in transition.items()
    ]


def recount() -> str:
    """Every session's counts from its rows, for the sessions there are."""
    assignments = []
    for table, counts in COUNTS.items():
        for column, rule in counts.items():
            assignments.append(
                f'"{column}" = COALESCE((SELECT SUM({rule.format(r="r")}) FROM "{table}" AS r '
                f'WHERE r."session" = "gathering"."id"), 0)'
            )
    return f'UPDATE "gathering" SET {", ".join(assignments)}'


async def add_triggers() -> None:
    for table in COUNTS:
        for statement in postgres_triggers(table) if is_postgres() else sqlite_triggers(table):
            await Raw.raw(statement)
    await Raw.raw(recount())


async def drop_triggers() -> None:
    for table in COUNTS:
        name = f"{table}_session_counts"
        for event in ("insert", "update", "delete"):
            on = f' ON "{table}"' if is_postgres() else ""
            await Raw.raw(f'DROP TRIGGER IF EXISTS "{name}_{event}"{on}')
        if is_postgres():
            await Raw.raw(f"DROP FUNCTION IF EXISTS {name}()")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="ibasho", description=DESCRIPTION)
    manager.add_raw(add_triggers)
    manager.add_raw_backwards(drop_triggers)
    return manager
