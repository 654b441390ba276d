"""The grant programmes' fixed rule fields go: their rules are in ``grant_rule_version``
since the migration before. Generated with ``piccolo migrations new ibasho --auto``."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-01T13:52:30:631366"
VERSION = "1.38.0"
DESCRIPTION = "grant programme fields dropped"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="ibasho", description=DESCRIPTION)

    manager.drop_column(
        table_class_name="GrantProgramme",
        tablename="grant_programme",
        column_name="activity_amount_per_session",
        db_column_name="activity_amount_per_session",
        schema=None,
    )

    manager.drop_column(
        table_class_name="GrantProgramme",
        tablename="grant_programme",
        column_name="eligible_years",
        db_column_name="eligible_years",
        schema=None,
    )

    manager.drop_column(
        table_class_name="GrantProgramme",
        tablename="grant_programme",
        column_name="fixed_yearly_amount",
        db_column_name="fixed_yearly_amount",
        schema=None,
    )

    manager.drop_column(
        table_class_name="GrantProgramme",
        tablename="grant_programme",
        column_name="min_age",
        db_column_name="min_age",
        schema=None,
    )

    manager.drop_column(
        table_class_name="GrantProgramme",
        tablename="grant_programme",
        column_name="min_session_minutes",
        db_column_name="min_session_minutes",
        schema=None,
    )

    manager.drop_column(
        table_class_name="GrantProgramme",
        tablename="grant_programme",
        column_name="min_sessions_every_months",
        db_column_name="min_sessions_every_months",
        schema=None,
    )

    manager.drop_column(
        table_class_name="GrantProgramme",
        tablename="grant_programme",
        column_name="requires_registration",
        db_column_name="requires_registration",
        schema=None,
    )

    manager.drop_column(
        table_class_name="GrantProgramme",
        tablename="grant_programme",
        column_name="venue_cap_per_session",
        db_column_name="venue_cap_per_session",
        schema=None,
    )

    manager.drop_column(
        table_class_name="GrantProgramme",
        tablename="grant_programme",
        column_name="yearly_cap",
        db_column_name="yearly_cap",
        schema=None,
    )

    return manager
