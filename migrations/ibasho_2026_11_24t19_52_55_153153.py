"""Reminder rules: when an ibasho's reminders go out, and a session's own override.

Both columns are nullable JSON (see server/reminders/rules.py); null keeps the built-in
rule (the day before at 18:00 and two hours before, quiet 21:00–08:00), so existing
rows behave as before. Backwards drops them again.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import JSON
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-24T19:52:55:153153"
VERSION = "1.38.0"
DESCRIPTION = "reminder rules"

PARAMS = {
    "default": None,
    "null": True,
    "primary_key": False,
    "unique": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="ibasho", description=DESCRIPTION)
    for table_class_name, tablename in (("Ibasho", "ibasho"), ("Session", "gathering")):
        manager.add_column(
            table_class_name=table_class_name,
            tablename=tablename,
            column_name="reminder_rule",
            db_column_name="reminder_rule",
            column_class_name="JSON",
            column_class=JSON,
            params=dict(PARAMS),
            schema=None,
        )
    return manager
