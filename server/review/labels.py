"""Words for the codes the review pages show; the values are msgids, translated where shown."""

from __future__ import annotations

from server.council.labels import N_
from server.tables import (
    AttendanceStatus,
    ReviewState,
    SafetyCheckOutcome,
    SessionStatus,
)

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
