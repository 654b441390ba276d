"""PWA performance figures against the issue's budgets. Prints figures; asserts nothing.

    .venv/bin/python -m tests.bench.bench_pwa
    .venv/bin/python -m tests.bench.bench_pwa --cold-runs 20 --taps 80

Starts its own demo server (``python -m server.cli serve --demo`` on a free port, with a
fresh IBASHO_DATA_DIR and no DATABASE_URL) and drives Debian's Chromium through
Playwright (never ``playwright install``), as organiser kirakura1 on a 390×844 phone:

(a) shell size: every response Chromium receives while it first opens /app/ (the page
    and its service worker's install), icons, the API and /healthz left out, each URL
    counted once; each body gzipped at level 6 and summed. Budget ≤ 60 KB gzipped.
(b) offline cold start: after one online visit, a login, a full sync and service-worker
    control, the context goes offline; each run opens a NEW page on a session's
    attendance tab and measures, inside the page, from navigation start
    (performance.now() is relative to it) to the first ``[data-testid=person]`` button
    in the DOM, plus wall time around page.goto + wait_for_selector. By default the
    service worker is stopped before each run (the phone's real cold start); the warm
    variant, with the worker still running, is printed too. Budget ≤ 1 s.
(c) one attendance tap, offline: inside the page, performance.now() before a click is
    dispatched on a person button, then a MutationObserver resolves when that button's
    data-status changed, which happens only after store.mutate's IndexedDB transaction
    committed. Also printed: the time to the next frame after that. Budget ≤ 50 ms median.
"""

from __future__ import annotations

import argparse
import gzip
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import httpx

from tests.browser import WELCOMED  # the organiser has seen the first-use screens
from tests.server_process import ServerProcess

CHROMIUM = "/usr/bin/chromium"
# As tests/conftest.py CHROMIUM_ARGS (not imported: conftest sets up a test database on import).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 1, "locale": "ja-JP", "has_touch": True}
ORGANISER = ("kirakura1", "ibasho-demo")

BUDGET_SHELL_GZIP_KB = 60.0
BUDGET_COLD_START_MS = 1000.0
BUDGET_TAP_MEDIAN_MS = 50.0


# --- a demo server ------------------------------------------------------------------------


