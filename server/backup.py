"""``ibasho backup``: a consistent copy of the SQLite database, safe while the server writes.

SQLite's online backup API copies pages under a read transaction, so the copy is one
committed state even with WAL writers running. PostgreSQL is backed up with pg_dump
(see docs/operations.md).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from server.config import get_settings


class BackupError(RuntimeError):
    pass


def backup(target: Path | None = None) -> Path:
    settings = get_settings()
    if not settings.is_sqlite:
        raise BackupError("DATABASE_URL is PostgreSQL: back it up with pg_dump (see docs/operations.md)")
    source_path = settings.sqlite_path
    if not source_path.exists():
        raise BackupError(f"no database at {source_path}")
    if target is None:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        target = settings.data_dir / "backups" / f"ibasho-{stamp}.sqlite"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".partial")
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
    partial.replace(target)  # appears whole or not at all
    return target
