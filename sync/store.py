"""The storage the engine needs, as a protocol; the server implements it with Piccolo."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID


@dataclass
class Record:
    """An entity's whole state: wire fields, the HLC of each field's last write, tombstone."""

    group_id: UUID
    data: dict[str, Any]
    hlcs: dict[str, str] = field(default_factory=dict)
    deleted: bool = False


@dataclass(frozen=True)
class ClientState:
    account_id: UUID
    last_seq: int


@dataclass(frozen=True)
class ChangeRef:
    change_no: int
    entity: str
    id: str


@dataclass(frozen=True)
class LoggedMutation:
    client_id: UUID
    mutation_id: str
    seq: int
    name: str
    status: str
    error: str


class Store(Protocol):
    def transaction(self) -> AbstractAsyncContextManager[None]:
        """One database transaction for a whole push."""

    async def lock_client(self, client_id: UUID, group_ids: frozenset[UUID] | None) -> ClientState | None:
        """The client's bookkeeping, locked until the transaction ends, with the groups the
        push may write (None: every group): pushes that may touch the same records, or come
        from one client, apply one at a time; others may run side by side."""

    async def save_client(self, client_id: UUID, account_id: UUID, last_seq: int) -> None: ...

    async def load(self, entity: str, ids: list[str]) -> dict[str, Record]:
        """Existing records among ``ids`` (missing ones are absent from the result)."""

    async def save(self, entity: str, records: dict[str, Record]) -> None:
        """Insert or replace these records."""

    async def is_member(self, group_id: UUID, account_id: UUID) -> bool:
        """Whether an account organises a group (role assignments name members)."""

    async def publish(self, changed: list[tuple[str, str, UUID]]) -> None:
        """Give each (entity, id, group) the next change numbers, in commit order. Called last."""

    async def log_mutations(self, rows: list[LoggedMutation]) -> None: ...

    async def last_seq(self, client_id: UUID) -> int: ...

    async def changes_after(self, cursor: int, group_ids: frozenset[UUID] | None, limit: int) -> list[ChangeRef]:
        """Latest change of each entity with change_no > cursor, in order; None = every group."""
