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


def reminder_key(part_id, application_id, kind: str) -> str:
    """Once per part, application and reminder: a part staff move has its sent keys set
    aside (server/events/records.py), so the new time is reminded of too."""
    return f"event:{part_id}:{application_id}:{kind}"


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
                    once = reminder_key(part["id"], application["id"], reminder.kind)
                    queued += bool(await queue_mail(application["email"], subject, text, "event-reminder", once))
    return queued
