"""Committee pages: staff of the area make a committee, add its member organisations and
people, hold its meetings (全体会議, 実務者会議) with an agenda, and keep the minutes (who
came, decisions, action items). Members follow the meetings and read the minutes on their
own page, by the signed link the staff give them (no account needed)."""

from __future__ import annotations

from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Template

from server.auth.guards import principal_of, staff_areas, staff_only
from server.committees import records
from server.committees.forms import (
    MEETING_KINDS,
    CommitteeForm,
    MeetingForm,
    MemberForm,
    MinutesForm,
    OrganisationForm,
)
from server.tables import Committee
from server.web.pages import base_url, no_store, page, see_other


async def list_page(request: Request, form: CommitteeForm, errors: list[str] = ()) -> Template:
    principal = principal_of(request)
    query = Committee.select(
        Committee.group.as_alias("group_id"),
        Committee.group.name.as_alias("name"),
        Committee.group.area.name.as_alias("area_name"),
    ).order_by(Committee.group.name)
    if not principal.is_admin:
        query = query.where(Committee.group.area.is_in(list(principal.area_ids) or [UUID(int=0)]))
    return page("committees/list.html", errors, committees=await query, form=form, areas=await staff_areas(request))


@get("/staff/committees", guards=[staff_only], include_in_schema=False)
async def committee_list(request: Request) -> Template:
    areas = await staff_areas(request)
    return await list_page(request, CommitteeForm(area=str(areas[0]["id"]) if len(areas) == 1 else ""))


@post("/staff/committees", guards=[staff_only], include_in_schema=False)
async def committee_create(request: Request, data: URLEncodedBody[CommitteeForm]) -> Response:
    values, errors = data.clean({row["id"] for row in await staff_areas(request)})
    if errors:
        return await list_page(request, data, errors)
    group_id = await records.create(values["area"], values["name"], principal_of(request).account_id)
    return see_other(f"/staff/committees/{group_id}")


async def detail_page(request: Request, committee: dict, errors: list[str] = (), **forms) -> Template:
    meetings = await records.meetings(committee["group_id"])
    members = await records.members(committee)
    return no_store(
        page(
            "committees/detail.html",
            errors,
            committee=committee,
            organisations=await records.organisations(committee),
            members=members,
            links={m["person_id"]: records.member_link(base_url(request), m["person_id"]) for m in members},
            meetings=meetings,
            kinds=await records.meeting_kinds([m["id"] for m in meetings]),
            meeting_kinds=MEETING_KINDS,
            organisation_form=forms.get("organisation_form") or OrganisationForm(),
            member_form=forms.get("member_form") or MemberForm(),
            meeting_form=forms.get("meeting_form") or MeetingForm(),
        )
    )


@get("/staff/committees/{group_id:uuid}", guards=[staff_only], include_in_schema=False)
async def committee_detail(request: Request, group_id: FromPath[UUID]) -> Template:
    return await detail_page(request, await records.in_scope(principal_of(request), group_id))


@post("/staff/committees/{group_id:uuid}/organisations", guards=[staff_only], include_in_schema=False)
async def organisation_add(
    request: Request, group_id: FromPath[UUID], data: URLEncodedBody[OrganisationForm]
) -> Response:
    principal = principal_of(request)
    committee = await records.in_scope(principal, group_id)
    values, errors = data.clean()
    if errors:
        return await detail_page(request, committee, errors, organisation_form=data)
    await records.add_organisation(committee, values["name"], principal.account_id)
    return see_other(f"/staff/committees/{group_id}")


@post("/staff/committees/{group_id:uuid}/members", guards=[staff_only], include_in_schema=False)
async def member_add(request: Request, group_id: FromPath[UUID], data: URLEncodedBody[MemberForm]) -> Response:
    principal = principal_of(request)
    committee = await records.in_scope(principal, group_id)
    values, errors = data.clean({row["id"] for row in await records.organisations(committee)})
    if errors:
        return await detail_page(request, committee, errors, member_form=data)
    await records.add_member(principal, committee, values)
    return see_other(f"/staff/committees/{group_id}")


