"""Committees across organisations (推進委員会) over HTTP: staff make one, add member
organisations and people, hold a 全体会議 and a 実務者会議 with an agenda, and keep the
minutes. The meetings are the group's sessions of kind meeting written through the sync
mutations, so an organiser who sits on the committee pulls them on their phone like any
meeting of theirs; members without an account read them on their own page."""

from __future__ import annotations

import re
from uuid import UUID

from server.tables import (
    ActionItem,
    AuditLog,
    Committee,
    CommitteeMeeting,
    GroupMembership,
    MeetingAttendance,
    Note,
    Person,
    Session,
)
from tests.factories import make_group, make_programme, synced_phone, unique


def xlsx_text(content: bytes) -> str:
    from io import BytesIO

    from openpyxl import load_workbook

    book = load_workbook(BytesIO(content), read_only=True)
    return "\n".join(str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row)


async def make_committee(staff, world) -> UUID:
    made = await staff.form("/staff/committees", {"area": str(world.area_a), "name": unique("推進委員会")})
    assert made.status_code == 303, made.text[-2000:]
    return UUID(made.headers["location"].rsplit("/", 1)[1])


async def add_member(staff, group_id, name, organisation) -> UUID:
    page = await staff.get(f"/staff/committees/{group_id}")
    org = re.search(rf'<option value="([0-9a-f-]{{36}})"[^>]*>{re.escape(organisation)}</option>', page.text)[1]
    email = f"{unique('m')}@example.jp"
    added = await staff.form(
        f"/staff/committees/{group_id}/members", {"name": name, "organisation": org, "email": email}
    )
    assert added.status_code == 303, added.text[-2000:]
    return (await Person.select(Person.id).where((Person.group == group_id) & (Person.display_name == name)).first())[
        "id"
    ]


async def test_a_committee_holds_both_kinds_of_meeting_and_keeps_minutes_its_members_read(
    app_client, new_client, world
):
    staff = await new_client()
    await staff.login(world.staff_a)
    group_id = await make_committee(staff, world)
    assert await Committee.exists().where(Committee.group == group_id)
    for name in ("旭川市社会福祉協議会", "旭川市 福祉保険部"):
        assert (await staff.form(f"/staff/committees/{group_id}/organisations", {"name": name})).status_code == 303
    kita = await add_member(staff, group_id, "北 花子", "旭川市社会福祉協議会")
    minami = await add_member(staff, group_id, "南 一郎", "旭川市 福祉保険部")
    person = await Person.select().where(Person.id == kita).first()
    assert person["kind"] == "volunteer"  # on the committee group's roster, as a group's volunteers are

    full = await staff.form(
        f"/staff/committees/{group_id}/meetings",
        {
            "kind": "full",
            "title": "第1回 全体会議",
            "date": "2026-12-18",
            "start_time": "14:00",
            "end_time": "16:00",
            "venue": "旭川市ときわ市民ホール",
            "agenda": "1. 助成申請の審査\n2. 居場所マップについて",
        },
    )
    assert full.status_code == 303
    session_id = UUID(full.headers["location"].rsplit("/", 1)[1])
    working = await staff.form(f"/staff/committees/{group_id}/meetings", {"kind": "working", "date": "2026-12-04"})
    assert working.status_code == 303
    sessions = await Session.select().where(Session.group == group_id).order_by(Session.date)
    assert [(s["kind"], s["title"]) for s in sessions] == [("meeting", "実務者会議"), ("meeting", "第1回 全体会議")]
    kinds = {row["session"]: row["kind"] for row in await CommitteeMeeting.select()}
    assert kinds[session_id] == "full"

    saved = await staff.form(
        f"/staff/committees/{group_id}/meetings/{session_id}",
        {
            "present": [str(kita), str(minami)],
            "decisions": "申請3件を承認した。",
            "action_text": "申請団体へ結果を通知する",
            "action_owner": "北 花子",
            "action_due": "2026-12-25",
        },
    )
    assert saved.status_code == 303
    note = await Note.select().where(Note.session == session_id).first()
    assert note["decisions"] == "申請3件を承認した。"
    assert {r["person"] for r in await MeetingAttendance.select().where(MeetingAttendance.session == session_id)} == {
        kita,
        minami,
    }
    (action,) = await ActionItem.select().where(ActionItem.session == session_id)
    assert (action["owner"], str(action["due"])) == ("北 花子", "2026-12-25")
    # edited again: the minutes are replaced cleanly (no conflict kept), one left the list of who came
    again = await staff.form(
        f"/staff/committees/{group_id}/meetings/{session_id}",
        {"present": [str(kita)], "decisions": "申請3件を承認した。次回は2月。"},
    )
    assert again.status_code == 303
    note = await Note.select().where(Note.session == session_id).first()
    assert note["decisions"] == "申請3件を承認した。次回は2月。" and note["conflicts"] in ([], "[]")
    present = await MeetingAttendance.select().where(
        (MeetingAttendance.session == session_id) & (MeetingAttendance.present == True)  # noqa: E712
    )
    assert [r["person"] for r in present] == [kita]

    detail = await staff.get(f"/staff/committees/{group_id}")
    link = re.search(r'<p class="secret-link">https?://[^/]+(/committee/[^<]+)</p>', detail.text)[1]
    member = await app_client.get(link)
    assert member.status_code == 200 and member.headers["cache-control"] == "no-store"
    for text in (
        "第1回 全体会議",
        "助成申請の審査",
        "申請3件を承認した。次回は2月。",
        "申請団体へ結果を通知する",
        "実務者会議",
    ):
        assert text in member.text, text
    assert (await app_client.get("/committee/" + "0" * 32 + ".AAAAAAAAAAAAAAAAAAAAAA")).status_code == 404
    steps = {r["action"] for r in await AuditLog.select(AuditLog.action).where(AuditLog.target == f"group:{group_id}")}
    assert {"committee.create", "committee.organisation", "committee.member", "committee.meeting"} <= steps


