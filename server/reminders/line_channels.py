"""Which LINE channel serves whom, and the keys of LINE subscriptions: shared by the
webhook and sender (line.py) and the planning, which must not import those.

A group is served by its own channel if staff set one up, else by the council's. A LINE
userId is only good on the channel it was linked on, so a subscription's endpoint names
that channel: ``line:<channel>:<ibasho or account>:<userId>`` (a pending code's is
``line-code:<channel>:<code>``).
"""

from __future__ import annotations

from uuid import UUID

from server.tables import Ibasho, LineChannel


async def serving_channel(group: UUID | None) -> dict | None:
    """The group's own channel, else the council's, stopped or not (None: neither is set up)."""
    rows = await LineChannel.select().where((LineChannel.group == group) | LineChannel.group.is_null())
    return next((row for row in rows if row["group"] is not None), rows[0] if rows else None)


async def group_channel(group: UUID | None) -> dict | None:
    """The channel serving the group, if it is running (a stopped group channel is never
    replaced by the council's: its LINE users are not the same)."""
    channel = await serving_channel(group)
    return channel if channel is not None and channel["enabled"] else None


async def channel_for(ibasho_id: UUID) -> dict | None:
    """The running channel of the ibasho's group (see ``group_channel``)."""
    group = (await Ibasho.select(Ibasho.group).where(Ibasho.id == ibasho_id).first() or {}).get("group")
    return await group_channel(group)


def code_endpoint(channel_id: UUID, code: str) -> str:
    return f"line-code:{channel_id}:{code}"


def line_endpoint(channel_id: UUID, owner_id: UUID, user_id: str) -> str:
    """A linked LINE user's subscription; the owner is the ibasho (a participant's) or the
    account (an organiser's own meetings and duties)."""
    return f"line:{channel_id}:{owner_id}:{user_id}"


def channel_of(endpoint: str) -> UUID | None:
    """The channel a linked subscription's endpoint names."""
    kind, _, rest = endpoint.partition(":")
    try:
        return UUID(rest.split(":", 1)[0]) if kind == "line" else None
    except ValueError:
        return None
