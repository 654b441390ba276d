"""Moves each grant programme's fixed rule fields into a rule version (the JSON of
server/grants/model.py), and has the database stamp ``person.created_at``.

The version starts in the first fiscal year any group is enrolled from (the fiscal year
of the migration when none is), so every year computed before is computed the same way.
The old minimum age was never used in a computation; a value set is kept in the notes.
The conversion is written out here, not imported, so that this migration keeps meaning
what it meant when the model changes. Backwards, the version in force last goes back into
the fields, as far as they can hold it.

``person.created_at``: phones' pushes insert raw rows (server/db.py write_rows), so a
trigger fills it on insert (SQLite cannot add a column with a CURRENT_TIMESTAMP default).
"""

import json
from datetime import UTC, date, datetime
from uuid import uuid4

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-01T13:51:59:000000"
VERSION = "1.38.0"
DESCRIPTION = "grant rules into versions"

OLD_COLUMNS = (
    "min_sessions_every_months",
    "min_session_minutes",
    "activity_amount_per_session",
    "venue_cap_per_session",
    "fixed_yearly_amount",
    "yearly_cap",
    "eligible_years",
    "requires_registration",
    "min_age",
)


class Raw(Table):
    """Only a handle for raw statements."""


def rules_from_fields(row: dict) -> dict:
    """The old fields as rules JSON (docs/grants.md): the same computation."""
    sessions = {"min_minutes": row["min_session_minutes"]} if row["min_session_minutes"] else {}
    requirements = {
        "every_months": row["min_sessions_every_months"] or None,
        "eligible_years": row["eligible_years"] or None,
        "registration": bool(row["requires_registration"]),
    }
    components = []
    if row["activity_amount_per_session"]:
        components.append({"kind": "per_session", "amount": row["activity_amount_per_session"], "label": "活動費"})
    if row["venue_cap_per_session"]:
        components.append({"kind": "venue", "cap": row["venue_cap_per_session"], "per": "session", "label": "会場費"})
    if row["fixed_yearly_amount"] or not components:
        components.append({"kind": "fixed", "amount": row["fixed_yearly_amount"] or 0})
    rules = {
        "sessions": sessions,
        "requirements": {key: value for key, value in requirements.items() if value},
        "components": components,
        "caps": {"per_year": row["yearly_cap"]} if row["yearly_cap"] is not None else {},
    }
    return {key: value for key, value in rules.items() if value}


def fields_from_rules(rules: dict) -> dict:
    """Rules JSON back into the old fields, as far as they can hold it (the backwards step)."""
    components = rules.get("components", [])

    def unconditional(kind: str) -> list[dict]:
        return [c for c in components if c.get("kind") == kind and not c.get("when")]

    venue = [c for c in unconditional("venue") if c.get("per", "session") == "session" and c.get("cap") is not None]
    requirements = rules.get("requirements", {})
    return {
        "min_sessions_every_months": requirements.get("every_months"),
        "min_session_minutes": rules.get("sessions", {}).get("min_minutes"),
        "activity_amount_per_session": sum(c["amount"] for c in unconditional("per_session")),
        "venue_cap_per_session": venue[0]["cap"] if venue else 0,
        "fixed_yearly_amount": sum(c["amount"] for c in unconditional("fixed") + unconditional("startup")),
        "yearly_cap": rules.get("caps", {}).get("per_year"),
        "eligible_years": requirements.get("eligible_years"),
        "requires_registration": bool(requirements.get("registration")),
    }


def this_fiscal_year() -> int:
    today = date.today()
    return today.year if today.month >= 4 else today.year - 1


def is_postgres() -> bool:
    return Raw._meta.db.engine_type == "postgres"


async def add_person_trigger() -> None:
    if is_postgres():
        await Raw.raw(
            "CREATE OR REPLACE FUNCTION person_created_at() RETURNS trigger AS $$ "
            "BEGIN NEW.created_at := COALESCE(NEW.created_at, now()); RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        await Raw.raw(
            'CREATE TRIGGER person_created_at BEFORE INSERT ON "person" '
            "FOR EACH ROW EXECUTE FUNCTION person_created_at()"
        )
    else:
        await Raw.raw(
            'CREATE TRIGGER IF NOT EXISTS person_created_at AFTER INSERT ON "person" WHEN NEW.created_at IS NULL '
            "BEGIN UPDATE \"person\" SET created_at = strftime('%Y-%m-%d %H:%M:%f', 'now') || '+00:00' "
            "WHERE id = NEW.id AND created_at IS NULL; END"
        )


async def drop_person_trigger() -> None:
    if is_postgres():
        await Raw.raw('DROP TRIGGER IF EXISTS person_created_at ON "person"')
        await Raw.raw("DROP FUNCTION IF EXISTS person_created_at()")
    else:
        await Raw.raw("DROP TRIGGER IF EXISTS person_created_at")


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="ibasho", description=DESCRIPTION)

    async def into_versions():
        firsts = {
            str(row["programme"]): row["first"]
            for row in await Raw.raw(
                'SELECT "programme", MIN("first_fiscal_year") AS "first" FROM "group_grant" GROUP BY "programme"'
            )
        }
        columns = ", ".join(f'"{name}"' for name in ("id", "notes", *OLD_COLUMNS))
        for row in await Raw.raw(f'SELECT {columns} FROM "grant_programme"'):
            from_year = firsts.get(str(row["id"])) or this_fiscal_year()
            await Raw.raw(
                'INSERT INTO "grant_rule_version" ("id", "programme", "from_year", "rules", "updated_at") '
                "VALUES ({}, {}, {}, {}, {})",
                uuid4(),
                row["id"],
                from_year,
                json.dumps(rules_from_fields(row), ensure_ascii=False),
                datetime.now(UTC),
            )
            if row["min_age"]:
                notes = (row["notes"] + "\n" if row["notes"] else "") + f"対象年齢：{row['min_age']}歳以上"
                await Raw.raw('UPDATE "grant_programme" SET "notes" = {} WHERE "id" = {}', notes, row["id"])
        await Raw.raw(
            'CREATE UNIQUE INDEX IF NOT EXISTS "grant_rule_version_programme_year" '
            'ON "grant_rule_version" ("programme", "from_year")'
        )
        await add_person_trigger()

    async def into_fields():
        await drop_person_trigger()
        await Raw.raw('DROP INDEX IF EXISTS "grant_rule_version_programme_year"')
        latest: dict[str, dict] = {}
        for row in await Raw.raw('SELECT "programme", "from_year", "rules" FROM "grant_rule_version"'):
            key = str(row["programme"])
            if key not in latest or row["from_year"] > latest[key]["from_year"]:
                latest[key] = row
        for row in latest.values():
            rules = row["rules"] if isinstance(row["rules"], dict) else json.loads(row["rules"])
            values = fields_from_rules(rules)
            assignments = ", ".join(f'"{name}" = {{}}' for name in values)
            await Raw.raw(
                f'UPDATE "grant_programme" SET {assignments} WHERE "id" = {{}}', *values.values(), row["programme"]
            )

    manager.add_raw(into_versions)
    manager.add_raw_backwards(into_fields)
    return manager