async def test_an_organiser_on_the_committee_pulls_its_meetings_like_any_meeting(new_client, world):
    staff = await new_client()
    await staff.login(world.staff_a)
    group_id = await make_committee(staff, world)
    await staff.form(f"/staff/committees/{group_id}/meetings", {"kind": "working", "date": "2026-12-04"})
    session = await Session.select().where(Session.group == group_id).first()
    await staff.form(f"/staff/committees/{group_id}/meetings/{session['id']}", {"decisions": "次回の議題を決めた。"})
    await GroupMembership.insert(GroupMembership(account=world.organiser_a.account_id, group=group_id))
    phone = await synced_phone(new_client, world.organiser_a)
    meeting = phone.get("session", str(session["id"]))
    assert meeting["kind"] == "meeting" and meeting["title"] == "実務者会議"
    assert phone.get("note", str(session["id"]))["decisions"] == "次回の議題を決めた。"
    other = await synced_phone(new_client, world.organiser_b)
    assert other.get("session", str(session["id"])) is None


async def test_the_forms_refuse_bad_input_and_other_areas_see_nothing(new_client, world):
    staff = await new_client()
    await staff.login(world.staff_a)
    group_id = await make_committee(staff, world)
    refused = await staff.form(
        f"/staff/committees/{group_id}/meetings",
        {"kind": "full", "title": "第2回", "start_time": "16:00", "end_time": "14:00", "agenda": "議題案"},
    )
    assert refused.status_code == 422
    assert (
        "日付を入力してください。" in refused.text and "会議の終了時刻が開始時刻より前になっています。" in refused.text
    )
    assert 'value="第2回"' in refused.text and "議題案" in refused.text
    no_org = await staff.form(f"/staff/committees/{group_id}/members", {"name": "西 三郎", "email": "x@example.jp"})
    assert (
        no_org.status_code == 422
        and "委員の所属団体を選んでください。" in no_org.text
        and 'value="西 三郎"' in no_org.text
    )
    assert not await Session.exists().where(Session.group == group_id)
    other = await new_client()
    await other.login(world.staff_b)
    assert (await other.get(f"/staff/committees/{group_id}")).status_code == 404
    assert (await other.form(f"/staff/committees/{group_id}/organisations", {"name": "x"})).status_code == 404
    organiser = await new_client()
    await organiser.login(world.organiser_a)
    assert (await organiser.get(f"/staff/committees/{group_id}")).status_code == 403


