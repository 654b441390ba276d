"""An ibasho's printable poster (server/reminders/poster.py): public like /i/<id>, with its
next dates, when reminders come, and a QR code that leads to its public page."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta
from uuid import uuid4

import segno

from server.core.dates import format_date_ja
from server.reminders.poster import POSTER_DATES, still_ahead
from server.tables import Ibasho, IbashoStatus, Session, SessionStatus
from tests.factories import NASTY, make_area, make_group, shown_escaped, unique

BASE = "http://testserver.local"  # tests.conftest.asgi_client's base URL
TOKYO = "Asia/Tokyo"


async def make_ibasho(group, status=IbashoStatus.active.value, **values):
    ibasho_id = uuid4()
    await Ibasho.insert(
        Ibasho(
            id=ibasho_id,
            group=group,
            name=unique("すみれの家"),
            status=status,
            timezone=TOKYO,
            created_at=datetime.now(UTC),
            **values,
        )
    )
    return ibasho_id


async def add_session(
    group, ibasho_id, day, start=time(10), end=time(13), status=SessionStatus.scheduled.value, venue=""
):
    now = datetime.now(UTC)
    await Session.insert(
        Session(
            id=uuid4(),
            group=group,
            ibasho=ibasho_id,
            title="",
            date=day,
            start_time=start,
            end_time=end,
            venue=venue,
            status=status,
            hlcs={},
            created_at=now,
            updated_at=now,
        )
    )


def qr_modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules a segno SVG path draws (module units, quiet zone included):
    ``M x y`` / ``m dx dy`` move, ``h n`` paints n modules along row y − 0.5."""
    path = re.search(r'<path[^>]* d="([^"]+)"', svg).group(1)
    x = y = 0.0
    dark = set()
    for command, first, second in re.findall(r"([Mmh])\s*(-?[\d.]+)(?:\s+(-?[\d.]+))?", path):
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second)
        else:
            dark |= {(int(x) + i, int(y)) for i in range(int(first))}
            x += float(first)
    return dark


def expected_modules(url: str, border: int = 4) -> set[tuple[int, int]]:
    """The dark modules of the QR code for ``url``, placed inside segno's default quiet zone."""
    matrix = segno.make(url, error="m").matrix
    return {(x + border, y + border) for y, row in enumerate(matrix) for x, bit in enumerate(row) if bit}


async def test_the_poster_of_an_active_ibasho_has_its_dates_rule_and_a_qr_code_to_its_page(app_client):
    group = await make_group(await make_area())
    ibasho_id = await make_ibasho(
        group,
        venue="西部コミュニティセンター",
        reminder_rule=json.dumps({"day_before_at": "17:30", "hours_before": None}),
    )
    soon = date.today() + timedelta(days=3)
    await add_session(group, ibasho_id, soon)
    await add_session(group, ibasho_id, soon + timedelta(days=1), status=SessionStatus.cancelled.value)
    await add_session(group, ibasho_id, soon + timedelta(days=7), start=time(14), end=None, venue="市民会館")
    for week in range(2, 2 + POSTER_DATES):
        await add_session(group, ibasho_id, soon + timedelta(days=7 * week))
    await add_session(group, ibasho_id, date.today() - timedelta(days=7))  # over

    poster = await app_client.get(f"/i/{ibasho_id}/poster")
    assert poster.status_code == 200 and poster.headers["content-type"].startswith("text/html")
    text = poster.text
    name = (await Ibasho.select(Ibasho.name).where(Ibasho.id == ibasho_id).first())["name"]
    assert f"<h1>{name}</h1>" in text and "会場：西部コミュニティセンター" in text
    assert f"{format_date_ja(soon)} 10:00〜13:00<" in text
    assert f"{format_date_ja(soon + timedelta(days=7))} 14:00〜（市民会館）" in text
    assert format_date_ja(soon + timedelta(days=1)) not in text  # cancelled
    assert format_date_ja(date.today() - timedelta(days=7)) not in text  # past
    dates = re.search(r'<ul class="poster-dates">(.*?)</ul>', text, re.S).group(1)
    assert dates.count("<li>") == POSTER_DATES  # only what fits on the page; /i/<id> lists more
    assert "前日の17:30" in text and "時間前" not in text  # the ibasho's own rule
    assert "『通知を受け取る』を押してください" in text and "ホーム画面に追加" in text

    page_url = f"{BASE}/i/{ibasho_id}"
    assert f'<figcaption class="poster-url">{page_url}</figcaption>' in text
    assert "カレンダーでも受け取れます" in text and f"{page_url}/calendar.ics" in text
    svg = re.search(r"<svg.*?</svg>", text, re.S).group(0)
    assert qr_modules(svg) == expected_modules(page_url)  # what a phone's camera reads is the page's URL
    assert (await app_client.get(page_url.removeprefix(BASE))).status_code == 200


