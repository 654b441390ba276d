"""Login names and passwords: one normal form for names, Argon2id for passwords
(argon2-cffi's current recommended parameters), hashed off the event loop."""

import asyncio
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 8

# Verified when a login name is unknown, so a miss costs as much time as a hit.
_DUMMY_HASH = _hasher.hash("ibasho-timing-equaliser")


def normalise_login(login: str) -> str:
    """The one form of a login name, for storing, looking up and throttling alike: a
    full-width "ｔａｎａｋａ" from a Japanese keyboard and stray spaces are the same name."""
    return unicodedata.normalize("NFKC", login).strip()


def login_key(login: str) -> str:
    """What throttling counts by: the normal form, regardless of case."""
    return normalise_login(login).casefold()


def _hash(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


# Argon2 takes tens of milliseconds of CPU on purpose; in a worker thread (it releases the
# GIL) so a burst of logins never stalls the event loop, its pages and its health check.
async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    return await asyncio.to_thread(_verify, password_hash, password)


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > 512:
        return "password must be at most 512 characters"
    return None
