"""Reminders to those registered for an event, the evening before each part.

The times come from the reminder system's rules (server/reminders/rules.py: 18:00 in Japan
the day before, never in the quiet hours, never after the start). Applicants have no account
and no Web Push subscription, so the reminder is an email through the outbox, keyed so that
it goes once whichever round or process queues it first.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from server.config import get_settings
from server.core.clock import now as current_time
from server.core.i18n import gettext as _
from server.core.mail import queue_mail
from server.db import write_transaction
from server.events import records
from server.reminders.rules import due_now
from server.tables import ApplicationState, EventApplication, EventPart

LOOK_AHEAD = timedelta(days=2)


async def queue_due(now: datetime | None = None) -> int:
    """Put in the outbox every reminder now due and not yet queued; returns how many."""
    now = now or current_time()
    tz = get_settings().default_timezone
    parts = await EventPart.select().where(
        (EventPart.date >= (now - timedelta(days=1)).date()) & (EventPart.date <= (now + LOOK_AHEAD).date())
    )
    queued = 0
    for part in parts:
        due = due_now(part["date"], part["start_time"], tz, now)
        if not due:
            continue
        event = await records.event(part["event"])
        registered = await EventApplication.select().where(
            (EventApplication.event == part["event"]) & (EventApplication.state == ApplicationState.registered.value)
        )
        for application in registered:
            text = records.mail_text("reminder", application=application, event=event, part=part)
            subject = _("Tomorrow: %(title)s") % {"title": event["title"]}
            for reminder in due:
                async with write_transaction():
                    # the part's time in the key: moved by staff, it is reminded of again
                    at = f"{part['date']:%Y-%m-%d}T{part['start_time']:%H:%M}"
                    once = f"event:{part['id']}:{application['id']}:{reminder.kind}:{at}"
                    queued += bool(await queue_mail(application["email"], subject, text, "event-reminder", once))
    return queued
