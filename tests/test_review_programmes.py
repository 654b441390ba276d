"""Grant programme pages: presets, creating a programme from components with a preview,
refusing bad input (keeping what was typed), editing a year's rules, copying them to the
next year, retiring, the amount page, the audit rows; staff read, only admins change."""

from __future__ import annotations

from datetime import date

from server.core.dates import fiscal_year
from server.grants.data import today
from server.grants.presets import PRESETS
from server.grants.programmes import programme_by_name, versions_of
from server.tables import AuditLog, GrantProgramme, GrantRuleVersion
from tests.factories import make_programme, make_session, unique

THIS_YEAR = fiscal_year(today())


def component_form(programme_name: str, **fields) -> dict:
    """A new programme's form: one per-session component and one venue component."""
    return {
        "name": programme_name,
        "council": "テスト社協",
        "from_year": "2025",
        "min_minutes": "120",
        "components": "3",
        "c0_kind": "per_session",
        "c0_label": "活動費",
        "c0_amount": "3,000",
        "c1_kind": "venue",
        "c1_cap": "2000",
        "c1_per": "month",
        "c2_kind": "",
        "cap_year": "50000",
        "rounding_unit": "100",
        "rounding_mode": "down",
        **fields,
    }


async def audit_actions(account_id) -> list[str]:
    rows = await AuditLog.select(AuditLog.action).where(AuditLog.account == account_id).order_by(AuditLog.at)
    return [row["action"] for row in rows]


async def test_admin_adds_a_preset_from_a_year_once(world, app_client):
    await app_client.login(world.admin)
    for _ in range(2):
        response = await app_client.form("/review/grants/presets/musashino", {"from_year": "2024"})
        assert response.status_code == 303
    rows = await GrantProgramme.select().where(GrantProgramme.name == PRESETS["musashino"]["name"])
    assert len(rows) == 1 and rows[0]["source"] == PRESETS["musashino"]["source"]
    [(year, rules)] = await versions_of(rows[0]["id"])
    assert year == 2024 and rules.to_json() == PRESETS["musashino"]["rules"] | {"caps": {"per_year": 100000}}
    response = await app_client.form("/review/grants/presets/okagaki", {"from_year": "令和7"})
    assert response.status_code == 422 and "年度" in response.text
    page = await app_client.get("/review/grants")
    assert page.status_code == 200 and PRESETS["musashino"]["name"] in page.text and "令和6年度" in page.text


async def test_admin_creates_a_programme_after_a_preview(world, app_client):
    await make_session(world.group_a, date(2025, 5, 10), venue_cost=1500)
    await make_session(world.group_a, date(2025, 5, 24), venue_cost=1500)
    await app_client.login(world.admin)
    name = unique("programme")
    form = component_form(name, action="preview", preview_group=str(world.group_a), preview_year="2025")
    response = await app_client.form("/review/grants/new", form)
    assert response.status_code == 200
    assert "8,000" in response.text  # 2 × 3,000 + venue 3,000 capped at 2,000 a month
    assert await programme_by_name(name) is None  # a preview saves nothing
    assert 'value="3,000"' in response.text  # what was typed is shown again

    response = await app_client.form("/review/grants/new", component_form(name))
    assert response.status_code == 303
    created = await programme_by_name(name)
    [(year, rules)] = await versions_of(created["id"])
    assert year == 2025
    assert rules.to_json() == {
        "sessions": {"min_minutes": 120},
        "components": [
            {"kind": "per_session", "amount": 3000, "label": "活動費"},
            {"kind": "venue", "cap": 2000, "per": "month"},
        ],
        "caps": {"per_year": 50000},
        "rounding": {"unit": 100, "mode": "down"},
    }
    assert await audit_actions(world.admin.account_id) == ["grant_programme_create"]
    view = await app_client.get(f"/review/grants/{created['id']}")
    assert view.status_code == 200 and "3,000円" in view.text and "令和7年度から" in view.text


async def test_bad_input_is_refused_with_a_message_and_kept(world, app_client):
    await app_client.login(world.admin)
    name = unique("programme")
    for bad, says in (
        ({"c0_amount": "たくさん"}, "金額"),
        ({"c0_amount": "-5"}, "金額"),
        ({"from_year": "1800"}, "年度"),
        ({"name": ""}, "名前"),
        ({"c1_cap": "", "c0_kind": "", "c1_kind": ""}, "構成要素"),
        ({"c0_kind": "per_visit"}, "構成要素1"),
        ({"min_minutes": "0"}, "最低時間"),
    ):
        response = await app_client.form("/review/grants/new", component_form(name, **bad))
        assert response.status_code == 422, bad
        assert says in response.text, (bad, says)
        assert 'value="テスト社協"' in response.text
    assert await programme_by_name(name) is None


