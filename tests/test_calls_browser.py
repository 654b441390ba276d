"""The call list (電話連絡網) and the email / phone choices in Chromium at 390×844, ja-JP
(issue #16): the organiser fetches the list once with a signal, marks calls with none, and
the marks (欠席の連絡 as 連絡あり欠席) reach the server when the signal is back.

With IBASHO_SCREENSHOTS=1 the screens are also saved under docs/screenshots/.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from uuid import uuid4

import httpx
import pytest

from server.reminders.email import endpoint_key
from server.tables import (
    Attendance,
    CallMark,
    Group,
    GroupMembership,
    LineChannel,
    PushSubscription,
    RoleAssignment,
    SubscriptionChannel,
)
from tests.browser import PHONE, latin_runs, meta_keys, offscreen_controls, open_phone, wait_synced
from tests.factories import (
    Client,
    make_account,
    make_group,
    make_venue,
    staff_organiser_action,
    start_server,
    wait_for_db,
)
from tests.server_process import REPO

NUMBERS = ["0422-11-1111", "0422-22-2222", "0422-33-3333"]


@pytest.fixture(scope="module")
def server():
    live = start_server()
    yield live
    live.stop()


async def shoot(page, name: str) -> None:
    if os.environ.get("IBASHO_SCREENSHOTS"):
        await page.screenshot(path=str(REPO / "docs" / "screenshots" / f"{name}.png"), full_page=True)


async def fits_in_japanese(page, names=()) -> None:
    assert await latin_runs(page, names=names) == []
    assert await offscreen_controls(page) == []
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390


async def line_account(group, name: str, friend_url: str) -> None:
    """A group's LINE account (its token and secret unused: nothing is sent here)."""
    await LineChannel.insert(
        LineChannel(
            id=uuid4(), group=group, name=name, access_token="t", channel_secret="s" * 32, friend_url=friend_url
        )
    )


async def phone_venue() -> dict:
    """A venue whose first three participants asked for a call; both organisers are 連絡係."""
    place = await make_venue()
    now = datetime.now(UTC)
    for person, number in zip(place["people"][:3], NUMBERS, strict=True):
        await PushSubscription.insert(
            PushSubscription(
                id=uuid4(),
                endpoint=endpoint_key(SubscriptionChannel.phone, place["ibasho"], person.id.hex),
                ibasho=place["ibasho"],
                person=person.id,
                channel=SubscriptionChannel.phone.value,
                address=number,
                confirmed_at=now,
                created_at=now,
                updated_at=now,
            )
        )
    for organiser in place["organisers"]:
        await RoleAssignment.insert(
            RoleAssignment(
                id=f"{place['session']}:連絡係:{organiser.account_id}",
                session=place["session"],
                role="連絡係",
                member=organiser.account_id,
                assigned=True,
                hlcs={},
                updated_at=now,
            )
        )
    return place