async def test_members_get_one_reminder_mail_the_evening_before_a_meeting(new_client, world):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from server.committees.reminders import queue_due
    from server.tables import OutboundMail

    staff = await new_client()
    await staff.login(world.staff_a)
    group_id = await make_committee(staff, world)
    await staff.form(f"/staff/committees/{group_id}/organisations", {"name": "旭川市社会福祉協議会"})
    await add_member(staff, group_id, "東 花子", "旭川市社会福祉協議会")
    email = (await staff.get(f"/staff/committees/{group_id}")).text
    address = re.search(r'<p class="muted">([^<@]+@example\.jp)</p>', email)[1]
    day = datetime.now(ZoneInfo("Asia/Tokyo")).date() + timedelta(days=10)
    await staff.form(
        f"/staff/committees/{group_id}/meetings",
        {
            "kind": "full",
            "title": "第3回 全体会議",
            "date": day.isoformat(),
            "start_time": "14:00",
            "agenda": "居場所マップ",
        },
    )
    evening = datetime.combine(day - timedelta(days=1), datetime.min.time(), ZoneInfo("Asia/Tokyo")).replace(hour=18)

    def mails():
        return OutboundMail.select().where(
            (OutboundMail.to_address == address) & (OutboundMail.purpose == "committee-reminder")
        )

    await queue_due(evening - timedelta(minutes=30))
    assert await mails() == []  # not yet due
    await queue_due(evening)
    await queue_due(evening + timedelta(minutes=5))
    (reminder,) = await mails()
    assert reminder["subject"] == "明日は「第3回 全体会議」です" and "居場所マップ" in reminder["body"]


async def test_a_committee_is_no_ibasho_group_in_the_staff_lists_totals_exports_or_directory(new_client, world):
    """A committee is stored as a group; none of the lists of 居場所 groups shows it (one
    condition, server/core/groups.py), while an organiser who sits on it sees it in the app
    marked as a committee."""
    from server.tables import Group, Ibasho

    staff = await new_client()
    await staff.login(world.staff_a)
    group_id = await make_committee(staff, world)
    name = (await Group.select(Group.name).where(Group.id == group_id).first())["name"]
    ordinary = (await Group.select(Group.name).where(Group.id == world.group_a).first())["name"]
    await make_group(world.area_a)  # two groups: the area's report lists them one by one
    # a listed place on the committee would be a mistake; the directory still leaves it out
    await Ibasho.insert(Ibasho(group=group_id, name=unique("委員会の場"), listed=True))
    # both enrolled in a grant asking for a session a month, neither holding one: a follow-up
    # for the group only (the committee holds meetings, never 居場所 sessions)
    rules = {"components": [{"kind": "fixed", "amount": 1000}], "requirements": {"every_months": 1}}
    for enrolled in (world.group_a, group_id):
        await make_programme(rules, enrol=enrolled, first_year=2000)
    for url in (
        "/staff/",
        "/review/",
        "/review/follow-ups",
        f"/review/areas/{world.area_a}/report",
        f"/review/areas/{world.area_a}/export.csv",
        f"/review/areas/{world.area_a}/report.xlsx",
    ):
        page = await staff.get(url)
        assert page.status_code == 200, url
        text = xlsx_text(page.content) if url.endswith(".xlsx") else page.text
        assert ordinary in text and name not in text, url
    admin = await new_client()
    await admin.login(world.admin)
    grants = await admin.get("/review/grants/new")
    assert grants.status_code == 200 and ordinary in grants.text and name not in grants.text
    directory = await admin.get("/directory")
    assert name not in directory.text and "委員会の場" not in directory.text

    await GroupMembership.insert(GroupMembership(account=world.organiser_a.account_id, group=group_id))
    organiser = await new_client()
    await organiser.login(world.organiser_a)
    groups = {g["id"]: g["committee"] for g in (await organiser.get("/api/me")).json()["groups"]}
    assert groups == {str(world.group_a): False, str(group_id): True}
    listed = {g["id"]: g["committee"] for g in (await organiser.get("/api/groups")).json()}
    assert listed == {str(world.group_a): False, str(group_id): True}