async def test_editing_copying_and_retiring(world, app_client):
    programme = await make_programme(
        {"components": [{"kind": "per_session", "amount": 1000}]}, from_year=THIS_YEAR, enrol=world.group_a
    )
    await app_client.login(world.admin)
    edit = f"/review/grants/{programme}/edit"
    page = await app_client.get(edit)
    assert page.status_code == 200 and 'value="1000"' in page.text
    row = await GrantProgramme.select().where(GrantProgramme.id == programme).first()
    fields = {"name": row["name"], "from_year": str(THIS_YEAR), "components": "1", "c0_kind": "per_session"}
    assert (await app_client.form(edit, {**fields, "c0_amount": "1500"})).status_code == 303
    [(_year, rules)] = await versions_of(programme)
    assert rules.components[0].amount == 1500

    # Next year's rules are a copy: this year's stay as they are.
    response = await app_client.form(f"/review/grants/{programme}/copy", {})
    assert response.status_code == 303 and response.headers["location"].endswith(f"year={THIS_YEAR + 1}")
    next_year = {**fields, "from_year": str(THIS_YEAR + 1), "c0_amount": "2000"}
    assert (await app_client.form(edit, next_year)).status_code == 303
    assert [(y, r.components[0].amount) for y, r in await versions_of(programme)] == [
        (THIS_YEAR, 1500),
        (THIS_YEAR + 1, 2000),
    ]
    again = await app_client.form(f"/review/grants/{programme}/copy", {"to_year": str(THIS_YEAR + 1)})
    assert again.status_code == 422 and "すでに" in again.text

    # A version that past years use changes only with the tick that says so.
    await GrantRuleVersion.update({GrantRuleVersion.from_year: THIS_YEAR - 2}).where(
        (GrantRuleVersion.programme == programme) & (GrantRuleVersion.from_year == THIS_YEAR)
    )
    past = {**fields, "from_year": str(THIS_YEAR - 2), "c0_amount": "999"}
    refused = await app_client.form(edit, past)
    assert refused.status_code == 422 and "過去" in refused.text
    assert (await versions_of(programme))[0][1].components[0].amount == 1500
    assert (await app_client.form(edit, {**past, "past_ok": "1"})).status_code == 303
    assert (await versions_of(programme))[0][1].components[0].amount == 999

    retire = await app_client.form(f"/review/grants/{programme}/retire", {"last_year": str(THIS_YEAR)})
    assert retire.status_code == 303
    retired = await GrantProgramme.select().where(GrantProgramme.id == programme).first()
    assert retired["retired_after"] == THIS_YEAR
    amount = await app_client.get(f"/review/grants/{programme}/groups/{world.group_a}?year={THIS_YEAR + 1}")
    assert amount.status_code == 200 and "終了" in amount.text
    assert await audit_actions(world.admin.account_id) == [
        "grant_programme_edit",
        "grant_rules_save",
        "grant_rules_save",
        "grant_programme_edit",
        "grant_rules_save",
        "grant_programme_edit",
        "grant_rules_save",
        "grant_programme_retire",
    ]


async def test_the_amount_page_shows_every_line_and_each_session(world, app_client):
    programme = await make_programme(
        {
            "sessions": {"min_minutes": 120},
            "components": [{"kind": "per_session", "amount": 2500, "label": "活動費"}, {"kind": "venue", "cap": 1000}],
        },
        enrol=world.group_a,
    )
    await make_session(world.group_a, date(2025, 5, 10), venue_cost=1500)
    await make_session(world.group_a, date(2025, 6, 14), venue_cost=500)
    await make_session(world.group_a, date(2025, 7, 12), status="cancelled")
    await app_client.login(world.staff_a)
    page = await app_client.get(f"/review/grants/{programme}/groups/{world.group_a}?year=2025")
    assert page.status_code == 200
    html = page.text
    assert "5,000" in html and "1,500" in html and "6,500" in html  # 2 × 2,500; venue 1,000 + 500; total
    assert "活動費" in html and "中止" in html and "2025年7月12日" in html
    review = await app_client.get(f"/review/groups/{world.group_a}?year=2025")
    assert f"/review/grants/{programme}/groups/{world.group_a}?year=2025" in review.text


async def test_staff_read_programmes_but_cannot_change_them(world, new_client):
    programme = await make_programme({"components": [{"kind": "fixed", "amount": 1}]})
    staff = await new_client()
    await staff.login(world.staff_a)
    organiser = await new_client()
    await organiser.login(world.organiser_a)
    assert (await staff.get("/review/grants")).status_code == 200
    view = await staff.get(f"/review/grants/{programme}")
    assert view.status_code == 200 and f"/review/grants/{programme}/edit" not in view.text
    for path in ("/review/grants/new", f"/review/grants/{programme}/copy", f"/review/grants/{programme}/retire"):
        assert (await staff.form(path, {"name": unique("x")})).status_code == 403
    assert (await staff.get(f"/review/grants/{programme}/edit")).status_code == 403
    assert (await organiser.get("/review/grants")).status_code == 403
    assert len(await versions_of(programme)) == 1