@post(
    "/staff/committees/{group_id:uuid}/organisations/{organisation_id:uuid}/remove",
    guards=[staff_only],
    include_in_schema=False,
)
async def organisation_remove(request: Request, group_id: FromPath[UUID], organisation_id: FromPath[UUID]) -> Response:
    principal = principal_of(request)
    committee = await records.in_scope(principal, group_id)
    errors = await records.remove_organisation(committee, organisation_id, principal.account_id)
    if errors:
        response = await detail_page(request, committee, errors)
        response.status_code = 409
        return response
    return see_other(f"/staff/committees/{group_id}")


@post("/staff/committees/{group_id:uuid}/members/{person_id:uuid}/remove", guards=[staff_only], include_in_schema=False)
async def member_remove(request: Request, group_id: FromPath[UUID], person_id: FromPath[UUID]) -> Response:
    principal = principal_of(request)
    committee = await records.in_scope(principal, group_id)
    await records.remove_member(principal, committee, person_id)
    return see_other(f"/staff/committees/{group_id}")


@post("/staff/committees/{group_id:uuid}/meetings", guards=[staff_only], include_in_schema=False)
async def meeting_add(request: Request, group_id: FromPath[UUID], data: URLEncodedBody[MeetingForm]) -> Response:
    principal = principal_of(request)
    committee = await records.in_scope(principal, group_id)
    values, errors = data.clean()
    if errors:
        return await detail_page(request, committee, errors, meeting_form=data)
    session_id = await records.add_meeting(principal, committee, values)
    return see_other(f"/staff/committees/{group_id}/meetings/{session_id}")


async def meeting_page(committee: dict, session: dict, errors: list[str] = (), form: MinutesForm | None = None):
    minutes = await records.minutes(session["id"])
    return no_store(
        page(
            "committees/meeting.html",
            errors,
            committee=committee,
            meeting=session,
            kind=(await records.meeting_kinds([session["id"]])).get(session["id"]),
            meeting_kinds=MEETING_KINDS,
            members=await records.members(committee),
            minutes=minutes,
            form=form or MinutesForm(decisions=minutes["decisions"], present=[str(p) for p in minutes["came"]]),
        )
    )


@get("/staff/committees/{group_id:uuid}/meetings/{session_id:uuid}", guards=[staff_only], include_in_schema=False)
async def meeting_detail(request: Request, group_id: FromPath[UUID], session_id: FromPath[UUID]) -> Template:
    committee = await records.in_scope(principal_of(request), group_id)
    return await meeting_page(committee, await records.meeting(group_id, session_id))


@post("/staff/committees/{group_id:uuid}/meetings/{session_id:uuid}", guards=[staff_only], include_in_schema=False)
async def meeting_minutes(
    request: Request, group_id: FromPath[UUID], session_id: FromPath[UUID], data: URLEncodedBody[MinutesForm]
) -> Response:
    principal = principal_of(request)
    committee = await records.in_scope(principal, group_id)
    session = await records.meeting(group_id, session_id)
    values, errors = data.clean({m["person_id"] for m in await records.members(committee)})
    if errors:
        return await meeting_page(committee, session, errors, data)
    await records.record_minutes(
        principal, committee, session, values["decisions"], values["present"], values["action"]
    )
    return see_other(f"/staff/committees/{group_id}/meetings/{session_id}")


@get("/committee/{token:str}", include_in_schema=False)
async def member_page(token: FromPath[str]) -> Template:
    seat = await records.member_by_token(token)
    meetings = await records.meetings(seat["group_id"])
    return no_store(
        page(
            "committees/member.html",
            seat=seat,
            meetings=meetings,
            kinds=await records.meeting_kinds([m["id"] for m in meetings]),
            meeting_kinds=MEETING_KINDS,
            minutes={m["id"]: await records.minutes(m["id"]) for m in meetings},
        )
    )


committees_router = Router(
    path="/",
    route_handlers=[
        committee_list,
        committee_create,
        committee_detail,
        organisation_add,
        member_add,
        organisation_remove,
        member_remove,
        meeting_add,
        meeting_detail,
        meeting_minutes,
        member_page,
    ],
)
