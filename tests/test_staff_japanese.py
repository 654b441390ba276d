"""Japanese throughout: every page each kind of caller can open (staff pages, public pages,
and the 403 and 404 pages the others get), every error page and every word for a stored
code, scanned for English a Japanese reader would see."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest

from server.core import labels
from server.core.i18n import LOCALE_DIR, current_language, gettext
from server.grants.presets import PRESETS
from server.tables import Account, Area, GrantProgramme, Group, Ibasho, Person, Registration
from tests.access_table import ROWS, client_for, make_target, session_for
from tests.japanese import english_in, latin_words

CALLERS = ("anonymous", "organiser_other", "staff_other", "staff", "admin")


@pytest.fixture
async def target(world, app_client):
    target = await make_target(world)
    target.csrf = (await app_client.csrf())["x-csrftoken"]
    return target


async def data_names() -> set[str]:
    """The test data's names and logins (factories make Latin ones): allowed on a page."""
    texts = [row["login"] for row in await Account.select(Account.login)]
    texts += [row["display_name"] for row in await Account.select(Account.display_name)]
    for table in (Area, Group, Ibasho, GrantProgramme):
        texts += [row["name"] for row in await table.select(table.name)]
    texts += [row["display_name"] for row in await Person.select(Person.display_name)]
    for row in await Registration.select(Registration.group_name, Registration.ibasho_name):
        texts += row.values()
    texts += [preset["source"] for preset in PRESETS.values()]  # the titles of real councils' documents
    return latin_words(*texts)


def test_every_word_for_a_stored_code_is_japanese():
    token = current_language.set("ja")
    try:
        words = {
            name: table
            for name, table in vars(labels).items()
            if name.isupper() and isinstance(table, dict) and all(isinstance(v, str) for v in table.values())
        }
        assert {"METHODS", "AUDIT_ACTIONS", "TIMEZONES", "OUTCOMES", "REVIEW_STATES"} <= set(words)
        english = [
            f"{name}[{code!r}] = {gettext(label)!r}"
            for name, table in words.items()
            for code, label in table.items()
            if gettext(label).isascii()
        ]
    finally:
        current_language.reset(token)
    assert not english, "labels without Japanese:\n" + "\n".join(english)


async def test_every_page_and_error_page_reads_in_japanese(app, target):
    names = await data_names()
    seen, english = 0, []
    for row in ROWS:
        if row.method != "GET" or row.route.startswith("/schema"):  # the API document is for developers
            continue
        for who in CALLERS:
            call = await row.build(target, who)
            async with client_for(app, target, await session_for(target, who)) as http:
                response = await http.get(call.url, **call.kwargs)
            if "text/html" not in response.headers.get("content-type", ""):
                continue
            seen += 1
            if english_in(response.text, names):
                names = await data_names()  # the row may have made someone (a login in a link)
            if found := english_in(response.text, names):
                english.append(f"{call.url} as {who} ({response.status_code}): {sorted(set(found))}")
    assert seen > 60, seen  # the scan did reach the pages
    assert not english, "English on Japanese pages:\n" + "\n".join(english)


async def test_error_pages_say_what_happened_in_japanese(app, target):
    names = await data_names()
    nowhere = uuid4()
    cases = {
        "/no/such/page": 404,
        f"/review/groups/{nowhere}": 404,
        f"/review/sessions/{nowhere}": 404,
        f"/i/{nowhere}": 404,
        f"/staff/groups/{nowhere}": 404,
        "/review?year=not-a-year": 400,
    }
    async with client_for(app, target, await session_for(target, "staff")) as http:
        for url, status in cases.items():
            response = await http.get(url)
            assert response.status_code == status, url
            assert "text/html" in response.headers["content-type"], url
            assert not english_in(response.text, names), (url, english_in(response.text, names))
        wrong_method = await http.delete("/review", headers={"x-csrftoken": target.csrf})
        assert wrong_method.status_code == 405 and not english_in(wrong_method.text, names)
    missing = (await (client_for(app, target, None)).get(f"/i/{nowhere}")).text
    assert "このページはありません" in missing and "no such ibasho" not in missing


def test_not_yet_reviewed_and_not_yet_reached_are_two_words():
    """「未確認」 meant both; staff review waits (確認待ち), a person is not yet reached (未連絡)."""
    token = current_language.set("ja")
    try:
        awaiting = gettext(labels.REVIEW_STATES["unreviewed"])
        flag = gettext("Awaiting review")
        unreached = gettext(labels.OUTCOMES["open"])
    finally:
        current_language.reset(token)
    assert awaiting == flag == "確認待ち" and unreached == "未連絡"
    phone = (Path(__file__).resolve().parent.parent / "pwa" / "js" / "i18n.js").read_text()
    assert 'outcome_open: "未連絡"' in phone  # the phone's safety card says the same as the staff pages
    catalogue = (LOCALE_DIR / "ja" / "LC_MESSAGES" / "messages.po").read_text()
    assert "未確認" not in catalogue and "未確認" not in phone
