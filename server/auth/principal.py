"""Who is asking, and what they may see: the single place scope is decided."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID, uuid4

from server.tables import Account, Group, GroupMembership, Role, StaffArea
from sync.mutations import Scope


@dataclass(frozen=True)
class Principal:
    account_id: UUID
    login: str
    display_name: str
    role: Role
    language: str
    login_id: str
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

    def visible_areas(self) -> frozenset[UUID] | None:
        """The areas whose groups council pages show the principal: None for every area (admins)."""
        return None if self.is_admin else self.area_ids if self.is_staff else frozenset()

    def may_see_concerns(self, group_id: UUID, area_id: UUID) -> bool:
        """気になる参加者 (a note's ``concerns``): the group's organisers and the staff of
        its own area; an admin only where also assigned to that area. The review pages
        and the sync pull both ask here."""
        if self.is_staff:
            return area_id in self.area_ids
        return group_id in self.group_ids


async def sync_scope(principal: Principal) -> Scope:
    """What a caller syncs: organisers their groups, staff their areas' groups, admins all;
    and the groups among those whose sensitive fields they may read."""
    if principal.role is Role.organiser:
        return Scope(principal.account_id, principal.group_ids)
    query = Group.select(Group.id, Group.area)
    if not principal.is_admin:
        query = query.where(Group.area.is_in(list(principal.area_ids) or [uuid4()]))
    groups = await query
    sensitive = frozenset(g["id"] for g in groups if principal.may_see_concerns(g["id"], g["area"]))
    return Scope(principal.account_id, None if principal.is_admin else frozenset(g["id"] for g in groups), sensitive)


async def load_principal(account: dict, login_id: str) -> Principal:
    account_id = account["id"]
    areas = await StaffArea.select(StaffArea.area).where(StaffArea.account == account_id)
    groups = await GroupMembership.select(GroupMembership.group).where(GroupMembership.account == account_id)
    return Principal(
        account_id=account_id,
        login=account["login"],
        display_name=account["display_name"],
        role=Role(account["role"]),
        language=account["language"],
        login_id=login_id,
        area_ids=frozenset(row["area"] for row in areas),
        group_ids=frozenset(row["group"] for row in groups),
    )


ACCOUNT_COLUMNS = (Account.id, Account.login, Account.display_name, Account.role, Account.language, Account.active)
