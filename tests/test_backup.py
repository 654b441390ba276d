"""``ibasho backup`` copies a live SQLite database consistently while the server writes."""

from __future__ import annotations

import os
import sqlite3
import threading
import time

import httpx
import pytest

from tests.factories import run_cli, start_server

PASSWORD = "backup-test-password"


def session_count(path) -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT count(*) FROM login_session").fetchone()[0]


@pytest.fixture
def sqlite_env(tmp_path):
    env = {**os.environ, "IBASHO_DATA_DIR": str(tmp_path / "data")}
    env.pop("DATABASE_URL", None)
    return env


def test_backup_while_the_server_writes(sqlite_env, tmp_path):
    created = run_cli("createuser", "writer", "--role", "admin", env=sqlite_env, stdin=PASSWORD + "\n")
    assert created.returncode == 0, created.stderr
    server = start_server(env=sqlite_env)
    stop = threading.Event()
    logins = 0
    failures: list[str] = []

    def keep_logging_in() -> None:  # each login writes a session row
        nonlocal logins
        with httpx.Client(base_url=server.url) as client:
            client.get("/healthz")
            while not stop.is_set():
                response = client.post(
                    "/api/auth/login",
                    json={"login": "writer", "password": PASSWORD},
                    headers={"x-csrftoken": client.cookies["csrftoken"]},
                )
                if response.status_code != 200:
                    failures.append(response.text)
                    return
                logins += 1

    writer = threading.Thread(target=keep_logging_in)
    writer.start()
    live = tmp_path / "data" / "ibasho.sqlite"
    try:
        deadline = time.monotonic() + 30
        while logins < 5 and not failures and time.monotonic() < deadline:
            stop.wait(0.05)
        assert not failures and logins >= 5, failures
        before = session_count(live)
        copy = tmp_path / "copy.sqlite"
        result = run_cli("backup", "--output", str(copy), env=sqlite_env)
        assert result.returncode == 0, result.stderr
        after = session_count(live)
    finally:
        stop.set()
        writer.join()
        server.stop()
    assert logins > 5
    with sqlite3.connect(copy) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert connection.execute("SELECT count(*) FROM account").fetchone()[0] == 1
    assert before <= session_count(copy) <= after  # one committed state from during the run

    final = tmp_path / "final.sqlite"
    assert run_cli("backup", "--output", str(final), env=sqlite_env).returncode == 0
    assert session_count(final) == session_count(live) == logins


def test_backup_of_postgres_points_at_pg_dump(sqlite_env):
    env = {**sqlite_env, "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/whatever"}
    result = run_cli("backup", env=env)
    assert result.returncode == 2
    assert "pg_dump" in result.stderr
