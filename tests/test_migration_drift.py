"""The tables and the migrations agree: what Piccolo's ``--auto`` would write for a new
migration is nothing. A change to server/tables.py without its migration fails here, not
on a council's database."""

from __future__ import annotations

from piccolo.apps.migrations.commands.new import AutoMigrationManager

from server.piccolo_app import APP_CONFIG


async def test_piccolo_auto_finds_no_difference_between_tables_and_migrations():
    # "n": a table or column that looks renamed is reported as dropped and added, not asked about
    changes = await AutoMigrationManager(auto_input="n").get_alter_statements(app_config=APP_CONFIG)
    statements = [statement for change in changes for statement in change.statements]
    assert statements == [], "\n".join(statements)
