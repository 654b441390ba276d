"""Exports: CSV (with a BOM) and XLSX read back hold the numbers of the database; scope."""

from __future__ import annotations

import csv
import io
from datetime import date, time

import openpyxl

from server.tables import Session, Tally
from tests.factories import make_group, make_programme, make_session

YEAR = 2025
PARTICIPANTS = 14  # column of 参加者数 (Participants)
VENUE = 15


async def seed(world):
    """Three held sessions (one with a venue cost over the cap), one cancelled, one of the year before."""
    components = [{"kind": "per_session", "amount": 2500}, {"kind": "venue", "cap": 2500}]
    rules = {"sessions": {"min_minutes": 120}, "components": components, "caps": {"per_year": 100000}}
    await make_programme(rules, enrol=world.group_a)
    await make_session(world.group_a, date(2025, 4, 1), venue_cost=3000, tallies={"child": 4, "volunteer": 2})
    await make_session(world.group_a, date(2025, 5, 1), venue_cost=1000, tallies={"senior": 6, "adult": 1})
    await make_session(world.group_a, date(2025, 6, 1), end=time(11, 50), tallies={"adult": 3})  # too short
    await make_session(world.group_a, date(2025, 7, 1), status="cancelled", tallies={})
    await make_session(world.group_a, date(2025, 3, 31), tallies={"adult": 50})


async def db_totals(group_id):
    sessions = await Session.select(Session.id, Session.venue_cost).where(
        (Session.group == group_id)
        & (Session.date >= date(2025, 4, 1))
        & (Session.date <= date(2026, 3, 31))
        & (Session.status == "held")
    )
    ids = [s["id"] for s in sessions]
    tallies = await Tally.select(Tally.category, Tally.delta_sum).where(Tally.session.is_in(ids))
    participants = sum(max(0, t["delta_sum"]) for t in tallies if t["category"] != "volunteer")
    return len(ids), participants, sum(s["venue_cost"] or 0 for s in sessions)


async def test_csv_starts_with_a_bom_and_matches_the_database(world, app_client):
    await seed(world)
    await app_client.login(world.staff_a)
    response = await app_client.get(f"/review/groups/{world.group_a}/export.csv?year={YEAR}")
    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, body = rows[0], [r for r in rows[1:] if r]
    assert header[PARTICIPANTS] == "参加者数" and header[VENUE] == "会場費"
    sessions, total = body[:-1], body[-1]
    held, participants, venue = await db_totals(world.group_a)
    assert [r[2] for r in sessions] == ["2025-04-01", "2025-05-01", "2025-06-01", "2025-07-01"]
    assert int(total[PARTICIPANTS]) == participants == 4 + 7 + 3
    assert int(total[VENUE]) == venue
    assert sessions[0][-3:-1] == ["○", "5000"]  # 2,500 + venue 3,000 capped to 2,500
    assert sessions[2][-3] == "×"
    assert int(total[-2]) == 5000 + 3500


async def test_xlsx_holds_the_same_numbers_as_the_csv(world, app_client):
    await seed(world)
    await app_client.login(world.staff_a)
    csv_rows = list(
        csv.reader(
            io.StringIO(
                (await app_client.get(f"/review/groups/{world.group_a}/export.csv?year={YEAR}")).content.decode(
                    "utf-8-sig"
                )
            )
        )
    )
    response = await app_client.get(f"/review/groups/{world.group_a}/export.xlsx?year={YEAR}")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet.freeze_panes == "A2"  # the header stays in view
    dated = [cell for cell in sheet["C"][1:] if hasattr(cell.value, "date")]
    assert dated and all(cell.number_format == "yyyy-mm-dd" for cell in dated)
    xlsx_rows = [
        ["" if v is None else (v.date().isoformat() if hasattr(v, "date") else str(v)) for v in row]
        for row in sheet.iter_rows(values_only=True)
        if any(v is not None for v in row)
    ]
    assert xlsx_rows == [r for r in csv_rows if r]
    held, participants, venue = await db_totals(world.group_a)
    assert int(xlsx_rows[-1][PARTICIPANTS]) == participants


async def test_area_export_has_every_group_and_a_grand_total(world, app_client):
    await seed(world)
    other = await make_group(world.area_a)
    await make_session(other, date(2025, 9, 1), tallies={"adult": 10})
    await app_client.login(world.staff_a)
    response = await app_client.get(f"/review/areas/{world.area_a}/export.csv?year={YEAR}")
    assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbf")
    rows = [r for r in csv.reader(io.StringIO(response.content.decode("utf-8-sig"))) if r]
    assert int(rows[-1][PARTICIPANTS]) == 14 + 10
    book = openpyxl.load_workbook(
        io.BytesIO((await app_client.get(f"/review/areas/{world.area_a}/export.xlsx?year={YEAR}")).content)
    )
    assert book.active.max_row >= len(rows)


async def test_exports_of_another_area_are_404_and_organisers_403(world, new_client):
    staff_a = await new_client()
    await staff_a.login(world.staff_a)
    organiser = await new_client()
    await organiser.login(world.organiser_b)
    urls = [f"/review/groups/{world.group_b}/export.{k}" for k in ("csv", "xlsx")]
    urls += [f"/review/areas/{world.area_b}/export.{k}" for k in ("csv", "xlsx")]
    for url in urls:
        assert (await staff_a.get(url)).status_code == 404, url
        assert (await organiser.get(url)).status_code == 403, url


async def test_text_that_looks_like_a_formula_stays_text_in_both_files(world, app_client):
    """CSV/formula injection: a group name typed as a formula must not run in Excel."""
    from server.tables import Group

    name = '=HYPERLINK("http://evil.invalid","click")'
    await Group.update({Group.name: name}).where(Group.id == world.group_a)
    await make_session(world.group_a, date(2025, 9, 1))
    await app_client.login(world.staff_a)
    csv_text = (await app_client.get(f"/review/groups/{world.group_a}/export.csv?year={YEAR}")).content.decode(
        "utf-8-sig"
    )
    first = next(csv.reader(io.StringIO(csv_text.split("\r\n", 1)[1])))
    assert first[0] == "'" + name
    response = await app_client.get(f"/review/groups/{world.group_a}/export.xlsx?year={YEAR}")
    cell = openpyxl.load_workbook(io.BytesIO(response.content)).active["A2"]
    assert (cell.value, cell.data_type) == (name, "s")
