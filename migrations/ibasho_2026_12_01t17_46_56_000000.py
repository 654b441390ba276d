"""Makes ``outbound_mail.once_key`` unique, with an index of its own (SQLite adds no UNIQUE
column): a reminder mail queued twice (two rounds, two processes) goes once."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-12-01T17:46:56:000000"
VERSION = "1.38.0"
DESCRIPTION = "mail once key unique"


class Raw(Table):
    """Only a handle for raw statements."""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="ibasho", description=DESCRIPTION)

    async def unique_index():
        await Raw.raw(
            'CREATE UNIQUE INDEX IF NOT EXISTS "outbound_mail_once_key_unique" ON "outbound_mail" ("once_key")'
        )

    async def drop_index():
        await Raw.raw('DROP INDEX IF EXISTS "outbound_mail_once_key_unique"')

    manager.add_raw(unique_index)
    manager.add_raw_backwards(drop_index)
    return manager
