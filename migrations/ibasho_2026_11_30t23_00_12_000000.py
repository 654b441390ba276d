"""Fills ``account.login_key`` for existing accounts and makes it unique, so that two names
that log in as one ("Tanaka" and "tanaka", a full-width spelling) can never be two
accounts, nor share one throttle. Computed in Python: SQL has no NFKC case-folding. A
database that already holds two such accounts stops here, naming them, for an admin to
rename one first (``UPDATE account SET login = …``).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

from server.auth.passwords import login_key

ID = "2026-11-30T23:00:12:000000"
VERSION = "1.38.0"
DESCRIPTION = "login key unique"


class Raw(Table):
    """Only a handle for raw statements."""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="ibasho", description=DESCRIPTION)

    async def fill_and_index():
        keys: dict[str, str] = {}
        for row in await Raw.raw('SELECT "id", "login" FROM "account"'):
            key = login_key(row["login"])
            if key in keys:
                raise RuntimeError(f"accounts {keys[key]!r} and {row['login']!r} log in as one name: rename one")
            keys[key] = row["login"]
            await Raw.raw('UPDATE "account" SET "login_key" = {} WHERE "id" = {}', key, row["id"])
        await Raw.raw('CREATE UNIQUE INDEX IF NOT EXISTS "account_login_key_unique" ON "account" ("login_key")')

    async def drop_index():
        await Raw.raw('DROP INDEX IF EXISTS "account_login_key_unique"')

    manager.add_raw(fill_and_index)
    manager.add_raw_backwards(drop_index)
    return manager
