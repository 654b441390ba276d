"""Public pages of an ibasho for participants (no account): 通知を受け取る, an iCalendar
feed, and the management link a subscriber keeps (which reminders, stop).

Who may use them: anyone, for an active ibasho; they show only what a poster would
(name, venue, dates and times), never people. The management page: whoever holds its
secret token.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

import icalendar
from litestar import Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from server.core.clock import now
from server.core.i18n import gettext as _
from server.core.schedule import session_times, zone
from server.pwa.routes import app_manifest, asset_url, manifest_response
from server.reminders import tokens
from server.reminders.audience import public_only
from server.reminders.line import channel_for
from server.reminders.planning import refresh_ibasho
from server.reminders.rules import DAY_BEFORE, HOURS_BEFORE, chosen_kinds, layered
from server.reminders.tokens import manage_token_hash
from server.sync.store import decoded_json
from server.tables import Ibasho, IbashoStatus, PushSubscription, Session, SessionStatus

FEED_DAYS_BACK = 30


async def active_ibasho(ibasho_id: UUID) -> dict:
    row = await Ibasho.select().where((Ibasho.id == ibasho_id) & (Ibasho.status == IbashoStatus.active.value)).first()
    if row is None:
        raise NotFoundException("no such ibasho")
    return row


async def sessions_since(ibasho: dict, since) -> list[dict]:
    """The ibasho's sessions the public may see (page, poster, feed), from ``since`` on."""
    return (
        await Session.select(
            Session.id,
            Session.title,
            Session.date,
            Session.start_time,
            Session.end_time,
            Session.venue,
            Session.status,
            Session.updated_at,
        )
        .where((Session.ibasho == ibasho["id"]) & (Session.deleted == False) & (Session.date >= since) & public_only())
        .order_by(Session.date)
    )


async def ibasho_page_context(ibasho_id: UUID, person: str | None) -> dict:
    """What the public page shows (also when one of its forms comes back with errors)."""
    ibasho = await active_ibasho(ibasho_id)
    today = now().date()
    upcoming = [s for s in await sessions_since(ibasho, today) if s["status"] == SessionStatus.scheduled.value][:6]
    person_token = _person_token(person, ibasho_id)
    return {
        "ibasho": ibasho,
        "sessions": upcoming,
        "rule": layered(ibasho["reminder_rule"]),
        "person_token": person_token,
        "person_link_expired": bool(person) and person_token is None,
        "app_icon": asset_url("icons/icon-192.png"),
        "errors": [],
        "typed": {},
        "line": await channel_for(ibasho_id) is not None,
    }


@get("/i/{ibasho_id:uuid}", include_in_schema=False)
async def ibasho_page(ibasho_id: FromPath[UUID], person: FromQuery[str | None] = None) -> Template:
    """``?person=<token>``: reached from a participant's personal QR code (absence replies)."""
    return Template(template_name="reminders/ibasho.html", context=await ibasho_page_context(ibasho_id, person))


def _person_token(person: str | None, ibasho_id: UUID) -> str | None:
    """The personal QR code's token, if it is still good and for this ibasho."""
    link = tokens.read_person_link(person) if person else None
    return person if link is not None and link[1] == ibasho_id else None


@get("/i/{ibasho_id:uuid}/manifest.webmanifest", include_in_schema=False)
async def ibasho_manifest(ibasho_id: FromPath[UUID], person: FromQuery[str | None] = None) -> Response:
    """What "Add to Home Screen" makes of the public page: on iPhone and iPad, Web Push
    works only in a web app on the Home Screen, so this page must be installable as one.
    It opens the public page again, with the personal QR code's token if it is still good."""
    ibasho = await active_ibasho(ibasho_id)
    person_token = _person_token(person, ibasho_id)
    start = f"/i/{ibasho_id}" + (f"?person={person_token}" if person_token else "")
    return manifest_response(
        {
            **app_manifest(),
            "id": f"/i/{ibasho_id}",
            "name": ibasho["name"],
            "short_name": ibasho["name"][:12],
            "start_url": start,
            "scope": f"/i/{ibasho_id}",
            "description": f"「{ibasho['name']}」のお知らせ",
        }
    )


