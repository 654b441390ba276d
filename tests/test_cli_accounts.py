"""``ibasho createuser`` for an organiser of a group it creates: the group goes into the
area ``--area`` names (never whichever sorts first), and phones hear of the group itself."""

from __future__ import annotations

import os

from server.tables import Area, Group
from tests.factories import PASSWORD, make_account, make_area, run_cli, unique
from tests.sync_phone import Phone


async def test_a_group_made_for_an_organiser_is_in_the_named_area_and_synced(new_client):
    await make_area("あ" + unique("first"))  # sorts before the one asked for
    wanted = unique("西部圏域")
    login, group_name = unique("cli"), unique("新しい会")
    created = run_cli(
        "createuser",
        login,
        "--role",
        "organiser",
        "--group",
        group_name,
        "--area",
        wanted,
        "--create-missing",
        env=dict(os.environ),
        stdin=PASSWORD + "\n",
    )
    assert created.returncode == 0, created.stderr
    group = await Group.select(Group.id, Group.area.name.as_alias("area")).where(Group.name == group_name).first()
    assert group["area"] == wanted

    client = await new_client()
    response = await client.post("/api/auth/login", json={"login": login, "password": PASSWORD})
    assert response.status_code == 200
    phone = Phone(client)
    await phone.pull()
    assert phone.get("group", str(group["id"]))["name"] == group_name
    assert any(key[0] == "member" for key in phone.state)


async def test_a_new_group_without_an_area_is_refused_when_there_are_several():
    assert await Area.count() >= 1
    await make_area()
    refused = run_cli(
        "createuser",
        unique("cli"),
        "--role",
        "organiser",
        "--group",
        unique("会"),
        "--create-missing",
        env=dict(os.environ),
        stdin=PASSWORD + "\n",
    )
    assert refused.returncode == 2 and "--area" in refused.stderr


async def test_set_password_from_the_command_line_ends_every_login(new_client):
    """For an admin locked out of every page: the new password works, the old one and its logins do not."""
    person = await make_account("admin")
    logged_in = await new_client()
    await logged_in.login(person)
    assert run_cli("set-password", person.login, env=dict(os.environ), stdin="short\n").returncode == 2
    assert run_cli("set-password", unique("nobody"), env=dict(os.environ), stdin=PASSWORD + "!\n").returncode == 2
    done = run_cli("set-password", person.login.upper(), env=dict(os.environ), stdin="the admin's new password\n")
    assert done.returncode == 0, done.stderr
    assert (await logged_in.get("/api/me")).status_code == 401
    client = await new_client()
    old = await client.post("/api/auth/login", json={"login": person.login, "password": PASSWORD})
    new = await client.post("/api/auth/login", json={"login": person.login, "password": "the admin's new password"})
    assert (old.status_code, new.status_code) == (401, 200)
