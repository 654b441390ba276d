"""The public directory of registered places (登録団体一覧): every active ibasho whose group
chose to be listed, with its area, kind, audience, next dates and links to its page and
calendar; filtered by area, kind, weekday and "open to anyone"; a map of the areas drawn
by the server (no tile server); and the same list as CSV and XLSX for the council's files.

Anyone may read it: it shows only what the ibasho's own public page shows. Two queries
whatever the number of places: the places with their groups and areas, and their public
sessions of the coming weeks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import UUID

from litestar import Request, Response, Router, get
from litestar.exceptions import ValidationException
from litestar.params import FromQuery
from litestar.response import Template

from server.core import labels
from server.core.clock import now
from server.core.dates import format_date_ja
from server.core.groups import ordinary_groups
from server.core.i18n import gettext as _
from server.council.schedule_text import WEEKDAYS as WEEKDAY_NAMES
from server.council.schedule_text import describe_schedule
from server.reminders.audience import public_only
from server.tables import Area, Audience, Ibasho, IbashoStatus, Session, SessionStatus
from server.web.pages import page
from server.web.spreadsheets import Table, download

DAYS_AHEAD = 92  # the next dates shown come from the coming three months
NEXT_DATES = 3
WEEKDAYS = tuple(WEEKDAY_NAMES)  # RFC 5545's MO…SU, as the schedules use them: date.weekday() order


@dataclass
class Place:
    id: UUID
    name: str
    group: str
    area_id: UUID
    area: str
    kind: str
    audience: str
    registration_required: bool
    venue: str
    schedule: str
    description: str
    next_dates: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class Filters:
    area: UUID | None = None
    kind: str | None = None
    weekday: str | None = None
    open_to_anyone: bool = False

    def keep(self, place: Place, weekdays: set[str]) -> bool:
        return (
            (self.area is None or place.area_id == self.area)
            and (self.kind is None or place.kind == self.kind)
            and (self.weekday is None or self.weekday in weekdays)
            and (not self.open_to_anyone or place.audience == Audience.anyone.value)
        )


async def listed_places(filters: Filters, today: date) -> list[Place]:
    rows = (
        await Ibasho.select(
            Ibasho.id,
            Ibasho.name,
            Ibasho.kind,
            Ibasho.audience,
            Ibasho.registration_required,
            Ibasho.venue,
            Ibasho.rrule,
            Ibasho.start_time,
            Ibasho.end_time,
            Ibasho.description,
            Ibasho.group.name.as_alias("group_name"),
            Ibasho.group.area.as_alias("area_id"),
            Ibasho.group.area.name.as_alias("area_name"),
        )
        .where((Ibasho.listed == True) & (Ibasho.status == IbashoStatus.active.value) & ordinary_groups(Ibasho.group))
        .order_by(Ibasho.group.area.name)
        .order_by(Ibasho.name)
    )
    places = {
        row["id"]: Place(
            id=row["id"],
            name=row["name"],
            group=row["group_name"],
            area_id=row["area_id"],
            area=row["area_name"],
            kind=row["kind"],
            audience=row["audience"],
            registration_required=row["registration_required"],
            venue=row["venue"],
            schedule=describe_schedule(row["rrule"], row["start_time"], row["end_time"]),
            description=row["description"],
        )
        for row in rows
    }
    weekdays: dict[UUID, set[str]] = defaultdict(set)
    if places:
        sessions = (
            await Session.select(Session.ibasho, Session.date, Session.start_time, Session.end_time, Session.venue)
            .where(
                Session.ibasho.is_in(list(places))
                & (Session.deleted == False)
                & (Session.status == SessionStatus.scheduled.value)
                & (Session.date >= today)
                & (Session.date <= today + timedelta(days=DAYS_AHEAD))
                & public_only()
            )
            .order_by(Session.date)
            .order_by(Session.start_time)
        )
        for session in sessions:
            place = places[session["ibasho"]]
            weekdays[place.id].add(WEEKDAYS[session["date"].weekday()])
            if len(place.next_dates) < NEXT_DATES:
                place.next_dates.append(session)
    return [place for place in places.values() if filters.keep(place, weekdays[place.id])]


@dataclass(frozen=True)
class AreaCount:
    id: UUID
    name: str
    places: int


def area_counts(areas: list[dict], places: list[Place]) -> list[AreaCount]:
    """Every area with how many listed places it has (the map shows the empty ones too)."""
    counts = defaultdict(int)
    for place in places:
        counts[place.area_id] += 1
    return [AreaCount(area["id"], area["name"], counts[area["id"]]) for area in areas]


def filters_from(area: str | None, kind: str | None, weekday: str | None, open: str | None) -> Filters:
    """The filters of a query string, or 400 saying which one is wrong (empty means any)."""
    try:
        area_id = UUID(area) if area else None
    except ValueError:
        raise ValidationException(_("There is no such area.")) from None
    if kind and kind not in labels.KINDS:
        raise ValidationException(_("There is no such kind of place."))
    if weekday and weekday not in WEEKDAYS:
        raise ValidationException(_("Choose the day of the week from the list."))
    if open not in (None, "", "1"):
        raise ValidationException(_("Open to anyone is given as 1."))
    return Filters(area=area_id, kind=kind or None, weekday=weekday or None, open_to_anyone=open == "1")


@get("/directory", include_in_schema=False)
async def directory(
    request: Request,
    area: FromQuery[str | None] = None,
    kind: FromQuery[str | None] = None,
    weekday: FromQuery[str | None] = None,
    open: FromQuery[str | None] = None,
) -> Template:
    filters = filters_from(area, kind, weekday, open)
    today = now().date()
    places = await listed_places(filters, today)
    areas = await Area.select(Area.id, Area.name).order_by(Area.name)
    every_place = places if filters == Filters() else await listed_places(Filters(), today)
    return page(
        "directory/index.html",
        places=places,
        filters=filters,
        areas=areas,
        map_areas=area_counts(areas, every_place),
        kinds=labels.choices(labels.KINDS),
        weekdays=labels.choices(WEEKDAY_NAMES),
        query=request.url.query,
    )


def spreadsheet(places: list[Place]) -> Table:
    header = [_(name) for name in ("Area", "Group", "Ibasho", "Kind", "Audience", "Registration", "Venue", "Schedule")]
    header += [_("Next dates"), _("Public page")]
    rows = [
        [
            place.area,
            place.group,
            place.name,
            _(labels.KINDS[place.kind]),
            _(labels.AUDIENCES[place.audience]),
            _("Registration required") if place.registration_required else "",
            place.venue,
            place.schedule,
            "、".join(format_date_ja(session["date"]) for session in place.next_dates),
            f"/i/{place.id}",
        ]
        for place in places
    ]
    return Table(_("Directory of places"), header, rows)


@get(["/directory.csv", "/directory.xlsx"], include_in_schema=False)
async def directory_file(
    request: Request,
    area: FromQuery[str | None] = None,
    kind: FromQuery[str | None] = None,
    weekday: FromQuery[str | None] = None,
    open: FromQuery[str | None] = None,
) -> Response:
    places = await listed_places(filters_from(area, kind, weekday, open), now().date())
    return download(spreadsheet(places), _("Directory of places"), request.url.path.rsplit(".", 1)[1])


directory_router = Router(path="/", route_handlers=[directory, directory_file])
