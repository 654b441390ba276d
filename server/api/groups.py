"""Groups, their ibasho and their registered people, as JSON, within the caller's scope."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import msgspec
from litestar import Request, get
from litestar.params import FromPath

from server.auth.guards import group_in_scope, principal_of, signed_in
from server.auth.principal import sync_scope
from server.core.groups import committee_ids
from server.tables import Group, Ibasho, Person
from server.web.openapi import error_responses
from sync.mutations import ClockTime, wire_value

SIGNED_IN = error_responses(401)
IN_SCOPE = error_responses(401, 404)


class GroupSummary(msgspec.Struct):
    id: UUID
    area_id: UUID
    name: str
    committee: bool = False  # a 推進委員会 (its meetings and roster), not a 居場所 group


class IbashoOut(msgspec.Struct):
    id: UUID
    group_id: UUID
    name: str
    venue: str
    kind: str
    audience: str
    registration_required: bool
    status: str
    rrule: str
    start_time: ClockTime | None  # "HH:MM", as sync sends times
    end_time: ClockTime | None
    timezone: str
    active_from: date | None
    active_until: date | None


class PersonOut(msgspec.Struct):
    id: UUID
    group_id: UUID
    display_name: str
    kana: str
    category: str
    registered: bool


def ibasho_out(row: dict) -> IbashoOut:
    return IbashoOut(
        id=row["id"],
        group_id=row["group"],
        name=row["name"],
        venue=row["venue"],
        kind=row["kind"],
        audience=row["audience"],
        registration_required=row["registration_required"],
        status=row["status"],
        rrule=row["rrule"],
        start_time=wire_value(row["start_time"]),
        end_time=wire_value(row["end_time"]),
        timezone=row["timezone"],
        active_from=row["active_from"],
        active_until=row["active_until"],
    )


@get("/groups", guards=[signed_in], summary="Groups the caller may see", responses=SIGNED_IN)
async def list_groups(request: Request) -> list[GroupSummary]:
    principal = principal_of(request)
    query = Group.select(Group.id, Group.area, Group.name).order_by(Group.name)
    scope = await sync_scope(principal)  # the groups the caller syncs are the groups they see
    if scope.group_ids is not None:
        query = query.where(Group.id.is_in(list(scope.group_ids) or [None]))
    rows = await query
    committees = await committee_ids([r["id"] for r in rows])
    return [GroupSummary(id=r["id"], area_id=r["area"], name=r["name"], committee=r["id"] in committees) for r in rows]


@get("/groups/{group_id:uuid}", guards=[signed_in], summary="One group (404 outside your scope)", responses=IN_SCOPE)
async def get_group(request: Request, group_id: FromPath[UUID]) -> GroupSummary:
    group = await group_in_scope(principal_of(request), group_id)
    committee = bool(await committee_ids([group_id]))
    return GroupSummary(id=group["id"], area_id=group["area"], name=group["name"], committee=committee)


@get("/groups/{group_id:uuid}/ibasho", guards=[signed_in], summary="A group's ibasho", responses=IN_SCOPE)
async def list_group_ibasho(request: Request, group_id: FromPath[UUID]) -> list[IbashoOut]:
    await group_in_scope(principal_of(request), group_id)
    rows = await Ibasho.select().where(Ibasho.group == group_id).order_by(Ibasho.name)
    return [ibasho_out(row) for row in rows]


@get(
    "/groups/{group_id:uuid}/people",
    guards=[signed_in],
    summary="A group's registered participants",
    responses=IN_SCOPE,
)
async def list_group_people(request: Request, group_id: FromPath[UUID]) -> list[PersonOut]:
    await group_in_scope(principal_of(request), group_id)
    rows = (
        await Person.select()
        .where((Person.group == group_id) & (Person.deleted == False))
        .order_by(Person.kana, Person.display_name)
    )
    return [
        PersonOut(
            id=r["id"],
            group_id=r["group"],
            display_name=r["display_name"],
            kana=r["kana"],
            category=r["category"],
            registered=r["registered"],
        )
        for r in rows
    ]


group_routes = [list_groups, get_group, list_group_ibasho, list_group_people]
