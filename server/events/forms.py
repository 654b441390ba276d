"""What staff post to make an event, and what an applicant posts: checked field by field,
one message per problem, the form shown again as typed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

from server.core.i18n import gettext as _
from server.core.labels import N_
from server.tables import CouncilEvent, EventApplication, EventKind, EventPart
from server.web.forms import Checker, Cleaned, Honeypot, Values, as_list
from sync import limits

PART_ROWS = 4  # rows on the staff form; a blank row is no part
DEADLINE_BEFORE = timedelta(days=7)  # the seeds' courses: applications close a week before
CAPACITY = range(1, 1001)
KINDS = {
    EventKind.course.value: N_("Course"),
    EventKind.network.value: N_("Network meeting"),
    EventKind.forum.value: N_("Forum"),
}
MODES = {"onsite": N_("On site"), "online": N_("Online"), "both": N_("On site and online")}


@dataclass
class EventForm:
    area: str = ""
    kind: str = EventKind.course.value
    title: str = ""
    description: str = ""
    capacity: str = ""
    application_deadline: str = ""  # blank: a week before the first part
    online_url: str = ""
    part_date: list[str] | str = field(default_factory=list)
    part_start: list[str] | str = field(default_factory=list)
    part_end: list[str] | str = field(default_factory=list)
    part_venue: list[str] | str = field(default_factory=list)
    part_mode: list[str] | str = field(default_factory=list)

    @classmethod
    def of(cls, row: dict, parts: list[dict]) -> EventForm:
        """The form of an event as it stands, for editing it."""
        hhmm = lambda t: t.strftime("%H:%M") if t else ""  # noqa: E731
        return cls(
            area=str(row["area"]),
            kind=row["kind"],
            title=row["title"],
            description=row["description"],
            capacity=str(row["capacity"]),
            application_deadline=row["application_deadline"].isoformat(),
            online_url=row["online_url"],
            part_date=[p["date"].isoformat() for p in parts],
            part_start=[hhmm(p["start_time"]) for p in parts],
            part_end=[hhmm(p["end_time"]) for p in parts],
            part_venue=[p["venue"] for p in parts],
            part_mode=[("both" if p["venue"] else "online") if p["online"] else "onsite" for p in parts],
        )

    def rows(self) -> list[dict]:
        """The part rows as typed, padded to ``PART_ROWS``, for showing the form again."""
        columns = [as_list(c) for c in (self.part_date, self.part_start, self.part_end, self.part_venue)]
        modes = as_list(self.part_mode)
        count = max(PART_ROWS, *(len(c) for c in columns))
        cell = lambda values, i, default="": values[i] if i < len(values) else default  # noqa: E731
        return [
            {
                "date": cell(columns[0], i),
                "start": cell(columns[1], i),
                "end": cell(columns[2], i),
                "venue": cell(columns[3], i),
                "mode": cell(modes, i, "onsite"),
            }
            for i in range(count)
        ]

    def clean(self, areas: set[UUID]) -> tuple[Values, list[Values], list[str]]:
        check = Checker()
        area = check.parse(self.area, UUID, _("Area"))
        if area not in areas:
            check.fail(_("Choose one of your areas."))
        values: Values = {
            "area": area,
            "kind": check.choice(self.kind, KINDS, _("Kind of event")),
            "title": check.text(self.title, _("Title"), CouncilEvent.title.length, required=True),
            "description": check.text(self.description, _("What it is about"), 4000),
            "capacity": check.number_between(self.capacity, _("Capacity"), CAPACITY),
            "online_url": check.text(self.online_url, _("Online meeting link"), limits.URL),
        }
        if values["online_url"] and not values["online_url"].startswith(("https://", "http://")):
            check.fail(_("The online meeting link must start with https://."))
        parts = self._parts(check)
        deadline = check.date(self.application_deadline, _("Application deadline"))
        if parts:
            first = parts[0]["date"]
            if deadline is None and not self.application_deadline.strip():
                deadline = first - DEADLINE_BEFORE
            if deadline is not None and deadline > first:
                check.fail(_("The application deadline must be on or before the first part."))
        values["application_deadline"] = deadline
        if any(p["online"] for p in parts) and not values["online_url"]:
            check.fail(_("An online part needs the online meeting link."))
        return values, parts, check.errors

    def _parts(self, check: Checker) -> list[Values]:
        parts = []
        for number, row in enumerate(self.rows(), 1):
            if not any(row[key].strip() for key in ("date", "start", "end", "venue")):
                continue
            label = _("Part %(number)s") % {"number": number}
            day = check.date(row["date"], f"{label}: {_('Date')}")
            start = check.time(row["start"], f"{label}: {_('Start time')}")
            end = check.time(row["end"], f"{label}: {_('End time')}")
            venue = check.text(row["venue"], f"{label}: {_('Venue')}", EventPart.venue.length)
            mode = check.choice(row["mode"], MODES, f"{label}: {_('How it is held')}")
            if day is None or start is None:
                check.fail(_("%(part)s needs a date and a start time.") % {"part": label})
                continue
            if end is not None and end <= start:
                check.fail(_("%(part)s ends before it starts.") % {"part": label})
            if mode != "online" and not venue:
                check.fail(_("%(part)s is held on site: please enter the venue.") % {"part": label})
            parts.append(
                {"date": day, "start_time": start, "end_time": end, "venue": venue, "online": mode != "onsite"}
            )
        if not parts:
            check.fail(_("Please enter at least one part with its date and start time."))
        parts.sort(key=lambda p: (p["date"], p["start_time"]))
        for number, part in enumerate(parts, 1):
            part["number"] = number
        return parts


@dataclass
class ApplyForm(Honeypot):
    name: str = ""
    organisation: str = ""
    email: str = ""
    phone: str = ""
    agree_contact: bool = False

    def clean(self) -> Cleaned:
        check = Checker()
        values: Values = {
            "name": check.text(self.name, _("Name"), EventApplication.name.length, required=True),
            "organisation": check.text(
                self.organisation, _("Organisation (place or group)"), EventApplication.organisation.length
            ),
            "email": check.email(self.email, _("Email address"), EventApplication.email.length, required=True),
            "phone": check.text(self.phone, _("Phone number"), EventApplication.phone.length),
        }
        if not self.agree_contact:
            check.fail(_("Please agree that the council may contact you about this event."))
        return values, check.errors
