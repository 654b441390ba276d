"""Screenshots of the organiser PWA and the staff pages, for docs/screenshots/.

    .venv/bin/python -m tests.bench.screenshots                # every screen
    .venv/bin/python -m tests.bench.screenshots --only grants  # the grant programme pages

Starts a demo server as tests/bench/bench_pwa.py does and drives Debian's Chromium:
a fresh phone's three first-use screens; organiser kirakura1 on a 390×844 phone (device
scale 1, ja-JP) — home, one session's attendance (a few people marked), tallies (a few
counts), roles, notes (Japanese text in every field, 気になる参加者 included), the roster,
the history, the settings and a meeting's members and minutes, then each of them again at
the largest text size (``*-xlarge.png``); then staff-west at 1280×800 — the staff home and
the page of きらくらの会; then the admin's grant programme pages at 390 px and 1280 px —
the list with presets, a programme, its form with a preview for きらくらの会, and the
amount page; then staff-west's follow-up list and an area's annual report at 1280 px and
390 px (``--only work``). Writes docs/screenshots/*.png and names any element wider than the phone.
"""

from __future__ import annotations

from pathlib import Path

from tests.bench.bench_pwa import (
    PHONE,
    demo_server,
    launch,
    log_in_phone,
    pick_session,
)
from tests.server_process import REPO

OUT = REPO / "docs" / "screenshots"
ORGANISER = ("kirakura1", "ibasho-demo")
STAFF = ("staff-west", "ibasho-staff")
GROUP_NAME = "きらくらの会"
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Mobile/15E148 Safari/604.1"
)
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1, "locale": "ja-JP"}

NOTES = {
    "went_well": "新しい親子が二組来てくれた。カレーはおかわりが続出で、30食がすぐになくなった。",
    "to_improve": "受付が11時台に混雑した。名札を事前に用意しておきたい。",
    "handover": "次回は椅子を10脚追加。お米を5kg買い足す。鍵は事務局に返却済み。",
    "concerns": "Aさん（小3）が最近元気がない様子。次回それとなく声をかける。",
}


# The latest meeting (会議) the phone holds, through the app's own store module.
LATEST_MEETING = """async () => {
  const store = await import(document.querySelector('script[type=module]').src.replace(/app\\.js$/, 'store.js'));
  const meetings = (await store.list('session')).map((row) => row.data).filter((s) => s.kind === 'meeting');
  return meetings.sort((a, b) => b.date.localeCompare(a.date))[0]?.id;
}"""


def shoot(page, name: str, **options) -> Path:
    path = OUT / name
    page.wait_for_timeout(300)  # let the last redraw and fonts settle
    page.screenshot(path=str(path), **options)
    print(f"wrote {path.relative_to(REPO)} ({path.stat().st_size // 1024} KB)")
    return path


def horizontal_overflow(page) -> list[str]:
    """Elements wider than the viewport (what would scroll sideways on a phone)."""
    return page.evaluate("""() => {
      const width = document.documentElement.clientWidth;
      const found = [];
      const scrolled = document.documentElement.scrollWidth;
      if (scrolled > width) found.push(`document ${scrolled}px`);
      for (const el of document.querySelectorAll('body *')) {
        const box = el.getBoundingClientRect();
        if (box.width && (box.right > width + 0.5 || box.left < -0.5)) {
          found.push(`${el.tagName.toLowerCase()}.${el.className} ${Math.round(box.left)}..${Math.round(box.right)}px`);
        }
      }
      return found.slice(0, 10);
    }""")


