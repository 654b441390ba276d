"""The single Piccolo app that owns every table; its migrations live in ``migrations/``."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

APP_CONFIG = AppConfig(
    app_name="ibasho",
    migrations_folder_path=str(MIGRATIONS_DIR),
    table_classes=table_finder(modules=["server.tables"], exclude_imported=True),
    migration_dependencies=[],
    commands=[],
)
