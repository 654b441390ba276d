"""Council events in Chromium against a real server: staff make a course at 1280 px, a
member of the public finds it from the directory on a phone (390×844, ja-JP) and applies,
staff mark attendance per part at the door on a phone, and the 修了証 prints as one A4
page per holder (Chromium's PDF turned into PNG pages by pdftoppm)."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta
from uuid import uuid4

import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import expect

from server.core.clock import now
from server.tables import EventApplication, EventAttendance, EventPart, OutboundMail
from tests.browser import PHONE, SHOTS, logged_in, looks_right
from tests.factories import unique
from tests.printing import gray_pages, pgm

pytestmark = pytest.mark.usefixtures("fresh_event_apply_count")

DESK = {"viewport": {"width": 1280, "height": 900}, "locale": "ja-JP"}


async def marks_on_server(part_ids, n: int) -> None:
    """Wait (10 s at most) for ``n`` marks of the parts on the server: the door page sends them
    in the background."""
    import asyncio

    for _ in range(100):
        if await EventAttendance.count().where(EventAttendance.part.is_in(part_ids)) >= n:
            break
        await asyncio.sleep(0.1)
    assert await EventAttendance.count().where(EventAttendance.part.is_in(part_ids)) == n


async def make_course(page, server, world, title: str, capacity: int = 20) -> str:
    """Through the staff form; returns the event's staff page URL."""
    first = now().date() + timedelta(days=20)
    await page.goto(f"{server.url}/staff/events/new")
    await page.get_by_label("名称").fill(title)
    await page.get_by_label("定員").fill(str(capacity))
    await page.get_by_label("オンライン会議のリンク").fill("https://meet.example.jp/shikin")
    rows = page.locator("fieldset.event-part-row")
    for index, day in enumerate((first, first + timedelta(days=14))):
        row = rows.nth(index)
        await row.get_by_label("日付").fill(day.isoformat())
        await row.get_by_label("開始時刻").fill("13:30")
        await row.get_by_label("終了時刻").fill("16:00")
        await row.locator("input[name=part_venue]").fill("青森県民福祉プラザ 4階 研修室")
        await row.get_by_label("開催方法").select_option("both")
    await page.get_by_role("button", name="催しを作成する").click()
    await page.wait_for_url(re.compile(r"/staff/events/[0-9a-f-]{36}$"))
    return page.url


async def test_staff_make_a_course_and_someone_applies_from_the_directory_on_a_phone(chromium, live_server, world):
    title = f"資金調達講座{uuid4().int % 10**8}"  # digits: no Latin letters on the page
    desk, staff = await logged_in(chromium, live_server, world.staff_a, **DESK)
    phone = await chromium.new_context(**PHONE)
    try:
        await staff.goto(f"{live_server.url}/staff/events/new")
        await staff.get_by_label("名称").fill(title)
        await staff.get_by_role("button", name="催しを作成する").click()  # no capacity, no part
        assert "少なくとも1回分の日付と開始時刻を入力してください。" in await staff.locator(".error-box").inner_text()
        assert await staff.get_by_label("名称").input_value() == title  # kept as typed
        await looks_right(staff, "events-staff-new.png", phone=False)
        event_url = await make_course(staff, live_server, world, title)
        event_id = event_url.rsplit("/", 1)[1]

        page = await phone.new_page()
        await page.goto(f"{live_server.url}/directory")
        await page.locator("main").get_by_role("link", name="社協の講座・催し").click()
        await page.get_by_role("link", name=title).click()
        await page.wait_for_url(f"{live_server.url}/events/{event_id}")
        body = await page.locator("main").inner_text()
        assert "第2回" in body and "全回に出席した方には修了証をお渡しします。" in body
        assert "meet.example.jp" not in body  # only for those registered
        await looks_right(page, "events-event.png")
        await page.locator("input[name=name]").fill("青森 花子")
        await page.get_by_label("メールアドレス").fill("hanako-at-example")
        await page.get_by_role("button", name="この催しに申し込む").click()
        errors = await page.locator(".error-box").inner_text()
        assert "メールアドレスの形が正しくないようです。" in errors and "同意をお願いします" in errors
        assert await page.locator("input[name=name]").input_value() == "青森 花子"
        await looks_right(page, "events-apply-errors.png", latin=("hanako", "example.jp"))
        email = f"{unique('hanako')}@example.jp"
        await page.get_by_label("メールアドレス").fill(email)
        await page.get_by_label("この催しについて社協から連絡を受けることに同意します。（必須）").check()
        await page.get_by_role("button", name="この催しに申し込む").click()
        await page.wait_for_selector("text=確認のメールをお送りしました")
        await looks_right(page, "events-sent.png")
        assert "/events/mine/" not in await page.content()  # only the mail has the applicant's page
        mail = await OutboundMail.select().where(OutboundMail.to_address == email).first()
        assert mail["subject"] == "講座・催しのお申し込みを受け付けました"
        mine = re.search(r"https?://[^\s]+(/events/mine/[^\s]+)", mail["body"])[1]
        await page.goto(live_server.url + mine)
        assert "https://meet.example.jp/shikin" in await page.locator("main").inner_text()
        await looks_right(page, "events-mine.png")

        await staff.goto(event_url)
        assert email in await staff.locator("main").inner_text()  # contact, for the area's staff
        await looks_right(staff, "events-staff-detail.png", phone=False, latin=tuple(email.split("@")))
    finally:
        await desk.close()
        await phone.close()


