"""Changing a password: one's own (signed in), or through a one-time link staff hand over.

A lost or stolen phone may keep the password in its browser, so ending its logins is not
enough: staff also void the password (nothing logs in with it) and give the volunteer a
one-time link to choose a new one, from the group page ("new password") or when they
reactivate an account. The link works once and expires after ``invitation_days``; only its
hash is stored. A new password, either way, ends every other login of the account.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID, uuid4

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException
from litestar.params import FromPath, JSONBody, URLEncodedBody
from litestar.response import Redirect, Template

from server.auth import throttle
from server.auth.guards import principal_of, signed_in
from server.auth.logins import end_all_logins, start_login
from server.auth.passwords import (
    MIN_PASSWORD_LENGTH,
    VOIDED,
    hash_password,
    login_key,
    password_problem,
    verify_password,
)
from server.auth.principal import Principal
from server.auth.routes import LoginThrottled, client_address, home_for, session_cookie
from server.config import get_settings
from server.core.audit import audit
from server.core.clock import now
from server.core.i18n import gettext as _
from server.db import write_transaction
from server.tables import Account, LoginSession, PasswordReset, Role
from server.web.openapi import error_responses, text


def reset_token_hash(token: str) -> str:
    return hashlib.sha256(f"password-reset:{token}".encode()).hexdigest()


async def void_password(account_id: UUID, created_by: UUID | None) -> str:
    """Void the account's password and end its logins; returns the token of a new one-time
    link to set another (any older unused link of the account stops working)."""
    token = secrets.token_urlsafe(32)
    async with write_transaction():
        await Account.update({Account.password_hash: VOIDED}).where(Account.id == account_id)
        await PasswordReset.update({PasswordReset.used_at: now()}).where(
            (PasswordReset.account == account_id) & PasswordReset.used_at.is_null()
        )
        await PasswordReset.insert(
            PasswordReset(
                id=uuid4(),
                token_hash=reset_token_hash(token),
                account=account_id,
                created_by=created_by,
                created_at=now(),
                expires_at=now() + timedelta(days=get_settings().invitation_days),
            )
        )
    await end_all_logins(account_id)
    return token


async def _set_password(account_id: UUID, password: str, keep_login: str | None = None) -> None:
    """The new password; every login of the account but ``keep_login`` ends."""
    password_hash = await hash_password(password)
    await Account.update({Account.password_hash: password_hash}).where(Account.id == account_id)
    others = (LoginSession.account == account_id) & LoginSession.revoked_at.is_null()
    if keep_login is not None:
        others &= LoginSession.id != keep_login
    await LoginSession.update({LoginSession.revoked_at: now()}).where(others)


async def set_password_of(login: str, password: str) -> UUID | None:
    """From the command line (an admin locked out): the account's new password; its every
    login ends. None if there is no such account."""
    account = await Account.select(Account.id).where(Account.login_key == login_key(login)).first()
    if account is None:
        return None
    await _set_password(account["id"], password)
    await audit(None, "password.set", f"account:{account['id']}")
    return account["id"]


def _password_error(password: str, confirm: str) -> str | None:
    if password_problem(password) is not None:
        return _("The password must be at least 8 characters.")
    if password != confirm:
        return _("The two passwords differ. Please type the same password twice.")
    return None


# --- the one-time link ------------------------------------------------------------------


async def usable_reset(token: str) -> dict:
    """The link's account, or 404 (unknown) / 410 (used or expired)."""
    reset = (
        await PasswordReset.select(
            PasswordReset.id,
            PasswordReset.used_at,
            PasswordReset.expires_at,
            PasswordReset.account.as_alias("account_id"),
            PasswordReset.account.login.as_alias("login"),
            PasswordReset.account.display_name.as_alias("display_name"),
            PasswordReset.account.role.as_alias("role"),
            PasswordReset.account.active.as_alias("active"),
        )
        .where(PasswordReset.token_hash == reset_token_hash(token))
        .first()
        if len(token) <= 200
        else None
    )
    if reset is None or not reset["active"]:
        raise NotFoundException(_("This link is not valid."))
    if reset["used_at"] is not None or reset["expires_at"] <= now():
        raise HTTPException(
            status_code=410, detail=_("This link has been used or has expired. Ask your council staff for a new one.")
        )
    return reset


def _used_or_expired() -> HTTPException:
    return HTTPException(
        status_code=410, detail=_("This link has been used or has expired. Ask your council staff for a new one.")
    )