# RFC 5545 text has one line break (\n) and no other control character: a CR, alone or
# before LF, is a line break; the rest (never typed on purpose) are dropped.
_CR = re.compile(r"\r\n?")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _ics_text(value: str) -> str:
    return _CONTROL.sub("", _CR.sub("\n", value))


def _fixed_offset(tz_name: str, years: set[int]) -> tuple[timedelta, str] | None:
    """(offset, abbreviation) of a zone with one offset and no DST over ``years`` (Japan), else None."""
    tz = zone(tz_name)
    moments = [datetime(year, month, 1, 12, tzinfo=tz) for year in years for month in (1, 7)]
    offsets = {moment.utcoffset() for moment in moments}
    if len(offsets) != 1 or any(moment.dst() for moment in moments):
        return None
    return offsets.pop(), moments[0].tzname() or tz_name


def _vtimezone(tz_name: str, offset: timedelta, abbreviation: str) -> icalendar.Timezone:
    standard = icalendar.TimezoneStandard()
    standard.add("dtstart", datetime(1970, 1, 1))
    standard.add("tzoffsetfrom", offset)
    standard.add("tzoffsetto", offset)
    standard.add("tzname", abbreviation)
    vtimezone = icalendar.Timezone()
    vtimezone.add("tzid", tz_name)
    vtimezone.add_component(standard)
    return vtimezone


def _event_times(session: dict, tz_name: str, wall_clock: bool) -> tuple[datetime, datetime] | None:
    """Start and end in the ibasho's zone (``wall_clock``) or in UTC; None for a session
    too close to the year 9999 for a datetime, and so for any calendar, to hold."""
    try:
        starts, ends = session_times(
            session["date"], session["start_time"], session["end_time"] or session["start_time"], tz_name
        )
        if ends <= starts:
            ends = starts + timedelta(hours=2)
        if not wall_clock:
            starts, ends = starts.astimezone(UTC), ends.astimezone(UTC)
    except OverflowError:
        return None
    return starts, ends


def calendar(ibasho: dict, sessions: list[dict]) -> bytes:
    """RFC 5545 text (icalendar escapes and folds it): one VEVENT per session, cancelled ones marked so.

    Times are wall-clock times with the ibasho's TZID (and its VTIMEZONE) when the zone
    keeps one offset all year, as Japan does, so calendar apps show "10:00 JST" as the
    poster does; a zone with daylight saving gets UTC times instead (equally exact, and
    no hand-written DST rules to get wrong)."""
    feed = icalendar.Calendar()
    feed.add("version", "2.0")
    feed.add("prodid", "-//ibasho//reminders//JA")
    feed.add("calscale", "GREGORIAN")
    feed.add("x-wr-calname", _ics_text(ibasho["name"]))
    tz_name = ibasho["timezone"]
    fixed = _fixed_offset(tz_name, {s["date"].year for s in sessions}) if sessions else None
    if fixed:
        feed.add_component(_vtimezone(tz_name, *fixed))
    for session in sessions:
        times = _event_times(session, tz_name, wall_clock=fixed is not None) if session["start_time"] else None
        if times is None:
            continue
        event = icalendar.Event()
        event.add("uid", f"{session['id']}@ibasho")
        event.add("dtstamp", session["updated_at"].astimezone(UTC))
        event.add("dtstart", times[0])  # an aware time in the zone: TZID=<its key>; in UTC: …Z
        event.add("dtend", times[1])
        event.add("summary", _ics_text(session["title"] or ibasho["name"]))
        event.add("location", _ics_text(session["venue"] or ibasho["venue"]))
        event.add(
            "status",
            "CANCELLED"
            if session["status"] in (SessionStatus.cancelled.value, SessionStatus.postponed.value)
            else "CONFIRMED",
        )
        feed.add_component(event)
    return feed.to_ical()


