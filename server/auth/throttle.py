"""Login throttling, kept in the database so every server process counts the same failures."""

from __future__ import annotations

from datetime import timedelta

from server.auth.sessions import now
from server.config import get_settings
from server.tables import LoginFailure

# A client address may fail this many times more than one login name before it is held back.
_PER_CLIENT_FACTOR = 4


async def seconds_until_allowed(login: str, client: str) -> int:
    """0 if a login attempt may proceed; otherwise how long to wait."""
    settings = get_settings()
    since = now() - timedelta(seconds=settings.login_window_seconds)
    by_login = await LoginFailure.count().where((LoginFailure.login == login.lower()) & (LoginFailure.at > since))
    by_client = await LoginFailure.count().where((LoginFailure.client == client) & (LoginFailure.at > since))
    if by_login < settings.login_max_failures and by_client < settings.login_max_failures * _PER_CLIENT_FACTOR:
        return 0
    return settings.login_window_seconds


async def record_failure(login: str, client: str) -> None:
    await LoginFailure.insert(LoginFailure(login=login.lower()[:100], client=client[:64], at=now()))


async def clear_failures(login: str) -> None:
    await LoginFailure.delete().where(LoginFailure.login == login.lower())


async def forget_old_failures() -> None:
    settings = get_settings()
    await LoginFailure.delete().where(LoginFailure.at < now() - timedelta(seconds=settings.login_window_seconds))
