"""The organiser app's standards (issue 18): in Japanese mode no screen shows English, every
message has its Japanese text, and axe-core finds nothing to fix on any screen. One walk of
every screen and state (online, offline, refused, conflict, empty, first use), in ja-JP at
390×844, checks both at each stop."""

from __future__ import annotations

import os
import re
import uuid
from datetime import date
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe

from server.sync.store import backfill_change_log
from server.tables import Note, Person
from tests.browser import PHONE, latin_runs, open_phone, put_meta, wait_synced
from tests.factories import add_session, make_venue, start_server
from tests.server_process import REPO

PWA_JS = REPO / "pwa" / "js"

# What the screens say does not depend on the database: the walk runs once, on SQLite.
pytestmark = pytest.mark.skipif(
    os.environ.get("IBASHO_TEST_ENGINE", "sqlite") != "sqlite", reason="the app's screens, checked once on SQLite"
)


@pytest.fixture(scope="module")
def server():
    live = start_server()
    yield live
    live.stop()


def static_message_keys() -> set[str]:
    """Every key the app's code names literally in t("…")."""
    keys: set[str] = set()
    for path in Path(PWA_JS).rglob("*.js"):
        keys |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_]+)["']""", path.read_text()))
    return keys


def dynamic_message_prefixes() -> set[str]:
    """The prefixes of keys the code builds, as in t(`outcome_${…}`)."""
    prefixes: set[str] = set()
    for path in Path(PWA_JS).rglob("*.js"):
        prefixes |= set(re.findall(r"\bt\(`([a-z0-9_]+)\$\{", path.read_text()))
    return prefixes


async def test_every_message_key_has_a_japanese_text(chromium, live_server):
    from server.pwa.routes import asset_url

    page = await (await chromium.new_context()).new_page()
    await page.goto(f"{live_server.url}/healthz")  # same origin, no service worker
    messages = await page.evaluate("(url) => import(url).then((m) => m.MESSAGES)", asset_url("js/i18n.js"))
    await page.context.close()
    japanese = {key for key, text in messages["ja"].items() if text.strip()}
    assert set(messages["en"]) - japanese == set()
    assert static_message_keys() - japanese == set()
    for prefix in dynamic_message_prefixes():
        assert any(key.startswith(prefix) for key in japanese), prefix
    # (a message the code names only through a variable is found by the walk below, shown)


async def check(page, axe: Axe, where: str) -> None:
    """At one stop of the walk: no English, and no accessibility violation at all."""
    await page.wait_for_timeout(250)  # the screen has drawn
    assert await latin_runs(page) == [], where
    results = await axe.run(page)
    violations = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in results.response["violations"]]
    assert violations == [], where


async def test_every_screen_and_state_in_japanese_and_accessible(chromium, server):
    axe = Axe()
    venue = await make_venue()
    group, session = venue["group"], venue["session"]
    meeting = await add_session(group, None, date.today(), kind="meeting", title="運営会議")
    await Person.insert(
        Person(id=uuid.uuid4(), group=group, display_name="森 一郎", kana="もり", kind="volunteer", hlcs={})
    )
    await backfill_change_log()

    # First use and the login, before anyone is logged in.
    context = await chromium.new_context(**PHONE)
    page = await context.new_page()
    await page.goto(f"{server.url}/app/")
    for step in (1, 2, 3):
        await page.wait_for_selector(f"[data-testid=welcome][data-step='{step}']")
        await check(page, axe, f"welcome {step}")
        await page.locator("[data-testid=welcome] button.primary").click()
    await page.wait_for_selector("input[name=login]")
    await check(page, axe, "login")
    await page.fill("input[name=login]", "nobody")
    await page.fill("input[name=password]", "wrong-password")
    await page.click("button[type=submit]")
    await page.get_by_text("ログイン名またはパスワードが違います").wait_for()
    await check(page, axe, "login refused")
    await context.close()

    context, page = await open_phone(chromium, server, venue["organisers"][0])
    screens = {
        "home": "#/",
        "attendance": f"#/session/{session}/attendance",
        "tallies": f"#/session/{session}/tallies",
        "roles": f"#/session/{session}/roles",
        "notes": f"#/session/{session}/notes",
        "roster": f"#/roster/{group}",
        "new session": f"#/new/{group}",
        "history (empty)": "#/history",
        "settings": "#/settings",
        "meeting members": f"#/session/{meeting}/members",
        "meeting minutes": f"#/session/{meeting}/minutes",
    }
    for name, screen in screens.items():
        await page.goto(f"{server.url}/app/{screen}")
        await check(page, axe, name)

    # Offline, with changes waiting, a follow-up card and a change sent.
    await context.set_offline(True)
    await page.goto(f"{server.url}/app/#/session/{session}/attendance")
    row = page.locator(".attendance li").first
    for _ in range(2):
        await row.locator("[data-testid=absence]").click()
    await page.wait_for_selector("[data-testid=safety-check]")
    await check(page, axe, "offline, waiting, safety check")
    await page.click("button:has-text('全員出席')")
    await page.goto(f"{server.url}/app/#/")
    await page.locator("[data-testid=logout] button").click()
    await page.get_by_text("まだ送信していない記録が").wait_for()
    await check(page, axe, "logout with changes waiting")
    await context.set_offline(False)
    await wait_synced(page)
    await page.goto(f"{server.url}/app/#/history")
    await page.locator("[data-testid=history] li").first.wait_for()
    await check(page, axe, "history")

    # A conflict on a note, and a refusal.
    await Note.insert(
        Note(
            id=uuid.UUID(session),
            session=uuid.UUID(session),
            handover="鍵を返す",
            conflicts=[{"field": "handover", "text": "米を買う", "hlc": "000001795532982127-00000-x", "by": ""}],
            hlcs={"handover": "000001795532982128-00000-x"},
        )
    )
    await backfill_change_log()
    await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    await page.goto(f"{server.url}/app/#/session/{session}/notes")
    await page.locator("[data-testid=conflict]").wait_for(timeout=15_000)
    await check(page, axe, "note conflict")
    refused = {"seq": 99, "name": "attendance.set", "args": {"status": "present"}, "code": "deleted"}
    refused |= {"params": {"entity": "person"}, "person": {"display_name": "新井 花子", "group_id": str(group)}}
    await put_meta(page, "rejected", [refused])
    await page.reload()
    await page.locator("[data-testid=refusal]").wait_for()
    await check(page, axe, "refusal")

    # The largest text size, on a few screens.
    await page.goto(f"{server.url}/app/#/settings")
    await page.click("button[data-size=xlarge]")
    for name in ("home", "attendance", "notes"):
        await page.goto(f"{server.url}/app/{screens[name]}")
        await check(page, axe, f"{name}, largest text")
    await context.close()
