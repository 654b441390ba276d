"""Registering a new 居場所 (登録申請): the public form, the applicant's status page, and the
area staff's list and decisions.

The public form needs no account. A bot filling the hidden field gets the same thanks and
nothing is stored; one address may send ``APPLICATIONS_PER_HOUR`` an hour. The applicant
follows their application through a secret link (sent by mail, shown once after sending).
Staff of the application's area (and admins) read it, contact data included, ask
questions, approve or decline: each view and step is audited.
"""

from __future__ import annotations

from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Template
from litestar.status_codes import HTTP_429_TOO_MANY_REQUESTS

from server.auth.guards import principal_of, staff_only
from server.core import labels, ratelimit
from server.core.audit import audit
from server.core.i18n import gettext as _
from server.council.schedule_text import BUILDER_NTHS, FREQUENCIES, ORDINALS, WEEKDAYS, describe_schedule
from server.registration import records
from server.registration.forms import PUBLIC_FREQUENCIES, ApplicationForm, MessageForm
from server.tables import Area, Registration, RegistrationState
from server.web.pages import base_url, no_store, page, see_other

APPLICATIONS_PER_HOUR = 5
STATES = {
    RegistrationState.submitted.value: labels.N_("Waiting for the council"),
    RegistrationState.asked.value: labels.N_("Waiting for the applicant"),
    RegistrationState.approved.value: labels.N_("Registered"),
    RegistrationState.declined.value: labels.N_("Declined"),
}


# --- the public form ---------------------------------------------------------------------------


async def form_page(form: ApplicationForm, errors: list[str] = (), status: int | None = None) -> Template:
    response = page(
        "registration/apply.html",
        errors,
        form=form,
        areas=await Area.select(Area.id, Area.name).order_by(Area.name),
        frequencies={key: FREQUENCIES[key] for key in PUBLIC_FREQUENCIES},
        weekdays=WEEKDAYS,
        nths={str(n): ORDINALS[n] for n in BUILDER_NTHS},
    )
    if status is not None:
        response.status_code = status
    return response


@get("/apply", include_in_schema=False)
async def apply_page() -> Template:
    return await form_page(ApplicationForm())


@post("/apply", include_in_schema=False)
async def apply_submit(request: Request, data: URLEncodedBody[ApplicationForm]) -> Template:
    address = ratelimit.client_network(request.client.host if request.client else None)
    if await ratelimit.hit(f"apply:{address}", 3600) > APPLICATIONS_PER_HOUR:
        errors = [_("Too many applications from this connection. Please try again in an hour.")]
        return await form_page(data, errors, status=HTTP_429_TOO_MANY_REQUESTS)
    if data.from_a_bot:
        return no_store(page("registration/sent.html", link=None))  # as if sent: nothing to learn
    areas = {row["id"] for row in await Area.select(Area.id)}
    values, errors = data.clean(areas)
    if errors:
        return await form_page(data, errors)
    link = (await records.submit(values, base_url(request)))[1]
    return no_store(page("registration/sent.html", link=link))


@get("/apply/status/{token:str}", include_in_schema=False)
async def status_page(token: FromPath[str]) -> Template:
    registration = await records.by_token(token)
    return no_store(await status_view(registration, token))


async def status_view(registration: dict, token: str, errors: list[str] = (), form: MessageForm | None = None):
    return page(
        "registration/status.html",
        errors,
        registration=registration,
        state=_(STATES[registration["state"]]),
        open=registration["state"] in records.OPEN,
        messages=await records.messages_of(registration["id"]),
        token=token,
        form=form or MessageForm(),
    )


@post("/apply/status/{token:str}", include_in_schema=False)
async def status_answer(token: FromPath[str], data: URLEncodedBody[MessageForm]) -> Response:
    registration = await records.by_token(token)
    values, errors = data.clean()
    if errors:
        return no_store(await status_view(registration, token, errors, data))
    await records.answer(registration, values["message"])
    return see_other(f"/apply/status/{token}")


# --- the staff's side ---------------------------------------------------------------------------


@get("/staff/registrations", guards=[staff_only], include_in_schema=False)
async def staff_list(request: Request, show: FromQuery[str] = "open") -> Template:
    principal = principal_of(request)
    if show not in ("open", "all"):
        raise HTTPException(status_code=400, detail=_("Show open or all applications."))
    query = Registration.select(
        Registration.id,
        Registration.group_name,
        Registration.ibasho_name,
        Registration.state,
        Registration.created_at,
        Registration.area.name.as_alias("area_name"),
    ).order_by(Registration.created_at, ascending=False)
    if not principal.is_admin:
        query = query.where(Registration.area.is_in(list(principal.area_ids) or [UUID(int=0)]))
    if show == "open":
        query = query.where(Registration.state.is_in(list(records.OPEN)))
    rows = await query
    return page("registration/staff_list.html", registrations=rows, states=STATES, showing=show)


async def staff_view(request: Request, registration: dict, errors: list[str] = (), form=None) -> Template:
    principal = principal_of(request)
    await audit(principal.account_id, "registration.view", f"registration:{registration['id']}")
    area = await Area.select(Area.name).where(Area.id == registration["area"]).first()
    return no_store(
        page(
            "registration/staff_detail.html",
            errors,
            registration=registration,
            area=area["name"],
            state=_(STATES[registration["state"]]),
            open=registration["state"] in records.OPEN,
            schedule=describe_schedule(registration["rrule"], registration["start_time"], registration["end_time"]),
            messages=await records.messages_of(registration["id"]),
            form=form or MessageForm(),
        )
    )


@get("/staff/registrations/{registration_id:uuid}", guards=[staff_only], include_in_schema=False)
async def staff_detail(request: Request, registration_id: FromPath[UUID]) -> Template:
    return await staff_view(request, await records.in_scope(principal_of(request), registration_id))


@post("/staff/registrations/{registration_id:uuid}/{action:str}", guards=[staff_only], include_in_schema=False)
async def staff_action(
    request: Request, registration_id: FromPath[UUID], action: FromPath[str], data: URLEncodedBody[MessageForm]
) -> Response:
    principal = principal_of(request)
    registration = await records.in_scope(principal, registration_id)
    if action not in ("ask", "approve", "decline"):
        raise NotFoundException(f"no action {action!r}")
    if action == "approve":
        approved = await records.approve(registration, principal.account_id, base_url(request))
        return see_other(f"/staff/groups/{approved.group_id}")
    values, errors = data.clean()
    if errors:
        return await staff_view(request, registration, errors, data)
    if action == "ask":
        await records.ask(registration, principal.account_id, values["message"], base_url(request))
    else:
        await records.decline(registration, principal.account_id, values["message"])
    return see_other(f"/staff/registrations/{registration_id}")


registration_router = Router(
    path="/",
    route_handlers=[apply_page, apply_submit, status_page, status_answer, staff_list, staff_detail, staff_action],
)
