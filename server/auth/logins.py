"""Logins: long-lived (phones work offline for weeks), revocable. The web calls them
sessions; here a session is a gathering, so a login is a login (table ``LoginSession``).

The cookie holds a random token; the database holds only its SHA-256, so a leaked
database copy cannot be replayed as a login.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from uuid import UUID

from server.auth.principal import ACCOUNT_COLUMNS, Principal, load_principal
from server.config import get_settings
from server.core.clock import now
from server.tables import LoginSession

LOGIN_COOKIE = "ibasho_session"
# Refresh last_seen_at (and slide the expiry) at most this often, to keep reads cheap.
_TOUCH_INTERVAL = timedelta(hours=1)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def start_login(account_id: UUID, user_agent: str = "") -> str:
    """Start a fresh login (never reuse one: no session fixation) and return its cookie token."""
    token = secrets.token_urlsafe(32)
    settings = get_settings()
    await LoginSession.insert(
        LoginSession(
            id=token_hash(token),
            account=account_id,
            created_at=now(),
            last_seen_at=now(),
            expires_at=now() + timedelta(days=settings.login_days),
            user_agent=user_agent[:300],
        )
    )
    return token


# Why a cookie's login no longer works, when it did once: staff ended it (removed the
# organiser, deactivated the account, logged it out everywhere). A phone told this wipes
# the data it holds; a phone whose login merely lapsed keeps its unsent changes.
ENDED = "session_ended"


async def resolve_login(token: str | None) -> Principal | None:
    principal, _ = await lookup_login(token)
    return principal


async def lookup_login(token: str | None) -> tuple[Principal | None, str | None]:
    """The principal of a login cookie, or None with ``ENDED`` if staff ended it."""
    if not token or len(token) > 200:
        return None, None
    login_id = token_hash(token)
    row = (
        await LoginSession.select(
            LoginSession.id,
            LoginSession.expires_at,
            LoginSession.revoked_at,
            LoginSession.last_seen_at,
            *(getattr(LoginSession.account._, column._meta.name) for column in ACCOUNT_COLUMNS),
        )
        .where(LoginSession.id == login_id)
        .first()
    )
    if row is None or row["expires_at"] <= now():
        return None, None
    if row["revoked_at"] is not None or not row["account.active"]:
        return None, ENDED
    if now() - row["last_seen_at"] > _TOUCH_INTERVAL:
        settings = get_settings()
        await LoginSession.update(
            {LoginSession.last_seen_at: now(), LoginSession.expires_at: now() + timedelta(days=settings.login_days)}
        ).where(LoginSession.id == login_id)
    account = {column._meta.name: row[f"account.{column._meta.name}"] for column in ACCOUNT_COLUMNS}
    return await load_principal(account, login_id), None


async def end_login(login_id: str) -> None:
    await LoginSession.update({LoginSession.revoked_at: now()}).where(
        (LoginSession.id == login_id) & LoginSession.revoked_at.is_null()
    )


async def end_all_logins(account_id: UUID) -> None:
    await LoginSession.update({LoginSession.revoked_at: now()}).where(
        (LoginSession.account == account_id) & LoginSession.revoked_at.is_null()
    )
