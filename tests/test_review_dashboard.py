"""The area dashboard: scope, numbers, flags, sorting and filtering, the SVG trend."""

from __future__ import annotations

import re
from datetime import timedelta
from uuid import uuid4

from server.core.clock import now
from server.core.dates import fiscal_year, format_date_ja
from server.review.dashboard import dashboard_lines, trend_svg
from server.review.data import load_sessions, today
from server.tables import Group, Person, SafetyCheck
from tests.factories import count_queries, make_group, make_session


def test_trend_svg_has_twelve_bars_and_no_style_attribute():
    svg = str(trend_svg([0, 5, 10, 0, 0, 0, 0, 0, 0, 0, 0, 20]))
    assert svg.startswith("<svg") and svg.count("<rect") == 12
    assert "style=" not in svg and "<script" not in svg
    assert str(trend_svg([0] * 12)).count("<rect") == 12


def names_in_order(html: str, names: list[str]) -> list[str]:
    return sorted(names, key=lambda name: html.index(name))


async def test_staff_see_their_areas_groups_with_numbers_and_flags(world, app_client):
    day = today()
    year = fiscal_year(day)
    recent = day - timedelta(days=3)
    if fiscal_year(recent) != year:
        recent = day
    await Group.update({Group.name: "あおぞら会"}).where(Group.id == world.group_a)
    session = await make_session(world.group_a, recent, tallies={"adult": 7, "volunteer": 2})
    quiet = await make_group(world.area_a, "しずかの会")
    await make_session(quiet, day - timedelta(days=100))
    person = uuid4()
    await Person.insert(Person(id=person, group=world.group_a, display_name="X"))
    await SafetyCheck.insert(SafetyCheck(id=uuid4(), session=session, person=person, opened_at=now()))

    await app_client.login(world.staff_a)
    response = await app_client.get("/review")
    assert response.status_code == 200
    html = response.text
    assert "あおぞら会" in html and "しずかの会" in html
    assert (await Group.select(Group.name).where(Group.id == world.group_b).first())["name"] not in html
    row = html[html.index("あおぞら会") :]
    row = row[: row.index("</tr>")]
    assert format_date_ja(recent) in row
    assert re.search(r'class="num"[^>]*>7<', row)  # volunteers apart
    assert "flag-review" in row and "flag-safety" in row and "flag-quiet" not in row
    assert "<svg" in row
    quiet_row = html[html.index("しずかの会") :]
    assert "flag-quiet" in quiet_row[: quiet_row.index("</tr>")]

    filtered = (await app_client.get("/review?filter=safety")).text
    assert "あおぞら会" in filtered and "しずかの会" not in filtered
    by_name = (await app_client.get("/review?sort=name&order=asc")).text
    assert names_in_order(by_name, ["しずかの会", "あおぞら会"]) == ["あおぞら会", "しずかの会"]
    searched = (await app_client.get("/review?q=しずか")).text
    assert "しずかの会" in searched and "あおぞら会" not in searched


async def test_the_walk_ins_the_database_keeps_match_the_per_category_numbers(world):
    """The dashboard reads each session's total as the database keeps it; the group page and
    exports show the categories. Both must count a tally as max(0, sum) and leave volunteers apart."""
    year = fiscal_year(today())
    tallies = {"child": 4, "senior": 3, "first_time": 2, "adult": -2, "volunteer": 5}
    await make_session(world.group_a, today(), tallies=tallies)
    await make_session(world.group_a, today(), tallies={})
    sessions = await load_sessions([world.group_a], year)
    assert sorted(s.attendance for s in sessions) == [0, 9]
    assert sorted(sum(n for c, n in s.tallies.items() if c != "volunteer") for s in sessions) == [0, 9]
    line = next(line for line in await dashboard_lines([world.area_a], year, today()) if line.id == world.group_a)
    assert line.cumulative == 9


async def test_organisers_get_403_and_admins_see_every_area(world, new_client):
    organiser = await new_client()
    await organiser.login(world.organiser_a)
    assert (await organiser.get("/review")).status_code == 403
    admin = await new_client()
    await admin.login(world.admin)
    html = (await admin.get(f"/review?area={world.area_b}")).text
    name_b = (await Group.select(Group.name).where(Group.id == world.group_b).first())["name"]
    assert name_b in html


async def test_dashboard_queries_do_not_grow_with_the_number_of_groups(world, monkeypatch):
    day = today()
    small, large = world.area_a, world.area_b
    await make_session(world.group_a, day)
    groups = [Group(id=uuid4(), area=large, name=f"g-{uuid4().hex[:8]}", created_at=now()) for _ in range(40)]
    await Group.insert(*groups)
    for group in groups[:10]:
        await make_session(group.id, day)
    few = await count_queries(monkeypatch, lambda: dashboard_lines([small], fiscal_year(day), day))
    many = await count_queries(monkeypatch, lambda: dashboard_lines([large], fiscal_year(day), day))
    assert 3 <= few == many <= 10
    lines = await dashboard_lines([large], fiscal_year(day), day)
    assert len(lines) == 41 and sum(line.held for line in lines) == 10
