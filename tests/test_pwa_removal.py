"""A removed organiser's phone, in Chromium against a live server: told in Japanese, and
nothing of the group left in its IndexedDB (server/council/organisers.py, pwa/js/store.js)."""

from __future__ import annotations

import uuid
from datetime import date, time

from server.core.clock import now
from server.sync.store import backfill_change_log
from server.tables import Person, Session
from tests.browser import open_phone
from tests.factories import make_account, make_area, make_group, staff_organiser_action

COUNT_RECORDS = """async () => {
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open("ibasho");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const rows = await new Promise((resolve) => {
    const request = db.transaction("entities").objectStore("entities").getAll();
    request.onsuccess = () => resolve(request.result);
  });
  db.close();
  return rows.map((row) => `${row.entity}:${row.data.group_id ?? row.data.session_id ?? row.id}`);
}"""


async def group_with_session(area, title: str) -> uuid.UUID:
    group = await make_group(area)
    await Session.insert(
        Session(
            id=uuid.uuid4(),
            group=group,
            kind="session",
            title=title,
            date=date.today(),
            start_time=time(10),
            end_time=time(12),
            hlcs={},
            created_at=now(),
            updated_at=now(),
        )
    )
    await Person.insert(
        Person(
            id=uuid.uuid4(), group=group, display_name="新井 花子", contact="090-0000-0000", hlcs={}, updated_at=now()
        )
    )
    return group


async def test_a_removed_organisers_phone_is_told_and_wiped(chromium, live_server, tmp_path):
    area = await make_area()
    kept = await group_with_session(area, "残る会の開催")
    lost = await group_with_session(area, "外れる会の開催")
    organiser = await make_account("organiser", groups=[kept, lost])
    staff = await make_account("staff", areas=[area])
    await backfill_change_log()
    context, page = await open_phone(chromium, live_server, organiser)
    await page.wait_for_selector("text=外れる会の開催")
    assert any(row.endswith(str(lost)) for row in await page.evaluate(COUNT_RECORDS))

    # removed from one group: that group goes, the other stays, and the phone says why
    await staff_organiser_action(live_server, staff, lost, organiser.account_id, "remove")
    await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")  # a sync, as on return to the app
    notice = page.locator("[data-testid=notice]")
    await notice.wait_for()
    assert "運営メンバーから外れたため" in await notice.inner_text()
    await page.screenshot(path=str(tmp_path / "removed.png"))
    records = await page.evaluate(COUNT_RECORDS)
    assert records and not any(str(lost) in row for row in records)
    assert any(row.endswith(str(kept)) for row in records)
    assert await page.locator("text=外れる会の開催").count() == 0
    await notice.locator("button").click()
    await notice.wait_for(state="detached")

    # logged out everywhere (a lost phone): nothing stays, and the login screen says why
    await staff_organiser_action(live_server, staff, kept, organiser.account_id, "logout")
    await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    await page.wait_for_selector("input[name=login]")
    text = await page.locator("[data-testid=notice]").inner_text()
    assert "社協の職員が終了しました" in text and "消去しました" in text
    assert await page.evaluate(COUNT_RECORDS) == []
    await page.screenshot(path=str(tmp_path / "ended.png"))
    await context.close()
