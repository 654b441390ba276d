"""In Chromium, against the app the README's run command starts: staff log in and see their area in Japanese."""

from __future__ import annotations

from server.ops.demo import demo_logins


async def test_staff_member_logs_in_and_sees_areas_and_groups_in_japanese(chromium, demo_server):
    staff = next(login for login in demo_logins() if login.login == "staff-west")
    page = await chromium.new_page(locale="ja-JP")
    try:
        await page.goto(f"{demo_server.url}/")
        assert page.url.endswith("/login")
        await page.get_by_label("ログイン名").fill(staff.login)
        await page.get_by_label("パスワード").fill(staff.password)
        await page.get_by_role("button", name="ログイン").click()
        await page.wait_for_url(f"{demo_server.url}/staff")
        assert await page.locator("html").get_attribute("lang") == "ja"
        assert await page.get_by_role("heading", name="圏域と団体").is_visible()
        body = await page.locator("main").inner_text()
        assert "西部圏域" in body and "きらくらの会" in body
        assert "東部圏域" not in body  # another area's groups stay out of sight
    finally:
        await page.close()
