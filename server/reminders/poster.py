"""A printable A4 poster of an ibasho: its next dates and a big QR code to its public page.

Staff print it from the group page, organisers from the app's home screen, and put it up
at the venue so that participants without an account can scan it and subscribe.

Who may see it: anyone, for an active ibasho, like the public page ``/i/<id>`` it leads
to; it shows nothing that page does not (name, venue, dates and times, never people).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import segno
from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Template

from server.core.clock import now as current_time
from server.core.schedule import session_times, zone
from server.reminders.public import active_ibasho, sessions_since
from server.reminders.rules import layered
from server.tables import SessionStatus

POSTER_DATES = 4  # what fits on one A4 page beside the QR code; the page itself lists more


def still_ahead(session: dict, tz_name: str, now: datetime) -> bool:
    """Not over yet in the ibasho's zone: a poster printed in the afternoon leaves out that
    morning's session, one printed at 08:00 in Tokyo (still yesterday in UTC) keeps today's."""
    if session["start_time"] is None:
        return session["date"] >= now.astimezone(zone(tz_name)).date()
    try:
        _, ends = session_times(
            session["date"], session["start_time"], session["end_time"] or session["start_time"], tz_name
        )
    except OverflowError:  # it ends after 9999-12-31, which no datetime holds: far ahead of now
        return True
    return ends > now


@get("/i/{ibasho_id:uuid}/poster", include_in_schema=False)
async def ibasho_poster(ibasho_id: FromPath[UUID], request: Request) -> Template:
    ibasho = await active_ibasho(ibasho_id)
    now = current_time()
    sessions = await sessions_since(ibasho, now.date() - timedelta(days=1))  # a day back: zones ahead of UTC
    upcoming = [
        s for s in sessions if s["status"] == SessionStatus.scheduled.value and still_ahead(s, ibasho["timezone"], now)
    ][:POSTER_DATES]
    page_url = f"{str(request.base_url).rstrip('/')}/i/{ibasho_id}"
    return Template(
        template_name="reminders/poster.html",
        context={
            "ibasho": ibasho,
            "sessions": upcoming,
            "rule": layered(ibasho["reminder_rule"]),
            "page_url": page_url,
            "calendar_url": f"{page_url}/calendar.ics",
            # no width/height, a viewBox instead: the stylesheet sizes it (10 cm on paper)
            "qr_svg": segno.make(page_url, error="m").svg_inline(scale=10, omitsize=True),
        },
    )


HANDLERS = [ibasho_poster]
