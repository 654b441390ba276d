"""Log in and out (JSON API and HTML form), who am I, language choice, invitations."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit
from uuid import UUID, uuid4

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_429_TOO_MANY_REQUESTS

from server.auth import throttle
from server.auth.accounts import login_taken
from server.auth.guards import principal_of, signed_in
from server.auth.logins import LOGIN_COOKIE, end_login, resolve_login, start_login
from server.auth.passwords import (
    hash_password,
    login_fits,
    login_key,
    normalise_login,
    password_problem,
    verify_password,
)
from server.auth.principal import Principal
from server.config import get_settings
from server.core import ratelimit
from server.core.audit import audit
from server.core.changelog import publish_server_change
from server.core.clock import now
from server.core.groups import committee_ids
from server.core.i18n import LANGUAGE_COOKIE, LANGUAGES
from server.core.i18n import gettext as _
from server.db import write_transaction
from server.tables import Account, Area, Group, GroupMembership, Invitation, Role
from server.web.openapi import error_responses, text

# --- shared login logic ------------------------------------------------------------


class LoginThrottled(HTTPException):
    status_code = HTTP_429_TOO_MANY_REQUESTS


def client_address(request: Request) -> str:
    return ratelimit.client_network(request.client.host if request.client else None)


async def authenticate(login: str, password: str, request: Request) -> tuple[str, list[Cookie]]:
    """Check a login; return a new session token and the cookies to set. Raises 401 or 429."""
    key = login_key(login)
    account = (
        await Account.select(Account.id, Account.password_hash, Account.active).where(Account.login_key == key).first()
    )
    device = throttle.trusted_device(request.cookies.get(throttle.DEVICE_COOKIE), account["id"]) if account else None
    attempt = await throttle.attempt(key, client_address(request), device)
    if not attempt.allowed:
        raise LoginThrottled(
            detail="too many failed logins; try again later",
            headers={"Retry-After": str(get_settings().login_window_seconds)},
        )
    valid = await verify_password(account["password_hash"] if account else None, password)
    if not valid or not account["active"]:
        raise NotAuthorizedException("wrong login or password")
    await throttle.succeeded(attempt)
    token = await start_login(account["id"], request.headers.get("user-agent", ""))
    return token, [session_cookie(token), device_cookie(account["id"], device)]


def session_cookie(token: str) -> Cookie:
    settings = get_settings()
    return Cookie(
        key=LOGIN_COOKIE,
        value=token,
        max_age=settings.login_days * 86400,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        path="/",
    )


def device_cookie(account_id: UUID, device_id: str | None) -> Cookie:
    """Marks this browser as one that has logged in to the account (server/auth/throttle.py)."""
    return Cookie(
        key=throttle.DEVICE_COOKIE,
        value=throttle.device_cookie_value(account_id, device_id),
        max_age=400 * 86400,
        httponly=True,
        secure=get_settings().secure_cookies,
        samesite="lax",
        path="/",
    )


def cleared_session_cookie() -> Cookie:
    return Cookie(
        key=LOGIN_COOKIE,
        value="",
        max_age=0,
        httponly=True,
        secure=get_settings().secure_cookies,
        samesite="lax",
        path="/",
    )


def safe_next(target: str | None, fallback: str) -> str:
    """Only same-site relative paths: no open redirect through ?next=."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return fallback
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else fallback


def home_for(role: Role) -> str:
    return "/app/" if role is Role.organiser else "/staff"


# --- JSON API ----------------------------------------------------------------------


class LoginRequest(msgspec.Struct, forbid_unknown_fields=True):
    login: text(100, least=1)
    password: text(512, least=1)


class AreaOut(msgspec.Struct):
    id: UUID
    name: str


class GroupOut(msgspec.Struct):
    id: UUID
    name: str
    area_id: UUID
    committee: bool = False  # a 推進委員会 (its meetings and roster), not a 居場所 group


class Me(msgspec.Struct):
    id: UUID
    login: str
    display_name: str
    role: str
    language: str
    areas: list[AreaOut]
    groups: list[GroupOut]


