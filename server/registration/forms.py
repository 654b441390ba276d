"""The public application form: what a new 居場所 tells the council, checked field by field
(one message per problem, in the reader's language, the form shown again as typed)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from server.core.i18n import gettext as _
from server.core.labels import AUDIENCES, KINDS
from server.council.schedule_text import Builder
from server.tables import Registration
from server.web.forms import Checker, Cleaned, Honeypot, Values

MESSAGE_LENGTH = 4000
PUBLIC_FREQUENCIES = ("", "monthly", "weekly")


@dataclass
class ApplicationForm(Honeypot):
    area: str = ""
    group_name: str = ""
    group_kana: str = ""
    ibasho_name: str = ""
    kind: str = "other"
    audience: str = "anyone"
    registration_required: bool = False
    frequency: str = "monthly"
    weekday: str = "SU"
    nth: str = "1"
    start_time: str = ""
    end_time: str = ""
    venue: str = ""
    description: str = ""
    representative: str = ""
    email: str = ""
    phone: str = ""
    listed: bool = False
    agree_rules: bool = False  # the council's registration rules (登録要項)
    agree_contact: bool = False  # the council may use the contact for the registration

    def clean(self, areas: set[UUID]) -> Cleaned:
        check = Checker()
        area = check.parse(self.area, UUID, _("Area"))
        if area not in areas:
            check.fail(_("Choose the area the place is in."))
        values: Values = {
            "area": area,
            "group_name": check.text(self.group_name, _("Group name"), Registration.group_name.length, required=True),
            "group_kana": check.text(self.group_kana, _("Name in kana"), Registration.group_kana.length),
            "ibasho_name": check.text(
                self.ibasho_name, _("Ibasho name"), Registration.ibasho_name.length, required=True
            ),
            "kind": check.choice(self.kind, KINDS, _("Kind")),
            "audience": check.choice(self.audience, AUDIENCES, _("Audience")),
            "registration_required": self.registration_required,
            "rrule": self._rule(check),
            "start_time": check.time(self.start_time, _("Start time")),
            "end_time": check.time(self.end_time, _("End time")),
            "venue": check.text(self.venue, _("Venue"), Registration.venue.length, required=True),
            "description": check.text(self.description, _("What you do"), 2000),
            "representative": check.text(
                self.representative, _("Representative"), Registration.representative.length, required=True
            ),
            "email": check.email(self.email, _("Email address"), Registration.email.length, required=True),
            "phone": check.phone(self.phone, _("Phone number"), Registration.phone.length),
            "listed": self.listed,
        }
        if values["end_time"] and not values["start_time"]:
            check.fail(_("Please enter the start time too."))
        if not self.agree_rules:
            check.fail(_("Please agree to the registration rules."))
        if not self.agree_contact:
            check.fail(_("Please agree that the council may contact you about the registration."))
        return values, check.errors

    def _rule(self, check: Checker) -> str:
        """A schedule of the simple builder, weekly or monthly (every two weeks needs a first
        day to count from, which staff set with the group)."""
        if self.frequency not in PUBLIC_FREQUENCIES:
            check.fail(_("Choose how often, the weekday and the week of the month."))
            return ""
        try:
            return Builder(self.frequency, self.weekday, int(self.nth)).rrule()
        except ValueError:
            check.fail(_("Choose how often, the weekday and the week of the month."))
            return ""


@dataclass
class MessageForm:
    message: str = ""

    def clean(self) -> Cleaned:
        check = Checker()
        return {"message": check.text(self.message, _("Message"), MESSAGE_LENGTH, required=True)}, check.errors
