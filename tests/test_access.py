"""Access: every route × every kind of caller, CSRF on every mutating route, session
fixation and logout, login throttling, and cookie flags behind HTTPS.

tests/test_auth.py covers the basics (API login issues a fresh session, API logout
revokes it, 5 failures per login name → 429, CSRF on the login and logout routes);
this file covers every route and the paths around those basics.
"""

from __future__ import annotations

import dataclasses

import pytest

from server.auth.logins import LOGIN_COOKIE, start_login
from server.config import get_settings
from server.core import ratelimit
from server.core.i18n import LANGUAGE_COOKIE
from server.tables import LoginSession
from tests.access_table import (
    IDENTITIES,
    MUTATING,
    ROWS,
    app_routes,
    client_for,
    fingerprint,
    make_target,
    session_for,
)
from tests.factories import PASSWORD, Client, asgi_client, make_account, unique


@pytest.fixture
async def target(world, app_client):
    target = await make_target(world)
    target.csrf = (await app_client.csrf())["x-csrftoken"]
    return target


def test_every_route_has_a_row(app):
    """A new route fails here until someone decides who may call it."""
    table = {(row.method, row.route) for row in ROWS}
    assert len(table) == len(ROWS), "a route has two rows"
    served = app_routes(app)
    assert served - table == set(), "routes without a row in tests/access_table.py"
    assert table - served == set(), "rows for routes the app no longer serves"


@pytest.mark.slow
async def test_every_route_answers_each_caller_as_expected(app, target):
    got: dict[tuple[str, str], dict[str, int]] = {}
    for row in ROWS:
        for who in IDENTITIES:
            call = await row.build(target, who)
            headers = {"x-csrftoken": target.csrf} if row.method in MUTATING else {}
            async with client_for(app, target, await session_for(target, who)) as http:
                response = await http.request(row.method, call.url, headers=headers, **call.kwargs)
            assert response.status_code != 500, (row.method, call.url, who, response.text)
            got.setdefault((row.method, row.route), {})[who] = response.status_code
    wrong = [
        f"{row.method} {row.route} as {who}: expected {row.expected[who]}, got {got[(row.method, row.route)][who]}"
        for row in ROWS
        for who in IDENTITIES
        if got[(row.method, row.route)][who] != row.expected[who]
    ]
    assert not wrong, "\n".join(wrong)
    print(f"access table: {len(ROWS)} routes × {len(IDENTITIES)} callers")


async def test_anonymous_pages_redirect_to_login_and_api_answers_401(app, target):
    """The 302s in the table are the login redirect, not some other page."""
    async with client_for(app, target, None) as http:
        page = await http.get(target.fill("/review/groups/{group}"))
        assert page.headers["location"] == target.fill("/login?next=/review/groups/{group}")
        api = await http.get(target.fill("/api/groups/{group}"))
        assert api.status_code == 401 and api.json()["status_code"] == 401


# --- CSRF ------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "forged-token"], ids=["missing", "forged"])
async def test_every_mutating_route_refuses_a_request_without_the_csrf_token(app, target, token):
    """As the caller most likely to be allowed: 403 and nothing changed, on every route."""
    checked = 0
    for row in ROWS:
        if row.method not in MUTATING or row.route in TOKEN_IS_THE_AUTHORITY:
            continue
        allowed = [who for who in reversed(IDENTITIES) if row.expected[who] < 400]
        who = allowed[0] if allowed else "admin"
        call = await row.build(target, who)
        headers = {"x-csrftoken": token} if token else {}
        session = await session_for(target, who)
        before = await fingerprint()
        async with client_for(app, target, session) as http:
            response = await http.request(row.method, call.url, headers=headers, **call.kwargs)
        assert response.status_code == 403, (row.route, who, response.status_code)
        assert await fingerprint() == before, f"{row.method} {row.route} changed data without a CSRF token"
        checked += 1
    assert checked == sum(row.method in MUTATING and row.route not in TOKEN_IS_THE_AUTHORITY for row in ROWS) > 20


# Routes whose secret URL (or signed body) is the whole authority (no cookie is read), so a
# cross-site request cannot forge anything: the service worker answers 「欠席します」 without a
# CSRF cookie, a mail client's one-click unsubscribe (RFC 8058) posts to the stop link, and
# LINE signs its webhook (X-Line-Signature).
TOKEN_IS_THE_AUTHORITY = {
    "/api/push/absences/{token:str}",
    "/push/stop/{token:str}",
    "/line/webhook/{channel_id:uuid}",
}


async def test_html_form_token_field_counts_as_the_csrf_token(app, target, world):
    """Forms post the token as ``_csrf_token``; a token from another browser is refused."""
    async with client_for(app, target, await start_login(world.admin.account_id)) as http:
        other_browser = "x" * len(target.csrf)
        refused = await http.post("/admin/areas", data={"_csrf_token": other_browser, "name": unique("area")})
        assert refused.status_code == 403
        accepted = await http.post("/admin/areas", data={"_csrf_token": target.csrf, "name": unique("area")})
        assert accepted.status_code == 303


# --- sessions --------------------------------------------------------------------------


async def test_form_login_never_adopts_a_planted_session(app_client, world):
    app_client.http.cookies.set(LOGIN_COOKIE, "planted-by-attacker", domain="testserver.local")
    response = await app_client.form("/login", {"login": world.staff_b.login, "password": PASSWORD})
    assert response.status_code == 302
    assert app_client.http.cookies[LOGIN_COOKIE] != "planted-by-attacker"