@get("/i/{ibasho_id:uuid}/calendar.ics", include_in_schema=False)
async def ibasho_calendar(ibasho_id: FromPath[UUID]) -> Response:
    ibasho = await active_ibasho(ibasho_id)
    since = now().date() - timedelta(days=FEED_DAYS_BACK)
    # Litestar adds "; charset=utf-8" to every text/ type
    return Response(
        calendar(ibasho, await sessions_since(ibasho, since)),
        media_type="text/calendar",
        headers={"Cache-Control": "public, max-age=900"},
    )


# --- a participant's management link ------------------------------------------------------


@dataclass
class TimingForm:
    """Which reminders a participant wants: a box per kind; an unticked box is not posted."""

    day_before: bool = False
    hours_before: bool = False

    FIELDS = {"day_before": DAY_BEFORE, "hours_before": HOURS_BEFORE}  # box → kind (not a form field)

    def kinds(self) -> set[str]:
        return {kind for box, kind in self.FIELDS.items() if getattr(self, box)}


async def _managed(token: str) -> dict | None:
    """The participant's subscription its management token names, with its ibasho's name and rule."""
    return (
        await PushSubscription.select(
            PushSubscription.id,
            PushSubscription.ibasho,
            PushSubscription.offsets,
            PushSubscription.ibasho.name.as_alias("name"),
            PushSubscription.ibasho.reminder_rule.as_alias("rule"),
        )
        .where(PushSubscription.manage_token_hash == manage_token_hash(token))
        .first()
    )


def _manage_template(
    token: str, sub: dict | None, chosen: Iterable[str] = (), errors: Sequence[str] = (), saved: bool = False
) -> Template:
    rule = layered(sub["rule"]) if sub else None
    ticked = {box for box, kind in TimingForm.FIELDS.items() if kind in set(chosen)}
    return Template(
        template_name="reminders/manage.html",
        status_code=422 if errors else 200,
        context={
            "subscription": sub,
            "token": token,
            "rule": rule,
            "ticked": ticked,
            "errors": list(errors),
            "saved": saved,
        },
    )


@get("/push/manage/{token:str}", include_in_schema=False)
async def manage_page(token: FromPath[str], saved: FromQuery[bool] = False) -> Template:
    """A participant's management link: what they subscribed to, which reminders they get, and a button to stop."""
    sub = await _managed(token)
    chosen = chosen_kinds(decoded_json(sub["offsets"]), layered(sub["rule"]).kinds) if sub else ()
    return _manage_template(token, sub, chosen, saved=saved and sub is not None)


@post("/push/manage/{token:str}", include_in_schema=False)
async def manage_timing(token: FromPath[str], data: URLEncodedBody[TimingForm]) -> Response:
    """Change which reminders the subscription gets. The secret token is the authority,
    as for stopping; the page's form carries the CSRF token like every form."""
    sub = await _managed(token)
    if sub is None:
        raise NotFoundException("no such subscription")
    offered = layered(sub["rule"]).kinds
    chosen = [kind for kind in offered if kind in data.kinds()]
    if not chosen:
        error = _("Choose at least one reminder. To get none, stop them below.")
        return _manage_template(token, sub, data.kinds(), [error])
    # every kind the ibasho sends is stored as "all" (empty), so one it turns on later comes too
    offsets = [] if len(chosen) == len(offered) else chosen
    await PushSubscription.update({PushSubscription.offsets: offsets, PushSubscription.updated_at: now()}).where(
        PushSubscription.id == sub["id"]
    )
    if sub["ibasho"] is not None:  # always, for a participant's subscription: only those have a token
        await refresh_ibasho(sub["ibasho"])
    return Redirect(path=f"/push/manage/{token}", query_params={"saved": "1"}, status_code=303)


HANDLERS = [ibasho_page, ibasho_calendar, ibasho_manifest, manage_page, manage_timing]
