"""Data rights: the export of one group's data (a group that leaves takes its records with
it) and the erasure of one participant's personal data on request.

Both write an audit-log row. The erasure publishes sync changes, so the phones of the
group drop the person (a tombstone) and get the redacted notes on their next pull; the
anonymous figures (tallies, attendance statuses, safety-check outcomes) stay.
"""

from __future__ import annotations

import io
import json
import zipfile
from uuid import UUID

from server.core.audit import audit
from server.core.clock import now
from server.db import write_transaction
from server.sync.store import ENTITY_TABLES, PiccoloStore, decoded_json, wire_fields
from server.tables import Attendance, Group, Note, Person, PushSubscription, SafetyCheck
from server.web.spreadsheets import Table, csv_bytes
from sync.entities import NOTE_FIELDS, without_sensitive
from sync.hlc import beyond_every_clock, now_ms
from sync.mutations import redaction_key, wire_value

# Entities in the export, in the order a reader meets them; rows of the group only.
EXPORTED = [
    "group",
    "ibasho",
    "member",
    "session",
    "person",
    "attendance",
    "tally",
    "role_assignment",
    "note",
    "safety_check",
]
THROUGH_SESSION = {"attendance", "tally", "role_assignment", "note", "safety_check"}
SAFETY_DETAILS = ("contacted_by", "contacted_at", "method", "notes")
REDACTED = "（削除済み）"


class NotFound(LookupError):
    pass


async def group_records(group_id: UUID, reveal_sensitive: bool = True) -> dict[str, list[dict]]:
    """Every synced record of the group, with the fields phones see (docs/sync.md); without
    ``reveal_sensitive``, with 気になる参加者 left out as a pull leaves them out."""
    records: dict[str, list[dict]] = {}
    for entity in EXPORTED:
        spec = ENTITY_TABLES[entity]
        table = spec.table
        if entity == "group":
            where = table.id == group_id
        elif entity in THROUGH_SESSION:
            where = table.session.group == group_id
        else:
            where = table.group == group_id
        extra = [table.deleted] if spec.has("deleted") else []
        rows = await table.select(table._meta.primary_key.as_alias("_key"), *spec.columns(), *extra).where(where)
        records[entity] = [
            {"id": wire_value(row["_key"]), **wire_fields(spec, row), **({"deleted": row["deleted"]} if extra else {})}
            for row in sorted(rows, key=lambda r: str(r["_key"]))
        ]
    for tally in records["tally"]:
        tally["count"] = max(0, tally["delta_sum"] or 0)  # what phones show
    if not reveal_sensitive:
        records = {entity: [without_sensitive(entity, row) for row in rows] for entity, rows in records.items()}
    return records


async def export_group(group_id: UUID, actor: UUID | None = None, reveal_sensitive: bool = True) -> bytes:
    """A zip: ``group.json`` with everything (for ``reveal_sensitive``; otherwise without
    気になる参加者), and one CSV (UTF-8 with BOM) per kind of record."""
    if not await Group.exists().where(Group.id == group_id):
        raise NotFound(f"no group {group_id}")
    records = await group_records(group_id, reveal_sensitive)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        document = {"format": "ibasho group export 1", "exported_at": now().isoformat(), **records}
        archive.writestr("group.json", json.dumps(document, ensure_ascii=False, indent=1))
        for entity, rows in records.items():
            columns = list(rows[0]) if rows else ["id", *ENTITY_TABLES[entity].fields]
            cells = [
                [json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v for v in row.values()]
                for row in rows
            ]
            archive.writestr(f"{entity}.csv", csv_bytes(Table(entity, columns, cells)))
    await audit(
        actor,
        "group.export",
        f"group:{group_id}",
        ", ".join(f"{entity} {len(rows)}" for entity, rows in records.items())
        + ("" if reveal_sensitive else " (without concerns)"),
        group=group_id,
    )
    return buffer.getvalue()


def _names_of(person: dict) -> list[str]:
    """The spellings to redact from free text: the name and its kana, with and without spaces.
    Single characters are left alone (a one-letter name would wipe unrelated words)."""
    spellings = set()
    for value in (person["display_name"], person["kana"]):
        value = (value or "").strip()
        for spelling in (value, value.replace(" ", "").replace("\u3000", "")):
            if len(spelling) >= 2:
                spellings.add(spelling)
    return sorted(spellings, key=len, reverse=True)  # the longest first: "佐藤 花子" before "佐藤花子"


