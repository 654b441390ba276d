"""Accounts and access: login, throttling, sessions, CSRF, invitations, scope, headers, errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from server.auth.logins import LOGIN_COOKIE
from server.auth.routes import create_invitation
from server.core.clock import now
from server.tables import Account, GroupMembership, Invitation, LoginSession
from tests.factories import PASSWORD, make_account, unique


async def test_login_me_logout(app_client, world):
    response = await app_client.login(world.staff_a)
    cookie = response.headers["set-cookie"]
    assert f"{LOGIN_COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    me = (await app_client.get("/api/me")).json()
    assert me["login"] == world.staff_a.login
    assert me["role"] == "staff"
    assert [area["id"] for area in me["areas"]] == [str(world.area_a)]

    assert (await app_client.post("/api/auth/logout")).status_code == 200
    assert (await app_client.get("/api/me")).status_code == 401


async def test_logout_revokes_the_session_on_the_server(app_client, new_client, world):
    await app_client.login(world.organiser_a)
    token = app_client.http.cookies[LOGIN_COOKIE]
    await app_client.post("/api/auth/logout")
    # Someone who copied the cookie before logout cannot use it afterwards.
    thief = await new_client()
    thief.http.cookies.set(LOGIN_COOKIE, token, domain="testserver.local")
    assert (await thief.get("/api/me")).status_code == 401


async def test_login_issues_a_fresh_session_id(app_client, world):
    """No session fixation: a cookie planted before login is never adopted."""
    app_client.http.cookies.set(LOGIN_COOKIE, "planted-by-attacker", domain="testserver.local")
    await app_client.login(world.organiser_a)
    assert app_client.http.cookies[LOGIN_COOKIE] != "planted-by-attacker"
    assert await LoginSession.count().where(LoginSession.account == world.organiser_a.account_id) == 1


async def test_sessions_last_for_weeks(app_client, world):
    await app_client.login(world.organiser_a)
    session = await LoginSession.select().where(LoginSession.account == world.organiser_a.account_id).first()
    assert session["expires_at"] - now() > timedelta(days=90)


async def test_wrong_password_is_401_and_the_sixth_rapid_attempt_is_throttled(app_client):
    person = await make_account("organiser")
    for _ in range(5):
        response = await app_client.post("/api/auth/login", json={"login": person.login, "password": "wrong password"})
        assert response.status_code == 401
        assert response.json()["detail"] == "wrong login or password"
    sixth = await app_client.post("/api/auth/login", json={"login": person.login, "password": PASSWORD})
    assert sixth.status_code == 429
    assert int(sixth.headers["retry-after"]) > 0


async def test_unknown_login_is_401_like_a_wrong_password(app_client):
    response = await app_client.post("/api/auth/login", json={"login": unique("nobody"), "password": "whatever1"})
    assert response.status_code == 401


async def test_deactivated_account_loses_its_sessions(app_client, world):
    person = await make_account("organiser", groups=[world.group_a])
    await app_client.login(person)
    await Account.update({Account.active: False}).where(Account.id == person.account_id)
    assert (await app_client.get("/api/me")).status_code == 401


# --- CSRF ----------------------------------------------------------------------------


async def test_mutating_requests_without_the_csrf_token_are_refused(app_client, world):
    login = {"login": world.staff_a.login, "password": PASSWORD}
    refused = await app_client.http.post("/api/auth/login", json=login)
    assert refused.status_code == 403
    await app_client.login(world.staff_a)
    assert (await app_client.http.post("/api/auth/logout")).status_code == 403
    assert (await app_client.get("/api/me")).status_code == 200  # still logged in: nothing changed
    form_without_token = await app_client.http.post("/login", data=login)
    assert form_without_token.status_code == 403


async def test_html_login_form_with_token_logs_in(app_client, world):
    response = await app_client.form("/login", {"login": world.staff_a.login, "password": PASSWORD, "next": "/staff"})
    assert response.status_code in (302, 303)
    assert response.headers["location"] == "/staff"


async def test_login_form_refuses_open_redirects(app_client, world):
    response = await app_client.form(
        "/login", {"login": world.staff_a.login, "password": PASSWORD, "next": "//evil.example/steal"}
    )
    assert response.headers["location"] == "/staff"


# --- errors and headers -----------------------------------------------------------------


async def test_malformed_json_is_400_with_a_message(app_client):
    response = await app_client.post(
        "/api/auth/login", content=b'{"login": "x", ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("request body is not valid JSON")
    assert "Traceback" not in response.text


async def test_missing_field_is_400_naming_the_field(app_client):
    response = await app_client.post("/api/auth/login", json={"login": "someone"})
    assert response.status_code == 400
    assert "password" in response.text


@pytest.mark.parametrize("path", ["/healthz", "/login", "/api/me"])
async def test_security_headers(app_client, path):
    response = await app_client.get(path)
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_api_responses_are_never_cached(app_client, world):
    await app_client.login(world.organiser_a)
    for path in ("/api/me", f"/api/groups/{world.group_a}/people"):
        assert (await app_client.get(path)).headers["cache-control"] == "no-store"


async def test_openapi_schema_is_served(app_client):
    schema = (await app_client.get("/schema/openapi.json")).json()
    assert "/api/auth/login" in schema["paths"]


async def test_pages_ask_anonymous_visitors_to_log_in(app_client):
    response = await app_client.get("/staff")
    assert response.status_code in (302, 303)
    assert response.headers["location"].startswith("/login")
    api = await app_client.get("/api/me")
    assert api.status_code == 401 and api.headers["content-type"].startswith("application/json")


# --- scope ---------------------------------------------------------------------------


async def test_organiser_sees_only_their_group(app_client, world):
    await app_client.login(world.organiser_a)
    listed = {g["id"] for g in (await app_client.get("/api/groups")).json()}
    assert listed == {str(world.group_a)}
    assert (await app_client.get(f"/api/groups/{world.group_a}")).status_code == 200
    for suffix in ("", "/ibasho", "/people"):
        assert (await app_client.get(f"/api/groups/{world.group_b}{suffix}")).status_code == 404
    assert (await app_client.get("/staff")).status_code == 403


async def test_staff_see_only_their_areas_and_admins_see_all(app_client, new_client, world):
    await app_client.login(world.staff_a)
    assert (await app_client.get(f"/api/groups/{world.group_a}/people")).status_code == 200
    assert (await app_client.get(f"/api/groups/{world.group_b}/people")).status_code == 404
    admin = await new_client()
    await admin.login(world.admin)
    listed = {g["id"] for g in (await admin.get("/api/groups")).json()}
    assert {str(world.group_a), str(world.group_b)} <= listed


# --- invitations -----------------------------------------------------------------------


async def test_invitation_works_once(app_client, new_client, world):
    token = await create_invitation(world.group_a, world.staff_a.account_id)
    page = await app_client.get(f"/invite/{token}")
    assert page.status_code == 200
    login = unique("newcomer")
    joined = await app_client.form(
        f"/invite/{token}", {"display_name": "山田 花子", "login": login, "password": "hanako-pass-1"}
    )
    assert joined.status_code in (302, 303), joined.text
    me = (await app_client.get("/api/me")).json()
    assert me["display_name"] == "山田 花子" and me["role"] == "organiser"
    assert [g["id"] for g in me["groups"]] == [str(world.group_a)]

    second = await new_client()
    assert (await second.get(f"/invite/{token}")).status_code == 410
    again = await second.form(
        f"/invite/{token}", {"display_name": "x", "login": unique("x"), "password": "another-pass"}
    )
    assert again.status_code == 410
    account = await Account.select(Account.id).where(Account.login == login).first()
    assert await GroupMembership.count().where(GroupMembership.account == account["id"]) == 1


async def test_expired_invitation_is_refused(app_client, world):
    token = await create_invitation(world.group_a, world.staff_a.account_id)
    await Invitation.update({Invitation.expires_at: now() - timedelta(minutes=1)}).where(
        Invitation.group == world.group_a
    )
    login = unique("late")
    response = await app_client.form(
        f"/invite/{token}", {"display_name": "x", "login": login, "password": "late-pass-1"}
    )
    assert response.status_code == 410
    assert not await Account.exists().where(Account.login == login)


async def test_invitation_form_errors_change_nothing(app_client, world):
    token = await create_invitation(world.group_a, world.staff_a.account_id)
    login = unique("short")
    response = await app_client.form(f"/invite/{token}", {"display_name": "x", "login": login, "password": "short"})
    assert response.status_code == 422
    assert not await Account.exists().where(Account.login == login)
    assert (await app_client.get(f"/invite/{token}")).status_code == 200  # still usable


@pytest.mark.parametrize("login", ["ß" * 100, "İ" * 60])
async def test_a_login_name_whose_key_outgrows_its_column_is_refused(app_client, world, login):
    """Case folding lengthens these (ß → ss): the key must fit its column too, or the
    insert fails (a 500 on PostgreSQL) instead of saying what is wrong."""
    token = await create_invitation(world.group_a, world.staff_a.account_id)
    response = await app_client.form(
        f"/invite/{token}", {"display_name": "x", "login": login, "password": "long-name-pass"}
    )
    assert response.status_code == 422 and "100" in response.text
    assert not await Account.exists().where(Account.login == login)
    assert (await app_client.get(f"/invite/{token}")).status_code == 200  # still usable


async def test_unknown_invitation_is_404(app_client):
    assert (await app_client.get("/invite/not-a-real-token")).status_code == 404
