"""Council pages: admin (areas, staff accounts), staff (groups, ibasho, invitations),
scope, form errors, language; the schedule wording; and the Japanese catalogue."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from server.core.dates import format_date_ja
from server.core.i18n import LOCALE_DIR, current_language
from server.council.schedule_text import (
    Builder,
    builder_for,
    describe_rule,
    describe_schedule,
    format_day,
)
from server.tables import (
    Account,
    Area,
    AuditLog,
    Group,
    Ibasho,
    Invitation,
    LoginSession,
    StaffArea,
)
from tests.factories import PASSWORD, Person, make_account, make_area, redirected_to, unique

SERVER_DIR = Path(__file__).resolve().parent.parent / "server"


@contextmanager
def language(code: str):
    token = current_language.set(code)
    try:
        yield
    finally:
        current_language.reset(token)


# --- schedule wording (unit) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("builder", "rule"),
    [
        (Builder("monthly", "SU", 1), "FREQ=MONTHLY;BYDAY=1SU"),
        (Builder("monthly", "FR", -1), "FREQ=MONTHLY;BYDAY=-1FR"),
        (Builder("weekly", "WE"), "FREQ=WEEKLY;BYDAY=WE"),
        (Builder("biweekly", "FR"), "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"),
        (Builder(""), ""),
    ],
)
def test_builder_makes_the_rule_and_reads_it_back(builder, rule):
    assert builder.rrule() == rule
    assert builder_for(rule) == builder


def test_builder_refuses_what_it_does_not_offer():
    for builder in (Builder("monthly", "SU", 5), Builder("weekly", "XX"), Builder("daily", "MO")):
        with pytest.raises(ValueError):
            builder.rrule()


def test_only_builder_shaped_rules_go_back_into_the_builder():
    assert builder_for("rrule:byday=3sa;freq=monthly") == Builder("monthly", "SA", 3)
    assert builder_for("FREQ=MONTHLY;BYDAY=1SU,3SU") is None
    assert builder_for("FREQ=WEEKLY;INTERVAL=3;BYDAY=MO") is None


@pytest.mark.parametrize(
    ("rule", "ja", "en"),
    [
        ("FREQ=MONTHLY;BYDAY=1SU", "毎月第1日曜日", "Every month on the 1st Sunday"),
        ("FREQ=MONTHLY;BYDAY=-1FR", "毎月最終金曜日", "Every month on the last Friday"),
        ("FREQ=MONTHLY;BYDAY=1SU,3SU", "毎月第1日曜日・第3日曜日", "Every month on the 1st Sunday, the 3rd Sunday"),
        ("FREQ=WEEKLY;BYDAY=MO,TH", "毎週月曜日・木曜日", "Every week on Monday, Thursday"),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", "隔週金曜日", "Every 2 weeks on Friday"),
        ("FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=15", "2か月ごとの15日", "Every 2 months on day 15"),
        ("FREQ=DAILY", "毎日", "Every day"),
        ("", "定期開催なし", "No regular schedule"),
        ("FREQ=YEARLY;BYMONTH=8", "独自の繰り返し：FREQ=YEARLY;BYMONTH=8", "Custom rule: FREQ=YEARLY;BYMONTH=8"),
    ],
)
def test_rules_are_described_in_the_readers_language(rule, ja, en):
    with language("ja"):
        assert describe_rule(rule) == ja
    with language("en"):
        assert describe_rule(rule) == en


def test_schedule_with_times_and_days():
    start, end = datetime(2026, 1, 1, 10).time(), datetime(2026, 1, 1, 13).time()
    with language("ja"):
        assert describe_schedule("FREQ=MONTHLY;BYDAY=1SU", start, end) == "毎月第1日曜日 10:00〜13:00"
        assert (
            describe_schedule("FREQ=MONTHLY;BYDAY=3FR", datetime(2026, 1, 1, 11).time(), None)
            == "毎月第3金曜日 11:00〜"
        )
        assert format_day(date(2026, 1, 4)) == "2026年1月4日(日)"
    with language("en"):
        assert describe_schedule("FREQ=MONTHLY;BYDAY=1SU", start, end) == "Every month on the 1st Sunday 10:00–13:00"
        assert format_day(date(2026, 1, 4)) == "Sun 4 Jan 2026"


# --- the Japanese catalogue -------------------------------------------------------------------


def test_every_msgid_has_a_japanese_translation():
    """Guards the catalogue for everyone: each _() in server/ and its templates is translated."""
    method_map = [
        ("**/templates/**.html", "jinja2.ext.babel_extract"),
        ("**/templates/**.txt", "jinja2.ext.babel_extract"),  # mail bodies
        ("**.py", "python"),
    ]
    used: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(str(SERVER_DIR), method_map):
        for msgid in message if isinstance(message, tuple) else (message,):
            if isinstance(msgid, str) and msgid:
                used.setdefault(msgid, f"{filename}:{lineno}")
    assert "Areas and groups" in used and "Every month on %(days)s" in used  # both extractors ran
    with (LOCALE_DIR / "ja" / "LC_MESSAGES" / "messages.po").open("rb") as po_file:
        catalog = read_po(po_file, locale="ja")
    missing = [
        f"{where}: {msgid!r}"
        for msgid, where in sorted(used.items())
        if not (catalog.get(msgid) and catalog.get(msgid).string)
    ]
    assert not missing, "untranslated msgids:\n" + "\n".join(missing)


# --- admin ----------------------------------------------------------------------------


async def test_admin_creates_and_edits_an_area(app_client, world):
    await app_client.login(world.admin)
    page = await app_client.get("/admin/areas")
    assert page.status_code == 200 and "圏域の追加" in page.text
    name = unique("中央圏域")
    assert redirected_to(
        await app_client.form("/admin/areas", {"name": name, "description": "13地域社協のうち4つ"}), "/admin/areas"
    )
    area = await Area.select().where(Area.name == name).first()
    assert area["description"] == "13地域社協のうち4つ"

    duplicate = await app_client.form("/admin/areas", {"name": name})
    assert duplicate.status_code == 422 and "同じ名前の圏域がすでにあります。" in duplicate.text
    assert await Area.count().where(Area.name == name) == 1

    renamed = unique("東部圏域")
    edited = await app_client.form(f"/admin/areas/{area['id']}/edit", {"name": renamed, "description": ""})
    assert redirected_to(edited, "/admin/areas")
    assert (await Area.select(Area.name).where(Area.id == area["id"]).first())["name"] == renamed
    assert (await app_client.form(f"/admin/areas/{area['id']}/edit", {"name": ""})).status_code == 422


async def test_admin_manages_staff_accounts(app_client, new_client, world):
    await app_client.login(world.admin)
    login = unique("staff")
    created = await app_client.form(
        "/admin/accounts",
        {"login": login, "display_name": "武蔵野 太郎", "password": PASSWORD, "areas": str(world.area_a)},
    )
    assert redirected_to(created, "/admin/accounts"), created.text
    account = await Account.select().where(Account.login == login).first()
    assert account["role"] == "staff" and account["display_name"] == "武蔵野 太郎"
    staff = Person(login, PASSWORD, account["id"], (world.area_a,))

    staff_browser = await new_client()
    await staff_browser.login(staff)
    home = await staff_browser.get("/staff")
    group_a = await Group.select(Group.name).where(Group.id == world.group_a).first()
    assert home.status_code == 200 and group_a["name"] in home.text

    # Areas are checkboxes: several boxes arrive as a list.
    edited = await app_client.form(
        f"/admin/accounts/{account['id']}/edit",
        {"display_name": "武蔵野 太郎", "areas": [str(world.area_a), str(world.area_b)]},
    )
    assert redirected_to(edited, "/admin/accounts")
    assert {
        row["area"] for row in await StaffArea.select(StaffArea.area).where(StaffArea.account == account["id"])
    } == {
        world.area_a,
        world.area_b,
    }

    assert redirected_to(await app_client.post(f"/admin/accounts/{account['id']}/deactivate"), "/admin/accounts")
    assert not (await Account.select(Account.active).where(Account.id == account["id"]).first())["active"]
    assert (
        await LoginSession.count().where((LoginSession.account == account["id"]) & LoginSession.revoked_at.is_null())
        == 0
    )
    assert (await staff_browser.get("/staff")).status_code == 302  # logged out: back to the login page
    # reactivated with a link to choose a new password, never the old one back
    reactivated = await app_client.post(f"/admin/accounts/{account['id']}/reactivate")
    link = re.search(r'class="secret-link">[^<]*?(/reset/[A-Za-z0-9_-]+)<', reactivated.text)[1]
    staff = Person(login, "the new staff password", account["id"], (world.area_a,))
    assert (await staff_browser.form(link, {"password": staff.password, "confirm": staff.password})).status_code == 303
    await staff_browser.login(staff)

    assert redirected_to(await app_client.post(f"/admin/accounts/{account['id']}/revoke-sessions"), "/admin/accounts")
    assert (await staff_browser.get("/staff")).status_code == 302
    actions = {
        row["action"]
        for row in await AuditLog.select(AuditLog.action).where(AuditLog.target == f"account:{account['id']}")
    }
    assert actions == {
        "account.create",
        "account.update",
        "account.deactivate",
        "account.reactivate",
        "password.reset",
        "account.revoke-sessions",
    }


async def test_account_form_errors_change_nothing(app_client, world):
    await app_client.login(world.admin)
    taken = await app_client.form(
        "/admin/accounts", {"login": world.staff_a.login, "display_name": "x", "password": PASSWORD}
    )
    assert taken.status_code == 422 and "そのログイン名は使われています。" in taken.text
    login = unique("short")
    short = await app_client.form("/admin/accounts", {"login": login, "display_name": "x", "password": "short"})
    assert short.status_code == 422 and "パスワードは8〜512文字にしてください。" in short.text
    assert not await Account.exists().where(Account.login == login)
    folded = await app_client.form("/admin/accounts", {"login": "ß" * 100, "display_name": "x", "password": PASSWORD})
    assert folded.status_code == 422 and "100文字" in folded.text  # its key (ss…) would not fit
    assert not await Account.exists().where(Account.login == "ß" * 100)

    own = await app_client.post(f"/admin/accounts/{world.admin.account_id}/deactivate")
    assert own.status_code == 422 and "自分のアカウントは停止できません。" in own.text
    organiser = await app_client.get(f"/admin/accounts/{world.organiser_a.account_id}/edit")
    assert organiser.status_code == 404  # organisers are not managed on this page


# --- staff: groups, ibasho, invitations ------------------------------------------------------


def first_sundays(after: date, count: int) -> list[date]:
    days = (after + timedelta(days=n) for n in range(400))
    return [day for day in days if day.weekday() == 6 and day.day <= 7][:count]


async def test_staff_creates_a_group_an_ibasho_and_an_invitation(app_client, new_client, world):
    await app_client.login(world.staff_a)
    name = unique("きらくらの会")
    created = await app_client.form(
        "/staff/groups/new",
        {"area": str(world.area_a), "name": name, "representative": "山田", "timezone": "Asia/Tokyo", "active": "1"},
    )
    group = await Group.select().where(Group.name == name).first()
    assert redirected_to(created, f"/staff/groups/{group['id']}")
    assert group["area"] == world.area_a and group["active"]

    ibasho = {
        "name": "きらくら",
        "venue": "コミセン",
        "kind": "salon",
        "audience": "anyone",
        "status": "active",
        "frequency": "monthly",
        "weekday": "SU",
        "nth": "1",
        "start_time": "10:00",
        "end_time": "13:00",
        "timezone": "Asia/Tokyo",
        "active_from": "2024-04-01",
        "registration_required": "1",
    }
    made = await app_client.form(f"/staff/groups/{group['id']}/ibasho/new", ibasho)
    assert redirected_to(made, f"/staff/groups/{group['id']}")
    row = await Ibasho.select().where(Ibasho.group == group["id"]).first()
    assert row["rrule"] == "FREQ=MONTHLY;BYDAY=1SU" and row["registration_required"] and row["kind"] == "salon"

    page = await app_client.get(f"/staff/groups/{group['id']}")
    assert "毎月第1日曜日 10:00〜13:00" in page.text and "いきいきサロン" in page.text
    review_link = f'href="/review/groups/{group["id"]}"'
    assert review_link in page.text
    assert (await app_client.get(f"/review/groups/{group['id']}")).status_code == 200
    today = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    previewed = re.findall(r"<li>(\d{4}年\d+月\d+日\(.\))</li>", page.text)
    assert previewed == [format_date_ja(day) for day in first_sundays(today, 5)]

    # Edit: the builder is filled in from the stored rule; every 2 weeks on Friday.
    edit_page = await app_client.get(f"/staff/ibasho/{row['id']}/edit")
    assert '<option value="monthly" selected>' in edit_page.text
    edited = await app_client.form(
        f"/staff/ibasho/{row['id']}/edit", {**ibasho, "frequency": "biweekly", "weekday": "FR"}
    )
    assert redirected_to(edited, f"/staff/groups/{group['id']}")
    assert (await Ibasho.select(Ibasho.rrule).where(Ibasho.id == row["id"]).first())[
        "rrule"
    ] == "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"

    invited = await app_client.form(f"/staff/groups/{group['id']}/invitations", {"note": "佐藤さん"})
    assert invited.status_code == 200 and invited.headers["cache-control"] == "no-store"
    link = re.search(r"http://testserver\.local/invite/[A-Za-z0-9_-]+", invited.text).group(0)
    assert "<svg" in invited.text and "style=" not in invited.text and "佐藤さん" in invited.text
    assert await Invitation.count().where((Invitation.group == group["id"]) & (Invitation.note == "佐藤さん")) == 1
    assert (await (await new_client()).get(link.removeprefix("http://testserver.local"))).status_code == 200
    listed = await app_client.get(f"/staff/groups/{group['id']}")
    assert "佐藤さん" in listed.text and "未使用" in listed.text and link not in listed.text  # the token is shown once


async def test_group_form_errors_change_nothing(app_client, world):
    await app_client.login(world.staff_a)
    name = unique("group")
    outside = await app_client.form("/staff/groups/new", {"area": str(world.area_b), "name": name})
    assert outside.status_code == 422 and "担当の圏域から選んでください。" in outside.text
    blank = await app_client.form(
        "/staff/groups/new", {"area": str(world.area_a), "name": " ", "timezone": "Mars/Base"}
    )
    assert (
        blank.status_code == 422
        and "団体名を入力してください。" in blank.text
        and "タイムゾーンが正しくありません。" in blank.text
    )
    assert not await Group.exists().where(Group.name == name)


async def test_a_bad_rrule_is_refused_with_a_message(app_client, world):
    await app_client.login(world.staff_a)
    url = f"/staff/groups/{world.group_a}/ibasho/new"
    before = await Ibasho.count().where(Ibasho.group == world.group_a)
    form = {
        "name": "すみれの家",
        "kind": "cafe",
        "audience": "anyone",
        "status": "active",
        "frequency": "monthly",
        "weekday": "SU",
        "nth": "1",
        "rrule": "FREQ=MONTHLY;BYDAY=9XX",
    }
    refused = await app_client.form(url, form)
    assert refused.status_code == 422
    assert "詳細設定の繰り返しルール（RRULE）が正しくありません。" in refused.text
    assert 'value="FREQ=MONTHLY;BYDAY=9XX"' in refused.text  # the form keeps what was typed
    skipping = await app_client.form(url, {**form, "rrule": "FREQ=WEEKLY;INTERVAL=3;BYDAY=TU"})
    assert skipping.status_code == 422 and "活動期間の開始日が必要です" in skipping.text
    assert await Ibasho.count().where(Ibasho.group == world.group_a) == before

    advanced = await app_client.form(url, {**form, "rrule": "rrule:freq=monthly;byday=1su,3su"})
    assert advanced.status_code == 303
    assert await Ibasho.exists().where((Ibasho.group == world.group_a) & (Ibasho.rrule == "FREQ=MONTHLY;BYDAY=1SU,3SU"))


async def test_staff_of_another_area_get_404(app_client, world):
    outside = await Ibasho.insert(Ibasho(group=world.group_b, name="よその居場所")).returning(Ibasho.id)
    await app_client.login(world.staff_a)
    group = f"/staff/groups/{world.group_b}"
    for path in (group, f"{group}/edit", f"{group}/ibasho/new", f"/staff/ibasho/{outside[0]['id']}/edit"):
        assert (await app_client.get(path)).status_code == 404, path
    for path, data in (
        (f"{group}/edit", {"area": str(world.area_a), "name": "taken over"}),
        (f"{group}/ibasho/new", {"name": "x", "kind": "other", "audience": "anyone", "status": "active"}),
        (f"{group}/invitations", {"note": "x"}),
        (
            f"/staff/ibasho/{outside[0]['id']}/edit",
            {"name": "x", "kind": "other", "audience": "anyone", "status": "active"},
        ),
    ):
        assert (await app_client.form(path, data)).status_code == 404, path
    assert await Invitation.count().where(Invitation.group == world.group_b) == 0
    assert await Ibasho.count().where(Ibasho.group == world.group_b) == 1
    assert (await Group.select(Group.name).where(Group.id == world.group_b).first())["name"] != "taken over"


async def test_organisers_and_staff_are_kept_out_of_pages_not_theirs(app_client, new_client, world):
    await app_client.login(world.organiser_a)
    for path in ("/staff", f"/staff/groups/{world.group_a}", "/admin/areas", "/admin/accounts"):
        assert (await app_client.get(path)).status_code == 403, path
    assert (await app_client.form("/admin/areas", {"name": unique("area")})).status_code == 403
    assert (await app_client.form(f"/staff/groups/{world.group_a}/invitations", {})).status_code == 403
    staff = await new_client()
    await staff.login(world.staff_a)
    for path in ("/admin/areas", "/admin/accounts"):
        assert (await staff.get(path)).status_code == 403, path


async def test_pages_are_japanese_by_default_and_english_on_request(app_client):
    area = await make_area()
    staff = await make_account("staff", areas=[area])
    await app_client.login(staff)
    japanese = await app_client.get("/staff/groups/new")
    assert '<html lang="ja">' in japanese.text and "団体を登録" in japanese.text and "団体名" in japanese.text
    switched = await app_client.form("/language", {"language": "en", "next": "/staff/groups/new"})
    assert switched.headers["location"] == "/staff/groups/new"
    english = await app_client.get("/staff/groups/new")
    assert '<html lang="en">' in english.text and "Register a group" in english.text and "Group name" in english.text
