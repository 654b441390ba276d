"""Admin pages for data rights: a group's records as a zip (for a group that leaves) and the
erasure of one participant's personal data on request (see ``server/data_rights/records.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Template

from server.auth.guards import admin_only, principal_of
from server.core.i18n import gettext as _
from server.data_rights import records as data_rights
from server.tables import Group, Person
from server.web.pages import page, see_other


async def data_page(group_id: UUID, errors=(), erased: str = "") -> Template:
    group = await Group.select(Group.id, Group.name).where(Group.id == group_id).first()
    if group is None:
        raise NotFoundException(f"no group {group_id}")
    people = (
        await Person.select(Person.id, Person.display_name, Person.kana, Person.registered)
        .where((Person.group == group_id) & (Person.deleted == False))
        .order_by(Person.kana)
        .order_by(Person.display_name)
    )
    return page("data_rights/group.html", errors, group=group, people=people, erased=erased)


@get("/groups/{group_id:uuid}/data")
async def group_data(group_id: FromPath[UUID], erased: FromQuery[str] = "") -> Template:
    return await data_page(group_id, erased=erased)


@get("/groups/{group_id:uuid}/export.zip")
async def group_export(request: Request, group_id: FromPath[UUID]) -> Response:
    principal = principal_of(request)
    group = await Group.select(Group.area).where(Group.id == group_id).first()
    if group is None:
        raise NotFoundException(f"no group {group_id}")
    # 気になる参加者 only for an admin who is also staff of the group's area, as everywhere
    reveal = principal.may_see_concerns(group_id, group["area"])
    data = await data_rights.export_group(group_id, actor=principal.account_id, reveal_sensitive=reveal)
    return Response(
        data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="ibasho-group-{group_id}.zip"',
            "Cache-Control": "no-store",
        },
    )


@dataclass
class ForgetForm:
    confirm: str = ""


@post("/people/{person_id:uuid}/forget")
async def person_forget(request: Request, person_id: FromPath[UUID], data: URLEncodedBody[ForgetForm]) -> Response:
    person = await Person.select(Person.group, Person.deleted).where(Person.id == person_id).first()
    if person is None or person["deleted"]:
        raise NotFoundException(f"no person {person_id}")
    if data.confirm != "yes":
        # Erasure cannot be undone: nothing happens without the confirmation box ticked.
        return await data_page(person["group"], [_("Tick the box to confirm the erasure.")])
    await data_rights.forget_person(person_id, actor=principal_of(request).account_id)
    return see_other(f"/admin/groups/{person['group']}/data?erased=1")


data_rights_router = Router(
    path="/admin",
    guards=[admin_only],
    include_in_schema=False,
    route_handlers=[group_data, group_export, person_forget],
)
