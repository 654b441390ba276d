"""A group's organisers on the staff group page: remove one from the group, end their
logins, give them a new password (a lost phone), deactivate or reactivate their account.

Who may: staff of the group's area and admins. Deactivating or reactivating an account
changes it for every group it belongs to, so staff may do that only when all of its groups
are in their areas. Every action is audited. A removed organiser's phone is told at its
next sync (the pull lists the groups it still has; a login staff ended answers 401 with
the code ``session_ended``) and wipes the data it holds of that group.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from litestar import Request, Response, post
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath

from server.auth.guards import group_in_scope, principal_of
from server.auth.logins import end_all_logins
from server.auth.principal import Principal
from server.core.audit import audit
from server.core.changelog import publish_server_change
from server.core.clock import now
from server.core.events import SessionsChanged, publish
from server.council.secret_links import new_password_page
from server.db import write_transaction
from server.tables import Account, GroupMembership, PushSubscription, Role, Session
from server.web.pages import see_other


async def _membership(group_id: UUID, account_id: UUID) -> dict:
    membership = (
        await GroupMembership.select(GroupMembership.id)
        .where(
            (GroupMembership.group == group_id)
            & (GroupMembership.account == account_id)
            & (GroupMembership.account.role == Role.organiser.value)
        )
        .first()
    )
    if membership is None:
        raise NotFoundException(f"no organiser {account_id} in this group")
    return membership


async def _may_change_account(principal: Principal, account_id: UUID) -> None:
    """The account's every group must be one the principal looks after."""
    groups = await GroupMembership.select(GroupMembership.group, GroupMembership.group.area.as_alias("area")).where(
        GroupMembership.account == account_id
    )
    if not all(principal.may_see_group(row["group"], row["area"]) for row in groups):
        raise PermissionDeniedException("this organiser also belongs to groups outside your areas: ask an admin")


async def remove(group_id: UUID, account_id: UUID, membership_id: UUID) -> str:
    """Out of the group at once. Their logins end only when no group is left: a phone
    that still syncs another group drops this one's data when its pull no longer lists it."""
    async with write_transaction():
        await GroupMembership.delete().where(GroupMembership.id == membership_id)
        await publish_server_change("member", membership_id, group_id)  # the other phones drop the member
    # their pending reminders of this group's meetings and duties go now, not at the next reconcile
    today = now().date()
    upcoming = await Session.select(Session.id).where(
        (Session.group == group_id) & (Session.date >= today - timedelta(days=1))
    )
    await publish(SessionsChanged(tuple(row["id"] for row in upcoming)))
    if not await GroupMembership.exists().where(GroupMembership.account == account_id):
        await _cut_off(account_id)
        return "no groups left: logged out everywhere"
    return ""


async def _cut_off(account_id: UUID) -> None:
    """Every login ends, and no reminder (a meeting's name and place) reaches their phones."""
    await end_all_logins(account_id)
    await PushSubscription.delete().where(PushSubscription.account == account_id)


async def deactivate(account_id: UUID) -> str:
    await Account.update({Account.active: False}).where(Account.id == account_id)
    await _cut_off(account_id)
    return ""


async def log_out_everywhere(account_id: UUID) -> str:
    """Every login of the account ends, its phones wipe their data, and no reminder reaches
    them any more (the organiser turns them on again after logging in). For a phone left
    logged in somewhere; a lost one may keep the password, and needs a new password."""
    await _cut_off(account_id)
    return ""


ACCOUNT_WIDE = {"deactivate": deactivate, "logout": log_out_everywhere}
# Answered with a one-time link to choose a new password (council/secret_links.py): after a
# lost or stolen phone (whose browser may keep the old one), and on reactivating an account.
NEW_PASSWORD = ("reset", "reactivate")


@post("/groups/{group_id:uuid}/organisers/{account_id:uuid}/{action:str}")
async def organiser_action(
    request: Request, group_id: FromPath[UUID], account_id: FromPath[UUID], action: FromPath[str]
) -> Response:
    principal = principal_of(request)
    await group_in_scope(principal, group_id)
    if action not in ("remove", *ACCOUNT_WIDE, *NEW_PASSWORD):
        raise NotFoundException(f"no organiser action {action!r}")
    membership = await _membership(group_id, account_id)
    detail = ""
    if action == "remove":
        detail = await remove(group_id, account_id, membership["id"])
    else:
        await _may_change_account(principal, account_id)
        if action == "reset":
            await _cut_off(account_id)
        elif action == "reactivate":
            await Account.update({Account.active: True}).where(Account.id == account_id)
        else:
            detail = await ACCOUNT_WIDE[action](account_id)
    await audit(
        principal.account_id,
        f"organiser.{action}",
        f"account:{account_id}",
        detail,
        group=group_id,
    )
    back = f"/staff/groups/{group_id}#organisers"
    if action in NEW_PASSWORD:
        return await new_password_page(request, account_id, principal.account_id, back)
    return see_other(back)


HANDLERS = [organiser_action]
