"""Route guards: every route states who may use it."""

from __future__ import annotations

from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler

from server.auth.logins import ENDED
from server.auth.principal import Principal
from server.tables import Area, Group, Role


class SessionEnded(NotAuthorizedException):
    """401 for a login that council staff ended: the phone wipes what it holds."""

    code = ENDED


def principal_of(connection: ASGIConnection) -> Principal:
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        if connection.scope.get("auth") == ENDED:
            raise SessionEnded("this login was ended by council staff")
        raise NotAuthorizedException("log in first")
    return user


def signed_in(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    principal_of(connection)


def staff_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Council staff and admins."""
    if not principal_of(connection).is_staff:
        raise PermissionDeniedException("council staff only")


def admin_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if principal_of(connection).role is not Role.admin:
        raise PermissionDeniedException("council admins only")


async def staff_areas(connection: ASGIConnection) -> list[dict]:
    """The areas (id, name) a staff member looks after; every area for an admin."""
    principal = principal_of(connection)
    query = Area.select(Area.id, Area.name).order_by(Area.name)
    if not principal.is_admin:
        query = query.where(Area.id.is_in(list(principal.area_ids) or [UUID(int=0)]))
    return await query


async def group_in_scope(principal: Principal, group_id) -> dict:
    """The group row if the principal may see it; 404 otherwise, so other groups' existence does not leak."""
    group = await Group.select().where(Group.id == group_id).first()
    if group is None or not principal.may_see_group(group["id"], group["area"]):
        raise NotFoundException(f"no group {group_id} that you may see")
    return group
