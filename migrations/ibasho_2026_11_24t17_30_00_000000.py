"""Indexes on the foreign keys the pages and sync read by, and that cascading deletes follow.

Neither SQLite nor PostgreSQL indexes a foreign key by itself: without these, a fiscal
year's sessions of an area, their tallies, or deleting a session scanned whole tables.
The same statements run on both engines.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-24T17:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "foreign key indexes"

# (index name, table, columns)
INDEXES = [
    ("gathering_group_date", "gathering", '"group", "date"'),
    ("gathering_ibasho", "gathering", '"ibasho"'),
    ("ibasho_group_ix", "ibasho", '"group"'),
    ("ibasho_group_area", "ibasho_group", '"area"'),
    ("person_group", "person", '"group"'),
    ("attendance_session", "attendance", '"session"'),
    ("attendance_person", "attendance", '"person"'),
    ("tally_session", "tally", '"session"'),
    ("role_assignment_session", "role_assignment", '"session"'),
    ("safety_check_session", "safety_check", '"session"'),
    ("safety_check_person", "safety_check", '"person"'),
    ("group_membership_group", "group_membership", '"group"'),
    ("group_membership_account", "group_membership", '"account"'),
    ("staff_area_account", "staff_area", '"account"'),
    ("login_session_account", "login_session", '"account"'),
    ("group_grant_group", "group_grant", '"group"'),
    ("push_subscription_ibasho", "push_subscription", '"ibasho"'),
    ("reminder_delivery_session", "reminder_delivery", '"session"'),
    ("reminder_delivery_subscription", "reminder_delivery", '"subscription"'),
    ("mutation_log_client", "mutation_log", '"client"'),
]


class Raw(Table):
    """Only a handle for raw statements."""


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="ibasho", description=DESCRIPTION)

    async def create():
        for name, table, columns in INDEXES:
            await Raw.raw(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ({columns})')

    async def drop():
        for name, _, _ in INDEXES:
            await Raw.raw(f'DROP INDEX IF EXISTS "{name}"')

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
