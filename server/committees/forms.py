"""What staff post on the committee pages, checked field by field (one message per
problem, the form shown again as typed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from server.core.i18n import gettext as _
from server.core.labels import N_
from server.tables import CommitteeMeetingKind, CommitteeOrganisation, CommitteeSeat
from server.web.forms import Checker, Cleaned, as_list
from sync import limits

MEETING_KINDS = {
    CommitteeMeetingKind.full.value: N_("Full meeting"),
    CommitteeMeetingKind.working.value: N_("Working meeting"),
}


@dataclass
class CommitteeForm:
    area: str = ""
    name: str = ""

    def clean(self, areas: set[UUID]) -> Cleaned:
        check = Checker()
        area = check.parse(self.area, UUID, _("Area"))
        if area not in areas:
            check.fail(_("Choose one of your areas."))
        return {"area": area, "name": check.text(self.name, _("Committee name"), 200, required=True)}, check.errors


@dataclass
class OrganisationForm:
    name: str = ""

    def clean(self) -> Cleaned:
        check = Checker()
        name = check.text(self.name, _("Organisation"), CommitteeOrganisation.name.length, required=True)
        return {"name": name}, check.errors


@dataclass
class MemberForm:
    name: str = ""
    organisation: str = ""
    email: str = ""

    def clean(self, organisations: set[UUID]) -> Cleaned:
        check = Checker()
        organisation = check.parse(self.organisation, UUID, _("Organisation"))
        if organisation not in organisations:
            check.fail(_("Choose the member's organisation."))
        values = {
            "name": check.text(self.name, _("Name"), limits.PERSON_NAME, required=True),
            "organisation": organisation,
            "email": check.email(self.email, _("Email address"), CommitteeSeat.email.length, required=True),
        }
        return values, check.errors


@dataclass
class MeetingForm:
    kind: str = CommitteeMeetingKind.full.value
    title: str = ""
    date: str = ""
    start_time: str = ""
    end_time: str = ""
    venue: str = ""
    agenda: str = ""

    def clean(self) -> Cleaned:
        check = Checker()
        values = {
            "kind": check.choice(self.kind, MEETING_KINDS, _("Kind of meeting")),
            "title": check.text(self.title, _("Title"), limits.TITLE),
            "date": check.date(self.date, _("Date")),
            "start_time": check.time(self.start_time, _("Start time")),
            "end_time": check.time(self.end_time, _("End time")),
            "venue": check.text(self.venue, _("Venue"), limits.VENUE),
            "agenda": check.text(self.agenda, _("Agenda"), limits.LONG_TEXT),
        }
        if values["date"] is None and not self.date.strip():
            check.fail(_("Please enter %(field)s.") % {"field": _("Date")})
        if values["start_time"] and values["end_time"] and values["end_time"] <= values["start_time"]:
            check.fail(_("The meeting ends before it starts."))
        if not values["title"] and values["kind"] in MEETING_KINDS:
            values["title"] = _(MEETING_KINDS[values["kind"]])
        return values, check.errors


@dataclass
class MinutesForm:
    decisions: str = ""
    present: list[str] | str = field(default_factory=list)
    action_text: str = ""
    action_owner: str = ""
    action_due: str = ""

    def clean(self, members: set[UUID]) -> Cleaned:
        check = Checker()
        present = {check.parse(value, UUID, _("Attendance")) for value in as_list(self.present)}
        if not present <= members:
            check.fail(_("Tick only members of the committee."))
        action = None
        text = check.text(self.action_text, _("Action item"), limits.LONG_TEXT)
        owner = check.text(self.action_owner, _("Whom"), limits.PERSON_NAME)
        due = check.date(self.action_due, _("By when"))
        if text:
            action = {"text": text, "owner": owner, "due": due}
        elif owner or self.action_due.strip():
            check.fail(_("Please enter what is to be done."))
        values = {
            "decisions": check.text(self.decisions, _("Decisions"), limits.LONG_TEXT),
            "present": present & members,
            "action": action,
        }
        return values, check.errors
