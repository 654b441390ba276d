"""``ibasho backup`` and ``ibasho restore``: consistent copies, safe while the server writes.

SQLite: the online backup API copies pages under a read transaction, so the copy is one
committed state even with WAL writers running. PostgreSQL: ``pg_dump`` (custom format)
reads one snapshot; ``pg_restore`` loads it into an empty database. Either way the file
appears whole or not at all (written as ``*.partial``, then renamed).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from server.config import get_settings
from server.core.clock import now


class BackupError(RuntimeError):
    pass


def _stamp() -> str:
    return now().strftime("%Y%m%dT%H%M%SZ")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (apt-get install postgresql-client); see docs/operations.md")
    return path


def _run(command: list[str]) -> str:
    result = subprocess.run(command, check=False, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip()}")
    return result.stdout


def _sqlite_copy(source_path: Path, target: Path) -> None:
    """Copy with the backup API and check the copy's integrity before it takes the name ``target``."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=30)
    try:
        destination = sqlite3.connect(partial)
        try:
            source.backup(destination)
            check = destination.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise BackupError(f"the copy failed its integrity check: {check}")
        finally:
            destination.close()
    finally:
        source.close()
    partial.replace(target)


def backup(target: Path | None = None) -> Path:
    settings = get_settings()
    suffix = ".sqlite" if settings.is_sqlite else ".dump"
    target = target or settings.data_dir / "backups" / f"ibasho-{_stamp()}{suffix}"
    target.parent.mkdir(parents=True, exist_ok=True)
    if settings.is_sqlite:
        if not settings.sqlite_path.exists():
            raise BackupError(f"no database at {settings.sqlite_path}")
        _sqlite_copy(settings.sqlite_path, target)
        return target
    partial = target.with_name(target.name + ".partial")
    _run([_tool("pg_dump"), "--format=custom", f"--file={partial}", f"--dbname={settings.database_url}"])
    partial.replace(target)
    return target


def restore(source: Path) -> Path | None:
    """Load a backup into the configured database, which must be new: an SQLite file that does
    not exist yet, or a PostgreSQL database without tables. Stop the server first. Returns
    nothing on PostgreSQL; on SQLite, the restored file."""
    if not source.is_file():
        raise BackupError(f"no backup at {source}")
    settings = get_settings()
    if settings.is_sqlite:
        target = settings.sqlite_path
        leftovers = [p for p in (target, Path(f"{target}-wal"), Path(f"{target}-shm")) if p.exists()]
        if leftovers:
            raise BackupError(f"{target} exists: stop the server and move it (and its -wal/-shm files) aside first")
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(source, target)  # checks the backup's integrity on the way in
        return target
    _run([_tool("pg_restore"), "--list", str(source)])  # a readable pg_dump archive, before anything is written
    tables = _run(
        [
            _tool("psql"),
            "--no-psqlrc",
            "--tuples-only",
            "--no-align",
            f"--dbname={settings.database_url}",
            "--command=SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
        ]
    )
    if tables.strip() != "0":
        raise BackupError("the database in DATABASE_URL has tables: restore into a new, empty database (createdb)")
    _run(
        [
            _tool("pg_restore"),
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={settings.database_url}",
            str(source),
        ]
    )
    return None
