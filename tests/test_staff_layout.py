"""Staff pages fit the screen: at 390 px (a phone) no page scrolls sideways, tables become
cards; at 1280 px the group review keeps the same columns every month and no header breaks
one character per line. Against the demo council, whose notes and names are real-sized.

IBASHO_SCREENSHOTS=docs/screenshots keeps a screenshot of each page at both widths."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from server.ops.demo import demo_logins
from tests.browser import offscreen_controls, staff_page
from tests.printing import print_page

SHOTS = os.environ.get("IBASHO_SCREENSHOTS")
KEPT = {
    "dashboard",
    "safety",
    "review-group",
    "review-session",
    "sheet",
    "audit",
    "accounts",
    "group",
}  # docs/screenshots
PHONE, LAPTOP = 390, 1280


async def first_link(page, selector: str) -> str:
    return await page.eval_on_selector(selector, "a => a.getAttribute('href')")


async def staff_pages(page, base: str) -> dict[str, str]:
    """Every kind of staff page, found by following the links a staff member follows."""
    await page.goto(f"{base}/review")
    group = await first_link(page, "table.dashboard a[href^='/review/groups/']")
    await page.goto(base + group)
    session = await first_link(page, "a[href^='/review/sessions/']")
    await page.goto(f"{base}/review/grants")
    programme = await first_link(page, "a[href^='/review/grants/']")
    await page.goto(f"{base}/staff")
    staff_group = await first_link(page, "main li a[href^='/staff/groups/']")
    await page.goto(base + staff_group)
    ibasho = await first_link(page, "a[href^='/staff/ibasho/']")
    await page.goto(f"{base}/admin/accounts")
    account = await first_link(page, "a[href^='/admin/accounts/']")
    return {
        "home": "/staff",
        "group": staff_group,
        "ibasho": ibasho,
        "dashboard": "/review",
        "safety": "/review/safety?show=all",
        "review-group": group,
        "review-session": session,
        "sheet": f"{session}/sheet",
        "paper": f"{session}/paper",
        "grants": "/review/grants",
        "grant-programme": programme,
        "audit": "/review/audit",
        "registrations": "/staff/registrations",
        "areas": "/admin/areas",
        "accounts": "/admin/accounts",
        "account": account,
        "password": "/account/password",
    }


async def test_every_staff_page_fits_a_phone_and_the_laptop(chromium, demo_server, tmp_path):
    admin = next(login for login in demo_logins() if login.role == "admin")
    context, page = await staff_page(chromium, demo_server, admin, width=LAPTOP)
    try:
        paths = await staff_pages(page, demo_server.url)
        wide = []
        for width in (LAPTOP, PHONE):
            await page.set_viewport_size({"width": width, "height": 900})
            for name, path in paths.items():
                response = await page.goto(demo_server.url + path)
                assert response.status == 200, (name, path)
                if problems := await offscreen_controls(page):
                    wide.append(f"{name} at {width}: {problems}")
                if SHOTS and name in KEPT:
                    height = min(3000, await page.evaluate("document.documentElement.scrollHeight"))
                    clip = {"x": 0, "y": 0, "width": width, "height": height}  # a long list's top is enough
                    await page.screenshot(
                        path=str(Path(SHOTS) / f"staff-{name}-{width}.png"), full_page=True, clip=clip
                    )
        assert not wide, "\n".join(wide)
    finally:
        await context.close()


# Per month table of the group review: each header's lines, and where each column starts.
MONTH_TABLES = """() => [...document.querySelectorAll('table.months')].map((table) => {
  const heads = [...table.querySelectorAll('thead th')];
  return heads.map((th) => {
    const box = th.getBoundingClientRect();
    const range = document.createRange();
    range.selectNodeContents(th);
    const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
    return { text: th.innerText, left: Math.round(box.left), width: Math.round(box.width), lines };
  });
})"""


async def test_the_group_review_keeps_its_columns_at_1280(chromium, demo_server):
    admin = next(login for login in demo_logins() if login.role == "admin")
    context, page = await staff_page(chromium, demo_server, admin, width=LAPTOP)
    try:
        await page.goto(f"{demo_server.url}/review")
        group = await first_link(page, "table.dashboard a[href^='/review/groups/']")
        await page.goto(demo_server.url + group)
        tables = await page.evaluate(MONTH_TABLES)
        assert len(tables) >= 3  # several months to compare
        for heads in tables:
            assert [(h["left"], h["width"]) for h in heads] == [(h["left"], h["width"]) for h in tables[0]]
            broken = [h["text"] for h in heads if h["lines"] > 2 or (len(h["text"]) <= 3 and h["lines"] > 1)]
            assert not broken, broken  # was 居/場/所, one character a line
        assert await page.evaluate("document.documentElement.scrollWidth") <= LAPTOP
    finally:
        await context.close()


async def test_the_printed_session_sheet_of_the_demo(chromium, demo_server, tmp_path):
    """The demo's sheet as printed, kept for people to look at (IBASHO_SCREENSHOTS)."""
    admin = next(login for login in demo_logins() if login.role == "admin")
    context, page = await staff_page(chromium, demo_server, admin, width=LAPTOP)
    try:
        await page.goto(f"{demo_server.url}/review")
        group = await first_link(page, "table.dashboard a[href^='/review/groups/']")
        await page.goto(demo_server.url + group)
        session = await first_link(page, "a[href^='/review/sessions/']")
        await page.goto(f"{demo_server.url}{session}/sheet")
        printed = await print_page(page, tmp_path, "staff-sheet-print")
        assert len(printed.pages) == 1 and "反省会" in printed.texts[0] and "よかったこと" in printed.texts[0]
        if SHOTS:
            shutil.copy(printed.pages[0], Path(SHOTS) / "staff-sheet-print.png")
    finally:
        await context.close()


async def test_every_page_names_a_favicon_that_is_there(app_client, world):
    """No 404 for /favicon.ico on every page: the pages name their icon."""
    await app_client.login(world.staff_a)
    for path in ("/login", "/staff", "/review", "/directory"):
        html = (await app_client.get(path)).text
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html, path
    icon = await app_client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.startswith("<svg")
