"""The public directory (登録団体一覧): who is in it, its filters, next dates, map and files."""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import openpyxl
import pytest

from server.core.dates import format_date_ja
from server.tables import Audience, Ibasho, IbashoKind, IbashoStatus, Session, SessionKind, SessionStatus
from tests.browser import PHONE
from tests.factories import make_area, make_group, unique
from tests.printing import gray_pages, pgm, print_page

TODAY = date.today()


def next_weekday(weekday: int, after: date = TODAY) -> date:
    return after + timedelta(days=(weekday - after.weekday()) % 7 or 7)


async def place(area: UUID, *, listed=True, kind=IbashoKind.salon, audience=Audience.anyone, status=None, dates=()):
    group = await make_group(area, unique("会"))
    ibasho = uuid4()
    await Ibasho.insert(
        Ibasho(
            id=ibasho,
            group=group,
            name=unique("居場所"),
            venue="西部コミセン",
            kind=kind.value,
            audience=audience.value,
            listed=listed,
            status=(status or IbashoStatus.active).value,
            rrule="FREQ=MONTHLY;BYDAY=1SU",
            start_time=time(10),
            end_time=time(13),
            created_at=datetime.now(UTC),
        )
    )
    for day, kind_of_session in dates:
        await Session.insert(
            Session(
                id=uuid4(),
                group=group,
                ibasho=ibasho,
                kind=kind_of_session.value,
                title="理事会（非公開）" if kind_of_session is SessionKind.meeting else "",
                date=day,
                start_time=time(10),
                status=SessionStatus.scheduled.value,
                hlcs={},
                created_at=datetime.now(UTC),
                updated_at=datetime.now(UTC),
            )
        )
    return ibasho, (await Ibasho.select(Ibasho.name).where(Ibasho.id == ibasho).first())["name"]


async def test_only_listed_active_places_are_shown_with_their_next_public_dates(app_client):
    area = await make_area(unique("西部圏域"))
    sunday = next_weekday(6)
    dates = [(sunday + timedelta(weeks=n), SessionKind.session) for n in range(4)]
    listed, listed_name = await place(area, dates=[*dates, (sunday + timedelta(days=1), SessionKind.meeting)])
    _, hidden = await place(area, listed=False)
    _, paused = await place(area, status=IbashoStatus.paused)
    page = await app_client.get("/directory", params={"area": str(area)})
    assert page.status_code == 200 and "登録団体一覧" in page.text
    assert listed_name in page.text and hidden not in page.text and paused not in page.text
    assert f'href="/i/{listed}"' in page.text and f'href="/i/{listed}/calendar.ics"' in page.text
    assert "毎月第1日曜日 10:00〜13:00" in page.text
    # the next three dates, never the fourth, and never the members' meeting between them
    shown = [format_date_ja(day) in page.text for day, _ in dates]
    assert shown == [True, True, True, False]
    assert "理事会" not in page.text and format_date_ja(sunday + timedelta(days=1)) not in page.text


async def test_the_filters_narrow_the_list(app_client):
    area = await make_area(unique("中央圏域"))
    _, salon = await place(area, kind=IbashoKind.salon, dates=[(next_weekday(2), SessionKind.session)])  # Wednesday
    _, kitchen = await place(
        area,
        kind=IbashoKind.kodomo_shokudo,
        audience=Audience.children,
        dates=[(next_weekday(5), SessionKind.session)],  # Saturday
    )
    cases = {
        (): {salon, kitchen},
        (("kind", "kodomo_shokudo"),): {kitchen},
        (("weekday", "WE"),): {salon},
        (("weekday", "SA"),): {kitchen},
        (("open", "1"),): {salon},
        (("kind", "salon"), ("weekday", "SA")): set(),
    }
    for extra, expected in cases.items():
        page = await app_client.get("/directory", params={"area": str(area), **dict(extra)})
        assert page.status_code == 200
        assert {name for name in (salon, kitchen) if name in page.text} == expected, extra
    other = await make_area(unique("東部圏域"))
    assert salon not in (await app_client.get("/directory", params={"area": str(other)})).text