async def test_login_over_a_live_session_issues_a_new_one(app_client, world):
    """Someone who learnt the session id before the victim logs in gets nothing new."""
    await app_client.login(world.organiser_a)
    before = app_client.http.cookies[LOGIN_COOKIE]
    await app_client.login(world.organiser_a)
    assert app_client.http.cookies[LOGIN_COOKIE] != before


async def test_accepting_an_invitation_starts_a_fresh_session(app_client, world):
    from server.auth.routes import create_invitation

    token = await create_invitation(world.group_a, world.staff_a.account_id)
    app_client.http.cookies.set(LOGIN_COOKIE, "planted-by-attacker", domain="testserver.local")
    joined = await app_client.form(
        f"/invite/{token}", {"display_name": "x", "login": unique("j"), "password": "pass-word-1"}
    )
    assert joined.status_code == 302
    assert app_client.http.cookies[LOGIN_COOKIE] != "planted-by-attacker"
    assert (await app_client.get("/api/me")).status_code == 200


async def test_form_logout_revokes_the_session_on_the_server(app_client, new_client, world):
    await app_client.login(world.staff_a)
    stolen = app_client.http.cookies[LOGIN_COOKIE]
    response = await app_client.form("/logout", {})
    assert response.status_code == 302
    thief = await new_client()
    thief.http.cookies.set(LOGIN_COOKIE, stolen, domain="testserver.local")
    assert (await thief.get("/api/me")).status_code == 401
    assert (await thief.get("/staff")).status_code == 302


async def test_logout_ends_only_that_session_and_admin_can_end_all(app, target, world):
    person = await make_account("staff", areas=[world.area_a])
    laptop, phone = await start_login(person.account_id), await start_login(person.account_id)
    async with client_for(app, target, laptop) as http:
        assert (await http.post("/api/auth/logout", headers={"x-csrftoken": target.csrf})).status_code == 200
    async with client_for(app, target, phone) as http:
        assert (await http.get("/api/me")).status_code == 200
    async with client_for(app, target, await start_login(world.admin.account_id)) as admin:
        action = f"/admin/accounts/{person.account_id}/revoke-sessions"
        assert (await admin.post(action, headers={"x-csrftoken": target.csrf})).status_code == 303
    async with client_for(app, target, phone) as http:
        assert (await http.get("/api/me")).status_code == 401
    live = LoginSession.revoked_at.is_null() & (LoginSession.account == person.account_id)
    assert await LoginSession.count().where(live) == 0


# --- login throttling ------------------------------------------------------------------


async def test_one_address_trying_many_login_names_is_throttled(app, target):
    """Password spraying: 20 failures from one address hold back every login name from it."""
    address = "192.0.2.77"  # its own address, so no other test is held back
    victim = await make_account("organiser")
    async with client_for(app, target, None, address=address) as http:
        headers = {"x-csrftoken": target.csrf}
        for _ in range(get_settings().login_max_failures * 4):
            wrong = await http.post(
                "/api/auth/login", headers=headers, json={"login": unique("guess"), "password": "wrong password"}
            )
            assert wrong.status_code == 401
        right = await http.post("/api/auth/login", headers=headers, json={"login": victim.login, "password": PASSWORD})
        assert right.status_code == 429 and int(right.headers["retry-after"]) > 0
    async with client_for(app, target, None, address="192.0.2.78") as http:
        elsewhere = await http.post(
            "/api/auth/login", headers={"x-csrftoken": target.csrf}, json={"login": victim.login, "password": PASSWORD}
        )
        assert elsewhere.status_code == 200  # the victim's own login is not locked by someone else's spraying
    await ratelimit.forget(f"login-address:{address}")


async def test_login_form_is_throttled_too_and_counts_names_case_insensitively(app, target):
    person = await make_account("staff")
    async with client_for(app, target, None, address="192.0.2.79") as http:
        for attempt in range(get_settings().login_max_failures):
            login = person.login.upper() if attempt % 2 else person.login
            wrong = await http.post(
                "/login", data={"_csrf_token": target.csrf, "login": login, "password": "nope-nope"}
            )
            assert wrong.status_code == 401
        held = await http.post("/login", data={"_csrf_token": target.csrf, "login": person.login, "password": PASSWORD})
        assert held.status_code == 429
        assert LOGIN_COOKIE not in held.cookies


# --- cookies behind HTTPS --------------------------------------------------------------


@pytest.fixture
def secure_app(monkeypatch):
    """The app as configured behind HTTPS (IBASHO_SECURE_COOKIES=true)."""
    import server.config as config
    from server.app import create_app

    monkeypatch.setattr(config, "_settings", dataclasses.replace(get_settings(), secure_cookies=True))
    return create_app()


async def test_every_cookie_is_secure_behind_https(secure_app, world):
    async with asgi_client(secure_app) as http:
        http.base_url = "https://testserver.local"
        client = Client(http)
        cookies = [(await client.get("/login")).headers.get_list("set-cookie")]
        cookies.append((await client.login(world.staff_a)).headers.get_list("set-cookie"))
        cookies.append((await client.form("/language", {"language": "en", "next": "/"})).headers.get_list("set-cookie"))
        cookies.append((await client.post("/api/auth/logout")).headers.get_list("set-cookie"))
    set_cookies = [cookie for batch in cookies for cookie in batch]
    names = {cookie.split("=", 1)[0] for cookie in set_cookies}
    assert {"csrftoken", LOGIN_COOKIE, LANGUAGE_COOKIE} <= names, names
    for cookie in set_cookies:
        attributes = cookie.lower()
        assert "; secure" in attributes, cookie
        assert "samesite=" in attributes, cookie
        if cookie.startswith(LOGIN_COOKIE):
            assert "httponly" in attributes, cookie