def _stamped(hlcs, stamp: str, *keys: str) -> dict[str, str]:
    """A record's field HLCs with ``keys`` set to ``stamp``."""
    return {**(decoded_json(hlcs) or {}), **dict.fromkeys(keys, stamp)}


def _redact(text: str, names: list[str]) -> str:
    for name in names:
        text = text.replace(name, REDACTED)
    return text


async def forget_person(person_id: UUID, actor: UUID | None = None) -> dict[str, int]:
    """Erase a participant's personal data: name, kana and contact; mentions of the name in
    the group's notes (and their kept conflicts); the safety-check follow-up details; Web
    Push subscriptions tied to them. The person becomes a tombstone (delete wins, so no
    phone can bring the name back), attendance rows keep only the status under the opaque
    id, tallies are untouched. Each redacted field is stamped with an HLC beyond every
    phone's (``redaction_key``), so an edit made on a copy from before the erasure is
    refused rather than bringing the words back. Returns what was changed."""
    erased = beyond_every_clock("erasure", now_ms())
    async with write_transaction():
        person = await Person.select().where(Person.id == person_id).first()
        if person is None:
            raise NotFound(f"no person {person_id}")
        group_id = person["group"]
        names = _names_of(person)
        await Person.update(
            {
                Person.display_name: "",
                Person.kana: "",
                Person.contact: "",
                Person.deleted: True,
                Person.hlcs: _stamped(person["hlcs"], erased, "deleted", "display_name", "kana", "contact"),
                Person.updated_at: now(),
            }
        ).where(Person.id == person_id)

        checks = await SafetyCheck.select(SafetyCheck.id, SafetyCheck.hlcs).where(SafetyCheck.person == person_id)
        for check in checks:
            await SafetyCheck.update(
                {
                    SafetyCheck.contacted_by: "",
                    SafetyCheck.contacted_at: None,
                    SafetyCheck.method: "",
                    SafetyCheck.notes: "",
                    SafetyCheck.hlcs: _stamped(check["hlcs"], erased, *SAFETY_DETAILS, redaction_key()),
                }
            ).where(SafetyCheck.id == check["id"])

        redacted_notes, stamped_notes = [], []
        notes = await Note.select(
            Note.id, Note.session, *[getattr(Note, f) for f in NOTE_FIELDS], Note.conflicts, Note.hlcs
        ).where(Note.session.group == group_id)
        attended = {
            row["session"] for row in await Attendance.select(Attendance.session).where(Attendance.person == person_id)
        }
        for note in notes:
            conflicts = decoded_json(note["conflicts"]) or []
            changes = {
                getattr(Note, f): _redact(note[f], names) for f in NOTE_FIELDS if _redact(note[f], names) != note[f]
            }
            kept = [{**c, "text": _redact(c.get("text", ""), names)} for c in conflicts]
            if kept != conflicts:
                changes[Note.conflicts] = kept
            if changes:
                redacted_notes.append(note["id"])
            if changes or note["session"] in attended:
                # every field of a note that named them or of a session they came to: a
                # phone's older copy may have written the name into any of them
                stamps = [*NOTE_FIELDS, *(redaction_key(f) for f in NOTE_FIELDS)]
                changes[Note.hlcs] = _stamped(note["hlcs"], erased, *stamps)
                await Note.update({**changes, Note.updated_at: now()}).where(Note.id == note["id"])
                stamped_notes.append(note["id"])

        subscriptions = await PushSubscription.select(PushSubscription.id).where(PushSubscription.person == person_id)
        await PushSubscription.delete().where(PushSubscription.person == person_id)
        summary = {
            "notes_redacted": len(redacted_notes),
            "safety_checks_cleared": len(checks),
            "push_subscriptions_deleted": len(subscriptions),
        }
        await audit(
            actor,
            "person.erase",
            f"person:{person_id}",
            ", ".join(f"{key} {value}" for key, value in summary.items()),
            group=group_id,
        )
        await PiccoloStore().publish(
            [("person", str(person_id), group_id)]
            + [("note", str(note_id), group_id) for note_id in stamped_notes]
            + [("safety_check", str(row["id"]), group_id) for row in checks]
        )
    return summary