@dataclass
class NewPasswordForm:
    password: str = ""
    confirm: str = ""


@get("/reset/{token:str}", include_in_schema=False)
async def reset_page(token: FromPath[str]) -> Template:
    reset = await usable_reset(token)
    return Template(template_name="reset_password.html", context={"reset": reset, "error": None})


@post("/reset/{token:str}", include_in_schema=False)
async def reset_submit(token: FromPath[str], request: Request, data: URLEncodedBody[NewPasswordForm]) -> Response:
    reset = await usable_reset(token)
    if (error := _password_error(data.password, data.confirm)) is not None:
        return Template(template_name="reset_password.html", context={"reset": reset, "error": error}, status_code=422)
    # Claim the link first: of two simultaneous submissions, only one updates the row.
    claimed = (
        await PasswordReset.update({PasswordReset.used_at: now()})
        .where((PasswordReset.id == reset["id"]) & PasswordReset.used_at.is_null())
        .returning(PasswordReset.id)
    )
    if not claimed:
        raise HTTPException(
            status_code=410, detail=_("This link has been used or has expired. Ask your council staff for a new one.")
        )
    await _set_password(reset["account_id"], data.password)
    await audit(reset["account_id"], "password.reset", f"account:{reset['account_id']}")
    login = await start_login(reset["account_id"], request.headers.get("user-agent", ""))
    response = Redirect(path=home_for(Role(reset["role"])), status_code=303)
    response.set_cookie(session_cookie(login))
    return response


# --- one's own password -------------------------------------------------------------------


async def change_own_password(principal: Principal, current: str, new: str, request: Request) -> None:
    """Check the current password (throttled like a login, so a phone left logged in cannot
    be used to guess it), then set the new one; the caller's other logins end."""
    account = await Account.select(Account.password_hash).where(Account.id == principal.account_id).first()
    device = throttle.trusted_device(request.cookies.get(throttle.DEVICE_COOKIE), principal.account_id)
    attempt = await throttle.attempt(login_key(principal.login), client_address(request), device)
    if not attempt.allowed:
        raise LoginThrottled(detail="too many wrong passwords; try again later")
    if not await verify_password(account["password_hash"], current):
        raise NotAuthorizedException("the current password is wrong")
    await throttle.succeeded(attempt)
    await _set_password(principal.account_id, new, keep_login=principal.login_id)
    await audit(principal.account_id, "password.change", f"account:{principal.account_id}", "")


@dataclass
class ChangePasswordForm:
    current: str = ""
    password: str = ""
    confirm: str = ""


@get("/account/password", guards=[signed_in], include_in_schema=False)
async def password_page(request: Request, changed: bool = False) -> Template:
    return Template(
        template_name="password.html",
        context={"error": None, "changed": changed, "home": home_for(principal_of(request).role)},
    )


@post("/account/password", guards=[signed_in], include_in_schema=False)
async def password_submit(request: Request, data: URLEncodedBody[ChangePasswordForm]) -> Response:
    principal = principal_of(request)
    error, status = _password_error(data.password, data.confirm), 422
    if error is None:
        try:
            await change_own_password(principal, data.current, data.password, request)
        except LoginThrottled:
            error, status = _("Too many failed attempts. Please wait a while and try again."), 429
        except NotAuthorizedException:
            error, status = _("The current password is wrong."), 401
        else:
            return Redirect(path="/account/password?changed=true", status_code=303)
    return Template(
        template_name="password.html",
        context={"error": error, "changed": False, "home": home_for(principal.role)},
        status_code=status,
    )


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    current_password: text(512, least=1)
    new_password: text(512, least=MIN_PASSWORD_LENGTH)  # the document states the rule: a short one is a 400


@post(
    "/api/auth/password",
    tags=["auth"],
    guards=[signed_in],
    summary="Change one's own password; every other login of the account ends",
    status_code=200,
    responses=error_responses(
        400,
        401,
        403,
        413,
        429,
        why={
            400: "Malformed, or the new password is under 8 characters (`extra` names the field)",
            401: "Not logged in, or the current password is wrong",
            429: "Too many wrong passwords; try again later",
        },
    ),
)
async def api_change_password(data: JSONBody[PasswordChange], request: Request) -> Response[dict]:
    await change_own_password(principal_of(request), data.current_password, data.new_password, request)
    return Response({"status": "changed"}, status_code=200)


credentials_router = Router(
    path="/", route_handlers=[reset_page, reset_submit, password_page, password_submit, api_change_password]
)
