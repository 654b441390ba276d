"""Columns as wide as the sync validation allows (sync/limits.py is the one source):
a session's venue up to 500 characters, a person's category up to 40 as a tally's. Before,
PostgreSQL refused such a push with a 500 on every retry, and the phone's queue stuck.
Only widened, so no row can fail to fit. Generated with ``piccolo migrations new ibasho --auto``.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar

ID = "2026-11-30T20:38:32:365817"
VERSION = "1.38.0"
DESCRIPTION = "wider_columns"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="ibasho", description=DESCRIPTION)

    manager.alter_column(
        table_class_name="Person",
        tablename="person",
        column_name="category",
        db_column_name="category",
        params={"length": 40},
        old_params={"length": 32},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    manager.alter_column(
        table_class_name="Session",
        tablename="gathering",
        column_name="venue",
        db_column_name="venue",
        params={"length": 500},
        old_params={"length": 300},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
