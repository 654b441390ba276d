"""The one clock of the server: an aware UTC moment. What people read is shown in a
group's own time zone (server/core/dates.py); what is stored is UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
