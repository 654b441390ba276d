"""Rate counters replace the login-failure rows; safety checks' outcome lists "withdrawn".

``rate_counter`` holds one row per counted key and window (server/core/ratelimit.py): login
attempts per name, per address and per trusted device, and anonymous sign-ups per
address. The old ``login_failure`` rows only throttled logins for 15 minutes, so dropping
them loses nothing. Generated with ``piccolo migrations new ibasho --auto``.
"""

from enum import Enum

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt, Integer, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-30T20:33:43:125214"
VERSION = "1.38.0"
DESCRIPTION = "rate_counter"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="ibasho", description=DESCRIPTION)

    manager.add_table(
        class_name="RateCounter",
        tablename="rate_counter",
        schema=None,
        columns=None,
    )

    manager.drop_table(class_name="LoginFailure", tablename="login_failure", schema=None)

    manager.add_column(
        table_class_name="RateCounter",
        tablename="rate_counter",
        column_name="count",
        db_column_name="count",
        column_class_name="Integer",
        column_class=Integer,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="RateCounter",
        tablename="rate_counter",
        column_name="key",
        db_column_name="key",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 200,
            "default": "",
            "null": False,
            "primary_key": True,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="RateCounter",
        tablename="rate_counter",
        column_name="period",
        db_column_name="period",
        column_class_name="BigInt",
        column_class=BigInt,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="RateCounter",
        tablename="rate_counter",
        column_name="expires",
        db_column_name="expires",
        column_class_name="BigInt",
        column_class=BigInt,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": True,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.alter_column(
        table_class_name="SafetyCheck",
        tablename="safety_check",
        column_name="outcome",
        db_column_name="outcome",
        params={
            "choices": Enum(
                "SafetyCheckOutcome",
                {
                    "open": "open",
                    "safe": "safe",
                    "unreachable": "unreachable",
                    "needs_support": "needs_support",
                    "withdrawn": "withdrawn",
                },
            )
        },
        old_params={
            "choices": Enum(
                "SafetyCheckOutcome",
                {
                    "open": "open",
                    "safe": "safe",
                    "unreachable": "unreachable",
                    "needs_support": "needs_support",
                },
            )
        },
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
