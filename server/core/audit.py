"""The audit log: one row per staff action that changes data or reveals personal data.

Actions are codes named in ``core/labels.AUDIT_ACTIONS`` (the audit page shows them in
words); the group an action concerns is kept so the page can be filtered by it.
"""

from __future__ import annotations

from uuid import UUID, uuid4

from server.core.clock import now
from server.tables import AuditLog


async def audit(actor: UUID | None, action: str, target: str, detail: str = "", group: UUID | None = None) -> None:
    """``actor`` is the account acting (None for the command line); ``target`` names what
    was acted on, as "kind:id"; ``group`` the group it belongs to, when there is one."""
    await AuditLog.insert(
        AuditLog(id=uuid4(), account=actor, action=action, target=target, detail=detail[:2000], at=now(), group=group)
    )
