"""Public pages of an ibasho for participants (no account): 通知を受け取る and an iCalendar feed.

Who may use them: anyone, for an active ibasho; they show only what a poster would
(name, venue, dates and times), never people.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from uuid import UUID

from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from server.reminders import tokens
from server.schedule import session_times, zone
from server.tables import Ibasho, IbashoStatus, Session, SessionStatus

FEED_DAYS_BACK = 30


async def _active_ibasho(ibasho_id: UUID) -> dict:
    row = await Ibasho.select().where((Ibasho.id == ibasho_id) & (Ibasho.status == IbashoStatus.active.value)).first()
    if row is None:
        raise NotFoundException("no such ibasho")
    return row


async def _sessions(ibasho: dict, since) -> list[dict]:
    return await Session.select(
        Session.id, Session.title, Session.date, Session.start_time, Session.end_time, Session.venue, Session.status,
        Session.updated_at,
    ).where((Session.ibasho == ibasho["id"]) & (Session.deleted == False) & (Session.date >= since)  # noqa: E712
            ).order_by(Session.date)


@get("/i/{ibasho_id:uuid}", include_in_schema=False)
async def ibasho_page(ibasho_id: FromPath[UUID], person: FromQuery[str | None] = None) -> Template:
    """``?person=<token>``: reached from a participant's personal QR code (absence replies)."""
    ibasho = await _active_ibasho(ibasho_id)
    today = datetime.now(timezone.utc).date()
    upcoming = [s for s in await _sessions(ibasho, today) if s["status"] == SessionStatus.scheduled.value][:6]
    link = tokens.read_person_link(person) if person else None
    return Template(template_name="reminders/ibasho.html", context={
        "ibasho": ibasho, "sessions": upcoming,
        "person_token": person if link is not None and link[1] == ibasho_id else None,
        "person_link_expired": bool(person) and (link is None or link[1] != ibasho_id),
    })


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _fixed_offset(tz_name: str, years: set[int]) -> tuple[str, str] | None:
    """(±hhmm, abbreviation) of a zone with one offset and no DST over ``years`` (Japan), else None."""
    tz = zone(tz_name)
    moments = [datetime(year, month, 1, 12, tzinfo=tz) for year in years for month in (1, 7)]
    offsets = {moment.utcoffset() for moment in moments}
    if len(offsets) != 1 or any(moment.dst() for moment in moments):
        return None
    minutes = int(offsets.pop().total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}", moments[0].tzname() or tz_name


def calendar(ibasho: dict, sessions: list[dict]) -> str:
    """RFC 5545 text: one VEVENT per session, cancelled ones marked so.

    Times are wall-clock times with the ibasho's TZID (and its VTIMEZONE) when the zone
    keeps one offset all year, as Japan does, so calendar apps show "10:00 JST" as the
    poster does; a zone with daylight saving gets UTC times instead (equally exact, and
    no hand-written DST rules to get wrong)."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//ibasho//reminders//JA", "CALSCALE:GREGORIAN",
             f"X-WR-CALNAME:{_ics_text(ibasho['name'])}"]
    tz_name = ibasho["timezone"]
    fixed = _fixed_offset(tz_name, {s["date"].year for s in sessions}) if sessions else None
    if fixed:
        offset, abbreviation = fixed
        lines += ["BEGIN:VTIMEZONE", f"TZID:{tz_name}", "BEGIN:STANDARD", "DTSTART:19700101T000000",
                  f"TZOFFSETFROM:{offset}", f"TZOFFSETTO:{offset}", f"TZNAME:{abbreviation}", "END:STANDARD",
                  "END:VTIMEZONE"]

    def moment(name: str, value: datetime) -> str:
        return f"{name};TZID={tz_name}:{value.strftime('%Y%m%dT%H%M%S')}" if fixed else f"{name}:{_stamp(value)}"

    for session in sessions:
        if session["start_time"] is None:
            continue
        end_time = session["end_time"] or session["start_time"]
        starts, ends = session_times(session["date"], session["start_time"], end_time, tz_name)
        if ends <= starts:
            ends = starts + timedelta(hours=2)
        lines += [
            "BEGIN:VEVENT", f"UID:{session['id']}@ibasho", f"DTSTAMP:{_stamp(session['updated_at'])}",
            moment("DTSTART", starts), moment("DTEND", ends),
            f"SUMMARY:{_ics_text(session['title'] or ibasho['name'])}",
            f"LOCATION:{_ics_text(session['venue'] or ibasho['venue'])}",
            "STATUS:" + ("CANCELLED" if session["status"] in (SessionStatus.cancelled.value,
                                                               SessionStatus.postponed.value) else "CONFIRMED"),
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


@get("/i/{ibasho_id:uuid}/calendar.ics", include_in_schema=False)
async def ibasho_calendar(ibasho_id: FromPath[UUID]) -> Response:
    ibasho = await _active_ibasho(ibasho_id)
    since = datetime.now(timezone.utc).date() - timedelta(days=FEED_DAYS_BACK)
    return Response(calendar(ibasho, await _sessions(ibasho, since)), media_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=900"})


@get("/push/manage/{token:str}", include_in_schema=False)
async def manage_page(token: FromPath[str]) -> Template:
    """A participant's management link: what they subscribed to, and a button to stop."""
    from server.reminders.routes import manage_token_hash
    from server.tables import PushSubscription

    sub = await PushSubscription.select(PushSubscription.ibasho.name.as_alias("name")).where(
        PushSubscription.manage_token_hash == manage_token_hash(token)).first()
    return Template(template_name="reminders/manage.html", context={"subscription": sub, "token": token})
