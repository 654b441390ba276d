"""Staff pages: the areas' groups, a group's ibasho and organisers, and invitation links.

Staff see and change only the groups of their own areas (admins: all). A group or
ibasho outside that scope answers 404, so its existence does not leak.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from litestar import Request, Response, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Template

from server.auth.guards import group_in_scope, principal_of, staff_only
from server.auth.principal import Principal
from server.auth.routes import create_invitation
from server.core.audit import audit
from server.core.changelog import publish_server_change
from server.core.clock import now
from server.core.dates import format_moment
from server.core.events import IbashoChanged, publish
from server.core.groups import ordinary_groups
from server.core.schedule import occurrences, zone
from server.council.forms import GroupForm, IbashoForm, InvitationForm
from server.council.line_channels import HANDLERS as LINE_HANDLERS
from server.council.organisers import HANDLERS as ORGANISER_HANDLERS
from server.council.render import page
from server.council.schedule_text import BUILDER_NTHS, FREQUENCIES, ORDINALS, WEEKDAYS, describe_schedule, format_day
from server.council.secret_links import secret_link_page
from server.reminders.rules import HOURS_BEFORE_CHOICES
from server.sync.sessions_ahead import ensure_sessions_ahead
from server.tables import Area, Group, GroupMembership, Ibasho, Invitation
from server.web.pages import see_other

PREVIEW_DATES = 5
PREVIEW_HORIZON = timedelta(days=2 * 366)


async def visible_areas(principal: Principal) -> list[dict]:
    areas = await Area.select(Area.id, Area.name).order_by(Area.name)
    return [area for area in areas if principal.may_see_area(area["id"])]


@get("/")
async def staff_home(request: Request) -> Template:
    areas = await visible_areas(principal_of(request))
    groups = (
        await Group.select(Group.id, Group.name, Group.area, Group.active)
        .where(ordinary_groups(Group.id))
        .order_by(Group.name)
    )
    by_area = {a["id"]: [g for g in groups if g["area"] == a["id"]] for a in areas}
    return page("home.html", areas=areas, groups_by_area=by_area)


# --- groups ----------------------------------------------------------------------------


async def group_form_page(
    request: Request, form: GroupForm, errors: Sequence[str] = (), group: dict | None = None
) -> Template:
    areas = await visible_areas(principal_of(request))
    return page("group_form.html", errors, form=form, group=group, areas=areas)


@get("/groups/new")
async def group_new(request: Request) -> Template:
    return await group_form_page(request, GroupForm.new())


@post("/groups/new")
async def group_create(request: Request, data: URLEncodedBody[GroupForm]) -> Response:
    values, errors = data.clean(principal_of(request))
    if errors:
        return await group_form_page(request, data, errors)
    group_id = uuid4()
    await Group.insert(Group(id=group_id, created_at=now(), **values))
    await audit(principal_of(request).account_id, "group.create", f"group:{group_id}", values["name"], group=group_id)
    await publish_server_change("group", group_id, group_id)
    return see_other(f"/staff/groups/{group_id}")


@get("/groups/{group_id:uuid}/edit")
async def group_edit(request: Request, group_id: FromPath[UUID]) -> Template:
    group = await group_in_scope(principal_of(request), group_id)
    return await group_form_page(request, GroupForm.from_row(group), group=group)


@post("/groups/{group_id:uuid}/edit")
async def group_update(request: Request, group_id: FromPath[UUID], data: URLEncodedBody[GroupForm]) -> Response:
    principal = principal_of(request)
    group = await group_in_scope(principal, group_id)
    values, errors = data.clean(principal)
    if errors:
        return await group_form_page(request, data, errors, group)
    await Group.update(values).where(Group.id == group_id)
    await audit(principal.account_id, "group.update", f"group:{group_id}", values["name"], group=group_id)
    await publish_server_change("group", group_id, group_id)
    return see_other(f"/staff/groups/{group_id}")


def upcoming(ibasho: dict) -> list[str]:
    """The next dates of the ibasho's schedule from today in its zone, as words.

    The rule counts from the first day of the activity period (or the day the ibasho
    was registered): that fixes which weeks an every-2-weeks rule falls in."""
    try:
        tz = zone(ibasho["timezone"])
        today = datetime.now(tz).date()
        anchor = ibasho["active_from"] or ibasho["created_at"].astimezone(tz).date()
        horizon = today + PREVIEW_HORIZON
        dates = occurrences(ibasho["rrule"], anchor, today, horizon, ibasho["active_until"], PREVIEW_DATES)
    except ValueError:  # a rule or zone written elsewhere that this page cannot expand
        return []
    return [format_day(day) for day in dates]


def invitation_state(invitation: dict) -> str:
    if invitation["used_at"] is not None:
        return "used"
    return "expired" if invitation["expires_at"] <= now() else "unused"


async def group_page(group: dict, errors: Sequence[str] = (), form: InvitationForm | None = None) -> Template:
    """The group, its ibasho, organisers and invitations; ``errors`` are the invitation form's."""
    area = await Area.select(Area.name).where(Area.id == group["area"]).first()
    programmes = await Ibasho.select().where(Ibasho.group == group["id"]).order_by(Ibasho.name)
    organisers = (
        await GroupMembership.select(
            GroupMembership.account.as_alias("account_id"),
            GroupMembership.account.display_name.as_alias("display_name"),
            GroupMembership.account.login.as_alias("login"),
            GroupMembership.account.active.as_alias("active"),
            GroupMembership.joined_at,
        )
        .where(GroupMembership.group == group["id"])
        .order_by(GroupMembership.joined_at)
    )
    invitations = (
        await Invitation.select(
            Invitation.id,
            Invitation.note,
            Invitation.created_at,
            Invitation.expires_at,
            Invitation.used_at,
            Invitation.used_by.display_name.as_alias("used_by_name"),
        )
        .where(Invitation.group == group["id"])
        .order_by(Invitation.created_at, ascending=False)
    )
    tz = group["timezone"]
    return page(
        "group.html",
        errors,
        group=group,
        area_name=area["name"] if area else "",
        programmes=[
            {
                **row,
                "schedule": describe_schedule(row["rrule"], row["start_time"], row["end_time"]),
                "next_dates": upcoming(row),
            }
            for row in programmes
        ],
        organisers=[{**row, "joined": format_moment(row["joined_at"], tz)} for row in organisers],
        invitations=[
            {
                **row,
                "state": invitation_state(row),
                "created": format_moment(row["created_at"], tz),
                "expires": format_moment(row["expires_at"], tz),
                "used": format_moment(row["used_at"], tz),
            }
            for row in invitations
        ],
        registered_on=format_day(group["registered_on"]) if group["registered_on"] else "",
        form=form or InvitationForm(),
    )