async def describe(principal: Principal) -> Me:
    if principal.is_admin:
        areas = await Area.select(Area.id, Area.name).order_by(Area.name)
        groups: list = []
    else:
        areas = await Area.select(Area.id, Area.name).where(Area.id.is_in(list(principal.area_ids) or [uuid4()]))
        groups = (
            await Group.select(Group.id, Group.name, Group.area)
            .where(Group.id.is_in(list(principal.group_ids) or [uuid4()]))
            .order_by(Group.name)
        )
    committees = await committee_ids([g["id"] for g in groups])
    return Me(
        id=principal.account_id,
        login=principal.login,
        display_name=principal.display_name,
        role=principal.role.value,
        language=principal.language,
        areas=[AreaOut(id=a["id"], name=a["name"]) for a in areas],
        groups=[
            GroupOut(id=g["id"], name=g["name"], area_id=g["area"], committee=g["id"] in committees) for g in groups
        ],
    )


@post(
    "/api/auth/login",
    tags=["auth"],
    summary="Log in; sets the session cookie",
    status_code=200,
    responses=error_responses(
        400,
        401,
        403,
        413,
        429,
        why={
            401: "Wrong login or password",
            429: "Too many failed logins for this name or from this address; `Retry-After` says when to try again",
        },
    ),
)
async def api_login(data: JSONBody[LoginRequest], request: Request) -> Response[Me]:
    token, cookies = await authenticate(data.login, data.password, request)
    principal = await resolve_login(token)
    assert principal is not None
    return Response(await describe(principal), status_code=200, cookies=cookies)


@post("/api/auth/logout", tags=["auth"], guards=[signed_in], status_code=200, responses=error_responses(401, 403))
async def api_logout(request: Request) -> Response[dict]:
    await end_login(principal_of(request).login_id)
    return Response({"status": "logged out"}, cookies=[cleared_session_cookie()])


@get(
    "/api/me",
    tags=["auth"],
    guards=[signed_in],
    summary="Who I am, my role, my groups and areas",
    responses=error_responses(401),
)
async def api_me(request: Request) -> Me:
    return await describe(principal_of(request))


# --- HTML pages ------------------------------------------------------------------------


@dataclass
class LoginForm:
    login: str = ""
    password: str = ""
    next: str = ""


@get("/login", include_in_schema=False)
async def login_page(request: Request, next: FromQuery[str] = "") -> Template:
    return Template(template_name="login.html", context={"next": next, "error": None, "login": ""})


@post("/login", include_in_schema=False)
async def login_submit(request: Request, data: URLEncodedBody[LoginForm]) -> Response:
    try:
        token, cookies = await authenticate(data.login, data.password, request)
    except LoginThrottled:
        error, status = _("Too many failed attempts. Please wait a while and try again."), 429
    except NotAuthorizedException:
        error, status = _("The login name or password is wrong."), 401
    else:
        principal = await resolve_login(token)
        assert principal is not None
        response = Redirect(path=safe_next(data.next, home_for(principal.role)))
        for cookie in cookies:
            response.set_cookie(cookie)
        return response
    return Template(
        template_name="login.html",
        context={"next": data.next, "error": error, "login": data.login},
        status_code=status,
    )


@post("/logout", include_in_schema=False)
async def logout_submit(request: Request) -> Redirect:
    principal = request.scope.get("user")
    if isinstance(principal, Principal):
        await end_login(principal.login_id)
    response = Redirect(path="/login")
    response.set_cookie(cleared_session_cookie())
    return response


@dataclass
class LanguageForm:
    language: str = "ja"
    next: str = "/"


@post("/language", include_in_schema=False)
async def choose_language(data: URLEncodedBody[LanguageForm]) -> Redirect:
    language = data.language if data.language in LANGUAGES else "ja"
    response = Redirect(path=safe_next(data.next, "/"))
    response.set_cookie(
        LANGUAGE_COOKIE, language, max_age=400 * 86400, samesite="lax", path="/", secure=get_settings().secure_cookies
    )
    return response


@get("/", include_in_schema=False)
async def root(request: Request) -> Redirect:
    principal = request.scope.get("user")
    if isinstance(principal, Principal):
        return Redirect(path=home_for(principal.role))
    return Redirect(path="/login")


