"""Fresh PostgreSQL databases for tests: required under CI, skipped with a reason elsewhere."""

from __future__ import annotations

import asyncio
import os
import secrets
from urllib.parse import urlparse, urlunparse

import pytest


class PostgresUnavailable(RuntimeError):
    pass


def postgres_admin_url() -> str:
    return os.environ.get("IBASHO_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def _with_database(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))


async def _execute(admin_url: str, statement: str) -> None:
    import asyncpg

    try:
        connection = await asyncpg.connect(admin_url, timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as error:
        raise PostgresUnavailable(f"PostgreSQL is not reachable at {admin_url}: {error}") from error
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def create_database(admin_url: str, prefix: str) -> tuple[str, str]:
    """Create an empty database; return its name and URL."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    asyncio.run(_execute(admin_url, f'CREATE DATABASE "{name}"'))
    return name, _with_database(admin_url, name)


def drop_database(admin_url: str, name: str) -> None:
    asyncio.run(_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def require_postgres(error: Exception) -> None:
    """Under CI a missing PostgreSQL is a failure; on a developer's machine, a clear skip."""
    if os.environ.get("CI"):
        pytest.exit(f"PostgreSQL is required in CI: {error}", returncode=1)
    pytest.skip(f"PostgreSQL tests skipped: {error}", allow_module_level=True)
