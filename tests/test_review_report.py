"""The annual report (事業報告): its figures, the year before, the page, the XLSX and who may see it."""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass
from datetime import date, time
from uuid import uuid4

import openpyxl

from server.review.report import Change, title_of, year_figures
from server.tables import Attendance, Group, Person, RoleAssignment, SafetyCheck
from tests.factories import make_group, make_programme, make_session

YEAR = 2025  # 令和7年度


async def person(group, name, category):
    person_id = uuid4()
    await Person.insert(Person(id=person_id, group=group, display_name=name, category=category))
    return person_id


async def present(session, who, status="present"):
    await Attendance.insert(Attendance(id=f"{session}:{who}", session=session, person=who, status=status))


async def role(session, name, member=None, person=None):
    who = member or person
    await RoleAssignment.insert(
        RoleAssignment(id=f"{session}:{name}:{who}", session=session, role=name, member=member, person=person)
    )


async def a_year(world) -> dict:
    """Group A's 令和7年度 and a little of 令和6年度."""
    group = world.group_a
    hanako, ken = await person(group, "花子", "senior"), await person(group, "健", "child")
    helper = await person(group, "手伝い", "adult")
    first = await make_session(group, date(2025, 5, 10), tallies={"child": 5, "senior": 3, "volunteer": 4})
    second = await make_session(
        group, date(2025, 6, 14), start=time(13), end=time(16, 30), tallies={"adult": 2, "first_time": 1}
    )
    untimed = await make_session(group, date(2025, 7, 12), start=None, end=None, tallies={"child": 1})
    await make_session(group, date(2025, 8, 9), status="cancelled", tallies={"child": 50})
    await make_session(group, date(2025, 9, 1), kind="meeting", tallies={"adult": 9})
    await make_session(group, date(2026, 4, 1), tallies={"child": 70})  # 令和8年度
    await make_session(group, date(2024, 10, 5), tallies={"child": 6})  # 令和6年度
    await present(first, hanako)
    await present(first, ken)
    await present(second, hanako)
    await present(second, ken, "absent_unnotified")
    # first: the organiser (two roles, counted once) and a volunteer for 2 hours; second: one for 3.5 hours
    await role(first, "調理", member=world.organiser_a.account_id)
    await role(first, "受付", member=world.organiser_a.account_id)
    await role(first, "配膳", person=helper)
    await role(second, "受付", person=helper)
    await role(untimed, "受付", person=helper)
    await SafetyCheck.insert(SafetyCheck(id=uuid4(), session=second, person=ken, outcome="safe"))
    await SafetyCheck.insert(SafetyCheck(id=uuid4(), session=first, person=helper, outcome="open"))
    await make_programme(
        {"components": [{"kind": "per_session", "amount": 1000}]}, enrol=group, first_year=2000, from_year=2000
    )
    return {"group": group}


async def test_the_years_figures(world):
    await a_year(world)
    figures = (await year_figures([world.group_a], YEAR))[world.group_a]
    assert figures.sessions == 3  # the cancelled one and the meeting apart
    assert figures.cumulative["child"] == 5 + 1 + 1  # head counts plus 健 present once
    assert figures.cumulative["senior"] == 3 + 2  # 花子 came twice
    assert figures.participants == 5 + 3 + 2 + 1 + 1 + 3  # volunteers apart
    assert dict(figures.unique) == {"senior": 1, "child": 1}
    assert figures.cumulative["volunteer"] == 4
    assert figures.role_people == 2 + 1 + 1
    assert figures.volunteer_minutes == 2 * 120 + 210 and figures.volunteer_hours == 7.5
    assert figures.untimed == 1
    assert dict(figures.checks) == {"safe": 1, "open": 1}
    assert figures.grant == 3000
    before = (await year_figures([world.group_a], YEAR - 1))[world.group_a]
    assert before.sessions == 1 and before.participants == 6 and before.grant == 1000


def test_changes_are_shown_as_signed_numbers():
    assert Change(3, 1).delta == "+2" and Change(1, 3).delta == "-2" and Change(2, 2).delta == "±0"
    assert Change(7.5, 2.0).delta == "+5.5" and Change(3000, 1000).delta == "+2,000"
    assert Change(3, 1).percent == "+200%" and Change(3, 0).percent == ""


def test_the_title_names_the_year_in_wareki_with_the_western_dates():
    assert title_of(2025) == "令和7年度（2025年4月1日(火)〜2026年3月31日(火)）"


