"""The ``Store`` protocol in memory: the engine with no database, for tests and tools.

A transaction is all or nothing, as the server's is: on an exception everything written
since it began is undone. Server-managed entities (groups, ibasho, members) are seeded
with ``seed``.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from uuid import UUID

from sync.store import ChangeRef, ClientState, LoggedMutation, Record


@dataclass
class MemoryStore:
    records: dict[str, dict[str, Record]] = field(default_factory=dict)
    clients: dict[UUID, ClientState] = field(default_factory=dict)
    members: set[tuple[UUID, UUID]] = field(default_factory=set)  # (group, account)
    changes: dict[tuple[str, str], tuple[int, UUID]] = field(default_factory=dict)  # latest change_no and group
    log: list[LoggedMutation] = field(default_factory=list)
    change_no: int = 0

    def seed(self, entity: str, entity_id: str, record: Record) -> None:
        self.records.setdefault(entity, {})[entity_id] = record
        if entity == "member":
            self.members.add((record.group_id, UUID(record.data["member_id"])))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        saved = copy.deepcopy((self.records, self.clients, self.members, self.changes, self.log, self.change_no))
        try:
            yield
        except BaseException:
            self.records, self.clients, self.members, self.changes, self.log, self.change_no = saved
            raise

    async def lock_client(self, client_id: UUID, group_ids: frozenset[UUID] | None) -> ClientState | None:
        return self.clients.get(client_id)

    async def save_client(self, client_id: UUID, account_id: UUID, last_seq: int) -> None:
        self.clients[client_id] = ClientState(account_id, last_seq)

    async def load(self, entity: str, ids: list[str]) -> dict[str, Record]:
        stored = self.records.get(entity, {})
        # copies: the engine changes what it loaded, and only ``save`` may change the store
        return {entity_id: copy.deepcopy(stored[entity_id]) for entity_id in ids if entity_id in stored}

    async def save(self, entity: str, records: dict[str, Record]) -> None:
        self.records.setdefault(entity, {}).update(copy.deepcopy(records))

    async def is_member(self, group_id: UUID, account_id: UUID) -> bool:
        return (group_id, account_id) in self.members

    async def publish(self, changed: list[tuple[str, str, UUID]]) -> None:
        for entity, entity_id, group_id in changed:
            self.change_no += 1
            self.changes[(entity, entity_id)] = (self.change_no, group_id)

    async def log_mutations(self, rows: list[LoggedMutation]) -> None:
        self.log += rows

    async def last_seq(self, client_id: UUID) -> int:
        client = self.clients.get(client_id)
        return client.last_seq if client else 0

    async def changes_after(self, cursor: int, group_ids: frozenset[UUID] | None, limit: int) -> list[ChangeRef]:
        found = sorted(
            (
                ChangeRef(change_no, entity, entity_id)
                for (entity, entity_id), (change_no, group_id) in self.changes.items()
                if change_no > cursor and (group_ids is None or group_id in group_ids)
            ),
            key=lambda ref: ref.change_no,
        )
        return found[:limit]
