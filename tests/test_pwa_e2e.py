"""The organiser PWA end to end: Chromium drives the real app against a live server on loopback."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from datetime import date, time

import pytest

from server.core.clock import now
from server.sync.store import backfill_change_log
from server.tables import Attendance, Ibasho, Note, Person, RoleAssignment, SafetyCheck, Session, Tally
from sync.ids import safety_check_id
from tests.browser import open_phone, wait_synced
from tests.factories import make_account, make_area, make_group, start_server
from tests.server_process import REPO


@pytest.fixture(scope="module")
def pwa_copy(tmp_path_factory):
    """A copy of pwa/ that the server serves, so a test can deploy a new version of it."""
    target = tmp_path_factory.mktemp("pwa") / "pwa"
    shutil.copytree(REPO / "pwa", target)
    return target


@pytest.fixture(scope="module")
def server(pwa_copy):
    live = start_server(env={**os.environ, "IBASHO_PWA_DIR": str(pwa_copy)})
    yield live
    live.stop()


@pytest.fixture
async def venue():
    """A group with two organisers, 30 registered participants and a session today."""
    area = await make_area()
    group = await make_group(area)
    first = await make_account("organiser", groups=[group])
    second = await make_account("organiser", groups=[group])
    people = [
        Person(
            id=uuid.uuid4(),
            group=group,
            display_name=f"参加者 {i:02d}",
            kana=f"さんかしゃ {i:02d}",
            category="senior",
            registered=True,
            hlcs={},
            updated_at=now(),
        )
        for i in range(30)
    ]
    await Person.insert(*people)
    session_id = uuid.uuid4()
    await Session.insert(
        Session(
            id=session_id,
            group=group,
            kind="session",
            title="きらくら",
            date=date.today(),
            start_time=time(10),
            end_time=time(13),
            venue="西部コミセン",
            hlcs={},
            created_at=now(),
            updated_at=now(),
        )
    )
    await backfill_change_log()
    return {"group": group, "session": str(session_id), "organisers": (first, second), "people": people}


async def waiting(page) -> int:
    return int(await page.get_attribute("[data-testid=waiting]", "data-count"))


@pytest.mark.slow
async def test_a_day_offline_at_the_venue_then_sync(chromium, server, venue):
    context, page = await open_phone(chromium, server, venue["organisers"][0])
    session = venue["session"]
    await context.set_offline(True)
    await page.goto(f"{server.url}/app/#/session/{session}/attendance")
    await page.reload()  # served by the service worker, data from IndexedDB
    people = page.locator("[data-testid=person]")
    await people.first.wait_for()
    assert await people.count() == 30
    for index in range(30):
        await people.nth(index).click()
    await page.wait_for_selector('[data-testid=present-count]:has-text("30")')

    await page.click(f"a[href='#/session/{session}/tallies']")
    for _ in range(3):
        await page.click("[data-category=child] button[aria-label$='+1']")
    for _ in range(2):
        await page.click("[data-category=volunteer] button[aria-label$='+1']")
    await page.wait_for_selector("[data-testid=tally-child]:has-text('3')")
    assert await page.inner_text("[data-testid=tally-total]") == "3"  # volunteers are not participants

    await page.click(f"a[href='#/session/{session}/roles']")
    await page.locator(".roles li").first.locator("button.chip").first.click()
    await page.wait_for_selector(".roles li >> nth=0 >> button.chip.on")

    await page.click(f"a[href='#/session/{session}/notes']")
    await page.fill("textarea[name=went_well]", "30人全員が来てくれた")
    await page.fill("textarea[name=concerns]", "Bさんが少し疲れている様子")
    await page.locator("h1").click()  # leaving the field saves it
    await page.wait_for_timeout(300)
    assert await waiting(page) == 30 + 5 + 1 + 2

    await page.close()  # the phone is put away, still offline
    page = await context.new_page()
    await page.goto(f"{server.url}/app/#/session/{session}/attendance")
    await page.wait_for_selector('[data-testid=present-count]:has-text("30")')
    await page.goto(f"{server.url}/app/#/session/{session}/notes")
    assert await page.input_value("textarea[name=went_well]") == "30人全員が来てくれた"

    await context.set_offline(False)
    await wait_synced(page)
    statuses = await Attendance.select(Attendance.status).where(Attendance.session == session)
    assert [row["status"] for row in statuses] == ["present"] * 30
    tallies = {row["category"]: row["delta_sum"] for row in await Tally.select().where(Tally.session == session)}
    assert tallies == {"child": 3, "volunteer": 2}
    roles = await RoleAssignment.select().where(RoleAssignment.session == session)
    assert [(row["role"], row["assigned"]) for row in roles] == [("調理", True)]
    note = await Note.select().where(Note.session == session).first()
    assert (note["went_well"], note["concerns"]) == ("30人全員が来てくれた", "Bさんが少し疲れている様子")
    await context.close()


async def test_a_group_with_two_registration_based_ibasho_picks_one_for_the_personal_qr(chromium, server, venue):
    places = {name: uuid.uuid4() for name in ("あおぞら食堂", "ひだまりサロン")}
    await Ibasho.insert(
        *(
            Ibasho(id=ibasho_id, group=venue["group"], name=name, registration_required=True, created_at=now())
            for name, ibasho_id in places.items()
        )
    )
    await backfill_change_log()
    context, page = await open_phone(chromium, server, venue["organisers"][0])
    await page.goto(f"{server.url}/app/#/roster/{venue['group']}")
    await page.locator(".roster li").first.get_by_role("button", name="通知用QR").click()
    panel = page.locator(".person-qr")
    await panel.get_by_text("どの居場所のお知らせですか").wait_for()
    assert await panel.locator("button.big").all_inner_texts() == list(places)
    async with page.expect_response("**/api/push/person-links") as answer:
        await panel.get_by_role("button", name="ひだまりサロン").click()
    link = await (await answer.value).json()
    assert f"/i/{places['ひだまりサロン']}?person=" in link["url"]
    await panel.locator("img[alt$='通知用QRコード']").wait_for()
    await context.close()


async def test_an_organiser_makes_a_meeting_with_only_the_shortly_before_reminder(chromium, server, venue):
    context, page = await open_phone(chromium, server, venue["organisers"][0])
    await page.goto(f"{server.url}/app/#/new/{venue['group']}")
    await page.select_option("select[name=kind]", "meeting")
    await page.fill("input[name=title]", "12月の反省会")
    await page.select_option("select[name=reminders]", "hours_before_only")
    await page.click("button[type=submit]")
    await page.wait_for_url("**/app/#/session/*")
    for _ in range(150):  # the phone is online: it pushes the new meeting at once
        meeting = (
            await Session.select(Session.kind, Session.reminder_rule).where(Session.title == "12月の反省会").first()
        )
        if meeting:
            break
        await asyncio.sleep(0.1)
    assert meeting and meeting["kind"] == "meeting"
    assert meeting["reminder_rule"] in ({"day_before_at": None}, '{"day_before_at": null}')
    await context.close()


async def test_a_no_show_is_followed_up_on_the_phone_offline_and_stays_one_check(chromium, server, venue):
    context, page = await open_phone(chromium, server, venue["organisers"][0])
    session, person = venue["session"], venue["people"][0]
    await context.set_offline(True)
    await page.goto(f"{server.url}/app/#/session/{session}/attendance")
    row = page.locator(".attendance li", has_text=person.display_name)
    await row.locator("[data-testid=person]").click()
    await page.wait_for_selector("[data-testid=person][data-status=present]")
    for status in ("absent_notified", "absent_unnotified"):
        await row.locator("[data-testid=absence]").click()
        await page.wait_for_selector(f"[data-testid=person][data-status={status}]")
    card = page.locator("[data-testid=safety-check]")
    assert await card.get_attribute("data-outcome") == "open" and person.display_name in await card.inner_text()
    await card.locator("select[name=method]").select_option("phone")
    await card.locator("input[name=contacted_by]").fill("田中")
    await card.locator("textarea[name=notes]").fill("風邪で休んでいた")
    await card.locator("button[data-outcome=safe]").click()
    await page.wait_for_selector("[data-testid=safety-check][data-outcome=safe]")

    await context.set_offline(False)
    await wait_synced(page)
    # The server opened its own follow-up for the no-show: the phone's record is the same one.
    checks = await SafetyCheck.select().where(SafetyCheck.session == session)
    assert [(str(c["id"]), c["outcome"], c["contacted_by"], c["method"], c["notes"]) for c in checks] == [
        (safety_check_id(session, str(person.id)), "safe", "田中", "phone", "風邪で休んでいた")
    ]
    await context.close()


async def test_two_phones_count_arrivals_offline_and_see_the_sum(chromium, server, venue):
    session = venue["session"]
    phones = [await open_phone(chromium, server, person) for person in venue["organisers"]]
    for (context, page), taps in zip(phones, (3, 4), strict=True):
        await context.set_offline(True)
        await page.goto(f"{server.url}/app/#/session/{session}/tallies")
        for _ in range(taps):
            await page.click("[data-category=child] button[aria-label$='+1']")
        await page.wait_for_selector(f"[data-testid=tally-child]:has-text('{taps}')")
    for context, page in phones:
        await context.set_offline(False)
        await wait_synced(page)
    for context, page in phones:
        await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")  # a pull, as on return to the app
        await page.wait_for_selector("[data-testid=tally-child]:has-text('7')", timeout=15_000)
        await context.close()


async def test_a_new_deployment_offers_a_reload_that_keeps_unsynced_changes(chromium, server, venue, pwa_copy):
    context, page = await open_phone(chromium, server, venue["organisers"][0])
    session = venue["session"]
    await context.set_offline(True)
    await page.goto(f"{server.url}/app/#/session/{session}/tallies")
    await page.click("[data-category=adult] button[aria-label$='+1']")
    await page.wait_for_selector("[data-testid=waiting][data-count='1']")
    css = pwa_copy / "css" / "app.css"
    original = css.read_text()
    try:
        css.write_text(original + "\n/* a new release */\n")
        # Back online, but the sync API is unreachable: the change stays unsynced.
        await context.route("**/api/sync/**", lambda route: route.abort())
        await context.set_offline(False)
        await page.evaluate("navigator.serviceWorker.getRegistration('/app/').then((r) => r.update())")
        await page.wait_for_selector("#update:not([hidden]) button", timeout=15_000)
        await page.click("#update button")
        await page.wait_for_event("load")
        await page.wait_for_selector("[data-testid=waiting]")
        assert await waiting(page) == 1
        assert await page.inner_text("[data-testid=tally-adult]") == "1"
        assert "a new release" in await page.evaluate(
            "fetch(document.querySelector('link[rel=stylesheet]').href).then((r) => r.text())"
        )
        await context.unroute("**/api/sync/**")
        await page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
        await wait_synced(page)
        row = await Tally.select(Tally.delta_sum).where(Tally.id == f"{session}:adult").first()
        assert row["delta_sum"] == 1
    finally:
        css.write_text(original)
        await context.close()


async def test_chromium_finds_the_app_installable(chromium, server, venue):
    context, page = await open_phone(chromium, server, venue["organisers"][0])
    cdp = await context.new_cdp_session(page)
    result = await cdp.send("Page.getInstallabilityErrors")
    # Playwright's contexts are incognito profiles, which Chromium never installs into;
    # every other criterion (manifest, icons, service worker, secure origin) must hold.
    assert [e["errorId"] for e in result["installabilityErrors"] if e["errorId"] != "in-incognito"] == []
    manifest = await page.evaluate("fetch('/manifest.webmanifest').then((r) => r.json())")
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/app/" and manifest["id"] == "/app/"
    sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    await context.close()


async def test_the_home_screen_links_each_active_ibasho_to_its_one_page_poster(chromium, server, venue):
    import re  # imports here: this test was appended without touching the module's head
    from datetime import timedelta

    places = {"こども食堂 ひだまりキッチン・西部コミュニティセンター分室": uuid.uuid4(), "休止中のサロン": uuid.uuid4()}
    active, paused = places.values()
    await Ibasho.insert(
        Ibasho(
            id=active,
            group=venue["group"],
            name=list(places)[0],
            venue="武蔵野市 西部コミュニティセンター 2階 和室",
            created_at=now(),
        ),
        Ibasho(id=paused, group=venue["group"], name=list(places)[1], status="paused", created_at=now()),
    )
    await Session.insert(
        *(
            Session(
                id=uuid.uuid4(),
                group=venue["group"],
                ibasho=active,
                kind="session",
                title="ひだまりキッチン",
                date=date.today() + timedelta(days=7 * week + 1),
                start_time=time(16, 30),
                end_time=time(19),
                venue="武蔵野市民会館 調理室" if week == 2 else "",
                hlcs={},
                created_at=now(),
                updated_at=now(),
            )
            for week in range(6)
        )
    )
    await backfill_change_log()
    context, page = await open_phone(chromium, server, venue["organisers"][0])
    links = page.locator("[data-testid=poster-link]")
    await links.first.wait_for()
    assert await links.count() == 1  # the paused one has no public page, so no poster
    assert await links.inner_text() == f"お知らせ用ポスター（{list(places)[0]}）"
    assert [await links.get_attribute(name) for name in ("href", "target", "rel")] == [
        f"/i/{active}/poster",
        "_blank",
        "noopener",
    ]
    assert await page.locator(f".group-actions a[href='/i/{active}/poster']").count() == 1  # inside the group's card

    async with context.expect_page() as opened:
        await links.click()
    poster = await opened.value
    await poster.wait_for_load_state("networkidle")
    assert await poster.inner_text("h1") == list(places)[0]
    assert await poster.locator(".poster-dates li").count() == 4
    await poster.emulate_media(media="print")
    assert not await poster.is_visible(".site-header") and not await poster.is_visible(".poster-hint")
    box = await poster.locator(".poster-code svg").bounding_box()
    assert box["width"] > 300 and abs(box["width"] - box["height"]) < 1  # 10 cm square at 96 dpi is 378 px
    pdf = await poster.pdf(format="A4", prefer_css_page_size=True, print_background=True)
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1  # it all fits on one A4 sheet
    await context.close()


@pytest.mark.slow
async def test_a_committee_the_organiser_sits_on_shows_as_a_committee_not_a_group_to_run(chromium, server, venue):
    from pathlib import Path

    from server.tables import Committee, Group, GroupMembership

    committee_group = uuid.uuid4()
    area = (await Group.select(Group.area).where(Group.id == venue["group"]).first())["area"]
    await Group.insert(Group(id=committee_group, area=area, name="居場所づくり推進委員会", created_at=now()))
    await Committee.insert(Committee(id=uuid.uuid4(), group=committee_group, created_at=now()))
    await GroupMembership.insert(GroupMembership(account=venue["organisers"][0].account_id, group=committee_group))
    context, page = await open_phone(chromium, server, venue["organisers"][0])
    try:
        committee = page.locator("[data-testid=committee]")
        await committee.wait_for()
        assert "居場所づくり推進委員会" in await committee.inner_text() and "推進委員会" in await committee.inner_text()
        assert await committee.get_by_role("link", name="開催回・会議を追加").count() == 0  # no 居場所 to run
        assert await committee.get_by_role("link", name="名簿").count() == 1
        assert await page.get_by_role("link", name="開催回・会議を追加").count() == 1  # the group's own, still
        shots = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
        await page.screenshot(path=str(shots / "pwa-home-committee.png"), full_page=True)
    finally:
        await context.close()