@contextmanager
def demo_server() -> Iterator[ServerProcess]:
    """``ibasho serve --demo`` on a fresh SQLite database in a temporary directory."""
    data_dir = Path(tempfile.mkdtemp(prefix="ibasho-bench-pwa-"))
    env = {**os.environ, "IBASHO_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    server = ServerProcess(env, args=("--demo",), quiet=True)
    try:
        server.start(timeout=120)  # the demo council is generated on start-up
        yield server
    finally:
        server.stop()
        shutil.rmtree(data_dir, ignore_errors=True)


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def log_in_phone(page, url: str, login: str, password: str) -> None:
    """First online visit, login, full sync, then a reload so the service worker controls the page."""
    page.context.add_init_script(WELCOMED)
    page.goto(f"{url}/app/")
    page.wait_for_selector("input[name=login]")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector("a.card-link", timeout=60_000)
    page.wait_for_function("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    page.wait_for_selector('[data-testid=waiting][data-count="0"]', timeout=60_000)


def pick_session(page) -> str:
    """Today's session of the organiser's group, else the latest one held (attendance is
    taken on the day or after it, never ahead)."""
    href = page.evaluate("""() => {
      const cards = (title) => [...document.querySelectorAll('section')]
        .filter((s) => s.querySelector('h2')?.textContent === title)
        .flatMap((s) => [...s.querySelectorAll('a.card-link:not(.cancelled)')]);
      return [...cards('今日'), ...cards('これまで')][0]?.getAttribute('href');
    }""")
    return href.removeprefix("#/session/")


# --- statistics ---------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values)


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]  # nearest rank


# --- (a) shell size -----------------------------------------------------------------------


def measure_shell(browser, url: str) -> dict:
    context = browser.new_context(**PHONE)
    seen: dict[str, object] = {}
    by: dict[str, set[str]] = {}

    def on_response(response) -> None:
        seen.setdefault(response.url, response)
        by.setdefault(response.url, set()).add("sw" if response.request.service_worker else "page")

    context.on("response", on_response)  # the page's requests and its service worker's
    page = context.new_page()
    page.goto(f"{url}/app/")
    page.wait_for_selector("[data-testid=welcome]")  # a fresh phone opens on the first-use screens
    page.wait_for_function("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(500)

    files = []
    for address, response in seen.items():
        path = urlparse(address).path
        if urlparse(address).netloc != urlparse(url).netloc:
            continue
        if "/icons/" in path or path.startswith("/api/") or path == "/healthz":
            continue
        try:
            body = response.body()
        except Exception:
            body = b""
        if not body:  # a service worker's response may not keep its body: ask again
            body = httpx.get(address).content
        path = f"{path}  [{'+'.join(sorted(by[address]))}]"
        files.append((path, response.status, len(body), len(gzip.compress(body, compresslevel=6))))
    context.close()

    requested = {urlparse(address).path for address in seen}
    missing = [p for p in ("/app/", "/sw.js", "/manifest.webmanifest") if p not in requested]
    for path in missing:  # not requested on this visit (Chromium may fetch the manifest lazily)
        body = httpx.get(f"{url}{path}").content
        files.append(
            (path + "  (not requested; fetched for the sum)", 200, len(body), len(gzip.compress(body, compresslevel=6)))
        )
    files.sort(key=lambda f: -f[3])
    return {
        "files": files,
        "raw": sum(f[2] for f in files),
        "gzip": sum(f[3] for f in files),
    }


# --- (b) offline cold start and (c) a tap ---------------------------------------------------

FIRST_PERSON_SCRIPT = """
(() => {
  const mark = () => {
    if (window.__firstPersonAt === undefined && document.querySelector('[data-testid=person]')) {
      window.__firstPersonAt = performance.now();
      return true;
    }
    return false;
  };
  const observer = new MutationObserver(() => { if (mark()) observer.disconnect(); });
  observer.observe(document, { childList: true, subtree: true });
})();
"""

TAP_SCRIPT = """
async (n) => {
  const view = document.getElementById('view');
  const buttons = () => document.querySelectorAll('[data-testid=person]');
  const frame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  const results = [];
  for (let i = 0; i < n; i++) {
    const index = i % buttons().length;
    const before = buttons()[index].dataset.status;
    await frame();
    const updated = new Promise((resolve) => {
      const observer = new MutationObserver(() => {
        const button = buttons()[index];
        if (button && button.dataset.status !== before) {
          observer.disconnect();
          resolve(performance.now());
        }
      });
      observer.observe(view, { childList: true, subtree: true, attributes: true, attributeFilter: ['data-status'] });
    });
    const start = performance.now();
    buttons()[index].click();
    const domAt = await updated;
    await new Promise((resolve) => requestAnimationFrame(resolve));
    const paintAt = performance.now();
    results.push([domAt - start, paintAt - start]);
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
  return results;
}
"""


def measure_offline(browser, url: str, cold_runs: int, taps: int) -> dict:
    context = browser.new_context(**PHONE)
    context.add_init_script(FIRST_PERSON_SCRIPT)
    page = context.new_page()
    log_in_phone(page, url, *ORGANISER)
    session = pick_session(page)
    target = f"{url}/app/#/session/{session}/attendance"
    page.goto(target)
    page.wait_for_selector("[data-testid=person]")
    people = page.locator("[data-testid=person]").count()
    context.set_offline(True)
    page.close()

    def run(stop_worker: bool) -> tuple[float, float]:
        if stop_worker:
            helper = context.new_page()
            cdp = context.new_cdp_session(helper)
            cdp.send("ServiceWorker.enable")
            cdp.send("ServiceWorker.stopAllWorkers")
            cdp.detach()
            helper.close()
        fresh = context.new_page()
        started = time.perf_counter()
        fresh.goto(target, wait_until="commit")
        fresh.wait_for_selector("[data-testid=person]")
        wall = (time.perf_counter() - started) * 1000
        in_page = fresh.evaluate("window.__firstPersonAt")
        if fresh.evaluate("navigator.onLine"):
            print("    warning: the page believes it is online", file=sys.stderr)
        fresh.close()
        return in_page, wall

    run(True)  # one warm-up run, not counted
    cold = [run(True) for _ in range(cold_runs)]
    warm = [run(False) for _ in range(cold_runs)]

    page = context.new_page()
    page.goto(target)
    page.wait_for_selector("[data-testid=person]")
    page.wait_for_timeout(300)
    tap_results = page.evaluate(TAP_SCRIPT, taps)
    pending = int(page.get_attribute("[data-testid=waiting]", "data-count"))
    context.close()
    return {
        "session": session,
        "people": people,
        "cold": cold,
        "warm": warm,
        "taps_dom": [r[0] for r in tap_results],
        "taps_frame": [r[1] for r in tap_results],
        "pending_after_taps": pending,
    }


# --- report -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold-runs", type=int, default=10)
    parser.add_argument("--taps", type=int, default=40)
    options = parser.parse_args()

    from playwright.sync_api import sync_playwright

    print("starting the demo server…", flush=True)
    with demo_server() as server, sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            shell = measure_shell(browser, server.url)
            offline = measure_offline(browser, server.url, options.cold_runs, options.taps)
        finally:
            browser.close()

    print("\n(a) first load of the app shell (icons excluded), gzip level 6 per file")
    print("    [page] requested by the page, [sw] by the service worker's install (each URL counted once)")
    print(f"    {'file':<58} {'status':>6} {'bytes':>8} {'gzip':>7}")
    for path, status, raw, packed in shell["files"]:
        print(f"    {path:<58} {status:>6} {raw:>8} {packed:>7}")
    print(f"    {'total':<58} {'':>6} {shell['raw']:>8} {shell['gzip']:>7}")
    print(f"    = {shell['raw'] / 1024:.1f} KB uncompressed, {shell['gzip'] / 1024:.1f} KB gzipped")

    cold_page = [c[0] for c in offline["cold"]]
    cold_wall = [c[1] for c in offline["cold"]]
    warm_page = [c[0] for c in offline["warm"]]
    warm_wall = [c[1] for c in offline["warm"]]
    print(
        f"\n(b) offline cold start to the attendance list (session {offline['session']}, "
        f"{offline['people']} people), {len(cold_page)} runs each"
    )
    print(
        f"    service worker stopped first: in page median {median(cold_page):.0f} ms, p90 {p90(cold_page):.0f} ms; "
        f"wall median {median(cold_wall):.0f} ms, p90 {p90(cold_wall):.0f} ms"
    )
    print(
        f"    service worker still running: in page median {median(warm_page):.0f} ms, p90 {p90(warm_page):.0f} ms; "
        f"wall median {median(warm_wall):.0f} ms, p90 {p90(warm_wall):.0f} ms"
    )
    print(f"    runs, in page (worker stopped): {' '.join(f'{v:.0f}' for v in cold_page)}")

    dom, frame = offline["taps_dom"], offline["taps_frame"]
    print(f"\n(c) one attendance tap offline, {len(dom)} taps (outbox afterwards: {offline['pending_after_taps']})")
    print(
        f"    tap → IndexedDB committed → data-status changed: median {median(dom):.1f} ms, p90 {p90(dom):.1f} ms, "
        f"max {max(dom):.1f} ms"
    )
    print(f"    … to the next frame: median {median(frame):.1f} ms, p90 {p90(frame):.1f} ms")

    rows = [
        (
            "(a) shell, gzipped",
            f"{shell['gzip'] / 1024:.1f} KB",
            f"≤ {BUDGET_SHELL_GZIP_KB:.0f} KB",
            shell["gzip"] / 1024 <= BUDGET_SHELL_GZIP_KB,
        ),
        (
            "(b) offline cold start, median",
            f"{median(cold_page):.0f} ms",
            f"≤ {BUDGET_COLD_START_MS:.0f} ms",
            median(cold_page) <= BUDGET_COLD_START_MS,
        ),
        (
            "(b) offline cold start, p90",
            f"{p90(cold_page):.0f} ms",
            f"≤ {BUDGET_COLD_START_MS:.0f} ms",
            p90(cold_page) <= BUDGET_COLD_START_MS,
        ),
        (
            "(c) attendance tap, median",
            f"{median(dom):.1f} ms",
            f"≤ {BUDGET_TAP_MEDIAN_MS:.0f} ms",
            median(dom) <= BUDGET_TAP_MEDIAN_MS,
        ),
        ("(c) attendance tap, p90 (no budget)", f"{p90(dom):.1f} ms", "—", None),
    ]
    print(f"\n{'figure':<38} {'measured':>10} {'budget':>10}  within budget")
    for name, measured, budget, ok in rows:
        verdict = "—" if ok is None else ("yes" if ok else "NO")
        print(f"{name:<38} {measured:>10} {budget:>10}  {verdict}")


if __name__ == "__main__":
    main()
