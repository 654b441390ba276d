"""The reminder worker: claim, send and record batches in lanes; reconcile now and then."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import aiohttp

from server.core.clock import now as current_time
from server.reminders.channels import Channels, ChannelSender
from server.reminders.email import EmailSender
from server.reminders.line import LineSender
from server.reminders.planning import reconcile
from server.reminders.queue import claim, record, record_sent
from server.reminders.sender import Outcome, Sender, push_client
from server.tables import DeliveryState

log = logging.getLogger("ibasho.reminders")

BATCH = 500  # deliveries claimed per transaction
LANES = 2  # batches in flight at once: one is claimed or recorded while another is being sent


async def send_due(sender: ChannelSender, limit: int = BATCH, now: datetime | None = None) -> list[str]:
    """Claim, send and record one batch; returns the new states."""
    rows = await claim(limit, now)
    if not rows:
        return []
    when = now or current_time()

    async def send(row: dict) -> Outcome:
        try:
            return await sender.send(row, when)
        except Exception as error:  # one bad row must not hold back the batch, nor come back for ever:
            log.exception("delivery %s failed unexpectedly", row["id"])  # retried with backoff, then given up
            return Outcome(status=None, error=f"{type(error).__name__}: {error}"[:500])

    outcomes = await asyncio.gather(*(send(row) for row in rows))
    accepted = [row for row, outcome in zip(rows, outcomes, strict=True) if outcome.status in (201, 202)]
    await record_sent(accepted, when)
    states = []
    for row, outcome in zip(rows, outcomes, strict=True):
        if outcome.status in (201, 202):
            states.append(DeliveryState.sent.value)
        else:
            try:
                states.append(await record(row, outcome, when))
            except Exception:
                log.exception("recording delivery %s failed; its lease will run out and it is retried", row["id"])
                states.append("error")
    return states


async def send_all_due(
    sender: ChannelSender, limit: int = BATCH, now: datetime | None = None, lanes: int = LANES
) -> list[str]:
    """Send everything that is due, a batch at a time in each of ``lanes``; returns the states.
    A lane's database work (claim, record) overlaps the other lanes' sending, so the
    push service always has requests in flight. Lanes never share a delivery: each claims
    its own batch under the same lease rule that keeps several processes apart."""
    states: list[str] = []

    async def lane() -> None:
        while batch := await send_due(sender, limit, now):
            states.extend(batch)
            if len(batch) < limit:
                return

    await asyncio.gather(*(lane() for _ in range(lanes)))
    return states


async def run_reminders(
    tick: timedelta = timedelta(seconds=15),
    reconcile_every: timedelta = timedelta(minutes=10),
    client: aiohttp.ClientSession | None = None,
) -> None:
    """Runs in the server's lifespan: reconcile now and then, send what is due every tick."""
    own = client is None
    client = client or push_client()
    sender: Channels | None = None
    last_reconcile: datetime | None = None
    try:
        while True:
            try:
                sender = sender or Channels(webpush=Sender(client), email=EmailSender(), line=LineSender())
                if last_reconcile is None or current_time() - last_reconcile >= reconcile_every:
                    await reconcile()
                    last_reconcile = current_time()
                await send_all_due(sender)
            except Exception:
                log.exception("reminder round failed")
            await asyncio.sleep(tick.total_seconds())
    finally:
        if sender is not None:
            await sender.close()
        if own:
            await client.close()
