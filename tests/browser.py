"""Helpers for the tests that drive the organiser PWA in Chromium (the ``chromium`` fixture
in tests/conftest.py) against a live server."""

from __future__ import annotations

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
