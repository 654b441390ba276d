"""Creating accounts: shared by ``ibasho createuser``, the admin pages and the demo."""

from __future__ import annotations

from uuid import UUID, uuid4

from server.auth.passwords import hash_password, login_fits, login_key, normalise_login, password_problem
from server.core.changelog import publish_server_change
from server.core.clock import now
from server.db import write_transaction
from server.tables import Account, Area, Group, GroupMembership, Role, StaffArea


class CreateUserError(ValueError):
    pass


async def login_taken(login: str) -> bool:
    """Taken in any spelling that logs in as the same name (case, width, spaces)."""
    return await Account.exists().where((Account.login_key == login_key(login)) | (Account.login == login))


async def _resolve_names(table, names: list[str], create_missing: bool, make) -> list[UUID]:
    ids = []
    for name in names:
        row = await table.select(table.id).where(table.name == name).first()
        if row is None:
            if not create_missing:
                raise CreateUserError(f"no {table._meta.tablename} named {name!r} (use --create-missing to create it)")
            row = {"id": await make(name)}
        ids.append(row["id"])
    return ids


async def _make_area(name: str) -> UUID:
    area_id = uuid4()
    await Area.insert(Area(id=area_id, name=name, created_at=now()))
    return area_id


async def _new_group_area(area_names: list[str], create_missing: bool) -> UUID:
    """The area a group created for an organiser goes into: the one ``--area`` names, or
    the council's only area. Never a guess among several."""
    if len(area_names) > 1:
        raise CreateUserError("a new group goes into one area: give --area once")
    if area_names:
        (area_id,) = await _resolve_names(Area, area_names, create_missing, _make_area)
        return area_id
    areas = await Area.select(Area.id).limit(2)
    if len(areas) != 1:
        raise CreateUserError("name the new group's area with --area (with --create-missing to create it too)")
    return areas[0]["id"]


async def create_user(
    login: str,
    password: str,
    role: str,
    display_name: str,
    areas: list[str] = (),
    groups: list[str] = (),
    create_missing: bool = False,
) -> UUID:
    login = normalise_login(login)
    if not login_fits(login):
        raise CreateUserError("the login must be 1 to 100 characters")
    if role not in {r.value for r in Role}:
        raise CreateUserError(f"unknown role {role!r}")
    if (problem := password_problem(password)) is not None:
        raise CreateUserError(problem)
    if role == Role.organiser.value and areas and not create_missing:
        raise CreateUserError(
            "organisers belong to groups, not areas (use --group; --area with --create-missing "
            "names the area of a group it creates)"
        )
    if role == Role.staff.value and groups:
        raise CreateUserError("staff look after areas, not groups (use --area)")
    if await login_taken(login):
        raise CreateUserError(f"the login {login!r} is already taken")
    password_hash = await hash_password(password)  # before the transaction: no lock held while hashing
    async with write_transaction():
        organiser = role == Role.organiser.value

        async def make_group(name: str) -> UUID:
            group_id = uuid4()
            await Group.insert(
                Group(id=group_id, name=name, created_at=now(), area=await _new_group_area(list(areas), create_missing))
            )
            await publish_server_change("group", group_id, group_id)  # phones hear of the group, not only the member
            return group_id

        area_ids = [] if organiser else await _resolve_names(Area, list(areas), create_missing, _make_area)
        group_ids = await _resolve_names(Group, list(groups), create_missing, make_group)
        account_id = uuid4()
        await Account.insert(
            Account(
                id=account_id,
                login=login,
                login_key=login_key(login),
                display_name=display_name.strip()[:100] or login,
                password_hash=password_hash,
                role=role,
                created_at=now(),
            )
        )
        for area_id in area_ids:
            await StaffArea.insert(StaffArea(id=uuid4(), account=account_id, area=area_id))
        for group_id in group_ids:
            membership_id = uuid4()
            await GroupMembership.insert(
                GroupMembership(id=membership_id, account=account_id, group=group_id, joined_at=now())
            )
            # In the same transaction: a crash can never leave a member the phones never hear of.
            await publish_server_change("member", membership_id, group_id)
    return account_id


SERVER_LOGIN = "ibasho-server"  # never logs in: inactive, and no password hash matches


async def server_account_id() -> UUID:
    """The account the server's own changes are logged under (server/sync/server.py)."""
    row = await Account.select(Account.id).where(Account.login_key == SERVER_LOGIN).first()
    if row is None:
        await Account.insert(
            Account(
                id=uuid4(),
                login=SERVER_LOGIN,
                login_key=SERVER_LOGIN,
                display_name="ibasho",
                password_hash="-",
                role=Role.organiser.value,
                active=False,
                created_at=now(),
            )
        ).on_conflict(action="DO NOTHING")
        row = await Account.select(Account.id).where(Account.login_key == SERVER_LOGIN).first()
    return row["id"]
