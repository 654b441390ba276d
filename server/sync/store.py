"""The sync engine's ``Store``, on the Piccolo tables (SQLite and PostgreSQL).

Each synced entity maps to a table: wire fields ``x_id`` are the foreign key column
``x``; dates and times travel as ISO strings; ``hlcs`` and ``deleted`` columns carry
merge state. Server-managed entities (group, ibasho, member) are read-only here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cached_property
from typing import Any
from uuid import UUID, uuid4

from piccolo.columns import JSON, JSONB, Column
from piccolo.columns import UUID as UUIDColumn
from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from server import tables as t
from server.core import changelog
from server.core.clock import now as current_time
from server.db import run_sql, write_rows, write_transaction
from sync.mutations import wire_value
from sync.store import ChangeRef, ClientState, LoggedMutation, Record

# Serialises the hand-out of change numbers on PostgreSQL (held until commit).


def decoded_json(value: Any) -> Any:
    """A JSON column's value (SQLite hands it back as text)."""
    return json.loads(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class EntityTable:
    """How one entity's wire fields map onto a table's columns."""

    table: type[Table]
    fields: dict[str, str]  # wire field -> column name
    parse: dict[str, Callable[[Any], Any]] | None = None  # wire -> column value
    # Wire fields the server alone writes (a trigger fills them): sent to phones, never saved
    # from a mutation; each with how its column value is shown on the wire.
    server_made: dict[str, Callable[[Any], Any]] | None = None

    @cached_property
    def written(self) -> dict[str, str]:
        """The wire fields a mutation's record saves (all but the server-made)."""
        return {wire: column for wire, column in self.fields.items() if wire not in (self.server_made or {})}

    def columns(self, fields: dict[str, str] | None = None) -> list[Column]:
        """Columns for the wire fields (or these of them); "account.display_name" follows a foreign key."""
        columns = []
        for path in (self.fields if fields is None else fields).values():
            column = self.table
            for part in path.split("."):
                column = getattr(column, part)
            columns.append(column)
        return columns

    def has(self, column: str) -> bool:
        return any(c._meta.name == column for c in self.table._meta.columns)

    @cached_property
    def group_through_session(self) -> bool:
        """Whether a row's group is its session's (attendance, tallies, notes…)."""
        return self.has("session")

    @cached_property
    def json_fields(self) -> tuple[str, ...]:
        """Wire fields kept in JSON columns (SQLite hands those back as text); worked out
        once, since every row a pull sends goes through ``wire_fields``."""
        as_json = {c._meta.name for c in self.table._meta.columns if isinstance(c, (JSON, JSONB))}
        return tuple(wire for wire, column in self.fields.items() if column in as_json)

    @cached_property
    def select_sql(self) -> str:
        """SELECT of the key (``_key``), the wire fields (named as in ``fields``), the owning
        group (``_group``) and the merge state, up to the key's WHERE test; written once
        per entity, since loads are the sync's hottest query."""
        name = self.table._meta.tablename
        joins, selected = [], [f'"{name}"."{self.table._meta.primary_key._meta.db_column_name}" AS "_key"']
        for path in self.fields.values():
            if "." in path:  # through a foreign key: "account.display_name"
                link, column = path.split(".")
                target = getattr(self.table, link)._foreign_key_meta.resolved_references._meta.tablename
                joins.append(f'LEFT JOIN "{target}" AS "_{link}" ON "_{link}"."id" = "{name}"."{link}"')
                selected.append(f'"_{link}"."{column}" AS "{path}"')
            else:
                selected.append(f'"{name}"."{path}" AS "{path}"')
        if self.group_through_session:
            session = t.Session._meta.tablename
            joins.append(f'LEFT JOIN "{session}" AS "_session" ON "_session"."id" = "{name}"."session"')
            selected.append('"_session"."group" AS "_group"')
        elif self.has("group"):
            selected.append(f'"{name}"."group" AS "_group"')
        selected += [f'"{name}"."{state}"' for state in ("hlcs", "deleted") if self.has(state)]
        key = self.table._meta.primary_key._meta.db_column_name
        return f'SELECT {", ".join(selected)} FROM "{name}" {" ".join(joins)} WHERE "{name}"."{key}"'


def _fields(*names: str) -> dict[str, str]:
    return {name: name.removesuffix("_id") if name.endswith("_id") else name for name in names}


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _time(value: str | None) -> time | None:
    return time.fromisoformat(value) if value else None


def _datetime(value: str | datetime | None) -> datetime | None:
    if not value:
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _utc_text(value: str | datetime | None) -> str | None:
    """A stored moment as ISO 8601 with its offset (SQLite hands back naive UTC text)."""
    moment = _datetime(value)
    return moment.isoformat() if moment else None


ENTITY_TABLES: dict[str, EntityTable] = {
    "session": EntityTable(
        t.Session,
        _fields(
            "group_id",
            "ibasho_id",
            "kind",
            "title",
            "date",
            "start_time",
            "end_time",
            "venue",
            "status",
            "agenda",
            "online_url",
            "application_deadline",
            "venue_cost",
            "review_state",
            "review_comment",
            "reminder_rule",
        ),
        parse={"date": _date, "application_deadline": _date, "start_time": _time, "end_time": _time},
    ),
    "person": EntityTable(
        t.Person,
        {
            **_fields("group_id", "display_name", "kana", "category", "kind", "registered", "contact"),
            "joined_at": "created_at",  # a person counts only from the day they joined
        },
        server_made={"joined_at": _utc_text},
    ),
    "attendance": EntityTable(t.Attendance, _fields("session_id", "person_id", "status")),
    "tally": EntityTable(t.Tally, _fields("session_id", "category", "delta_sum")),
    "role_assignment": EntityTable(
        t.RoleAssignment, _fields("session_id", "role", "member_id", "person_id", "assigned")
    ),
    "note": EntityTable(
        t.Note,
        _fields("session_id", "went_well", "to_improve", "handover", "concerns", "decisions", "conflicts", "authors"),
    ),
    "safety_check": EntityTable(
        t.SafetyCheck,
        _fields("session_id", "person_id", "outcome", "contacted_by", "contacted_at", "method", "notes"),
        parse={"contacted_at": _datetime},
    ),
    "meeting_attendance": EntityTable(t.MeetingAttendance, _fields("session_id", "member_id", "person_id", "present")),
    "call": EntityTable(t.CallMark, _fields("session_id", "person_id", "outcome")),
    "action_item": EntityTable(
        t.ActionItem, _fields("session_id", "text", "owner", "due", "done"), parse={"due": _date}
    ),
    "group": EntityTable(t.Group, {"area_id": "area", "name": "name"}),
    "ibasho": EntityTable(
        t.Ibasho,
        _fields(
            "group_id",
            "name",
            "venue",
            "kind",
            "audience",
            "registration_required",
            "rrule",
            "start_time",
            "end_time",
            "timezone",
            "status",
        ),
    ),
    # A member is one organiser in one group; role assignments name them by account id.
    "member": EntityTable(
        t.GroupMembership, {"group_id": "group", "member_id": "account", "display_name": "account.display_name"}
    ),
}


def wire_fields(spec: EntityTable, row: dict) -> dict[str, Any]:
    """A row's wire fields, as phones see them."""
    data = {wire: wire_value(row[column]) for wire, column in spec.fields.items()}
    for wire in spec.json_fields:
        data[wire] = decoded_json(data[wire])
    for wire, shown in (spec.server_made or {}).items():
        data[wire] = shown(row[spec.fields[wire]])
    return data


class PiccoloStore:
    def __init__(self) -> None:
        self.db = t.ChangeLog._meta.db

    @property
    def is_postgres(self) -> bool:
        return isinstance(self.db, PostgresEngine)

    def transaction(self):
        return write_transaction()

    async def lock_client(self, client_id: UUID, group_ids: frozenset[UUID] | None) -> ClientState | None:
        if self.is_postgres:
            # Records are read, merged in Python and written back, so two concurrent pushes
            # on one tally would lose an increment, and a new client's first push could
            # apply twice (it has no row to lock yet): pushes that may write one group's
            # records, or come from one client, apply one at a time (SQLite's IMMEDIATE
            # transactions serialise every push anyway). Held until commit.
            await changelog.hold_push_locks(group_ids, client_id)
        query = t.SyncClient.select(t.SyncClient.account, t.SyncClient.last_seq).where(t.SyncClient.id == client_id)
        row = await query.first()
        return ClientState(row["account"], row["last_seq"]) if row else None

    async def save_client(self, client_id: UUID, account_id: UUID, last_seq: int) -> None:
        now = current_time()
        await t.SyncClient.insert(
            t.SyncClient(id=client_id, account=account_id, last_seq=last_seq, created_at=now, last_seen_at=now)
        ).on_conflict(
            target=t.SyncClient.id, action="DO UPDATE", values=[t.SyncClient.last_seq, t.SyncClient.last_seen_at]
        )

    async def last_seq(self, client_id: UUID) -> int:
        row = await t.SyncClient.select(t.SyncClient.last_seq).where(t.SyncClient.id == client_id).first()
        return row["last_seq"] if row else 0

    async def load(self, entity: str, ids: list[str]) -> dict[str, Record]:
        spec = ENTITY_TABLES[entity]
        key_values = [k for k in (_key(spec.table, i) for i in ids) if k is not None]
        if not key_values:
            return {}
        if self.is_postgres:
            rows = await run_sql(spec.select_sql + " = ANY($1)", [key_values])
        else:
            rows = await run_sql(spec.select_sql + f" IN ({', '.join('?' * len(key_values))})", key_values)
        return {
            str(row["_key"]): Record(
                group_id=row["_key"] if entity == "group" else row["_group"],
                data=wire_fields(spec, row),
                hlcs=decoded_json(row.get("hlcs")) or {},
                deleted=bool(row.get("deleted", False)),
            )
            for row in rows
        }

    async def save(self, entity: str, records: dict[str, Record]) -> None:
        spec = ENTITY_TABLES[entity]
        table = spec.table
        now = current_time()
        key = table._meta.primary_key._meta.db_column_name
        merge_state = [name for name in ("hlcs", "deleted", "updated_at") if spec.has(name)]
        rows = []
        for entity_id, record in records.items():
            values: dict[str, Any] = {key: _key(table, entity_id)}
            for wire, column in spec.written.items():
                value = record.data.get(wire)
                parse = (spec.parse or {}).get(wire)
                values[column] = parse(value) if parse else value
            state = {"hlcs": record.hlcs, "deleted": record.deleted, "updated_at": now}
            values.update({name: state[name] for name in merge_state})
            rows.append(values)
        columns = [c._meta.db_column_name for c in spec.columns(spec.written)] + merge_state
        await write_rows(table, rows, on_conflict=key, update=columns)

    async def is_member(self, group_id: UUID, account_id: UUID) -> bool:
        return await t.GroupMembership.exists().where(
            (t.GroupMembership.group == group_id) & (t.GroupMembership.account == account_id)
        )

    async def publish(self, changed: list[tuple[str, str, UUID]]) -> None:
        await changelog.publish(changed)

    async def log_mutations(self, rows: list[LoggedMutation]) -> None:
        now = current_time()
        await write_rows(
            t.MutationLog,
            [
                {
                    "id": uuid4(),
                    "mutation_id": row.mutation_id,
                    "client": row.client_id,
                    "seq": row.seq,
                    "name": row.name,
                    "status": row.status,
                    "error": row.error,
                    "at": now,
                }
                for row in rows
            ],
        )

    async def changes_after(self, cursor: int, group_ids: frozenset[UUID] | None, limit: int) -> list[ChangeRef]:
        query = t.ChangeLog.select(t.ChangeLog.change_no, t.ChangeLog.entity, t.ChangeLog.entity_id).where(
            t.ChangeLog.change_no > cursor
        )
        if group_ids is not None:
            if not group_ids:
                return []
            query = query.where(t.ChangeLog.group.is_in(list(group_ids)))
        rows = await query.order_by(t.ChangeLog.change_no).limit(limit)
        return [ChangeRef(row["change_no"], row["entity"], row["entity_id"]) for row in rows]


def _key(table: type[Table], entity_id: str) -> Any:
    """The primary key value for a wire id: a UUID for UUID keys (None if malformed)."""
    if isinstance(table._meta.primary_key, UUIDColumn):
        try:
            return UUID(entity_id)
        except ValueError:
            return None
    return entity_id


async def backfill_change_log() -> int:
    """Give a change number to every synced row that has none (rows the demo loader or an
    import wrote directly), so phones receive them. Returns how many were published."""
    store = PiccoloStore()
    async with store.transaction():
        logged = {row["key"] for row in await t.ChangeLog.select(t.ChangeLog.key)}
        missing: list[tuple[str, str, UUID]] = []
        for entity, spec in ENTITY_TABLES.items():
            table = spec.table
            if entity == "group":
                group = table.id
            elif spec.group_through_session:
                group = table.session.group
            else:
                group = table.group
            rows = await table.select(table._meta.primary_key.as_alias("key"), group.as_alias("group_id"))
            missing += [
                (entity, str(row["key"]), row["group_id"]) for row in rows if f"{entity}:{row['key']}" not in logged
            ]
        await store.publish(missing)
    return len(missing)
