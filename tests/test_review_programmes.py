"""Admin page for grant programmes: presets, create, edit, validation, who may use it."""

from __future__ import annotations

from server.grants.rules import AOMORI_STARTUP, MUSASHINO
from server.tables import GrantProgramme
from tests.factories import unique


async def test_admin_adds_presets_once_and_edits_a_programme(world, app_client):
    await app_client.login(world.admin)
    for _ in range(2):
        assert (await app_client.form("/review/grants/presets/musashino", {})).status_code == 303
    assert (await app_client.form("/review/grants/presets/aomori", {})).status_code == 303
    musashino = await GrantProgramme.select().where(GrantProgramme.name == MUSASHINO.name)
    assert len(musashino) == 1
    row = musashino[0]
    assert (
        row["min_sessions_every_months"],
        row["min_session_minutes"],
        row["activity_amount_per_session"],
        row["venue_cap_per_session"],
        row["yearly_cap"],
    ) == (2, 120, 2500, 2500, 100000)
    aomori = await GrantProgramme.select().where(GrantProgramme.name == AOMORI_STARTUP.name).first()
    assert (aomori["fixed_yearly_amount"], aomori["eligible_years"]) == (50000, 3)
    page = await app_client.get("/review/grants")
    assert page.status_code == 200 and MUSASHINO.name in page.text

    name = unique("programme")
    response = await app_client.form(
        "/review/grants/new",
        {"name": name, "activity_amount_per_session": "3,000", "yearly_cap": "", "requires_registration": "on"},
    )
    assert response.status_code == 303
    created = await GrantProgramme.select().where(GrantProgramme.name == name).first()
    assert created["activity_amount_per_session"] == 3000 and created["yearly_cap"] is None
    assert created["requires_registration"] is True
    edit = f"/review/grants/{created['id']}/edit"
    assert name in (await app_client.get(edit)).text
    for bad in ({"activity_amount_per_session": "x"}, {"min_session_minutes": "-5"}, {"council": "市" * 201}):
        response = await app_client.form(edit, {"name": name, "yearly_cap": "50000", **bad})
        assert response.status_code == 422, bad
        assert (await GrantProgramme.select().where(GrantProgramme.id == created["id"]).first()) == created
    response = await app_client.form(edit, {"name": name, "yearly_cap": "50000"})
    assert response.status_code == 303
    updated = await GrantProgramme.select().where(GrantProgramme.id == created["id"]).first()
    assert updated["yearly_cap"] == 50000 and updated["requires_registration"] is False
    assert (await app_client.form("/review/grants/new", {"name": name})).status_code == 422


async def test_staff_and_organisers_cannot_edit_programmes(world, new_client):
    staff = await new_client()
    await staff.login(world.staff_a)
    organiser = await new_client()
    await organiser.login(world.organiser_a)
    for client in (staff, organiser):
        assert (await client.get("/review/grants")).status_code == 403
        assert (await client.form("/review/grants/new", {"name": unique("x")})).status_code == 403
