"""The forms of the council pages: what the browser posts (all strings, plus checkboxes)
and the checks that turn it into column values or into messages for the person.

Each form's ``clean`` returns ``(values, errors)``: values keyed by column name, ready for
``Table.insert``/``update``, and the problems in the reader's language. Nothing is
written while there are errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from server.auth.accounts import login_taken
from server.auth.passwords import MIN_PASSWORD_LENGTH, login_fits, password_problem
from server.auth.principal import Principal
from server.config import get_settings
from server.core.i18n import gettext as _
from server.core.labels import AUDIENCES, KINDS, STATUSES
from server.core.schedule import parse_rule
from server.council.schedule_text import Builder, builder_for, interval_of, normalise
from server.reminders.rules import (
    DAY_BEFORE_AT,
    DEFAULT_RULE,
    HOURS_BEFORE_CHOICES,
    HOURS_BEFORE_DEFAULT,
    QUIET_END,
    QUIET_START,
    Rule,
    layered,
)
from server.tables import Account, Area, Group, Ibasho, Invitation
from server.web.forms import Checker, Cleaned, EditsRow, Values, as_list, as_posted

# --- admin ----------------------------------------------------------------------------


@dataclass
class AreaForm(EditsRow):
    name: str = ""
    description: str = ""

    async def clean(self, area_id: UUID | None = None) -> Cleaned:
        check = Checker()
        values: Values = {
            "name": check.text(self.name, _("Area name"), Area.name.length, required=True),
            "description": check.text(self.description, _("Description"), 2000),
        }
        same_name = Area.exists().where(Area.name == values["name"])
        if area_id is not None:
            same_name = same_name.where(Area.id != area_id)
        if values["name"] and await same_name:
            check.fail(_("An area with this name already exists."))
        return values, check.errors


@dataclass
class AccountForm:
    """A staff account's name and areas (the edit form; the new-account form adds login and password)."""

    display_name: str = ""
    areas: list[str] | str = field(default_factory=list)

    @property
    def chosen_areas(self) -> list[str]:
        return as_list(self.areas)

    async def clean(self) -> Cleaned:
        check = Checker()
        known = {row["id"] for row in await Area.select(Area.id)}
        values: Values = {
            "display_name": check.text(
                self.display_name, _("Display name"), Account.display_name.length, required=True
            ),
            "area_ids": check.area_ids(self.areas, known),
        }
        return values, check.errors


@dataclass
class StaffAccountForm(AccountForm):
    login: str = ""
    password: str = ""

    async def clean(self) -> Cleaned:
        values, errors = await super().clean()
        check = Checker()
        values["login"] = check.text(self.login, _("Login name"), Account.login.length, required=True)
        if values["login"] and not login_fits(values["login"]):
            check.fail(_("Please choose a login name (up to 100 characters)."))
        elif values["login"] and await login_taken(values["login"]):
            check.fail(_("That login name is taken. Please choose another."))
        if password_problem(self.password) is not None:
            check.fail(_("The password must be %(min)s to 512 characters.") % {"min": MIN_PASSWORD_LENGTH})
        values["password"] = self.password
        return values, errors + check.errors


# --- staff ----------------------------------------------------------------------------


@dataclass
class GroupForm(EditsRow):
    area: str = ""
    name: str = ""
    name_kana: str = ""
    representative: str = ""
    contact: str = ""
    timezone: str = ""
    registered_on: str = ""
    active: bool = False  # an unticked box is not posted at all

    @classmethod
    def new(cls) -> GroupForm:
        return cls(active=True, timezone=get_settings().default_timezone)

    def clean(self, principal: Principal) -> Cleaned:
        check = Checker()
        area = check.parse(self.area, UUID, _("Area"))
        if area is None or not principal.may_see_area(area):
            check.fail(_("Choose one of your areas."))
        values: Values = {
            "area": area,
            "name": check.text(self.name, _("Group name"), Group.name.length, required=True),
            "name_kana": check.text(self.name_kana, _("Name in kana"), Group.name_kana.length),
            "representative": check.text(self.representative, _("Representative"), Group.representative.length),
            "contact": check.text(self.contact, _("Contact"), 1000),
            "timezone": check.timezone(self.timezone),
            "registered_on": check.date(self.registered_on, _("Registered on")),
            "active": self.active,
        }
        return values, check.errors


