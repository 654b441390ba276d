"""Reminders to a committee's members the evening before a meeting, by email (members from
other organisations seldom have an account; those who do also get the Web Push reminders
every meeting of their groups gets). The times are the reminder rules' (server/reminders/
rules.py); the mail is keyed so that it goes once."""

from __future__ import annotations

from datetime import datetime, timedelta

from server.committees import records
from server.core.clock import now as current_time
from server.core.i18n import gettext as _
from server.core.mail import queue_mail
from server.db import write_transaction
from server.reminders.rules import due_now
from server.tables import Committee, Session, SessionKind, SessionStatus
from server.web.templating import make_environment

_MAIL = make_environment()  # a plain-text template (templates/committees/mail/)
_MAIL.autoescape = False
LOOK_AHEAD = timedelta(days=2)


async def queue_due(now: datetime | None = None) -> int:
    now = now or current_time()
    meetings = await Session.select(Session.all_columns(), Session.group.timezone.as_alias("tz")).where(
        Session.group.is_in(Committee.select(Committee.group))
        & (Session.kind == SessionKind.meeting.value)
        & (Session.status == SessionStatus.scheduled.value)
        & (Session.deleted == False)  # noqa: E712
        & (Session.start_time.is_not_null())
        & (Session.date >= (now - timedelta(days=1)).date())
        & (Session.date <= (now + LOOK_AHEAD).date())
    )
    queued = 0
    for meeting in meetings:
        due = due_now(meeting["date"], meeting["start_time"], meeting["tz"], now)
        if not due:
            continue
        committee = await Committee.select(Committee.id).where(Committee.group == meeting["group"]).first()
        for member in await records.members(committee):
            if not member["email"]:
                continue
            text = _MAIL.get_template("committees/mail/reminder.txt").render(member=member, meeting=meeting)
            subject = _("Tomorrow: %(title)s") % {"title": meeting["title"]}
            for reminder in due:
                async with write_transaction():
                    once = f"committee:{meeting['id']}:{member['person_id']}:{reminder.kind}"
                    queued += bool(await queue_mail(member["email"], subject, text, "committee-reminder", once))
    return queued
