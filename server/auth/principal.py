"""Who is asking, and what they may see: the single place scope is decided."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from server.tables import Account, GroupMembership, Role, StaffArea


@dataclass(frozen=True)
class Principal:
    account_id: UUID
    login: str
    display_name: str
    role: Role
    language: str
    session_id: str
    area_ids: frozenset[UUID] = field(default_factory=frozenset)
    group_ids: frozenset[UUID] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    @property
    def is_staff(self) -> bool:
        """Council-side users: staff and admins."""
        return self.role in (Role.staff, Role.admin)

    def may_see_area(self, area_id: UUID) -> bool:
        return self.is_admin or (self.role is Role.staff and area_id in self.area_ids)

    def may_see_group(self, group_id: UUID, area_id: UUID) -> bool:
        """Organisers see their groups; staff the groups of their areas; admins all."""
        if self.role is Role.organiser:
            return group_id in self.group_ids
        return self.may_see_area(area_id)


async def load_principal(account: dict, session_id: str) -> Principal:
    account_id = account["id"]
    areas = await StaffArea.select(StaffArea.area).where(StaffArea.account == account_id)
    groups = await GroupMembership.select(GroupMembership.group).where(GroupMembership.account == account_id)
    return Principal(
        account_id=account_id,
        login=account["login"],
        display_name=account["display_name"],
        role=Role(account["role"]),
        language=account["language"],
        session_id=session_id,
        area_ids=frozenset(row["area"] for row in areas),
        group_ids=frozenset(row["group"] for row in groups),
    )


ACCOUNT_COLUMNS = (Account.id, Account.login, Account.display_name, Account.role, Account.language, Account.active)