async def test_a_poster_with_no_dates_yet_sends_people_to_the_page(app_client):
    group = await make_group(await make_area())
    ibasho_id = await make_ibasho(group)
    poster = await app_client.get(f"/i/{ibasho_id}/poster")
    assert poster.status_code == 200 and "日程は、下のQRコードのページでお知らせします" in poster.text


async def test_an_inactive_or_unknown_ibasho_has_no_poster(app_client):
    group = await make_group(await make_area())
    for status in (IbashoStatus.paused, IbashoStatus.ended, IbashoStatus.graduated):
        ibasho_id = await make_ibasho(group, status=status.value)
        assert (await app_client.get(f"/i/{ibasho_id}/poster")).status_code == 404
        assert (await app_client.get(f"/i/{ibasho_id}")).status_code == 404  # the same answer as its page
    assert (await app_client.get(f"/i/{uuid4()}/poster")).status_code == 404


def test_a_session_is_on_the_poster_until_it_ends_in_the_ibashos_zone():
    day = date(2030, 6, 9)
    session = {"date": day, "start_time": time(10), "end_time": time(13)}

    def at(hour, minute=0):  # wall-clock time in Tokyo on the session's day, as the server sees it (UTC)
        return datetime(2030, 6, 9, tzinfo=UTC) + timedelta(hours=hour - 9, minutes=minute)

    assert still_ahead(session, TOKYO, at(12, 59)) and not still_ahead(session, TOKYO, at(13))
    # at 08:00 in Tokyo it is still 8 June in UTC: the session is ahead all the same
    assert still_ahead(session, TOKYO, at(8))
    assert still_ahead({**session, "end_time": None}, TOKYO, at(9, 59))
    assert not still_ahead({**session, "end_time": None}, TOKYO, at(10))
    all_day = {"date": day, "start_time": None, "end_time": None}
    assert still_ahead(all_day, TOKYO, at(23, 59)) and not still_ahead(all_day, TOKYO, at(24))


async def test_the_staff_group_page_links_each_active_ibasho_to_its_poster(app_client, world):
    active = [await make_ibasho(world.group_a) for _ in range(2)]
    paused = await make_ibasho(world.group_a, status=IbashoStatus.paused.value)
    await app_client.login(world.staff_a)
    page = await app_client.get(f"/staff/groups/{world.group_a}")
    assert page.status_code == 200
    for ibasho_id in active:
        assert f'<a href="/i/{ibasho_id}/poster" target="_blank" rel="noopener">ポスターを印刷</a>' in page.text
        assert (await app_client.get(f"/i/{ibasho_id}/poster")).status_code == 200
    assert f"/i/{paused}/poster" not in page.text  # no public page, so no poster


async def test_a_hostile_name_or_venue_is_shown_as_text_on_the_poster(app_client):
    group = await make_group(await make_area())
    ibasho_id = await make_ibasho(group, venue=NASTY)
    await Ibasho.update({Ibasho.name: NASTY}).where(Ibasho.id == ibasho_id)
    await add_session(group, ibasho_id, date.today() + timedelta(days=2), venue=f"{NASTY} 2")
    poster = await app_client.get(f"/i/{ibasho_id}/poster")
    assert poster.status_code == 200 and shown_escaped(poster.text)
