"""Sessions an ibasho's schedule implies exist on the server ahead of time (docs/sync.md), so
every phone sees the same ids for the same date, even offline.

Ids are derived from (ibasho, date), so two server processes doing this at once create
the same rows, and the second insert does nothing. The reminders of the sessions it
creates are made right after they commit, not at the next reconcile.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from uuid import UUID

from dateutil.relativedelta import relativedelta

from server.core.clock import now as current_time
from server.core.events import SessionsChanged, publish
from server.core.schedule import occurrences, zone
from server.sync.store import PiccoloStore
from server.tables import Ibasho, IbashoStatus, Session, SessionKind, SessionStatus
from sync.ids import scheduled_session_id

log = logging.getLogger("ibasho.sessions_ahead")
MONTHS_AHEAD = 3


async def ensure_sessions_ahead(ibasho_id: UUID | None = None, months: int = MONTHS_AHEAD) -> int:
    """Create the missing scheduled sessions of active ibasho (or of one) for the coming months."""
    query = Ibasho.select().where(Ibasho.status == IbashoStatus.active.value)
    if ibasho_id is not None:
        query = query.where(Ibasho.id == ibasho_id)
    created: list[tuple[str, str, UUID]] = []
    now = current_time()
    store = PiccoloStore()
    async with store.transaction():
        for ibasho in await query:
            today = datetime.now(zone(ibasho["timezone"])).date()
            dtstart = ibasho["active_from"] or ibasho["created_at"].date()
            try:
                days = occurrences(
                    ibasho["rrule"], dtstart, today, today + relativedelta(months=months), ibasho["active_until"]
                )
            except ValueError as error:
                log.warning("ibasho %s has an unusable schedule: %s", ibasho["id"], error)
                continue
            if not days:
                continue
            existing = {
                row["date"]
                for row in await Session.select(Session.date).where(
                    (Session.ibasho == ibasho["id"]) & Session.date.is_in(days)
                )
            }
            rows = [
                Session(
                    id=scheduled_session_id(ibasho["id"], day),
                    group=ibasho["group"],
                    ibasho=ibasho["id"],
                    kind=SessionKind.session.value,
                    title=ibasho["name"],
                    date=day,
                    start_time=ibasho["start_time"],
                    end_time=ibasho["end_time"],
                    venue=ibasho["venue"],
                    status=SessionStatus.scheduled.value,
                    from_schedule=True,
                    hlcs={},
                    created_at=now,
                    updated_at=now,
                )
                for day in days
                if day not in existing
            ]
            if rows:
                # Only the rows that landed are published: an id already taken (by another
                # process a moment ago, or by a row from before ids were checked) is not ours.
                landed = await Session.insert(*rows).on_conflict(action="DO NOTHING").returning(Session.id)
                created += [("session", str(row["id"]), ibasho["group"]) for row in landed]
                if len(landed) < len(rows):
                    log.info(
                        "ibasho %s: %d scheduled session ids were taken already", ibasho["id"], len(rows) - len(landed)
                    )
        await store.publish(created)
    # after the commit, as a phone's push does: sessions due within days get their reminders now
    await publish(SessionsChanged(tuple(session_id for _, session_id, _ in created)))
    return len(created)


async def keep_sessions_ahead(interval: timedelta = timedelta(hours=6)) -> None:
    """Runs in the server's lifespan: top up the coming months now and then."""
    while True:
        try:
            count = await ensure_sessions_ahead()
            if count:
                log.info("created %d scheduled sessions ahead", count)
        except Exception:  # keep the loop alive; the next round retries
            log.exception("creating scheduled sessions failed")
        await asyncio.sleep(interval.total_seconds())