def organiser_screens(browser, url: str) -> None:
    first_use(browser, url)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    log_in_phone(page, url, *ORGANISER)

    def check(label: str) -> None:
        if problems := horizontal_overflow(page):
            print(f"  {label}: wider than the screen: {problems}")

    def synced() -> None:
        page.wait_for_selector('[data-testid=waiting][data-count="0"]', timeout=30_000)

    page.evaluate("window.scrollTo(0, 0)")
    check("home")
    shoot(page, "pwa-home.png")

    session = pick_session(page)
    page.goto(f"{url}/app/#/session/{session}/attendance")
    rows = page.locator(".attendance li")
    rows.first.wait_for()
    for index, button, taps in (
        (0, "person", 1),
        (1, "person", 1),
        (2, "absence", 1),
        (3, "person", 1),
        (4, "absence", 2),
    ):
        for _ in range(taps):
            before = rows.nth(index).locator("[data-testid=person]").get_attribute("data-status")
            rows.nth(index).locator(f"[data-testid={button}]").click()
            page.wait_for_function(
                "([i, before]) => document.querySelectorAll('[data-testid=person]')[i].dataset.status !== before",
                arg=[index, before],
            )
    synced()
    check("attendance")
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, "pwa-attendance.png")

    page.click(f"a[href='#/session/{session}/tallies']")
    page.wait_for_selector("[data-testid=tally-total]")
    for category, count in (
        ("child", 5),
        ("adult", 3),
        ("senior", 4),
        ("parent_child", 2),
        ("first_time", 1),
        ("volunteer", 6),
    ):
        counted = int(page.inner_text(f"[data-testid=tally-{category}]"))  # a held session may have counts already
        for number in range(counted + 1, counted + count + 1):
            page.click(f"[data-category={category}] button[aria-label$='+1']")
            page.wait_for_selector(f"[data-testid=tally-{category}]:text-is('{number}')")
    synced()
    check("tallies")
    shoot(page, "pwa-tallies.png")

    page.click(f"a[href='#/session/{session}/roles']")
    page.wait_for_selector(".roles li")
    for role_index, chip_index in ((0, 0), (1, 1), (2, 0)):
        page.locator(".roles li").nth(role_index).locator("button.chip").nth(chip_index).click()
        page.wait_for_selector(f".roles li >> nth={role_index} >> button.chip.on")
    synced()
    check("roles")
    shoot(page, "pwa-roles.png")

    page.click(f"a[href='#/session/{session}/notes']")
    page.wait_for_selector("textarea[name=concerns]")
    for field, text in NOTES.items():
        page.fill(f"textarea[name={field}]", text)
    page.locator("h1").click()  # leaving a field saves it
    synced()
    check("notes")
    # Scrolled to the end so 気になる参加者 shows (the tabs stay on top); a full-page shot
    # would paint the fixed sync bar in the middle of the page.
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    shoot(page, "pwa-notes.png")

    page.click("a.back")  # ← 戻る, as an organiser would
    page.wait_for_selector("a.card-link")
    page.locator("a[href^='#/roster/']").first.click()
    page.wait_for_selector("ul.roster li")
    roster = page.url.split("#", 1)[1]
    page.evaluate("window.scrollTo(0, 0)")
    check("roster")
    shoot(page, "pwa-roster.png")

    screens = {
        "pwa-home": "/",
        "pwa-attendance": f"/session/{session}/attendance",
        "pwa-tallies": f"/session/{session}/tallies",
        "pwa-roles": f"/session/{session}/roles",
        "pwa-notes": f"/session/{session}/notes",
        "pwa-roster": roster.removeprefix("#"),
        "pwa-history": "/history",
        "pwa-settings": "/settings",
    }
    for name in ("pwa-history", "pwa-settings"):
        page.goto(f"{url}/app/#{screens[name]}")
        check(name)
        shoot(page, f"{name}.png")
    if meeting := page.evaluate(LATEST_MEETING):
        for tab in ("members", "minutes"):
            screens[f"pwa-meeting-{tab}"] = f"/session/{meeting}/{tab}"
            page.goto(f"{url}/app/#{screens[f'pwa-meeting-{tab}']}")
            page.wait_for_selector("nav.tabs")
            check(f"meeting {tab}")
            shoot(page, f"pwa-meeting-{tab}.png")

    # Every screen again at the largest text size (とても大きい).
    page.goto(f"{url}/app/#/settings")
    page.click("button[data-size=xlarge]")
    for name, screen in screens.items():
        page.goto(f"{url}/app/#{screen}")
        page.wait_for_selector(".screen > *")
        check(f"{name}, largest text")
        if "/session/" in screen:  # the tab itself, below the 申し送り carried forward
            page.wait_for_selector("nav.tabs")
            page.wait_for_timeout(500)  # the pull after a navigation redraws the screen once
            page.evaluate("document.querySelector('nav.tabs')?.scrollIntoView()")
        shoot(page, f"{name}-xlarge.png")
    context.close()


def first_use(browser, url: str) -> None:
    """The three first-use screens of a fresh phone."""
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{url}/app/")
    for step in (1, 2, 3):
        page.wait_for_selector(f"[data-testid=welcome][data-step='{step}']")
        shoot(page, f"pwa-welcome-{step}.png")
        page.locator("[data-testid=welcome] button.primary").click()
    context.close()


