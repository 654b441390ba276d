"""The service worker shows a reminder in Japanese when a push arrives (Chromium, CDP push)."""

from __future__ import annotations

import json
from datetime import date, time
from uuid import uuid4

from server.reminders.delivery import payload_for


async def test_a_push_shows_a_japanese_notification_tagged_with_its_occurrence(chromium, live_server):
    context = await chromium.new_context(locale="ja-JP")
    await context.grant_permissions(["notifications"], origin=live_server.url)
    page = await context.new_page()
    await page.goto(f"{live_server.url}/app/")
    # the push goes to the registration: an active worker is enough (no reload, which the app may race)
    await page.wait_for_function("navigator.serviceWorker.ready.then((r) => r.active !== null)")

    cdp = await context.new_cdp_session(page)
    registrations = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
    await cdp.send("ServiceWorker.enable")
    for _ in range(200):  # the machine may be busy
        if any(r["scopeURL"].endswith("/app/") for r in registrations):
            break
        await page.wait_for_timeout(100)
    registration_id = next(r["registrationId"] for r in registrations if r["scopeURL"].endswith("/app/"))

    session_id = uuid4()
    row = {"occurrence": f"{session_id}:2030-06-09T1000:day_before", "start_time": time(10), "title": "きらくら",
           "venue": "西部コミセン", "session": session_id, "date": date(2030, 6, 9)}
    payload = json.loads(payload_for(row))
    await cdp.send("ServiceWorker.deliverPushMessage", {
        "origin": live_server.url, "registrationId": registration_id, "data": json.dumps(payload, ensure_ascii=False)})
    shown = []
    for _ in range(200):
        shown = await page.evaluate("""async () => (await (await navigator.serviceWorker.ready).getNotifications())
            .map((n) => ({title: n.title, body: n.body, tag: n.tag, data: n.data}))""")
        if shown:  # noqa: SIM102
            break
        await page.wait_for_timeout(100)
    assert shown == [{"title": "きらくらのお知らせ", "body": "明日 10:00 から（西部コミセン）", "tag": row["occurrence"],
                      "data": {"url": f"/app/#/session/{session_id}"}}]
    await context.close()