async def test_calls_are_marked_offline_and_an_absence_reaches_the_attendance(chromium, server):
    place = await phone_venue()
    session = place["session"]
    context, page = await open_phone(chromium, server, place["organisers"][0])
    await page.goto(f"{server.url}/app/#/session/{session}/attendance")
    await page.click("[data-testid=open-calls]")
    await page.wait_for_selector("[data-testid=call-block] [data-testid=call]")
    blocks = page.locator("[data-testid=call-block]")
    assert await blocks.count() == 2
    assert "佐藤 美咲" in await blocks.nth(0).inner_text()
    mine = await blocks.nth(1).inner_text()
    assert "田中 花子（あなた）" in mine and "上田 健" in mine and NUMBERS[1] in mine  # うえだ: last in 五十音
    assert await page.locator("a.tel").first.get_attribute("href") == "tel:0422111111"
    await fits_in_japanese(page)
    await shoot(page, "call-list-phone")

    await context.set_offline(True)
    await page.reload()  # the app shell from the service worker, the list from the phone
    await page.wait_for_selector("[data-testid=calls-offline]")
    first, second = place["people"][0], place["people"][1]
    row = page.locator("[data-testid=call]", has_text=first.display_name)
    await row.locator("[data-testid=call-absent]").click()
    await page.wait_for_selector(f'[data-testid=call][data-outcome=absent]:has-text("{first.display_name}")')
    other = page.locator("[data-testid=call]", has_text=second.display_name)
    await other.locator("[data-testid=call-no_answer]").click()
    await page.wait_for_selector(f'[data-testid=call][data-outcome=no_answer]:has-text("{second.display_name}")')
    await other.locator("[data-testid=call-told]").click()  # called again later: got through
    await page.wait_for_selector(f'[data-testid=call][data-outcome=told]:has-text("{second.display_name}")')
    await row.locator("[data-testid=pending]").wait_for()  # 送信待ち
    await fits_in_japanese(page)
    await shoot(page, "call-list-offline")
    # the attendance tab already shows the absence, still offline
    await page.goto(f"{server.url}/app/#/session/{session}/attendance")
    await page.wait_for_selector(f'.attendance li:has-text("{first.display_name}") [data-status=absent_notified]')
    assert not await CallMark.exists().where(CallMark.session == session)

    await context.set_offline(False)
    await page.evaluate("window.dispatchEvent(new Event('online'))")
    await wait_synced(page)
    await wait_for_db(lambda: CallMark.select(CallMark.id).where(CallMark.id == f"{session}:{second.id}"))
    marks = {row["person"]: row["outcome"] for row in await CallMark.select().where(CallMark.session == session)}
    assert marks == {first.id: "absent", second.id: "told"}
    attendance = await Attendance.select().where(Attendance.id == f"{session}:{first.id}").first()
    assert attendance["status"] == "absent_notified"

    # the printable list, as the phone opens it
    await page.goto(f"{server.url}/calls/{session}")
    text = await page.inner_text("article.sheet")
    assert "連絡係：田中 花子" in text and NUMBERS[0] in text and "○" in text
    await fits_in_japanese(page, names=("A4",))
    await shoot(page, "call-list-print")
    await context.close()


async def test_an_organiser_removed_from_the_group_keeps_no_phone_numbers(chromium, server):
    place = await phone_venue()
    elsewhere = await make_group(place["area"])  # still an organiser there: the phone stays logged in
    organiser = await make_account("organiser", groups=[place["group"], elsewhere])
    context, page = await open_phone(chromium, server, organiser)
    await page.goto(f"{server.url}/app/#/calls/{place['session']}")
    await page.wait_for_selector("[data-testid=call-block] [data-testid=call]")
    assert f"calls:{place['session']}" in await meta_keys(page)

    staff = await make_account("staff", areas=[place["area"]])
    await staff_organiser_action(server, staff, place["group"], organiser.account_id, "remove")
    await page.goto(f"{server.url}/app/#/")
    await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")  # a sync, as on return
    await page.locator("[data-testid=notice]").wait_for()
    assert not [key for key in await meta_keys(page) if key.startswith("calls:")]
    await context.close()


async def test_the_public_page_offers_email_and_for_a_linked_participant_the_phone(chromium, server):
    place = await make_venue()
    await line_account(place["group"], "きらくら", "https://lin.ee/example")
    async with httpx.AsyncClient(base_url=server.url) as http:  # the organiser shows the personal QR code
        organiser = Client(http)
        await organiser.login(place["organisers"][0])
        made = (await organiser.post("/api/push/person-links", json={"person_id": str(place["people"][0].id)})).json()
    visitor = await chromium.new_context(**PHONE)
    page = await visitor.new_page()
    await page.goto(made["url"])
    await page.wait_for_selector("#by-email")
    await page.wait_for_selector("#by-phone")
    await fits_in_japanese(page)
    await shoot(page, "channels-public")
    await page.fill("#by-email input[name=address]", "hanako@example.jp")
    await page.click("#by-email button[type=submit]")
    await page.wait_for_selector("text=確認のメールを送りました")
    await fits_in_japanese(page, names=("hanako", "example.jp"))
    await shoot(page, "channels-email-sent")
    assert await wait_for_db(
        lambda: PushSubscription.select(PushSubscription.id).where(
            (PushSubscription.address == "hanako@example.jp") & (PushSubscription.ibasho == place["ibasho"])
        )
    )
    await page.go_back()
    await page.click("#by-line button[type=submit]")
    await page.wait_for_selector("[data-testid=line-code]")
    code = (await page.inner_text("[data-testid=line-code]")).strip()
    assert len(code) == 14 and code.replace(" ", "").isdigit()  # 12 digits, in fours
    await fits_in_japanese(page, names=("LINE",))
    await shoot(page, "channels-line-code")
    await page.go_back()
    await page.fill("#by-phone input[name=phone]", "0422-11-1111")
    await page.click("#by-phone button[type=submit]")
    await page.wait_for_selector("text=ボランティアが 0422-11-1111 にお電話します")
    await visitor.close()