def staff_screens(browser, url: str) -> None:
    context = browser.new_context(**DESKTOP)
    page = context.new_page()
    page.goto(f"{url}/login")
    page.get_by_label("ログイン名").fill(STAFF[0])
    page.get_by_label("パスワード").fill(STAFF[1])
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{url}/staff")
    shoot(page, "staff-home.png")
    page.get_by_role("link", name=GROUP_NAME, exact=True).first.click()
    page.wait_for_url(f"{url}/staff/groups/*")
    shoot(page, "staff-group.png")
    with page.context.expect_page() as opened:  # the poster opens in a tab of its own
        page.get_by_role("link", name="ポスターを印刷").first.click()
    poster = opened.value
    poster.wait_for_load_state("networkidle")
    poster.emulate_media(media="print")
    poster.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi
    shoot(poster, "reminders-poster.png")
    public = browser.new_context(**PHONE, user_agent=IPHONE_SAFARI).new_page()
    public.goto(poster.url.removesuffix("/poster"))
    public.wait_for_selector("#home-screen-steps:not([hidden])")
    shoot(public, "reminders-public-iphone.png", full_page=True)
    public.context.close()
    page.goto(f"{url}/review")
    shoot(page, "review-dashboard.png")
    page.get_by_role("link", name=GROUP_NAME, exact=True).first.click()
    page.wait_for_load_state("networkidle")
    shoot(page, "review-group.png")
    context.close()


ADMIN = ("admin", "ibasho-admin")
MUSASHINO = "身近な地域の居場所づくり助成"


def log_in(page, url: str, login: str, password: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("ログイン名").fill(login)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_load_state("networkidle")


def grant_pages(page, url: str, suffix: str, full: bool) -> None:
    def check(label: str) -> None:
        if suffix and (problems := horizontal_overflow(page)):
            print(f"  {label}: wider than 390 px: {problems}")

    page.goto(f"{url}/review/grants")
    check("grant programmes")
    shoot(page, f"grants-list{suffix}.png", full_page=full)
    page.get_by_role("link", name=MUSASHINO).click()
    page.wait_for_load_state("networkidle")
    check("programme")
    shoot(page, f"grants-programme{suffix}.png", full_page=True)
    amount_url = page.get_by_role("link", name=GROUP_NAME, exact=True).first.get_attribute("href")
    page.get_by_role("link", name="編集", exact=True).click()
    page.wait_for_load_state("networkidle")
    page.select_option("select[name=preview_group]", label=GROUP_NAME)
    page.get_by_role("button", name="試算").click()
    page.wait_for_load_state("networkidle")
    check("form with a preview")
    shoot(page, f"grants-form{suffix}.png", full_page=True)
    page.goto(f"{url}{amount_url}")
    check("amount")
    shoot(page, f"grants-amount{suffix}.png", full_page=True)


def grants_screens(browser, url: str) -> None:
    """The admin's grant pages on a phone (full pages) and on a laptop."""
    for options, suffix in ((PHONE, "-phone"), (DESKTOP, "")):
        context = browser.new_context(**options)
        page = context.new_page()
        log_in(page, url, *ADMIN)
        grant_pages(page, url, suffix, full=bool(suffix))
        context.close()


def work_screens(browser, url: str) -> None:
    """staff-west's follow-up list and the annual report of the area, at 1280 px and 390 px."""
    for options, suffix in ((DESKTOP, ""), (PHONE, "-phone")):
        context = browser.new_context(**options)
        page = context.new_page()
        log_in(page, url, *STAFF)
        page.goto(f"{url}/review/follow-ups")
        if page.locator(".followup summary").count():
            page.locator(".followup summary").first.click()  # one item's actions open
        if suffix and (problems := horizontal_overflow(page)):
            print(f"  follow-ups: wider than 390 px: {problems}")
        shoot(page, f"review-followups{suffix}.png", full_page=True)
        page.goto(f"{url}/review")
        page.get_by_role("link", name="事業報告").first.click()
        page.wait_for_load_state("networkidle")
        if suffix and (problems := horizontal_overflow(page)):
            print(f"  report: wider than 390 px: {problems}")
        shoot(page, f"review-report{suffix}.png", full_page=True)
        context.close()


def main() -> None:
    import argparse

    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=["organiser", "staff", "grants", "work"], help="one set of screens")
    only = parser.parse_args().only
    OUT.mkdir(parents=True, exist_ok=True)
    print("starting the demo server…", flush=True)
    with demo_server() as server, sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            screens = {
                "organiser": organiser_screens,
                "staff": staff_screens,
                "grants": grants_screens,
                "work": work_screens,
            }
            for name, shoot_screens in screens.items():
                if only in (None, name):
                    shoot_screens(browser, server.url)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