# --- invitations: staff create them (see server/council); anyone with the link accepts --


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_invitation(group_id: UUID, created_by: UUID, note: str = "") -> str:
    """A new single-use invitation to a group; returns the secret token for the link."""
    token = secrets.token_urlsafe(24)
    invitation_id = uuid4()
    await Invitation.insert(
        Invitation(
            id=invitation_id,
            token_hash=invitation_token_hash(token),
            group=group_id,
            created_by=created_by,
            note=note[:200],
            created_at=now(),
            expires_at=now() + timedelta(days=get_settings().invitation_days),
        )
    )
    await audit(created_by, "invitation.create", f"invitation:{invitation_id}", note[:200], group=group_id)
    return token


async def usable_invitation(token: str) -> dict:
    if len(token) > 100:
        raise NotFoundException("no such invitation")
    invitation = (
        await Invitation.select(Invitation.all_columns(), Invitation.group.name.as_alias("group_name"))
        .where(Invitation.token_hash == invitation_token_hash(token))
        .first()
    )
    if invitation is None:
        raise NotFoundException(_("This invitation link is not valid."))
    if invitation["used_at"] is not None:
        raise HTTPException(status_code=410, detail=_("This invitation has already been used."))
    if invitation["expires_at"] <= now():
        raise HTTPException(
            status_code=410, detail=_("This invitation has expired. Ask your council staff for a new one.")
        )
    return invitation


@dataclass
class AcceptForm:
    display_name: str = ""
    login: str = ""
    password: str = ""


@get("/invite/{token:str}", include_in_schema=False)
async def invitation_page(token: FromPath[str]) -> Template:
    invitation = await usable_invitation(token)
    return Template(
        template_name="invite.html",
        context={"invitation": invitation, "errors": [], "form": AcceptForm()},
    )


@post("/invite/{token:str}", include_in_schema=False)
async def invitation_accept(token: FromPath[str], request: Request, data: URLEncodedBody[AcceptForm]) -> Response:
    invitation = await usable_invitation(token)
    errors = []
    login = normalise_login(data.login)
    if not data.display_name.strip():
        errors.append(_("Please enter your name."))
    if not login_fits(login):
        errors.append(_("Please choose a login name (up to 100 characters)."))
    elif await login_taken(login):
        errors.append(_("That login name is taken. Please choose another."))
    if (problem := password_problem(data.password)) is not None:
        errors.append(_("The password must be at least 8 characters.") if "least" in problem else problem)
    if errors:
        return Template(
            template_name="invite.html",
            context={"invitation": invitation, "errors": errors, "form": data},
            status_code=422,
        )
    account_id = uuid4()
    password_hash = await hash_password(data.password)
    async with write_transaction():
        # Claim the invitation first: of two simultaneous accepts, only one updates a row.
        claimed = (
            await Invitation.update({Invitation.used_at: now()})
            .where((Invitation.id == invitation["id"]) & Invitation.used_at.is_null())
            .returning(Invitation.id)
        )
        if not claimed:
            raise HTTPException(status_code=410, detail=_("This invitation has already been used."))
        await Account.insert(
            Account(
                id=account_id,
                login=login,
                login_key=login_key(login),
                display_name=data.display_name.strip()[:100],
                password_hash=password_hash,
                role=Role.organiser.value,
                created_at=now(),
            )
        )
        await Invitation.update({Invitation.used_by: account_id}).where(Invitation.id == invitation["id"])
        membership_id = uuid4()
        await GroupMembership.insert(
            GroupMembership(id=membership_id, account=account_id, group=invitation["group"], joined_at=now())
        )
        await publish_server_change("member", membership_id, invitation["group"])  # commits with it
    session_token = await start_login(account_id, request.headers.get("user-agent", ""))
    response = Redirect(path="/app/")
    response.set_cookie(session_cookie(session_token))
    return response


auth_router = Router(
    path="/",
    route_handlers=[
        api_login,
        api_logout,
        api_me,
        login_page,
        login_submit,
        logout_submit,
        choose_language,
        root,
        invitation_page,
        invitation_accept,
    ],
)