async def test_group_and_area_pages_and_xlsx(world, app_client):
    await a_year(world)
    other = await make_group(world.area_a, "となりの会")
    await make_session(other, date(2025, 5, 1), tallies={"senior": 10})
    name = (await Group.select(Group.name).where(Group.id == world.group_a).first())["name"]
    await app_client.login(world.staff_a)

    html = (await app_client.get(f"/review/groups/{world.group_a}/report?year={YEAR}")).text
    assert f"{name} 事業報告" in html and "令和7年度（2025年4月1日(火)〜2026年3月31日(火)）" in html
    assert "ボランティア活動時間" in html and "7.5" in html and "時間の記録がない開催回が1回" in html
    assert "3,000" in html and "+2,000" in html

    area = (await app_client.get(f"/review/areas/{world.area_a}/report?year={YEAR}")).text
    assert "団体別（前年度との比較）" in area and "となりの会" in area
    row = area[area.index("となりの会") :]
    row = row[: row.index("</tr>")]
    assert "前年度 0・+1" in row  # sessions: 1 this year, none the year before

    response = await app_client.get(f"/review/areas/{world.area_a}/report.xlsx?year={YEAR}")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["概要", "団体別"]
    summary = {row[0]: row[1:] for row in book["概要"].iter_rows(min_row=2, values_only=True)}
    assert summary["開催回数"][0] >= 4 and summary["ボランティア活動時間"][0] == 7.5
    by_group = {row[0]: row[1:] for row in book["団体別"].iter_rows(min_row=2, values_only=True)}
    assert by_group["となりの会"][:3] == (1, 0, "+1")


async def test_other_areas_reports_are_404_and_organisers_403(world, new_client):
    from tests.factories import login_client

    staff_b = await login_client(new_client, world.staff_b)
    for url in (
        f"/review/groups/{world.group_a}/report",
        f"/review/groups/{world.group_a}/report.xlsx",
        f"/review/areas/{world.area_a}/report",
        f"/review/areas/{world.area_a}/report.xlsx",
    ):
        assert (await staff_b.get(url)).status_code == 404, url
    organiser = await login_client(new_client, world.organiser_a)
    assert (await organiser.get(f"/review/groups/{world.group_a}/report")).status_code == 403


async def log_in_page(chromium, server, who, **options):
    context = await chromium.new_context(locale="ja-JP", **options)
    page = await context.new_page()
    await page.goto(f"{server.url}/login")
    await page.get_by_label("ログイン名").fill(who.login)
    await page.get_by_label("パスワード").fill(who.password)
    await page.get_by_role("button", name="ログイン").click()
    await page.wait_for_url(f"{server.url}/staff")
    return context, page


@dataclass
class Gray:
    """A page rendered by pdftoppm as 8-bit gray (PGM)."""

    width: int
    height: int
    pixels: bytes

    def darkest_in_columns(self, first: int, last: int) -> int:
        return min(min(self.pixels[row * self.width + first : row * self.width + last]) for row in range(self.height))


def pdf_pages(pdf: bytes, folder) -> list[Gray]:
    """The PDF's pages as pdftoppm draws them (60 dpi, gray); PNGs beside them to look at."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-gray", "-r", "60", str(folder / "report.pdf"), str(folder / "page")], check=True)
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(folder / "report.pdf"), str(folder / "page")], check=True)
    pages = []
    for path in sorted(folder.glob("page-*.pgm")):
        data = path.read_bytes()
        magic, width, height, depth, pixels = data.split(maxsplit=4)
        assert magic == b"P5" and depth == b"255"
        pages.append(Gray(int(width), int(height), pixels[: int(width) * int(height)]))
    return pages


async def test_the_report_prints_on_a4_portrait_and_fits_a_phone(world, chromium, live_server, tmp_path):
    await a_year(world)
    for n in range(12):  # an area of a dozen groups, each with a year and the one before
        group = await make_group(world.area_a, f"居場所の会その{n + 1}")
        await make_session(group, date(2025, 5, 1 + n), tallies={"senior": 10 + n, "volunteer": 2})
        await make_session(group, date(2024, 5, 1 + n), tallies={"senior": 8})
    context, page = await log_in_page(chromium, live_server, world.staff_a, viewport={"width": 1280, "height": 900})
    try:
        for url in (f"/review/groups/{world.group_a}/report", f"/review/areas/{world.area_a}/report"):
            await page.goto(f"{live_server.url}{url}?year={YEAR}")
            await page.emulate_media(media="print")
            assert not await page.is_visible(".site-header") and not await page.is_visible(".report-nav")
            pdf = await page.pdf(format="A4", prefer_css_page_size=True, print_background=True)
            pages = pdf_pages(pdf, tmp_path / url.split("/")[2])
            assert 1 <= len(pages) <= (1 if "/groups/" in url else 2), (url, len(pages))  # a group: one sheet
            for sheet in pages:
                assert (sheet.width, sheet.height) == (496, 702)  # A4 portrait (210 × 297 mm) at 60 dpi
                # nothing printed in the right margin (12 mm is 28 px): no table ran off the page
                assert sheet.darkest_in_columns(sheet.width - 24, sheet.width) > 240, url
            await page.emulate_media(media="screen")
        await page.set_viewport_size({"width": 390, "height": 844})
        for url in (
            f"/review/areas/{world.area_a}/report?year={YEAR}",
            f"/review/groups/{world.group_a}/report?year={YEAR}",
            "/review/follow-ups",
        ):
            await page.goto(f"{live_server.url}{url}")
            assert await page.evaluate("document.documentElement.scrollWidth") <= 390, url
    finally:
        await context.close()
