"""Reminders to those registered for an event, the day before each part.

The times come from the reminder system's rules (server/reminders/rules.py: the day before
at 18:00 in Japan, never in the quiet hours, never after the start). Applicants have no
account and no Web Push subscription, so the reminder goes by email through the outbox; an
``EventReminder`` row written in the same transaction makes it go once, whichever process
looks first.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from server.config import get_settings
from server.core.clock import now as current_time
from server.core.i18n import gettext as _
from server.core.mail import queue_mail
from server.db import write_transaction
from server.events import records
from server.reminders.rules import Rule, due_times
from server.tables import ApplicationState, EventApplication, EventPart, EventReminder

log = logging.getLogger("ibasho.events")
RULE = Rule(hours_before=None)  # the day before only: a mail two hours before is read too late
LOOK_AHEAD = timedelta(days=3)


async def queue_due(now: datetime | None = None) -> int:
    """Put in the outbox every reminder now due and not yet queued; returns how many."""
    now = now or current_time()
    tz = get_settings().default_timezone
    parts = await EventPart.select().where(
        (EventPart.date >= (now - timedelta(days=1)).date()) & (EventPart.date <= (now + LOOK_AHEAD).date())
    )
    queued = 0
    for part in parts:
        due = [d for d in due_times(part["date"], part["start_time"], tz, RULE) if d.due_at <= now < d.expires_at]
        if not due:
            continue
        event = await records.event(part["event"])
        for application in await EventApplication.select().where(
            (EventApplication.event == part["event"]) & (EventApplication.state == ApplicationState.registered.value)
        ):
            for reminder in due:
                key = f"{part['id']}:{application['id']}:{reminder.kind}"
                async with write_transaction():
                    if await EventReminder.exists().where(EventReminder.id == key):
                        continue
                    await EventReminder.insert(
                        EventReminder(id=key, part=part["id"], application=application["id"], queued_at=now)
                    )
                    text = records.mail_text("reminder", application=application, event=event, part=part)
                    subject = _("Tomorrow: %(title)s") % {"title": event["title"]}
                    await queue_mail(application["email"], subject, text, "event-reminder")
                queued += 1
    return queued


async def run_event_reminders(tick: timedelta = timedelta(minutes=5)) -> None:
    """Runs in the server's lifespan beside the Web Push reminders' worker."""
    while True:
        try:
            count = await queue_due()
            if count:
                log.info("queued %d event reminders", count)
        except Exception:  # keep the loop alive; the next round retries
            log.exception("queueing event reminders failed")
        await asyncio.sleep(tick.total_seconds())
