"""The synced entities: their wire fields, defaults for new records, and how they are shown.

Values in ``Record.data`` are already in wire form (ids and dates as strings, times as
"HH:MM"), so records go to clients as they are, apart from tallies (see ``present``).
"""

from __future__ import annotations

from typing import Any

from sync.store import Record

# Entities phones change through mutations, with the defaults of a new record.
DEFAULTS: dict[str, dict[str, Any]] = {
    "session": {
        "group_id": None,
        "ibasho_id": None,
        "kind": "session",
        "title": "",
        "date": None,
        "start_time": None,
        "end_time": None,
        "venue": "",
        "status": "scheduled",
        "agenda": "",
        "online_url": "",
        "application_deadline": None,
        "venue_cost": None,
        "review_state": "unreviewed",
        "review_comment": "",
        "reminder_rule": None,
    },
    "person": {
        "group_id": None,
        "display_name": "",
        "kana": "",
        "category": "adult",
        "kind": "participant",
        "registered": True,
        "contact": "",
    },
    "attendance": {"session_id": None, "person_id": None, "status": None},
    "tally": {"session_id": None, "category": None, "delta_sum": 0},
    "role_assignment": {"session_id": None, "role": None, "member_id": None, "person_id": None, "assigned": False},
    "note": {
        "session_id": None,
        "went_well": "",
        "to_improve": "",
        "handover": "",
        "concerns": "",
        "decisions": "",
        "conflicts": [],
        "authors": {},
    },
    "safety_check": {
        "session_id": None,
        "person_id": None,
        "outcome": "open",
        "contacted_by": "",
        "contacted_at": None,
        "method": "",
        "notes": "",
    },
    "meeting_attendance": {"session_id": None, "member_id": None, "person_id": None, "present": False},
    "action_item": {"session_id": None, "text": "", "owner": "", "due": None, "done": False},
    # the 電話連絡網: told, no_answer or absent (None: not called yet)
    "call": {"session_id": None, "person_id": None, "outcome": None},
}

# Maintained on the server (staff pages) and only delivered by pull.
SERVER_ENTITIES = ("group", "ibasho", "member")

ENTITIES = (*SERVER_ENTITIES, *DEFAULTS)

NOTE_FIELDS = ("went_well", "to_improve", "handover", "concerns", "decisions")

# Fields only some of those who sync a group may read: 気になる参加者 is for the group's
# organisers and its own area's staff (server/auth/principal.py decides who).
SENSITIVE = {"note": ("concerns",)}


def new_record(entity: str, owner_group, **data: Any) -> Record:
    return Record(group_id=owner_group, data={**DEFAULTS[entity], **data})


def without_sensitive(entity: str, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with the entity's sensitive fields empty, and no trace of them in a note's
    conflicts or clocks (for whoever may not read them: a pull, an export)."""
    hidden = SENSITIVE.get(entity, ())
    if not hidden:
        return data
    data = {**data, **{name: DEFAULTS[entity][name] for name in hidden}}
    if "conflicts" in data:
        data["conflicts"] = [c for c in data["conflicts"] if c["field"] not in hidden]
    for by_field in ("hlcs", "authors"):
        if by_field in data:
            data[by_field] = {name: value for name, value in data[by_field].items() if name not in hidden}
    return data


def present(entity: str, record: Record, reveal: bool = True) -> dict[str, Any]:
    """An entity's data as clients see it; without ``reveal``, without its sensitive fields."""
    data = dict(record.data)
    if entity == "tally":
        # Phones add deltas; the count never goes below zero however they arrive.
        # (the sum goes too, so that a phone adding its own deltas floors the same total)
        data["count"] = max(0, data["delta_sum"])
    elif entity == "note":
        # Editors send the HLC of the text they edited (note.set's base_hlc).
        data["hlcs"] = dict(record.hlcs)
    return data if reveal else without_sensitive(entity, data)
