"""Council admin pages: areas (圏域) and the accounts of council staff and admins."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from uuid import UUID, uuid4

from litestar import Request, Response, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Template

from server.auth.accounts import CreateUserError, create_user
from server.auth.guards import admin_only, principal_of
from server.auth.logins import end_all_logins
from server.core.audit import audit
from server.core.clock import now
from server.core.groups import ordinary_groups
from server.core.i18n import gettext as _
from server.council.forms import AccountForm, AreaForm, StaffAccountForm
from server.council.render import page
from server.council.secret_links import new_password_page
from server.db import write_transaction
from server.tables import Account, Area, Group, LoginSession, Role, StaffArea
from server.web.pages import see_other

COUNCIL_ROLES = [Role.staff.value, Role.admin.value]

# --- areas ---------------------------------------------------------------------------------


async def area_or_404(area_id: UUID) -> dict:
    area = await Area.select().where(Area.id == area_id).first()
    if area is None:
        raise NotFoundException(f"no area {area_id}")
    return area


async def areas_page(form: AreaForm, errors: Sequence[str] = ()) -> Template:
    areas = await Area.select().order_by(Area.name)
    group_counts = Counter(row["area"] for row in await Group.select(Group.area).where(ordinary_groups(Group.id)))
    return page("areas.html", errors, areas=areas, group_counts=group_counts, form=form)


@get("/areas")
async def area_list() -> Template:
    return await areas_page(AreaForm())


@post("/areas")
async def area_create(request: Request, data: URLEncodedBody[AreaForm]) -> Response:
    values, errors = await data.clean()
    if errors:
        return await areas_page(data, errors)
    area_id = uuid4()
    await Area.insert(Area(id=area_id, created_at=now(), **values))
    await audit(principal_of(request).account_id, "area.create", f"area:{area_id}", values["name"])
    return see_other("/admin/areas")


@get("/areas/{area_id:uuid}/edit")
async def area_edit(area_id: FromPath[UUID]) -> Template:
    area = await area_or_404(area_id)
    return page("area_form.html", area=area, form=AreaForm.from_row(area))


@post("/areas/{area_id:uuid}/edit")
async def area_update(request: Request, area_id: FromPath[UUID], data: URLEncodedBody[AreaForm]) -> Response:
    area = await area_or_404(area_id)
    values, errors = await data.clean(area_id)
    if errors:
        return page("area_form.html", errors, area=area, form=data)
    await Area.update(values).where(Area.id == area_id)
    await audit(principal_of(request).account_id, "area.update", f"area:{area_id}", values["name"])
    return see_other("/admin/areas")


# --- staff and admin accounts -----------------------------------------------------------------


async def account_or_404(account_id: UUID) -> dict:
    """A staff or admin account; organisers are managed through their groups, not here."""
    account = await Account.select().where((Account.id == account_id) & Account.role.is_in(COUNCIL_ROLES)).first()
    if account is None:
        raise NotFoundException(f"no staff account {account_id}")
    return account


async def audit_account(request: Request, action: str, account_id: UUID, detail: str = "") -> None:
    await audit(principal_of(request).account_id, action, f"account:{account_id}", detail)


async def all_areas() -> list[dict]:
    return await Area.select(Area.id, Area.name).order_by(Area.name)


async def accounts_page(form: StaffAccountForm, errors: Sequence[str] = ()) -> Template:
    accounts = (
        await Account.select(Account.id, Account.login, Account.display_name, Account.role, Account.active)
        .where(Account.role.is_in(COUNCIL_ROLES))
        .order_by(Account.login)
    )
    area_names = defaultdict(list)
    staff_areas = StaffArea.select(StaffArea.account, StaffArea.area.name.as_alias("name")).order_by(
        StaffArea.area.name
    )
    for row in await staff_areas:
        area_names[row["account"]].append(row["name"])
    live = LoginSession.revoked_at.is_null() & (LoginSession.expires_at > now())
    session_counts = Counter(row["account"] for row in await LoginSession.select(LoginSession.account).where(live))
    return page(
        "accounts.html",
        errors,
        accounts=accounts,
        area_names=area_names,
        session_counts=session_counts,
        areas=await all_areas(),
        form=form,
    )


@get("/accounts")
async def account_list() -> Template:
    return await accounts_page(StaffAccountForm())


@post("/accounts")
async def account_create(request: Request, data: URLEncodedBody[StaffAccountForm]) -> Response:
    values, errors = await data.clean()
    if not errors:
        names = {row["id"]: row["name"] for row in await all_areas()}
        try:
            account_id = await create_user(
                login=values["login"],
                password=values["password"],
                role=Role.staff.value,
                display_name=values["display_name"],
                areas=[names[area_id] for area_id in values["area_ids"]],
            )
        except CreateUserError as error:  # e.g. the login was taken a moment ago
            errors = [str(error)]
    if errors:
        return await accounts_page(data, errors)
    await audit_account(request, "account.create", account_id, values["login"])
    return see_other("/admin/accounts")


async def account_form_page(account: dict, form: AccountForm, errors: Sequence[str] = ()) -> Template:
    return page("account_form.html", errors, account=account, form=form, areas=await all_areas())


@get("/accounts/{account_id:uuid}/edit")
async def account_edit(account_id: FromPath[UUID]) -> Template:
    account = await account_or_404(account_id)
    chosen = await StaffArea.select(StaffArea.area).where(StaffArea.account == account_id)
    form = AccountForm(display_name=account["display_name"], areas=[str(row["area"]) for row in chosen])
    return await account_form_page(account, form)


@post("/accounts/{account_id:uuid}/edit")
async def account_update(request: Request, account_id: FromPath[UUID], data: URLEncodedBody[AccountForm]) -> Response:
    account = await account_or_404(account_id)
    values, errors = await data.clean()
    if errors:
        return await account_form_page(account, data, errors)
    async with write_transaction():
        await Account.update({Account.display_name: values["display_name"]}).where(Account.id == account_id)
        # Admins see every area anyway; only staff are scoped by their areas.
        if account["role"] == Role.staff.value:
            await StaffArea.delete().where(StaffArea.account == account_id)
            for area_id in values["area_ids"]:
                await StaffArea.insert(StaffArea(id=uuid4(), account=account_id, area=area_id))
    await audit_account(request, "account.update", account_id, ",".join(str(area_id) for area_id in values["area_ids"]))
    return see_other("/admin/accounts")


async def deactivate(account_id: UUID) -> None:
    await Account.update({Account.active: False}).where(Account.id == account_id)
    await end_all_logins(account_id)  # a deactivated account is logged out everywhere at once


# The buttons of an account row; "revoke-sessions" logs it out everywhere, e.g. after a
# laptop was left logged in. "reset" (a lost device, which may keep the password) and
# "reactivate" answer with a one-time link to choose a new password.
ACCOUNT_ACTIONS = {"deactivate": deactivate, "revoke-sessions": end_all_logins}
NEW_PASSWORD = ("reset", "reactivate")


@post("/accounts/{account_id:uuid}/{action:str}")
async def account_action(request: Request, account_id: FromPath[UUID], action: FromPath[str]) -> Response:
    if action not in (*ACCOUNT_ACTIONS, *NEW_PASSWORD):
        raise NotFoundException(f"no account action {action!r}")
    await account_or_404(account_id)
    principal = principal_of(request)
    if action == "deactivate" and account_id == principal.account_id:
        return await accounts_page(StaffAccountForm(), [_("You cannot deactivate your own account.")])
    if action == "reactivate":
        await Account.update({Account.active: True}).where(Account.id == account_id)
    elif action in ACCOUNT_ACTIONS:
        await ACCOUNT_ACTIONS[action](account_id)
    await audit_account(request, f"account.{action}", account_id)
    if action in NEW_PASSWORD:
        return await new_password_page(request, account_id, principal.account_id, "/admin/accounts")
    return see_other("/admin/accounts")


admin_router = Router(
    path="/admin",
    guards=[admin_only],
    include_in_schema=False,
    route_handlers=[
        area_list,
        area_create,
        area_edit,
        area_update,
        account_list,
        account_create,
        account_edit,
        account_update,
        account_action,
    ],
)
