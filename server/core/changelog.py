"""The change log: the next change number for every synced entity that changed, handed out
in commit order, which is what a pull reads (docs/sync.md). Phones' pushes publish through
it, and so do the staff pages and sign-ups that change groups, ibasho, members and reviews.
"""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

from piccolo.engine.postgres import PostgresEngine

from server.core.clock import now
from server.db import write_rows, write_transaction
from server.tables import ChangeLog

# PostgreSQL advisory locks, all held until commit (SQLite's IMMEDIATE transactions already
# serialise every writer). Taken in one order only — every group (shared or exclusive),
# then groups by key, then the client, then change numbers — so no two pushes deadlock.
CHANGE_NUMBER_LOCK = 0x1BA5_0001  # the hand-out of change numbers
EVERY_GROUP_LOCK = 0x1BA5_0002  # exclusive for a push that may write any group (admins)
GROUP_LOCKS, CLIENT_LOCKS = 0x1BA5, 0x1BA6  # two-key locks: (namespace, 32 bits of the id)


def _lock_key(value: UUID) -> int:
    """32 bits of a hash (time-ordered UUIDs share their leading bytes)."""
    return int.from_bytes(hashlib.blake2b(value.bytes, digest_size=4).digest(), "big", signed=True)


async def hold_push_locks(group_ids: frozenset[UUID] | None, client_id: UUID) -> None:
    """Before a push reads anything: the groups it may write and its client (PostgreSQL).
    Pushes of other groups go on in parallel; two sharing a 32-bit key only wait."""
    if not isinstance(ChangeLog._meta.db, PostgresEngine):
        return
    if group_ids is None:
        await ChangeLog.raw("SELECT pg_advisory_xact_lock({})", EVERY_GROUP_LOCK)
    else:
        await ChangeLog.raw("SELECT pg_advisory_xact_lock_shared({})", EVERY_GROUP_LOCK)
    keys = [(GROUP_LOCKS, key) for key in sorted({_lock_key(g) for g in group_ids or ()})]
    keys.append((CLIENT_LOCKS, _lock_key(client_id)))
    # In the array's order: PostgreSQL runs a volatile select list after the ORDER BY.
    await ChangeLog.raw(
        "SELECT count(*) FROM (SELECT pg_advisory_xact_lock(space, key)"
        " FROM unnest({}::int[], {}::int[]) WITH ORDINALITY AS wanted(space, key, position)"
        " ORDER BY position) AS held",
        [space for space, _ in keys],
        [key for _, key in keys],
    )


async def hold_the_lock() -> None:
    """The change-number lock until this transaction ends (PostgreSQL)."""
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