@pytest.mark.parametrize("params", [{"kind": "casino"}, {"weekday": "XX"}, {"area": "not-a-uuid"}, {"open": "yes"}])
async def test_a_bad_filter_is_a_clear_400(app_client, params):
    response = await app_client.get("/directory", params=params)
    assert response.status_code == 400


async def test_the_map_counts_the_places_of_each_area_and_links_to_them(app_client):
    area = await make_area(unique("北部圏域"))
    await place(area)
    await place(area)
    empty = await make_area(unique("南部圏域"))
    page = await app_client.get("/directory")
    svg = page.text[page.text.index("<svg") : page.text.index("</svg>")]
    for area_id, count in ((area, 2), (empty, 0)):
        tile = svg[svg.index(f'href="/directory?area={area_id}"') :]
        assert f'class="count">{count}</text>' in tile[: tile.index("</a>")]


async def test_the_list_as_csv_and_xlsx_keeps_the_filters(app_client):
    area = await make_area(unique("西部圏域"))
    _, salon = await place(area, dates=[(next_weekday(2), SessionKind.session)])
    _, kitchen = await place(area, kind=IbashoKind.kodomo_shokudo)
    response = await app_client.get("/directory.csv", params={"area": str(area), "kind": "salon"})
    assert response.status_code == 200 and response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["圏域", "団体", "居場所"]
    assert [row[2] for row in rows[1:]] == [salon]
    assert rows[1][3] == "いきいきサロン"  # the kind in words
    book = await app_client.get("/directory.xlsx", params={"area": str(area)})
    sheet = openpyxl.load_workbook(io.BytesIO(book.content)).active
    assert {row[2] for row in sheet.iter_rows(min_row=2, values_only=True)} == {salon, kitchen}


# --- printed (Chromium's PDF, turned into pages by pdftoppm) ---------------------------------

# IBASHO_SCREENSHOTS=1 keeps the first printed page as docs/screenshots/directory-print.png.
SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
A4_PORTRAIT = 210 / 297


def right_margin_blank(width: int, pixels: bytes) -> bool:
    """The rightmost 2 % of the page is white: nothing printed was cut at the edge."""
    strip = max(2, width // 50)
    rows = range(0, len(pixels) - width + 1, width)
    return min(min(pixels[row + width - strip : row + width]) for row in rows) > 245


async def test_the_printed_directory_names_the_places_on_a4_portrait(chromium, live_server, world, tmp_path):
    names = [(await place(world.area_a))[1] for _ in range(3)]
    for _ in range(12):  # a city's 生活圏域: the map has four rows or more
        await make_area()
    context = await chromium.new_context(**PHONE)
    try:
        page = await context.new_page()
        await page.goto(f"{live_server.url}/directory")
        first = await page.locator(".places h2").first.inner_text()
        printed = await print_page(page, tmp_path, "directory-print")
        whole = "\n".join(printed.texts)
        assert all(name in whole for name in names), whole[:2000]
        assert first in printed.texts[0], printed.texts[0]  # the map is small: the list starts on page 1
        hidden = await page.evaluate(
            "() => [...document.querySelectorAll('.site-header, .no-print')]"
            ".filter((e) => getComputedStyle(e).display !== 'none').length"
        )
        assert hidden == 0  # the header's navigation and language switch are not printed
        assert printed.pages
        for gray in gray_pages(printed.pdf, tmp_path):
            width, height, pixels = pgm(gray)
            assert abs(width / height - A4_PORTRAIT) < 0.01, gray
            assert right_margin_blank(width, pixels), gray
        if os.environ.get("IBASHO_SCREENSHOTS"):
            (SHOTS / "directory-print.png").write_bytes(printed.pages[0].read_bytes())
    finally:
        await context.close()
