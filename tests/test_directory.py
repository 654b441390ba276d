"""The public directory (登録団体一覧): who is in it, its filters, next dates, map and files."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID, uuid4

import openpyxl
import pytest

from server.core.dates import format_date_ja
from server.tables import Audience, Ibasho, IbashoKind, IbashoStatus, Session, SessionKind, SessionStatus
from tests.factories import make_area, make_group, unique

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
