"""Background work the server's lifespan runs now and then (reminder mails, …)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

log = logging.getLogger("ibasho.periodic")


async def every(interval: timedelta, work: Callable[[], Awaitable[int]], what: str) -> None:
    """Run ``work`` (which returns how many things it did) every ``interval``, for ever; a
    failure is logged and the next round retries."""
    while True:
        try:
            count = await work()
            if count:
                log.info("%s: %d", what, count)
        except Exception:  # keep the loop alive
            log.exception("%s failed", what)
        await asyncio.sleep(interval.total_seconds())
