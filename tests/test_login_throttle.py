"""Login throttling as an attacker would try it (server/auth/throttle.py): spellings of one
name share a count, concurrent guesses are counted one by one, Argon2 runs off the event
loop, and an office behind one address is not locked out by a stranger's guesses."""

from __future__ import annotations

import asyncio
import secrets
import threading
from contextlib import asynccontextmanager

import httpx
import pytest

from server.auth import passwords
from server.auth.throttle import DEVICE_COOKIE
from server.config import get_settings
from tests.factories import PASSWORD, make_account, unique

LIMIT = get_settings().login_max_failures


@asynccontextmanager
async def browser(app, address: str):
    """One browser behind ``address``: keeps its cookies, sends the CSRF token."""
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        await http.get("/healthz")
        http.headers["x-csrftoken"] = http.cookies["csrftoken"]
        yield http


async def log_in(http: httpx.AsyncClient, login: str, password: str) -> int:
    return (await http.post("/api/auth/login", json={"login": login, "password": password})).status_code


@pytest.fixture
def address() -> str:
    """An address of its own per test (198.18.0.0/15 is for benchmarks: never a real client)."""
    return f"198.18.{secrets.randbelow(256)}.{secrets.randbelow(256)}"


async def test_spellings_of_one_name_share_one_count(app, address):
    def full_width(login: str) -> str:  # as a Japanese keyboard may type it
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in login)

    person, other = await make_account("organiser"), await make_account("organiser")
    spellings = [
        f" {person.login}",
        f"{person.login} ",
        person.login.upper(),
        full_width(person.login),
        f"\t{person.login}\u3000",
    ]
    async with browser(app, address) as http:
        assert await log_in(http, full_width(other.login), PASSWORD) == 200  # the same name
        for spelling in spellings[:LIMIT]:
            assert await log_in(http, spelling, "wrong password") == 401
        assert await log_in(http, person.login, PASSWORD) == 429


@pytest.mark.parametrize("burst", [20])
async def test_concurrent_guesses_over_the_limit_are_each_refused(app, address, burst):
    person = await make_account("organiser")
    async with browser(app, address) as http:
        statuses = await asyncio.gather(*(log_in(http, person.login, f"guess {i}") for i in range(burst)))
    assert sorted(statuses).count(429) == burst - LIMIT
    assert statuses.count(401) == LIMIT


async def test_password_hashing_never_runs_on_the_event_loop(app, address, monkeypatch):
    loop_thread = threading.get_ident()
    threads: list[int] = []
    verify = passwords._verify

    def recording(*args):
        threads.append(threading.get_ident())
        return verify(*args)

    monkeypatch.setattr(passwords, "_verify", recording)
    person = await make_account("organiser")
    async with browser(app, address) as http:
        assert await log_in(http, person.login, PASSWORD) == 200
        assert await log_in(http, unique("nobody"), "whatever1") == 401
    assert len(threads) == 2 and loop_thread not in threads


async def test_a_stranger_behind_the_office_address_cannot_lock_colleagues_out(app, address):
    """A browser that logged in to a name before is counted on its own for that name."""
    colleague, newcomer = await make_account("staff"), await make_account("staff")
    async with browser(app, address) as laptop:
        assert await log_in(laptop, colleague.login, PASSWORD) == 200
        assert DEVICE_COOKIE in laptop.cookies
        async with browser(app, address) as stranger:
            for _ in range(get_settings().login_max_failures_per_address):
                assert await log_in(stranger, unique("guess"), "wrong password") == 401
            for _ in range(LIMIT):  # and the colleague's own name too
                assert await log_in(stranger, colleague.login, "wrong password") in (401, 429)
            assert await log_in(stranger, newcomer.login, PASSWORD) == 429  # spraying stopped
        assert await log_in(laptop, colleague.login, PASSWORD) == 200  # the colleague still gets in
    # a device cookie is good only for the name it was given for, and cannot be forged
    async with browser(app, address) as other:
        other.cookies.set(DEVICE_COOKIE, laptop.cookies[DEVICE_COOKIE], domain="testserver.local")
        assert await log_in(other, newcomer.login, PASSWORD) == 429
        other.cookies.set(DEVICE_COOKIE, "forged.0123456789abcdef0123456789abcdef", domain="testserver.local")
        assert await log_in(other, colleague.login, PASSWORD) == 429


@pytest.mark.slow
async def test_good_logins_from_one_address_never_add_up(app, address):
    """A council office where 40 people log in each morning is not held back."""
    people = [await make_account("staff") for _ in range(get_settings().login_max_failures_per_address + 5)]
    async with browser(app, address) as http:
        for person in people:
            assert await log_in(http, person.login, PASSWORD) == 200


async def test_names_that_log_in_as_one_are_one_account(app, address):
    """Two accounts "Tanaka" and "tanaka" would share one throttle and one device key: the
    second is refused wherever accounts are made."""
    from server.auth.accounts import CreateUserError, create_user

    person = await make_account("organiser")
    for spelling in (person.login.upper(), f" {person.login}", person.login.capitalize()):
        with pytest.raises(CreateUserError):
            await create_user(spelling, PASSWORD, "organiser", "x")


async def test_a_device_cookie_of_one_account_buys_no_guesses_at_another(app, address):
    """Neither a cookie of another account nor one re-cut at the separator exempts a browser."""
    attacker, victim = await make_account("organiser", login=f"a:{unique('v')}"), await make_account("staff")
    async with browser(app, address) as own:
        assert await log_in(own, attacker.login, PASSWORD) == 200
        device, _, signature = own.cookies[DEVICE_COOKIE].partition(".")
    forged = [
        own.cookies[DEVICE_COOKIE],
        f"{device}:a.{signature}",
        f"{device}.{signature}x",
        f"{device[:-1]}.{signature}",
    ]
    async with browser(app, address) as http:
        for attempt in range(LIMIT + len(forged)):
            http.cookies.set(DEVICE_COOKIE, forged[attempt % len(forged)], domain="testserver.local")
            status = await log_in(http, victim.login, "wrong password")
            assert status == (401 if attempt < LIMIT else 429), attempt


async def test_an_ipv6_client_cannot_rotate_addresses_within_its_64(app):
    prefix = f"2001:db8:{secrets.randbelow(65536):x}:{secrets.randbelow(65536):x}"
    victim = await make_account("organiser")
    for number in range(get_settings().login_max_failures_per_address):
        async with browser(app, f"{prefix}::{number + 1:x}") as http:
            assert await log_in(http, unique("guess"), "wrong password") == 401
    async with browser(app, f"{prefix}::beef") as http:
        assert await log_in(http, victim.login, PASSWORD) == 429
