"""Words for the codes stored in the tables: ibasho kinds and statuses, roles, invitation,
review and session states, head-count categories, attendance and safety-check outcomes.

The values are msgids: templates show them with ``_()``, so they follow the reader's language.
"""

from __future__ import annotations

from server.core.i18n import gettext as _
from server.tables import (
    AttendanceStatus,
    Audience,
    IbashoKind,
    IbashoStatus,
    ReviewState,
    Role,
    SafetyCheckOutcome,
    SessionStatus,
)


def N_(message: str) -> str:
    """Marks a msgid for extraction; it is translated where it is shown."""
    return message


KINDS = {
    IbashoKind.kodomo_shokudo.value: N_("Children's cafeteria"),
    IbashoKind.salon.value: N_("Salon for older people"),
    IbashoKind.cafe.value: N_("Community or dementia café"),
    IbashoKind.chanoma.value: N_("Community living room"),
    IbashoKind.study.value: N_("Study support"),
    IbashoKind.parenting.value: N_("Parenting salon"),
    IbashoKind.other.value: N_("Other"),
}
AUDIENCES = {
    Audience.anyone.value: N_("Anyone"),
    Audience.seniors.value: N_("Mainly older people"),
    Audience.children.value: N_("Children"),
    Audience.parents.value: N_("Parents and children"),
}
STATUSES = {
    IbashoStatus.active.value: N_("Active"),
    IbashoStatus.paused.value: N_("Paused"),
    IbashoStatus.ended.value: N_("Ended"),
    IbashoStatus.graduated.value: N_("Graduated"),
}
ROLES = {
    Role.admin.value: N_("Council admin"),
    Role.staff.value: N_("Area staff"),
    Role.organiser.value: N_("Organiser"),
}
INVITATION_STATES = {"unused": N_("Unused"), "used": N_("Used"), "expired": N_("Expired")}
REVIEW_STATES = {
    ReviewState.unreviewed.value: N_("Not reviewed"),
    ReviewState.reviewed.value: N_("Reviewed"),
    ReviewState.follow_up.value: N_("Needs follow-up"),
}
SESSION_STATUSES = {
    SessionStatus.scheduled.value: N_("Scheduled"),
    SessionStatus.held.value: N_("Held"),
    SessionStatus.cancelled.value: N_("Cancelled"),
    SessionStatus.postponed.value: N_("Postponed"),
}
CATEGORIES = {
    "child": N_("Children"),
    "adult": N_("Adults"),
    "senior": N_("Older people"),
    "parent_child": N_("Parents and children"),
    "first_time": N_("First time"),
    "volunteer": N_("Volunteers"),
}
ATTENDANCE = {
    AttendanceStatus.present.value: N_("Present"),
    AttendanceStatus.absent_notified.value: N_("Absent with notice"),
    AttendanceStatus.absent_unnotified.value: N_("Absent without notice"),
}
OUTCOMES = {
    SafetyCheckOutcome.open.value: N_("Not yet reached"),  # 未連絡: not 確認待ち, which is the staff review
    SafetyCheckOutcome.safe.value: N_("Safe"),
    SafetyCheckOutcome.unreachable.value: N_("Unreachable"),
    SafetyCheckOutcome.needs_support.value: N_("Needs support"),
    SafetyCheckOutcome.withdrawn.value: N_("Withdrawn (mark corrected)"),
}

# How a follow-up reached the person: what the phone offers (pwa/js/i18n.js method_*); other
# text an older phone sent is shown as typed.
METHODS = {"phone": N_("Phone"), "visit": N_("Visit"), "message": N_("Message")}