async def test_an_organiser_asks_for_email_reminders_in_the_settings(chromium, server):
    place = await make_venue()
    context, page = await open_phone(chromium, server, place["organisers"][0])
    await page.goto(f"{server.url}/app/#/settings")
    await page.fill("input[name=reminder_email]", "tanaka@example.jp")
    await page.click("[data-testid=email-form] button[type=submit]")
    await page.wait_for_selector('[data-testid=email-status]:has-text("確認のメールを送りました")')
    await fits_in_japanese(page, names=("tanaka", "example.jp"))
    await shoot(page, "channels-organiser-email")
    rows = await wait_for_db(
        lambda: PushSubscription.select(PushSubscription.account).where(PushSubscription.address == "tanaka@example.jp")
    )
    assert rows[0]["account"] == place["organisers"][0].account_id
    await context.close()


async def test_staff_stop_a_line_account_and_start_it_again_on_a_phone(chromium, server):
    place = await make_venue()
    await LineChannel.insert(
        LineChannel(id=uuid4(), group=place["group"], name="きらくら", access_token="t", channel_secret="s" * 32)
    )
    area = (await Group.select(Group.area).where(Group.id == place["group"]).first())["area"]
    staff = await make_account("staff", areas=[area])
    context = await chromium.new_context(**PHONE)
    page = await context.new_page()
    await page.goto(f"{server.url}/login?next=/staff/line")
    await page.fill("input[name=login]", staff.login)
    await page.fill("input[name=password]", staff.password)
    await page.click("form[action='/login'] button[type=submit]")
    await page.wait_for_url("**/staff/line")
    row = page.locator("[data-testid=line-channel]", has_text="きらくら")
    await row.locator("button", has_text="停止する").click()
    await page.wait_for_selector('[data-testid=line-channel]:has-text("停止中")')
    assert await offscreen_controls(page) == []
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await shoot(page, "staff-line-stopped")
    await row.locator("button", has_text="再開する").click()
    await page.wait_for_selector('[data-testid=line-channel]:has-text("送信中")')
    assert (await LineChannel.select(LineChannel.enabled).where(LineChannel.group == place["group"]).first())["enabled"]
    await context.close()


async def test_an_organiser_gets_a_line_code_in_the_settings_and_is_told_where_there_is_none(chromium, server):
    place = await make_venue()
    organiser = place["organisers"][0]
    await line_account(place["group"], "ひまわりの会", "https://lin.ee/himawari")
    area = (await Group.select(Group.area).where(Group.id == place["group"]).first())["area"]
    without = await make_group(area, name=f"つばきの会{uuid4().int % 10**6}")  # no LINE account, nor the council's
    await GroupMembership.insert(GroupMembership(id=uuid4(), account=organiser.account_id, group=without))
    context, page = await open_phone(chromium, server, organiser)
    await page.goto(f"{server.url}/app/#/settings")
    await page.wait_for_selector("[data-testid=line-none]")
    assert "LINEでは受け取れない" in await page.inner_text("[data-testid=line-none]")
    await page.click("[data-testid=line-group] button:has-text('LINE用のコードを表示する')")
    await page.wait_for_selector("[data-testid=line-code]")
    code = (await page.inner_text("[data-testid=line-code]")).strip()
    assert len(code) == 14 and code.replace(" ", "").isdigit()  # 12 digits, in fours
    assert await page.get_attribute("a:has-text('友だち追加')", "href") == "https://lin.ee/himawari"
    await fits_in_japanese(page, names=("LINE",))
    await page.locator("[data-testid=line-code]").scroll_into_view_if_needed()
    if os.environ.get("IBASHO_SCREENSHOTS"):  # the screen as seen: the steps and the code above the status bar
        await page.screenshot(path=str(REPO / "docs" / "screenshots" / "channels-organiser-line.png"))
    rows = await wait_for_db(
        lambda: PushSubscription.select(PushSubscription.account, PushSubscription.endpoint).where(
            PushSubscription.endpoint.like(f"line-code:%:{code.replace(' ', '')}")
        )
    )
    assert rows[0]["account"] == organiser.account_id
    await context.close()