async def test_staff_take_a_member_and_an_organisation_off_the_committee(app_client, new_client, world):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from server.committees.reminders import queue_due
    from server.tables import CommitteeOrganisation, CommitteeSeat

    staff = await new_client()
    await staff.login(world.staff_a)
    group_id = await make_committee(staff, world)
    for org in ("旭川市社会福祉協議会", "旭川市 福祉保険部"):
        await staff.form(f"/staff/committees/{group_id}/organisations", {"name": org})
    staying = await add_member(staff, group_id, "残る 花子", "旭川市社会福祉協議会")
    leaving = await add_member(staff, group_id, "去る 一郎", "旭川市 福祉保険部")
    detail = (await staff.get(f"/staff/committees/{group_id}")).text
    link = re.findall(r'<p class="secret-link">https?://[^/]+(/committee/[^<]+)</p>', detail)
    assert len(link) == 2
    leaving_link = [url for url in link if "去る 一郎" in (await app_client.get(url)).text][0]
    mine = CommitteeOrganisation.committee.group == group_id
    orgs = {r["name"]: r["id"] for r in await CommitteeOrganisation.select().where(mine)}

    refused = await staff.form(f"/staff/committees/{group_id}/organisations/{orgs['旭川市 福祉保険部']}/remove", {})
    assert refused.status_code == 409 and "先にその委員を外してください" in refused.text

    removed = await staff.form(f"/staff/committees/{group_id}/members/{leaving}/remove", {})
    assert removed.status_code == 303
    assert (await Person.select(Person.deleted).where(Person.id == leaving).first())["deleted"]
    assert (await CommitteeSeat.select(CommitteeSeat.email).where(CommitteeSeat.person == leaving).first()) == {
        "email": ""
    }
    assert (await app_client.get(leaving_link)).status_code == 404  # the link opens nothing now
    page = (await staff.get(f"/staff/committees/{group_id}")).text
    assert "去る 一郎" not in page and "残る 花子" in page
    gone = await staff.form(f"/staff/committees/{group_id}/organisations/{orgs['旭川市 福祉保険部']}/remove", {})
    assert gone.status_code == 303
    assert not await CommitteeOrganisation.exists().where(CommitteeOrganisation.id == orgs["旭川市 福祉保険部"])

    # a meeting's reminder goes to the one who stays only
    day = datetime.now(ZoneInfo("Asia/Tokyo")).date() + timedelta(days=10)
    await staff.form(
        f"/staff/committees/{group_id}/meetings",
        {"kind": "full", "title": "第4回 全体会議", "date": day.isoformat(), "start_time": "14:00"},
    )
    evening = datetime.combine(day - timedelta(days=1), datetime.min.time(), ZoneInfo("Asia/Tokyo")).replace(hour=18)
    assert await queue_due(evening) == 1
    steps = [
        r["action"]
        for r in await AuditLog.select(AuditLog.action).where(AuditLog.target == f"group:{group_id}")
        if r["action"].endswith(".remove")
    ]
    assert sorted(steps) == ["committee.member.remove", "committee.organisation.remove"]
    assert staying != leaving
    other = await new_client()
    await other.login(world.staff_b)
    assert (await other.form(f"/staff/committees/{group_id}/members/{staying}/remove", {})).status_code == 404