# The audit log's actions (AuditLog.action), by what the staff member did.
AUDIT_ACTIONS = {
    "view_concerns": N_("Read participants of concern"),
    "safety.view": N_("Opened the safety check list"),
    "review.save": N_("Saved a session review"),
    "sheet.print": N_("Opened an attendance sheet"),
    "paper.save": N_("Typed in a paper sheet"),
    "export.group": N_("Downloaded a group's records"),
    "export.area": N_("Downloaded an area's records"),
    "group.export": N_("Exported a leaving group's data"),
    "person.erase": N_("Erased a participant"),
    "area.create": N_("Added an area"),
    "area.update": N_("Edited an area"),
    "group.create": N_("Added a group"),
    "group.update": N_("Edited a group"),
    "ibasho.create": N_("Added an ibasho"),
    "ibasho.update": N_("Edited an ibasho"),
    "invitation.create": N_("Created an invitation link"),
    "invitation.revoke": N_("Revoked an invitation link"),
    "account.create": N_("Added a staff account"),
    "account.update": N_("Edited a staff account"),
    "account.deactivate": N_("Deactivated a staff account"),
    "account.reactivate": N_("Reactivated a staff account"),
    "account.reset": N_("Made a password link for a staff account"),
    "account.revoke-sessions": N_("Logged a staff account out everywhere"),
    "organiser.remove": N_("Removed an organiser from a group"),
    "organiser.deactivate": N_("Deactivated an organiser"),
    "organiser.reactivate": N_("Reactivated an organiser"),
    "organiser.reset": N_("Made a password link for an organiser"),
    "organiser.logout": N_("Logged an organiser out everywhere"),
    "password.set": N_("Set a password from the command line"),
    "password.reset": N_("Chose a new password through a link"),
    "password.change": N_("Changed their password"),
    "registration.submit": N_("Registration application received"),
    "registration.view": N_("Read a registration application"),
    "registration.ask": N_("Asked the applicant a question"),
    "registration.answer": N_("The applicant answered"),
    "registration.approve": N_("Approved a registration"),
    "registration.decline": N_("Declined a registration"),
    "grant_programme_create": N_("Added a grant programme"),
    "grant_programme_replace": N_("Replaced a grant programme"),
    "grant_programme_edit": N_("Edited a grant programme"),
    "grant_rules_save": N_("Saved grant rules"),
    "grant_programme_retire": N_("Retired a grant programme"),
    "event.create": N_("Added a council event"),
    "event.edit": N_("Edited a council event"),
    "event.apply.registered": N_("Application to an event received (seat)"),
    "event.apply.waiting": N_("Application to an event received (waiting list)"),
    "event.cancel": N_("Cancelled an event application"),
    "event.promote": N_("Moved an applicant up from the waiting list"),
    "event.attendance": N_("Marked attendance at an event"),
    "event.view": N_("Read an event's applicants"),
    "event.certificates": N_("Printed certificates of completion"),
    "committee.create": N_("Added a committee"),
    "committee.organisation": N_("Added a member organisation"),
    "committee.member": N_("Added a committee member"),
    "committee.organisation.remove": N_("Removed a member organisation"),
    "committee.member.remove": N_("Removed a committee member"),
    "committee.meeting": N_("Added a committee meeting"),
    "committee.minutes": N_("Saved a committee meeting's minutes"),
    "follow_up_assign": N_("Assigned a follow-up item"),
    "follow_up_comment": N_("Commented on a follow-up item"),
    "follow_up_close": N_("Closed a follow-up item"),
    "follow_up_reopen": N_("Reopened a follow-up item"),
    "line_channel.save": N_("Saved a LINE channel"),
    "line_channel.stop": N_("Stopped a LINE channel"),
    "line_channel.start": N_("Started a LINE channel again"),
}
# What an audit entry's target ("kind:id") is.
AUDIT_TARGETS = {
    "session": N_("Session"),
    "group": N_("Group"),
    "area": N_("Area"),
    "account": N_("Account"),
    "invitation": N_("Invitation"),
    "registration": N_("Registration application"),
    "person": N_("Participant"),
    "ibasho": N_("Ibasho"),
    "grant_programme": N_("Grant programme"),
    "safety": N_("Safety checks"),
    "event": N_("Council event"),
    "follow_up": N_("Follow-up item"),
    "line_channel": N_("LINE channel"),
}

# Time zones by the name people use; one stored otherwise (set by hand) is shown as stored.
TIMEZONES = {"Asia/Tokyo": N_("Japan time")}


def timezone_choices(current: str) -> dict[str, str]:
    """The zones a form offers, keeping the group's own when it is not one of them."""
    return TIMEZONES if current in TIMEZONES or not current else {**TIMEZONES, current: current}


def choices(labels: dict) -> list[tuple[str, str]]:
    """(value, translated label) pairs for a <select>."""
    return [(value, _(label)) for value, label in labels.items()]