@dataclass
class ReminderRuleFields:
    """When an ibasho's reminders go out (server/reminders/rules.py). The text fields
    default to the built-in rule, so a form posted without them keeps it; an unticked
    box is not posted at all, so the boxes default to off, as every checkbox here."""

    remind_day_before: bool = False
    day_before_at: str = DAY_BEFORE_AT.strftime("%H:%M")
    remind_hours_before: bool = False
    hours_before: str = str(HOURS_BEFORE_DEFAULT)
    quiet_start: str = QUIET_START.strftime("%H:%M")
    quiet_end: str = QUIET_END.strftime("%H:%M")

    @staticmethod
    def shown(rule: Rule) -> dict[str, object]:
        """A stored rule as the form's fields; a kind that is off shows the default to turn it on with."""
        return {
            "remind_day_before": rule.day_before_at is not None,
            "day_before_at": as_posted(rule.day_before_at or DAY_BEFORE_AT),
            "remind_hours_before": rule.hours_before is not None,
            "hours_before": str(rule.hours_before or HOURS_BEFORE_DEFAULT),
            "quiet_start": as_posted(rule.quiet_start),
            "quiet_end": as_posted(rule.quiet_end),
        }

    def reminder_rule(self, check: Checker) -> dict[str, object]:
        """The rule to store; the time or number of a kind that is off is not checked."""
        day_before_at = check.time(self.day_before_at, _("Time on the day before")) if self.remind_day_before else None
        if self.remind_day_before and day_before_at is None and not self.day_before_at.strip():
            check.fail(_("Please enter %(field)s.") % {"field": _("Time on the day before")})
        hours = (
            check.number_between(self.hours_before, _("Hours before the start"), HOURS_BEFORE_CHOICES)
            if self.remind_hours_before
            else None
        )
        quiet_start = check.time(self.quiet_start, _("Quiet hours from"))
        quiet_end = check.time(self.quiet_end, _("Quiet hours until"))
        if quiet_start is None or quiet_end is None:
            if not (self.quiet_start.strip() and self.quiet_end.strip()):
                check.fail(_("Please enter both ends of the quiet hours."))
        elif quiet_start == quiet_end:
            check.fail(_("The quiet hours must start and end at different times."))
        return Rule(day_before_at, hours, quiet_start or QUIET_START, quiet_end or QUIET_END).stored()


@dataclass
class IbashoForm(ReminderRuleFields, EditsRow):
    name: str = ""
    venue: str = ""
    kind: str = ""
    audience: str = ""
    registration_required: bool = False
    absence_follow_up: str = "3"  # absences in a row that put a registered participant on the follow-up list
    listed: bool = False
    status: str = ""
    start_time: str = ""
    end_time: str = ""
    timezone: str = ""
    active_from: str = ""
    active_until: str = ""
    description: str = ""
    # The schedule: the simple builder, or the advanced RRULE field, which wins when filled in.
    frequency: str = ""
    weekday: str = "SU"
    nth: str = "1"
    rrule: str = ""

    @classmethod
    def new(cls) -> IbashoForm:
        return cls(
            kind="other",
            audience="anyone",
            status="active",
            frequency="monthly",
            timezone=get_settings().default_timezone,
            **ReminderRuleFields.shown(DEFAULT_RULE),
        )

    @classmethod
    def from_row(cls, row: dict, **overrides) -> IbashoForm:
        """A rule the builder can make is shown in the builder; any other stays in the advanced field."""
        overrides = {**cls.shown(layered(row.get("reminder_rule"))), **overrides}
        builder = builder_for(row["rrule"])
        if builder is None:
            return super().from_row(row, frequency="", **overrides)
        return super().from_row(
            row, frequency=builder.frequency, weekday=builder.weekday, nth=str(builder.nth), rrule="", **overrides
        )

    def clean(self) -> Cleaned:
        check = Checker()
        values: Values = {
            "name": check.text(self.name, _("Ibasho name"), Ibasho.name.length, required=True),
            "venue": check.text(self.venue, _("Venue"), Ibasho.venue.length),
            "kind": check.choice(self.kind, KINDS, _("Kind")),
            "audience": check.choice(self.audience, AUDIENCES, _("Audience")),
            "registration_required": self.registration_required,
            "absence_follow_up": check.number_between(
                self.absence_follow_up, _("Follow-up after this many absences in a row"), range(1, 13)
            ),
            "listed": self.listed,
            "status": check.choice(self.status, STATUSES, _("Status")),
            "start_time": check.time(self.start_time, _("Start time")),
            "end_time": check.time(self.end_time, _("End time")),
            "timezone": check.timezone(self.timezone),
            "active_from": check.date(self.active_from, _("Active from")),
            "active_until": check.date(self.active_until, _("Active until")),
            "description": check.text(self.description, _("Description"), 2000),
            "rrule": self._rule(check),
            "reminder_rule": self.reminder_rule(check),
        }
        if values["end_time"] and not values["start_time"]:
            check.fail(_("Please enter the start time too."))
        if values["active_from"] and values["active_until"] and values["active_until"] < values["active_from"]:
            check.fail(_("The activity period ends before it starts."))
        # "Every 2 weeks" counts its weeks from DTSTART, which is the first day of the activity period.
        if values["rrule"] and interval_of(values["rrule"]) > 1 and not values["active_from"]:
            check.fail(
                _(
                    "A schedule that skips weeks or months needs the first day of the activity period: "
                    "it counts from there."
                )
            )
        return values, check.errors

    def _rule(self, check: Checker) -> str:
        if self.rrule.strip():
            rule = normalise(self.rrule)
            try:
                parse_rule(rule, date.today())
            except ValueError:
                check.fail(_("The advanced repeat rule (RRULE) is not valid. Example: FREQ=MONTHLY;BYDAY=1SU"))
            return rule
        try:
            return Builder(self.frequency, self.weekday, int(self.nth)).rrule()
        except ValueError:
            check.fail(_("Choose how often, the weekday and the week of the month."))
            return ""


@dataclass
class InvitationForm:
    note: str = ""

    def clean(self) -> Cleaned:
        check = Checker()
        return {"note": check.text(self.note, _("Who it is for"), Invitation.note.length)}, check.errors
