"""The change log: the next change number for every synced entity that changed, handed out
in commit order, which is what a pull reads (docs/sync.md). Phones' pushes publish through
it, and so do the staff pages and sign-ups that change groups, ibasho, members and reviews.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from piccolo.engine.postgres import PostgresEngine

from server.core.clock import now
from server.db import write_rows, write_transaction
from server.tables import ChangeLog

# Serialises the hand-out of change numbers (and pushes) on PostgreSQL, held until commit.
CHANGE_NUMBER_LOCK = 0x1BA5_0001


async def hold_the_lock() -> None:
    """Until this transaction ends (PostgreSQL; SQLite's IMMEDIATE transactions already serialise)."""
    if isinstance(ChangeLog._meta.db, PostgresEngine):
        await ChangeLog.raw("SELECT pg_advisory_xact_lock({})", CHANGE_NUMBER_LOCK)


async def publish(changed: list[tuple[str, str, UUID]]) -> None:
    """The next numbers for (entity, id, group), within the caller's write transaction.
    A number is handed out only after every lower one is committed (the lock), so a pull
    can never pass over a change that commits later."""
    if not changed:
        return
    await hold_the_lock()
    top = await ChangeLog.select(ChangeLog.change_no).order_by(ChangeLog.change_no, ascending=False).first()
    next_no = (top["change_no"] if top else 0) + 1
    moment = now()
    rows = [
        {
            "key": f"{entity}:{entity_id}",
            "entity": entity,
            "entity_id": entity_id,
            "group": group_id,
            "change_no": next_no + offset,
            "at": moment,
        }
        for offset, (entity, entity_id, group_id) in enumerate(changed)
    ]
    await write_rows(ChangeLog, rows, on_conflict="key", update=["change_no", "at"])


async def publish_server_change(entity: str, entity_id: Any, group_id: UUID) -> None:
    """Staff pages and sign-ups change groups, ibasho and members: phones learn of it by pull.
    Called inside a write transaction, it commits with that transaction."""
    async with write_transaction():
        await publish([(entity, str(entity_id), group_id)])
