"""Helpers for the tests that drive the organiser PWA in Chromium (the ``chromium`` fixture
in tests/conftest.py) against a live server."""

from __future__ import annotations

import re
from pathlib import Path

from server.tables import Area

SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "ja-JP", "has_touch": True}


# A phone whose organiser has been through the three first-use screens already.
WELCOMED = "try { localStorage.setItem('ibasho-welcomed', 'yes'); } catch (error) {}"


async def open_phone(chromium, server, person, **options):
    """A phone that has logged in online once and is controlled by the service worker."""
    context = await chromium.new_context(**{**PHONE, **options})
    await context.add_init_script(WELCOMED)
    page = await context.new_page()
    await page.goto(f"{server.url}/app/")
    await page.wait_for_load_state("networkidle")
    await page.fill("input[name=login]", person.login)
    await page.fill("input[name=password]", person.password)
    await page.click("button[type=submit]")
    await page.wait_for_selector("a.card-link")
    await page.wait_for_function("navigator.serviceWorker.ready.then(() => true)")
    await page.reload()
    await page.wait_for_function("navigator.serviceWorker.controller !== null")
    await wait_synced(page)
    return context, page


async def wait_synced(page):
    """Every change of the phone has reached the server (its waiting count is 0)."""
    await page.wait_for_selector('[data-testid=waiting][data-count="0"]', timeout=15_000)


# Latin letters a Japanese screen may show: terms people know in this form, and the names of
# the language switch and of phones.
ALLOWED_LATIN = {"QR", "CSV", "PDF", "LINE", "English", "Android", "iPhone"}

LATIN_RUNS = """(root) => {
  const scope = root ? document.querySelector(root) : document.body;
  if (!scope) return [];
  const texts = [scope.innerText];
  for (const element of scope.querySelectorAll('[placeholder], [aria-label], [title], img[alt]')) {
    if (element.checkVisibility && !element.checkVisibility()) continue;
    texts.push(...['placeholder', 'aria-label', 'title', 'alt'].map((name) => element.getAttribute(name) ?? ''));
  }
  return texts.join(' ').match(/[A-Za-z][A-Za-z0-9_.:-]*/g) ?? [];
}"""


LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]*")  # as LATIN_RUNS finds them


async def latin_runs(page, root: str | None = None, names: tuple[str, ...] = ()) -> list[str]:
    """Runs of Latin letters visible on the page (or within ``root``), beyond the allowed
    terms and the runs of the given names (test data, such as 西部-3fa9c1 or a name of
    hostile text): what an English fallback or developer text looks like."""
    allowed = ALLOWED_LATIN | {run for name in names for run in LATIN_RUN.findall(name)}
    return [run for run in await page.evaluate(LATIN_RUNS, root) if run not in allowed]


OFFSCREEN = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const element of document.querySelectorAll('button, a, input, select, textarea, summary, output, label')) {
    const box = element.getBoundingClientRect();
    if (!box.width && !box.height) continue;  // not shown
    if (box.left < -0.5 || box.right > width + 0.5) {
      const what = (element.innerText || element.name || '').slice(0, 30);
      out.push(`${element.tagName} ${what} ${Math.round(box.left)}..${Math.round(box.right)}`);
    }
  }
  const wide = document.documentElement.scrollWidth;
  if (wide > width + 0.5) out.push(`page ${wide} wide in ${width}`);
  return out;
}"""


async def offscreen_controls(page) -> list[str]:
    """Controls that stick out of the screen sideways, and a page wider than the screen."""
    return await page.evaluate(OFFSCREEN)


OPEN_DB = "new Promise((ok) => { const r = indexedDB.open('ibasho'); r.onsuccess = () => ok(r.result); })"


async def stored_counts(page, *stores: str) -> list[int]:
    """How many rows the phone's IndexedDB holds in each of these object stores."""
    return await page.evaluate(
        f"""async (stores) => {{
          const db = await {OPEN_DB};
          const count = (name) => new Promise((ok) => {{
            const request = db.transaction(name).objectStore(name).count();
            request.onsuccess = () => ok(request.result);
          }});
          return Promise.all(stores.map(count));
        }}""",
        list(stores),
    )


async def meta_keys(page) -> list[str]:
    """The keys of the phone's ``meta`` store (what it keeps beside the records)."""
    return await page.evaluate(
        f"""async () => {{
          const db = await {OPEN_DB};
          return new Promise((ok) => {{
            const request = db.transaction('meta').objectStore('meta').getAllKeys();
            request.onsuccess = () => ok(request.result);
          }});
        }}"""
    )


async def put_meta(page, key: str, value) -> None:
    """Write one value of the phone's ``meta`` store, as the app itself would have."""
    await page.evaluate(
        f"""async ([key, value]) => {{
          const db = await {OPEN_DB};
          const tx = db.transaction('meta', 'readwrite');
          tx.objectStore('meta').put(value, key);
          await new Promise((ok) => {{ tx.oncomplete = ok; }});
        }}""",
        [key, value],
    )


async def staff_page(chromium, server, person, width: int = 1280):
    """A staff member's browser, logged in through the login form, in Japanese."""
    context = await chromium.new_context(viewport={"width": width, "height": 900}, locale="ja-JP")
    page = await context.new_page()
    await page.goto(f"{server.url}/login")
    await page.fill("input[name=login]", person.login)
    await page.fill("input[name=password]", person.password)
    async with page.expect_navigation():
        await page.click("main button[type=submit]")  # not the header's language switch
    assert "/login" not in page.url, await page.locator("main").inner_text()
    return context, page


async def logged_in(chromium, server, person, **context):
    """A staff member's browser (``context``: the viewport, the locale), logged in through the
    login form; returns the browser context and its page, on /staff."""
    browser = await chromium.new_context(**context)
    page = await browser.new_page()
    await page.goto(f"{server.url}/login")
    await page.get_by_label("ログイン名").fill(person.login)
    await page.get_by_label("パスワード").fill(person.password)
    await page.get_by_role("button", name="ログイン").click()
    await page.wait_for_url(re.compile(r"/staff$"))
    return browser, page


async def looks_right(page, shot: str, phone: bool = True, latin: tuple[str, ...] = ()) -> None:
    """Saved as docs/screenshots/``shot``; no English but ``latin`` (an example, a link)."""
    await page.screenshot(path=str(SHOTS / shot), full_page=True)
    names = tuple(row["name"] for row in await Area.select(Area.name))  # the factories' areas are named in Latin
    links = " ".join(await page.locator(".secret-link").all_inner_texts())  # a URL is Latin by nature
    runs = await latin_runs(page, "main", (*names, *latin))
    assert [run for run in runs if run not in links] == [], shot
    if phone:
        assert await offscreen_controls(page) == [], shot
