"""Login names and passwords: one normal form for names, Argon2id for passwords
(argon2-cffi's current recommended parameters), hashed off the event loop."""

import asyncio
import os
import unicodedata
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.tables import Account

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 8

# Verified when a login name is unknown, so a miss costs as much time as a hit.
_DUMMY_HASH = _hasher.hash("ibasho-timing-equaliser")
# What a voided password is stored as (server/auth/credentials.py): no Argon2 hash, so no
# password matches it, and it is checked against the dummy so it takes as long as a real one.
VOIDED = "!voided"


def normalise_login(login: str) -> str:
    """The one form of a login name, for storing, looking up and throttling alike: a
    full-width "ｔａｎａｋａ" from a Japanese keyboard and stray spaces are the same name."""
    return unicodedata.normalize("NFKC", login).strip()


def login_key(login: str) -> str:
    """What throttling counts by: the normal form, regardless of case."""
    return normalise_login(login).casefold()


def login_fits(login: str) -> bool:
    """Whether a login name can be taken: not empty, and it and its key fit their columns.
    Checked on both, since case folding can lengthen a name (ß becomes ss)."""
    login = normalise_login(login)
    return bool(login) and max(len(login), len(login_key(login))) <= min(Account.login.length, Account.login_key.length)


def _hash(password: str) -> str:
    return _hasher.hash(password)


def _verify(password_hash: str | None, password: str) -> bool:
    usable = password_hash if password_hash and password_hash != VOIDED else None
    try:
        return _hasher.verify(usable or _DUMMY_HASH, password) and usable is not None
    except (VerificationError, InvalidHashError):
        return False


# Argon2 costs a third of a second of CPU here, on purpose. It runs in its own threads (it
# releases the GIL), one fewer than the cores, so a burst of logins queues there while the
# event loop keeps a core for every other request, the health check included
# (tests/bench/bench_login.py measures it).
_HASHING = ThreadPoolExecutor(max_workers=max(1, (os.cpu_count() or 2) - 1), thread_name_prefix="argon2")


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_HASHING, _hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(_HASHING, _verify, password_hash, password)


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > 512:
        return "password must be at most 512 characters"
    return None
