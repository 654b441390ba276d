"""Fixed-window rate counters kept in the database, so every server process counts the same.

``hit`` is one atomic upsert that returns the new count: of N requests racing past a
limit of L, exactly N − L see a count above it, on SQLite and PostgreSQL alike. A window
is fixed (a key may see up to twice its limit across a window boundary), which keeps each
check to one statement.
"""

from __future__ import annotations

import ipaddress
import random
import time

from server.db import write_transaction
from server.tables import RateCounter

_SWEEP_CHANCE = 0.01  # now and then a hit also deletes the rows of windows long over

_HIT = (
    'INSERT INTO "rate_counter" ("key", "period", "count", "expires") VALUES ({}, {}, 1, {}) '
    'ON CONFLICT ("key") DO UPDATE SET '
    '"count" = CASE WHEN "rate_counter"."period" = excluded."period" THEN "rate_counter"."count" + 1 ELSE 1 END, '
    '"period" = excluded."period", "expires" = excluded."expires" '
    'RETURNING "count"'
)


def client_network(host: str | None) -> str:
    """What a per-address limit counts: the address, or for IPv6 its /64, which one home or
    phone line gets whole (it could otherwise take a fresh address for every request)."""
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return host or "unknown"
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _window(window_seconds: int, now: float | None) -> tuple[int, int]:
    """(index of the current window, when it ends), in seconds since the epoch."""
    period = int((time.time() if now is None else now) // window_seconds)
    return period, (period + 1) * window_seconds


async def hit(key: str, window_seconds: int, now: float | None = None) -> int:
    """Count one event under ``key``; returns the events in this window, this one included."""
    period, expires = _window(window_seconds, now)
    async with write_transaction():
        rows = await RateCounter.raw(_HIT, key[:200], period, expires)
        if random.random() < _SWEEP_CHANCE:
            await RateCounter.delete().where(RateCounter.expires < int(time.time()))
    return rows[0]["count"]


async def take_back(key: str, window_seconds: int, now: float | None = None) -> None:
    """Undo one ``hit`` of this window (an attempt that turned out to be fine)."""
    period, _ = _window(window_seconds, now)
    await RateCounter.update({RateCounter.count: RateCounter.count - 1}).where(
        (RateCounter.key == key[:200]) & (RateCounter.period == period) & (RateCounter.count > 0)
    )


async def forget(*keys: str) -> None:
    await RateCounter.delete().where(RateCounter.key.is_in([key[:200] for key in keys]))
