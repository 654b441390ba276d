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
    SafetyCheckOutcome.open.value: N_("Open"),
    SafetyCheckOutcome.safe.value: N_("Safe"),
    SafetyCheckOutcome.unreachable.value: N_("Unreachable"),
    SafetyCheckOutcome.needs_support.value: N_("Needs support"),
    SafetyCheckOutcome.withdrawn.value: N_("Withdrawn (mark corrected)"),
}

# How a follow-up reached the person: what the phone offers (pwa/js/i18n.js method_*); other
# text an older phone sent is shown as typed.
METHODS = {"phone": N_("Phone"), "visit": N_("Visit"), "message": N_("Message")}


def choices(labels: dict) -> list[tuple[str, str]]:
    """(value, translated label) pairs for a <select>."""
    return [(value, _(label)) for value, label in labels.items()]