@get("/groups/{group_id:uuid}")
async def group_detail(request: Request, group_id: FromPath[UUID]) -> Template:
    return await group_page(await group_in_scope(principal_of(request), group_id))


# --- ibasho ----------------------------------------------------------------------------


async def ibasho_in_scope(request: Request, ibasho_id: UUID) -> tuple[dict, dict]:
    """The ibasho and its group, if the group is in the caller's scope; 404 otherwise."""
    ibasho = await Ibasho.select().where(Ibasho.id == ibasho_id).first()
    if ibasho is None:
        raise NotFoundException(f"no ibasho {ibasho_id} that you may see")
    return ibasho, await group_in_scope(principal_of(request), ibasho["group"])


def ibasho_form_page(group: dict, form: IbashoForm, errors: Sequence[str] = (), ibasho: dict | None = None) -> Template:
    nths = {str(nth): ORDINALS[nth] for nth in BUILDER_NTHS}
    return page(
        "ibasho_form.html",
        errors,
        group=group,
        ibasho=ibasho,
        form=form,
        frequencies=FREQUENCIES,
        weekdays=WEEKDAYS,
        nths=nths,
        hours_before_choices=HOURS_BEFORE_CHOICES,
    )


@get("/groups/{group_id:uuid}/ibasho/new")
async def ibasho_new(request: Request, group_id: FromPath[UUID]) -> Template:
    return ibasho_form_page(await group_in_scope(principal_of(request), group_id), IbashoForm.new())


