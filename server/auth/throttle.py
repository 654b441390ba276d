"""Login throttling: how many attempts a login name and a client address get per window.

Every attempt is counted before its password is checked (``server/core/ratelimit.py``: one
atomic upsert), so a burst of concurrent guesses cannot all slip past the count, and the
ones over the limit are refused before any Argon2 work. A good password takes its
attempt back.

The trade-off for offices behind one address (a council's NAT): an address may fail
``login_max_failures_per_address`` times per window across all names, which stops one
machine spraying many names, but would let one mistyping colleague (or an attacker in
the same building) lock out everyone there. So a browser that has logged in to an account
before carries a device cookie signed for that account, and its attempts at that account's
name are counted for that browser alone: neither the address's count nor a stranger's failures
against the name can lock it out. docs/operations.md says the same for operators.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from uuid import UUID

from server.config import get_settings
from server.core import ratelimit

DEVICE_COOKIE = "ibasho_device"


_DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{16}")  # what token_urlsafe(12) makes


def _sign(device_id: str, account_id: UUID) -> str:
    # fields of fixed shape, with a separator neither can hold: no two pairs sign alike
    message = f"ibasho-device\0{account_id}\0{device_id}".encode()
    return hmac.new(get_settings().secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def device_cookie_value(account_id: UUID, device_id: str | None = None) -> str:
    """A device cookie for the account: "<device id>.<signature>"."""
    device_id = device_id or secrets.token_urlsafe(12)
    return f"{device_id}.{_sign(device_id, account_id)}"


def trusted_device(cookie: str | None, account_id: UUID) -> str | None:
    """The device id, if the cookie was issued to this browser for this account."""
    device_id, _, signature = (cookie or "").partition(".")
    if not _DEVICE_ID.fullmatch(device_id):
        return None
    return device_id if hmac.compare_digest(signature, _sign(device_id, account_id)) else None


@dataclass(frozen=True)
class Attempt:
    """The counters one login attempt was charged to."""

    name_key: str
    address_key: str | None  # None for a trusted device
    allowed: bool


async def attempt(login_key: str, client: str, device_id: str | None) -> Attempt:
    """Count an attempt; ``allowed`` is False when it is over a limit (answer 429)."""
    settings = get_settings()
    window = settings.login_window_seconds
    if device_id is not None:
        name_key = f"login:{login_key}:device:{device_id}"
        return Attempt(name_key, None, await ratelimit.hit(name_key, window) <= settings.login_max_failures)
    name_key, address_key = f"login:{login_key}", f"login-address:{client}"
    by_name = await ratelimit.hit(name_key, window)
    by_address = await ratelimit.hit(address_key, window)
    allowed = by_name <= settings.login_max_failures and by_address <= settings.login_max_failures_per_address
    return Attempt(name_key, address_key, allowed)


async def succeeded(attempt: Attempt) -> None:
    """A good password: the name starts afresh, and the address gets its attempt back."""
    await ratelimit.forget(attempt.name_key)
    if attempt.address_key:
        await ratelimit.take_back(attempt.address_key, get_settings().login_window_seconds)
