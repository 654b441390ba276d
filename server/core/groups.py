"""Which groups are 居場所 groups. A committee (推進委員会, server/committees/) is stored as
a group so that its meetings and roster reuse the sync engine, but it runs no 居場所: the
staff's lists, area totals, grants, follow-ups, exports and the public directory leave it
out through this one condition."""

from __future__ import annotations

from piccolo.columns import Column
from piccolo.columns.combination import Where

from server.tables import Committee


def ordinary_groups(column: Column) -> Where:
    """``column`` (a group id: ``Group.id``, ``Ibasho.group``…) is not a committee's group."""
    return column.not_in(Committee.select(Committee.group))


async def committee_ids(group_ids: list) -> set:
    """Those of ``group_ids`` that are committees (for lists that show both, marked)."""
    if not group_ids:
        return set()
    rows = await Committee.select(Committee.group).where(Committee.group.is_in(list(group_ids)))
    return {row["group"] for row in rows}
