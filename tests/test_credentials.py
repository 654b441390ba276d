"""Passwords after the first: a lost phone that keeps the old one in its browser, an account
staff reactivate, and one's own change (server/auth/credentials.py)."""

from __future__ import annotations

import re

from server.tables import Account, AuditLog
from tests.factories import PASSWORD, make_account
from tests.sync_phone import Phone

NEW_PASSWORD = "a brand new password"


def reset_link(page_text: str) -> str:
    return re.search(r'class="secret-link">[^<]*?(/reset/[A-Za-z0-9_-]+)<', page_text)[1]


async def test_a_lost_phone_that_kept_the_password_cannot_log_back_in(app_client, new_client, world):
    phone_http = await new_client()
    await phone_http.login(world.organiser_a)
    phone = Phone(phone_http)
    await phone.pull()
    await app_client.login(world.staff_a)
    page = await app_client.post(f"/staff/groups/{world.group_a}/organisers/{world.organiser_a.account_id}/reset")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert world.organiser_a.login in page.text  # the volunteer is told their login name too
    link = reset_link(page.text)

    # the thief's phone: its login ended, and the saved password no longer works
    pulled = await phone_http.get("/api/sync/pull", params={"client_id": phone.client_id})
    assert pulled.status_code == 401 and pulled.json()["code"] == "session_ended"
    thief = await phone_http.post(
        "/api/auth/login", json={"login": world.organiser_a.login, "password": world.organiser_a.password}
    )
    assert thief.status_code == 401

    # the volunteer, on their new phone
    volunteer = await new_client()
    form = await volunteer.get(link)
    assert form.status_code == 200 and world.organiser_a.login in form.text
    mismatch = await volunteer.form(link, {"password": NEW_PASSWORD, "confirm": "something else"})
    assert mismatch.status_code == 422 and "同じパスワード" in mismatch.text
    chosen = await volunteer.form(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert chosen.status_code in (302, 303) and chosen.headers["location"] == "/app/"
    me = await volunteer.get("/api/me")
    assert me.status_code == 200 and me.json()["id"] == str(world.organiser_a.account_id)
    assert (await volunteer.get(link)).status_code == 410  # once only
    fresh = await new_client()
    assert (
        await fresh.post("/api/auth/login", json={"login": world.organiser_a.login, "password": NEW_PASSWORD})
    ).status_code == 200
    actions = {
        row["action"]
        for row in await AuditLog.select(AuditLog.action).where(
            AuditLog.target == f"account:{world.organiser_a.account_id}"
        )
    }
    assert {"organiser.reset", "password.reset"} <= actions


async def test_staff_of_another_area_cannot_reset_and_a_new_link_voids_the_old(app_client, world):
    await app_client.login(world.staff_b)
    url = f"/staff/groups/{world.group_a}/organisers/{world.organiser_a.account_id}/reset"
    assert (await app_client.post(url)).status_code == 404
    assert (await Account.select(Account.password_hash).where(Account.id == world.organiser_a.account_id).first())[
        "password_hash"
    ].startswith("$argon2")
    await app_client.login(world.staff_a)
    first = reset_link((await app_client.post(url)).text)
    second = reset_link((await app_client.post(url)).text)
    assert (await app_client.get(first)).status_code == 410 and (await app_client.get(second)).status_code == 200
    assert (await app_client.get("/reset/" + "x" * 43)).status_code == 404


async def test_reactivating_gives_a_link_for_a_new_password_not_the_old_one(app_client, new_client, world):
    organiser = await make_account("organiser", groups=[world.group_a])
    await app_client.login(world.staff_a)
    base = f"/staff/groups/{world.group_a}/organisers/{organiser.account_id}"
    assert (await app_client.post(f"{base}/deactivate")).status_code == 303
    page = await app_client.post(f"{base}/reactivate")
    assert page.status_code == 200 and "/reset/" in page.text
    returning = await new_client()
    old = await returning.post("/api/auth/login", json={"login": organiser.login, "password": PASSWORD})
    assert old.status_code == 401
    link = reset_link(page.text)
    assert (await returning.form(link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})).status_code in (302, 303)


async def test_admins_give_a_staff_member_a_new_password(app_client, new_client, world):
    staff = await make_account("staff", areas=[world.area_a])
    await app_client.login(world.admin)
    page = await app_client.post(f"/admin/accounts/{staff.account_id}/reset")
    assert page.status_code == 200
    member = await new_client()
    chosen = await member.form(reset_link(page.text), {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert chosen.headers["location"] == "/staff"


async def test_changing_ones_own_password_ends_the_other_logins(new_client):
    person = await make_account("organiser")
    here, elsewhere = await new_client(), await new_client()
    await here.login(person)
    await elsewhere.login(person)
    wrong = await here.form(
        "/account/password", {"current": "not it", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert wrong.status_code == 401 and "現在のパスワード" in wrong.text
    short = await here.post("/api/auth/password", json={"current_password": PASSWORD, "new_password": "short"})
    assert short.status_code == 400 and "new_password" in short.text
    changed = await here.form(
        "/account/password", {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert changed.status_code == 303
    assert (await here.get("/api/me")).status_code == 200  # this device stays logged in
    assert (await elsewhere.get("/api/me")).status_code == 401
    again = await here.post(
        "/api/auth/password", json={"current_password": NEW_PASSWORD, "new_password": "yet another password"}
    )
    assert again.status_code == 200


async def test_guessing_the_current_password_is_throttled_like_a_login(new_client):
    """A phone left logged in must not become a way to guess the password."""
    person = await make_account("organiser")
    client = await new_client()
    await client.login(person)
    statuses = []
    for attempt in range(7):
        response = await client.post(
            "/api/auth/password", json={"current_password": f"guess {attempt}", "new_password": NEW_PASSWORD}
        )
        statuses.append(response.status_code)
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429]


async def test_a_voided_password_matches_nothing_not_even_the_dummy(app_client):
    """The stored marker is no hash: the timing-equaliser's own password must not open it."""
    person = await make_account("organiser")
    await Account.update({Account.password_hash: "!voided"}).where(Account.id == person.account_id)
    for password in ("ibasho-timing-equaliser", "!voided", PASSWORD):
        response = await app_client.post("/api/auth/login", json={"login": person.login, "password": password})
        assert response.status_code == 401