@post("/groups/{group_id:uuid}/ibasho/new")
async def ibasho_create(request: Request, group_id: FromPath[UUID], data: URLEncodedBody[IbashoForm]) -> Response:
    group = await group_in_scope(principal_of(request), group_id)
    values, errors = data.clean()
    if errors:
        return ibasho_form_page(group, data, errors)
    ibasho_id = uuid4()
    await Ibasho.insert(Ibasho(id=ibasho_id, group=group_id, created_at=now(), **values))
    await audit(
        principal_of(request).account_id, "ibasho.create", f"ibasho:{ibasho_id}", values["name"], group=group_id
    )
    await publish_server_change("ibasho", ibasho_id, group_id)
    await ensure_sessions_ahead(ibasho_id)  # refreshes the reminders of the sessions it creates
    return see_other(f"/staff/groups/{group_id}")


@get("/ibasho/{ibasho_id:uuid}/edit")
async def ibasho_edit(request: Request, ibasho_id: FromPath[UUID]) -> Template:
    ibasho, group = await ibasho_in_scope(request, ibasho_id)
    return ibasho_form_page(group, IbashoForm.from_row(ibasho), ibasho=ibasho)


@post("/ibasho/{ibasho_id:uuid}/edit")
async def ibasho_update(request: Request, ibasho_id: FromPath[UUID], data: URLEncodedBody[IbashoForm]) -> Response:
    ibasho, group = await ibasho_in_scope(request, ibasho_id)
    values, errors = data.clean()
    if errors:
        return ibasho_form_page(group, data, errors, ibasho)
    await Ibasho.update(values).where(Ibasho.id == ibasho_id)
    await audit(
        principal_of(request).account_id, "ibasho.update", f"ibasho:{ibasho_id}", values["name"], group=group["id"]
    )
    await publish_server_change("ibasho", ibasho_id, group["id"])
    await ensure_sessions_ahead(ibasho_id)
    # its zone or reminder rule may have changed: every upcoming session's reminders follow now
    await publish(IbashoChanged(ibasho_id))
    return see_other(f"/staff/groups/{group['id']}")


# --- invitations -------------------------------------------------------------------------


@post("/groups/{group_id:uuid}/invitations")
async def invitation_create(
    request: Request, group_id: FromPath[UUID], data: URLEncodedBody[InvitationForm]
) -> Template:
    """Answers the POST with the link itself, not a redirect (council/secret_links.py)."""
    principal = principal_of(request)
    group = await group_in_scope(principal, group_id)
    values, errors = data.clean()
    if errors:
        return await group_page(group, errors, data)
    token = await create_invitation(group_id, principal.account_id, values["note"])
    return secret_link_page(request, f"/invite/{token}", "invitation.html", group=group, note=values["note"])


@post("/groups/{group_id:uuid}/invitations/{invitation_id:uuid}/revoke")
async def invitation_revoke(request: Request, group_id: FromPath[UUID], invitation_id: FromPath[UUID]) -> Response:
    """An unused link ends now (given to the wrong person, or never to be used): it then
    shows as expired. A used one has done its work; remove the organiser instead."""
    principal = principal_of(request)
    await group_in_scope(principal, group_id)
    revoked = (
        await Invitation.update({Invitation.expires_at: now()})
        .where(
            (Invitation.id == invitation_id)
            & (Invitation.group == group_id)
            & Invitation.used_at.is_null()
            & (Invitation.expires_at > now())
        )
        .returning(Invitation.id)
    )
    if not revoked:
        raise NotFoundException(f"no unused invitation {invitation_id} of this group")
    await audit(principal.account_id, "invitation.revoke", f"invitation:{invitation_id}", group=group_id)
    return see_other(f"/staff/groups/{group_id}#invitations")


staff_router = Router(
    path="/staff",
    guards=[staff_only],
    include_in_schema=False,
    route_handlers=[
        staff_home,
        group_new,
        group_create,
        group_detail,
        group_edit,
        group_update,
        ibasho_new,
        ibasho_create,
        ibasho_edit,
        ibasho_update,
        invitation_create,
        invitation_revoke,
        *ORGANISER_HANDLERS,
        *LINE_HANDLERS,
    ],
)