async def test_the_door_on_a_phone_and_the_certificate_as_a_4_pages(chromium, live_server, world, tmp_path):
    title = f"傾聴講座{uuid4().int % 10**8}"
    desk, staff = await logged_in(chromium, live_server, world.staff_a, **DESK)
    door_phone, door = await logged_in(chromium, live_server, world.staff_a, **PHONE)
    try:
        event_url = await make_course(staff, live_server, world, title)
        event_id = event_url.rsplit("/", 1)[1]
        applicant = await chromium.new_context(**PHONE)
        for name in ("青森 花子", "弘前 一郎", "八戸 さくら"):
            page = await applicant.new_page()
            await page.goto(f"{live_server.url}/events/{event_id}")
            await page.locator("input[name=name]").fill(name)
            await page.get_by_label("メールアドレス").fill(f"{unique('a')}@example.jp")
            await page.get_by_label("この催しについて社協から連絡を受けることに同意します。（必須）").check()
            await page.get_by_role("button", name="この催しに申し込む").click()
            await page.wait_for_selector("text=確認のメールをお送りしました")
            await page.close()
        await applicant.close()
        parts = await EventPart.select().where(EventPart.event == event_id).order_by(EventPart.number)

        # the door, part by part: 花子 and さくら come to both, 一郎 to the first only
        for part, names in (
            (parts[0], ("青森 花子", "弘前 一郎", "八戸 さくら")),
            (parts[1], ("青森 花子", "八戸 さくら")),
        ):
            await door.goto(f"{live_server.url}/staff/events/{event_id}/door/{part['id']}")
            for name in names:
                await door.get_by_role("button", name=f"{name} 未着").click()
                await door.get_by_role("button", name=f"{name} 来場済み").wait_for()
        await marks_on_server([p["id"] for p in parts], 5)  # door.js sends its outbox by itself
        await expect(door.locator(".door-outbox")).to_be_hidden()
        assert "3人中 2人 来場" in await door.locator("main").inner_text()
        await looks_right(door, "events-door.png")
        came = await EventAttendance.count().where(EventAttendance.part.is_in([p["id"] for p in parts]))
        assert came == 5

        await staff.goto(f"{event_url}/certificates")
        text = await staff.locator("main").inner_text()
        assert "青森 花子 様" in text and "八戸 さくら 様" in text and "弘前 一郎" not in text
        last = parts[-1]["date"]
        assert f"令和{last.year - 2018}年{last.month}月{last.day}日" in text  # 和暦, and the Western date beside it
        assert f"（{last.year}年{last.month}月{last.day}日" in text
        pdf = tmp_path / "certificates.pdf"
        await staff.pdf(path=str(pdf), format="A4", print_background=True)
        pages = gray_pages(pdf, tmp_path)
        assert len(pages) == 2  # one A4 page per holder, nothing spilling over
        for path in pages:
            width, height, pixels = pgm(path)
            assert abs(height / width - 297 / 210) < 0.02  # A4 portrait
            ink = [sum(1 for x in range(width) if pixels[y * width + x] < 128) for y in range(height)]
            top, bottom = ink[: height // 3], ink[2 * height // 3 :]
            assert sum(top) > 0 and sum(bottom) > 0  # the title above, the date and issuer below
        subprocess.run(
            ["pdftoppm", "-r", "60", "-png", "-f", "1", "-singlefile", str(pdf), str(SHOTS / "events-certificate")],
            check=True,
        )
        registered = await EventApplication.count().where(EventApplication.event == event_id)
        assert registered == 3
    finally:
        await desk.close()
        await door_phone.close()


async def test_the_door_marks_people_without_a_signal_and_sends_them_once_back_online(chromium, live_server, world):
    from server.tables import AuditLog, CouncilEvent

    event_id, part_id = uuid4(), uuid4()
    day = now().date() + timedelta(days=3)
    await CouncilEvent.insert(
        CouncilEvent(
            id=event_id, area=world.area_a, title="認知症サポーター養成講座", capacity=10, application_deadline=day
        )
    )
    await EventPart.insert(
        EventPart(id=part_id, event=event_id, number=1, date=day, start_time=now().time(), venue="市民センター")
    )
    for name in ("山の上 花子", "谷の底 一郎", "圏外 さくら"):
        await EventApplication.insert(
            EventApplication(event=event_id, name=name, email=f"{unique('d')}@example.jp", applied_at=now())
        )
    context, door = await logged_in(chromium, live_server, world.staff_a, **PHONE)
    try:
        url = f"{live_server.url}/staff/events/{event_id}/door/{part_id}"
        await door.goto(url)
        await door.wait_for_function("navigator.serviceWorker.ready.then(() => true)")
        await door.reload()  # now under the worker, which keeps this page
        await door.wait_for_function("navigator.serviceWorker.controller !== null")

        await context.set_offline(True)
        opened = await door.reload()  # opened again in the hall without a signal: the worker's copy
        assert opened.from_service_worker
        for name in ("山の上 花子", "圏外 さくら"):
            await door.get_by_role("button", name=f"{name} 未着").click()
            await door.get_by_role("button", name=f"{name} 来場済み").wait_for()
        note = door.locator(".door-outbox")
        await expect(note).to_have_text("未送信の記録が2件あります。電波が戻ると送信します。")
        assert "3人中 2人 来場" in await door.locator("main").inner_text()
        await looks_right(door, "events-door-offline.png")
        assert await EventAttendance.count().where(EventAttendance.part == part_id) == 0

        await context.set_offline(False)  # the signal returns: the outbox goes by itself
        await note.wait_for(state="hidden")
        await door.reload()  # and the page sends nothing twice
        await door.get_by_role("button", name="山の上 花子 来場済み").wait_for()
        await door.wait_for_load_state("networkidle")
        came = await EventAttendance.select(EventAttendance.application.name.as_alias("name")).where(
            EventAttendance.part == part_id
        )
        assert sorted(r["name"] for r in came) == ["圏外 さくら", "山の上 花子"]
        audited = await AuditLog.count().where(
            (AuditLog.action == "event.attendance") & (AuditLog.target == f"event:{event_id}")
        )
        assert audited == 2
        await looks_right(door, "events-door-synced.png")

        # a mark made while the login ended is kept, not lost to the login page, until signed in again
        await context.set_offline(True)
        await door.get_by_role("button", name="谷の底 一郎 未着").click()
        await expect(note).to_have_text("未送信の記録が1件あります。電波が戻ると送信します。")
        await context.clear_cookies()
        await context.set_offline(False)
        await door.wait_for_timeout(1500)
        await expect(note).to_have_text("未送信の記録が1件あります。電波が戻ると送信します。")
        assert await EventAttendance.count().where(EventAttendance.part == part_id) == 2
        await door.goto(f"{live_server.url}/login")
        await door.get_by_label("ログイン名").fill(world.staff_a.login)
        await door.get_by_label("パスワード").fill(world.staff_a.password)
        await door.get_by_role("button", name="ログイン").click()
        await door.wait_for_url(re.compile(r"/staff$"))
        await door.goto(url)
        await marks_on_server([part_id], 3)
        await expect(door.locator(".door-outbox")).to_be_hidden()

        # logged out at the end of the day: the phone keeps no copy of the names
        kept = "(path) => caches.match(path).then((copy) => Boolean(copy))"
        door_path = f"/staff/events/{event_id}/door/{part_id}"
        assert await door.evaluate(kept, door_path)
        await door.get_by_role("button", name="ログアウト").click()
        await door.wait_for_url(re.compile(r"/login$"))
        assert not await door.evaluate(kept, door_path)
        await context.set_offline(True)
        with pytest.raises(PlaywrightError):  # no signal and no copy: the door page cannot open
            await door.goto(url)
    finally:
        await context.close()


async def test_staff_edit_an_event_on_a_phone(chromium, live_server, world):
    title = f"傾聴講座{uuid4().int % 10**8}"
    desk, staff = await logged_in(chromium, live_server, world.staff_a, **DESK)
    phone_context, phone = await logged_in(chromium, live_server, world.staff_a, **PHONE)
    try:
        event_url = await make_course(staff, live_server, world, title, capacity=20)
        await phone.goto(event_url)
        await phone.get_by_role("link", name="催しを編集").click()
        await phone.wait_for_selector("h1:text('催しを編集')")
        assert await phone.get_by_label("名称").input_value() == title
        await phone.get_by_label("定員").fill("0")
        await phone.get_by_role("button", name="変更を保存").click()
        assert "定員は1〜1000で入力してください。" in await phone.locator(".error-box").inner_text()
        await phone.get_by_label("定員").fill("30")
        await phone.locator("fieldset.event-part-row").nth(1).get_by_label("開始時刻").fill("14:00")
        await looks_right(phone, "events-edit.png", latin=("https://meet.example.jp/shikin",))
        await phone.get_by_role("button", name="変更を保存").click()
        await phone.wait_for_url(re.compile(r"/staff/events/[0-9a-f-]{36}$"))
        assert "定員30人中 0人 申込済み" in await phone.locator("main").inner_text()
        event_id = event_url.rsplit("/", 1)[1]
        parts = await EventPart.select().where(EventPart.event == event_id).order_by(EventPart.number)
        assert parts[1]["start_time"].strftime("%H:%M") == "14:00"
        await looks_right(phone, "events-staff-detail-phone.png")
    finally:
        await desk.close()
        await phone_context.close()
