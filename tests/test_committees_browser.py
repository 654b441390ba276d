"""A committee in Chromium against a real server: staff at 1280 px make a 推進委員会 with
two organisations and their members, hold a 全体会議 and keep its minutes on a phone
(390×844, ja-JP); a member reads the minutes on their own page on a phone."""

from __future__ import annotations

from tests.browser import PHONE
from tests.test_events_browser import DESK, logged_in, looks_right


async def test_staff_hold_a_committee_meeting_and_a_member_reads_the_minutes(chromium, live_server, world):
    desk, staff = await logged_in(chromium, live_server, world.staff_a, **DESK)
    phone_context, phone = await logged_in(chromium, live_server, world.staff_a, **PHONE)
    member_context = await chromium.new_context(**PHONE)
    try:
        await staff.goto(f"{live_server.url}/staff")
        await staff.get_by_role("link", name="委員会").click()
        await staff.get_by_label("委員会の名称").fill("地域の居場所づくり推進委員会")
        await staff.get_by_role("button", name="委員会を作成する").click()
        await staff.wait_for_selector("h1:text('地域の居場所づくり推進委員会')")
        committee_url = staff.url
        for name in ("旭川市社会福祉協議会", "旭川市 福祉保険部"):
            await staff.locator("form[action$='/organisations'] input[name=name]").fill(name)
            await staff.get_by_role("button", name="団体を追加する").click()
            await staff.wait_for_selector(f"li:text('{name}')")
        for name, organisation in (("北 花子", "旭川市社会福祉協議会"), ("南 一郎", "旭川市 福祉保険部")):
            form = staff.locator("form[action$='/members']")
            await form.locator("input[name=name]").fill(name)
            await form.locator("select[name=organisation]").select_option(label=organisation)
            await form.locator("input[name=email]").fill("no-address")
            await form.get_by_role("button", name="委員を追加する").click()
            assert "メールアドレスの形が正しくないようです。" in await staff.locator(".error-box").inner_text()
            form = staff.locator("form[action$='/members']")
            assert await form.locator("input[name=name]").input_value() == name  # kept as typed
            await form.locator("input[name=email]").fill(f"{name.split()[1]}@example.jp".replace(" ", ""))
            await form.get_by_role("button", name="委員を追加する").click()
            await staff.wait_for_selector(f"strong:text('{name}')")
        await staff.get_by_text("会議を追加", exact=True).click()
        meeting = staff.locator("form[action$='/meetings']")
        await meeting.locator("select[name=kind]").select_option(label="全体会議")
        await meeting.locator("input[name=title]").fill("第1回 全体会議")
        await meeting.locator("input[name=date]").fill("2026-12-18")
        await meeting.locator("input[name=start_time]").fill("14:00")
        await meeting.locator("input[name=end_time]").fill("16:00")
        await meeting.locator("input[name=venue]").fill("旭川市ときわ市民ホール 2階")
        await meeting.locator("textarea[name=agenda]").fill("1. 助成申請の審査（3件）\n2. 居場所マップについて")
        await meeting.get_by_role("button", name="会議を追加する").click()
        await staff.wait_for_selector("h1:text('第1回 全体会議')")
        meeting_url = staff.url
        await staff.goto(committee_url)
        await looks_right(staff, "committee-staff.png", phone=False, latin=("example.jp",))
        link = (await staff.locator(".secret-link").first.text_content()).strip()  # folded away in <details>

        # the minutes, on a phone at the meeting
        await phone.goto(meeting_url)
        await phone.get_by_label("北 花子（旭川市社会福祉協議会）").check()
        await phone.get_by_label("南 一郎（旭川市 福祉保険部）").check()
        await phone.get_by_label("決まったこと（議事録）").fill(
            "申請3件をすべて承認した。\n居場所マップは次回までに案を作る。"
        )
        await phone.get_by_label("やること", exact=True).fill("申請団体へ結果を通知する")
        await phone.get_by_label("担当").fill("北 花子")
        await phone.get_by_label("期限").fill("2026-12-25")
        await phone.get_by_role("button", name="議事録を保存する").click()
        await phone.wait_for_selector("li:text('申請団体へ結果を通知する')")
        assert await phone.get_by_label("北 花子（旭川市社会福祉協議会）").is_checked()
        await looks_right(phone, "committee-minutes.png")

        member = await member_context.new_page()
        await member.goto(link)
        text = await member.locator("main").inner_text()
        assert "申請3件をすべて承認した。" in text and "申請団体へ結果を通知する（北 花子）" in text
        assert "助成申請の審査" in text and "全体会議" in text
        await looks_right(member, "committee-member.png", latin=())

        # a member leaves: taken off on a phone; their organisation can go once nobody sits for it
        await phone.goto(committee_url)
        await phone.get_by_role("button", name="南 一郎を委員会から外す").click()
        await phone.wait_for_selector("h1:text('地域の居場所づくり推進委員会')")
        assert "南 一郎" not in await phone.locator("ul.people").inner_text()
        await phone.get_by_role("button", name="旭川市 福祉保険部を委員会から外す").click()
        await phone.wait_for_selector("h1:text('地域の居場所づくり推進委員会')")
        assert "旭川市 福祉保険部" not in await phone.locator("main").inner_text()
        await looks_right(phone, "committee-members-phone.png", latin=("example.jp",))
    finally:
        await desk.close()
        await phone_context.close()
        await member_context.close()
