"""Council events over HTTP: staff make a course of several parts, anyone applies on its
public page (a real SMTP server on loopback gets the mails), the waiting list moves up when
someone cancels, attendance is marked per part, and the 修了証 goes to those who came to
every part. The browser flows are in tests/test_events_browser.py."""

from __future__ import annotations

import re
from datetime import timedelta
from uuid import UUID

import pytest

from server.core import mail
from server.core.clock import now
from server.tables import AuditLog, CouncilEvent, EventApplication, EventAttendance, EventPart
from tests.factories import unique

pytestmark = pytest.mark.usefixtures("fresh_event_apply_count")


def course(world, **changes) -> dict:
    first = now().date() + timedelta(days=30)
    return {
        "area": str(world.area_a),
        "kind": "course",
        "title": unique("傾聴講座"),
        "description": "地域で話を聴く力を身につける全2回の講座です。",
        "capacity": "2",
        "application_deadline": "",
        "online_url": "https://meet.example.jp/keicho",
        "part_date": [first.isoformat(), (first + timedelta(days=7)).isoformat(), "", ""],
        "part_start": ["13:30", "13:30", "", ""],
        "part_end": ["15:30", "15:30", "", ""],
        "part_venue": ["県民福祉プラザ 研修室", "", "", ""],
        "part_mode": ["both", "online", "onsite", "onsite"],
        **changes,
    }


async def make_course(staff, world, **changes) -> tuple[UUID, dict]:
    form = course(world, **changes)
    made = await staff.form("/staff/events/new", form)
    assert made.status_code == 303, made.text[-3000:]
    event_id = UUID(made.headers["location"].rsplit("/", 1)[1])
    return event_id, form


async def deliver(smtp) -> None:
    await mail.send_outbox(mail.SmtpServer.from_url(smtp.url))


def link_in(text: str) -> str:
    return re.search(r"https?://[^\s]+(/events/mine/[^\s]+)", text)[1]


def person(name: str) -> dict:
    return {"name": name, "organisation": "みどり食堂", "email": f"{unique('p')}@example.jp", "agree_contact": "1"}


async def apply(client, event_id, who: dict):
    answer = await client.form(f"/events/{event_id}/apply", who)
    assert answer.status_code == 200 and "受け付けました" in answer.text, answer.text[-2000:]
    assert answer.headers["cache-control"] == "no-store"
    return answer


async def test_staff_make_a_course_whose_deadline_defaults_to_a_week_before(new_client, world):
    staff = await new_client()
    await staff.login(world.staff_a)
    event_id, form = await make_course(staff, world)
    event = await CouncilEvent.select().where(CouncilEvent.id == event_id).first()
    parts = await EventPart.select().where(EventPart.event == event_id).order_by(EventPart.number)
    first = parts[0]["date"]
    assert event["application_deadline"] == first - timedelta(days=7) and event["capacity"] == 2
    assert [(p["number"], p["online"], p["venue"]) for p in parts] == [
        (1, True, "県民福祉プラザ 研修室"),
        (2, True, ""),
    ]
    assert await AuditLog.exists().where((AuditLog.action == "event.create") & (AuditLog.target == f"event:{event_id}"))
    listed = await staff.get("/events")
    assert form["title"] in listed.text and "第1回" in listed.text
    assert 'href="/events"' in (await staff.get("/directory")).text  # linked from the directory


async def test_the_staff_form_refuses_bad_input_in_japanese_and_keeps_what_was_typed(new_client, world):
    staff = await new_client()
    await staff.login(world.staff_a)
    form = course(
        world,
        capacity="0",
        online_url="",
        part_end=["12:00", "15:30", "", ""],
        part_venue=["", "", "", ""],
        part_mode=["onsite", "online", "onsite", "onsite"],
    )
    refused = await staff.form("/staff/events/new", form)
    assert refused.status_code == 422
    for message in (
        "定員は1〜1000で入力してください。",
        "第1回の終了時刻が開始時刻より前になっています。",
        "第1回は会場で開催します。会場を入力してください。",
        "オンラインの回があるときは、オンライン会議のリンクを入力してください。",
    ):
        assert message in refused.text, message
    assert f'value="{form["title"]}"' in refused.text and f'value="{form["part_date"][1]}"' in refused.text
    assert not await CouncilEvent.exists().where(CouncilEvent.title == form["title"])
    other_area = await staff.form("/staff/events/new", course(world, area=str(world.area_b)))
    assert other_area.status_code == 422 and "担当の圏域から選んでください。" in other_area.text


async def test_applicants_get_a_seat_or_wait_and_a_cancellation_moves_the_first_up(app_client, new_client, world, smtp):
    staff = await new_client()
    await staff.login(world.staff_a)
    event_id, form = await make_course(staff, world)
    first, second, third = person("青森 一郎"), person("弘前 二郎"), person("八戸 三子")
    for who in (first, second):
        assert "お申し込みを受け付けました" in (await apply(app_client, event_id, who)).text
    waiting = await apply(app_client, event_id, third)
    assert "キャンセル待ち" in waiting.text
    await deliver(smtp)
    (seat,) = smtp.to(first["email"])
    assert seat["Subject"] == "講座・催しのお申し込みを受け付けました" and "第2回" in seat.get_content()
    (wait,) = smtp.to(third["email"])
    assert wait["Subject"] == "キャンセル待ちで受け付けました"

    first_page = link_in(seat.get_content())
    mine = await app_client.get(first_page)
    assert "https://meet.example.jp/keicho" in mine.text  # the online link, to those registered only
    third_page = link_in(wait.get_content())
    assert "https://meet.example.jp/keicho" not in (await app_client.get(third_page)).text
    assert "https://meet.example.jp/keicho" not in (await app_client.get(f"/events/{event_id}")).text

    cancelled = await app_client.form(f"{first_page}/cancel", {})
    assert cancelled.status_code == 303
    states = {
        row["email"]: row["state"] for row in await EventApplication.select().where(EventApplication.event == event_id)
    }
    assert states == {first["email"]: "cancelled", second["email"]: "registered", third["email"]: "registered"}
    await deliver(smtp)
    moved = smtp.to(third["email"])[-1]
    assert moved["Subject"] == "キャンセル待ちから参加が確定しました"
    assert "https://meet.example.jp/keicho" in (await app_client.get(third_page)).text
    steps = {
        row["action"] for row in await AuditLog.select(AuditLog.action).where(AuditLog.target == f"event:{event_id}")
    }
    assert {"event.apply.registered", "event.apply.waiting", "event.cancel", "event.promote"} <= steps


async def test_the_public_form_refuses_bad_input_and_keeps_what_was_typed(app_client, new_client, world):
    staff = await new_client()
    await staff.login(world.staff_a)
    event_id, _form = await make_course(staff, world)
    typed = {"name": "青森 花子", "organisation": "ひだまりサロン", "email": "not an address"}
    refused = await app_client.form(f"/events/{event_id}/apply", typed)
    assert refused.status_code == 422
    assert "メールアドレスの形が正しくないようです。" in refused.text
    assert "この催しについて社協から連絡することへの同意をお願いします。" in refused.text
    assert 'value="青森 花子"' in refused.text and 'value="ひだまりサロン"' in refused.text
    assert not await EventApplication.exists().where(EventApplication.event == event_id)


async def test_a_bot_is_thanked_and_one_address_sends_a_few_an_hour(app_client, new_client, world, smtp):
    staff = await new_client()
    await staff.login(world.staff_a)
    event_id, _form = await make_course(staff, world, capacity="50")
    bot = {**person("bot"), "website": "http://spam.example"}
    thanked = await app_client.form(f"/events/{event_id}/apply", bot)
    assert thanked.status_code == 200 and "/events/mine/" not in thanked.text
    assert not await EventApplication.exists().where(EventApplication.email == bot["email"])
    statuses = [(await app_client.form(f"/events/{event_id}/apply", person("x"))).status_code for _ in range(5)]
    assert statuses == [200] * 4 + [429]  # the bot's try counted too
    assert "1時間ほどたってから" in (await app_client.form(f"/events/{event_id}/apply", person("x"))).text


async def test_after_the_deadline_no_one_can_apply(app_client, new_client, world):
    staff = await new_client()
    await staff.login(world.staff_a)
    yesterday = (now().date() - timedelta(days=1)).isoformat()
    event_id, _form = await make_course(staff, world, application_deadline=yesterday)
    assert "締め切りました" in (await app_client.get(f"/events/{event_id}")).text
    late = await app_client.form(f"/events/{event_id}/apply", person("遅れ"))
    assert late.status_code == 409 and not await EventApplication.exists().where(EventApplication.event == event_id)


async def test_attendance_per_part_and_the_certificate_for_those_who_came_to_every_part(
    app_client, new_client, world, smtp
):
    staff = await new_client()
    await staff.login(world.staff_a)
    event_id, form = await make_course(staff, world)
    every, once = person("皆勤 花子"), person("一回 太郎")
    for who in (every, once):
        await apply(app_client, event_id, who)
    apps = {row["name"]: row["id"] for row in await EventApplication.select().where(EventApplication.event == event_id)}
    parts = [p["id"] for p in await EventPart.select().where(EventPart.event == event_id).order_by(EventPart.number)]
    for part in parts:
        door = await staff.get(f"/staff/events/{event_id}/door/{part}")
        assert door.status_code == 200 and "皆勤 花子" in door.text
        marked = await staff.form(
            f"/staff/events/{event_id}/door/{part}", {"application": str(apps["皆勤 花子"]), "present": "1"}
        )
        assert marked.status_code == 303
    await staff.form(
        f"/staff/events/{event_id}/door/{parts[0]}", {"application": str(apps["一回 太郎"]), "present": "1"}
    )
    # a mis-tap taken back: marked, then unmarked
    await staff.form(
        f"/staff/events/{event_id}/door/{parts[1]}", {"application": str(apps["一回 太郎"]), "present": "1"}
    )
    await staff.form(
        f"/staff/events/{event_id}/door/{parts[1]}", {"application": str(apps["一回 太郎"]), "present": "0"}
    )
    printed = await staff.get(f"/staff/events/{event_id}/certificates")
    assert printed.status_code == 200 and "皆勤 花子 様" in printed.text and "一回 太郎" not in printed.text
    assert "令和" in printed.text and "修　了　証" in printed.text

    await deliver(smtp)
    every_page = link_in(smtp.to(every["email"])[0].get_content())
    once_page = link_in(smtp.to(once["email"])[0].get_content())
    assert "修了証" in (await app_client.get(every_page)).text
    assert (await app_client.get(f"{every_page}/certificate")).status_code == 200
    assert (await app_client.get(f"{once_page}/certificate")).status_code == 404
    stranger = await staff.form(
        f"/staff/events/{event_id}/door/{parts[0]}", {"application": str(UUID(int=5)), "present": "1"}
    )
    assert stranger.status_code == 404


async def test_only_the_areas_staff_see_the_applications(app_client, new_client, world):
    staff = await new_client()
    await staff.login(world.staff_a)
    event_id, form = await make_course(staff, world)
    who = person("非公開 花子")
    await apply(app_client, event_id, who)
    detail = await staff.get(f"/staff/events/{event_id}")
    assert who["email"] in detail.text and detail.headers["cache-control"] == "no-store"
    assert await AuditLog.exists().where((AuditLog.action == "event.view") & (AuditLog.target == f"event:{event_id}"))
    other = await new_client()
    await other.login(world.staff_b)
    assert (await other.get(f"/staff/events/{event_id}")).status_code == 404
    assert form["title"] not in (await other.get("/staff/events")).text
    organiser = await new_client()
    await organiser.login(world.organiser_a)
    assert (await organiser.get(f"/staff/events/{event_id}")).status_code == 403
    assert who["email"] not in (await app_client.get(f"/events/{event_id}")).text
    forged = f"/events/mine/{UUID(int=1).hex}.AAAAAAAAAAAAAAAAAAAAAA"
    assert (await app_client.get(forged)).status_code == 404


async def test_those_registered_get_one_reminder_mail_the_evening_before_each_part(app_client, new_client, world):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from server.events.reminders import queue_due
    from server.tables import OutboundMail

    staff = await new_client()
    await staff.login(world.staff_a)
    event_id, form = await make_course(staff, world)
    coming, leaving, waiting = person("来る 人"), person("やめる 人"), person("待つ 人")
    for who in (coming, leaving):
        await apply(app_client, event_id, who)
    rows = {r["email"]: r for r in await EventApplication.select().where(EventApplication.event == event_id)}
    cancelled = await staff.form(f"/staff/events/{event_id}/applications/{rows[leaving['email']]['id']}/cancel", {})
    assert cancelled.status_code == 303
    await apply(app_client, event_id, waiting)  # a seat was free: registered too, after the cancellation
    first = (await EventPart.select().where(EventPart.event == event_id).order_by(EventPart.number).first())["date"]
    tokyo = ZoneInfo("Asia/Tokyo")
    evening_before = datetime.combine(first - timedelta(days=1), datetime.min.time(), tokyo).replace(hour=18, minute=1)

    def mails(email):
        return OutboundMail.select().where(
            (OutboundMail.to_address == email) & (OutboundMail.purpose == "event-reminder")
        )

    await queue_due(evening_before - timedelta(hours=1))  # not yet due
    assert await mails(coming["email"]) == []
    await queue_due(evening_before)
    await queue_due(evening_before + timedelta(minutes=5))  # the next round: nothing twice
    (reminder,) = await mails(coming["email"])
    assert reminder["subject"] == f"明日は「{form['title']}」です" and "県民福祉プラザ 研修室" in reminder["body"]
    assert "https://meet.example.jp/keicho" in reminder["body"]  # the first part is on site and online
    assert len(await mails(waiting["email"])) == 1
    assert await mails(leaving["email"]) == []  # cancelled: no reminder


async def test_staff_edit_an_event_with_the_same_checks_and_everyone_applied_hears_of_a_new_time(
    app_client, new_client, world, smtp
):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from server.events.reminders import queue_due
    from server.tables import OutboundMail

    staff = await new_client()
    await staff.login(world.staff_a)
    event_id, form = await make_course(staff, world)
    people = [person(name) for name in ("一 花子", "二 太郎", "三 次郎", "四 三子")]
    for who in people:
        await apply(app_client, event_id, who)
    parts_before = await EventPart.select().where(EventPart.event == event_id).order_by(EventPart.number)
    first = parts_before[0]["date"]
    evening = datetime.combine(first - timedelta(days=1), datetime.min.time(), ZoneInfo("Asia/Tokyo")).replace(hour=18)
    assert await queue_due(evening) == 2  # the two with a seat: reminded of 13:30
    await deliver(smtp)  # sent: a reminder of the old time must not stand for the new one

    page = await staff.get(f"/staff/events/{event_id}/edit")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert f'value="{form["title"]}"' in page.text and 'value="13:30"' in page.text
    assert '<option value="both" selected' in page.text  # the first part: on site and online

    # the same checks as making one: refused whole, typed input kept, nothing changed
    refused = await staff.form(f"/staff/events/{event_id}/edit", {**form, "capacity": "0", "title": "新しい題"})
    assert refused.status_code == 422 and "定員は1〜1000で入力してください。" in refused.text
    assert 'value="新しい題"' in refused.text
    assert (await CouncilEvent.select().where(CouncilEvent.id == event_id).first())["title"] == form["title"]

    edited = {**form, "title": form["title"] + "（改）", "capacity": "3", "part_start": ["14:00", "13:30", "", ""]}
    saved = await staff.form(f"/staff/events/{event_id}/edit", edited)
    assert saved.status_code == 303, saved.text[-2000:]
    event = await CouncilEvent.select().where(CouncilEvent.id == event_id).first()
    assert (event["title"], event["capacity"]) == (edited["title"], 3)
    parts = await EventPart.select().where(EventPart.event == event_id).order_by(EventPart.number)
    assert [p["id"] for p in parts] == [p["id"] for p in parts_before]  # the door's marks keep their part
    assert parts[0]["start_time"].strftime("%H:%M") == "14:00"
    states = {r["email"]: r["state"] for r in await EventApplication.select().where(EventApplication.event == event_id)}
    assert [states[p["email"]] for p in people] == ["registered", "registered", "registered", "waiting"]

    await deliver(smtp)
    for who in people:  # seat or waiting: all hear of the new time
        (changed,) = [m for m in smtp.to(who["email"]) if m["Subject"] == "日程が変更されました"]
        assert "14:00" in changed.get_content() and "/events/mine/" in changed.get_content()
    assert [m["Subject"] for m in smtp.to(people[2]["email"])][-2:] == [
        "日程が変更されました",
        "キャンセル待ちから参加が確定しました",
    ]
    # the reminders sent for 13:30 are kept aside; the one for 14:00 goes to the three now seated
    reminders = await OutboundMail.select().where(
        OutboundMail.once_key.like(f"event:{parts[0]['id']}:%") & (OutboundMail.purpose == "event-reminder")
    )
    assert len(reminders) == 2 and all(":moved:" in r["once_key"] and r["state"] == "sent" for r in reminders)
    assert await queue_due(evening) == 3
    assert await queue_due(evening) == 0
    (audit_row,) = await AuditLog.select().where(
        (AuditLog.action == "event.edit") & (AuditLog.target == f"event:{event_id}")
    )
    assert audit_row["detail"] == "名称、定員、第1回"
    # the seats given stay given: the capacity cannot go below them
    shrunk = await staff.form(f"/staff/events/{event_id}/edit", {**edited, "capacity": "2"})
    assert shrunk.status_code == 422 and "定員は、すでに申込済みの3人より少なくできません。" in shrunk.text
    # a part with marks from the door is not dropped by an edit
    seated = (
        await EventApplication.select()
        .where((EventApplication.event == event_id) & (EventApplication.state == "registered"))
        .first()
    )
    await staff.form(
        f"/staff/events/{event_id}/door/{parts[1]['id']}", {"application": str(seated["id"]), "present": "1"}
    )
    one_part = {**edited, "part_date": [edited["part_date"][0], "", "", ""], "part_start": ["14:00", "", "", ""]}
    kept = await staff.form(f"/staff/events/{event_id}/edit", {**one_part, "part_end": ["15:30", "", "", ""]})
    assert kept.status_code == 422 and "第2回は受付で出席が記録されているため、削除できません。" in kept.text
    assert await EventPart.count().where(EventPart.event == event_id) == 2
    # only the area's staff
    other = await new_client()
    await other.login(world.staff_b)
    assert (await other.get(f"/staff/events/{event_id}/edit")).status_code == 404
    assert (await other.form(f"/staff/events/{event_id}/edit", edited)).status_code == 404


async def test_the_door_outbox_is_taken_once_however_often_it_is_sent(app_client, new_client, world):
    """What door.js sends after a time without signal: each mark with the time it was made."""
    staff = await new_client()
    await staff.login(world.staff_a)
    event_id, _form = await make_course(staff, world)
    for name in ("電波 なし子", "圏外 太郎"):
        await apply(app_client, event_id, person(name))
    apps = {r["name"]: r["id"] for r in await EventApplication.select().where(EventApplication.event == event_id)}
    part = (await EventPart.select().where(EventPart.event == event_id).order_by(EventPart.number).first())["id"]
    url = f"/staff/events/{event_id}/door/{part}/marks"
    made = now() - timedelta(minutes=20)
    marks = [
        {"application": str(apps["電波 なし子"]), "present": True, "marked_at": made.isoformat()},
        {
            "application": str(apps["圏外 太郎"]),
            "present": True,
            "marked_at": (made + timedelta(seconds=9)).isoformat(),
        },
        {"application": str(UUID(int=7)), "present": True, "marked_at": made.isoformat()},  # nobody registered
    ]
    sent = await staff.post(url, json={"marks": marks})
    assert sent.status_code == 200, sent.text
    # mark by mark, not as a batch: the bad one is refused with its reason, the others land
    unregistered = {"application": str(UUID(int=7)), "reason": "この方はこの催しに申し込んでいません。"}
    assert sent.json() == {"taken": 2, "stale": 0, "refused": [unregistered]}
    again = await staff.post(url, json={"marks": marks[:2]})  # the reply was lost: the outbox goes again
    assert again.json() == {"taken": 0, "stale": 2, "refused": []}
    # another phone had unmarked 太郎 later than this one's old mark: the later word stands
    later = {"application": str(apps["圏外 太郎"]), "present": False, "marked_at": now().isoformat()}
    assert (await staff.post(url, json={"marks": [later]})).json()["taken"] == 1
    assert (await staff.post(url, json={"marks": [marks[1]]})).json() == {"taken": 0, "stale": 1, "refused": []}
    rows = {r["application"]: r["present"] for r in await EventAttendance.select().where(EventAttendance.part == part)}
    assert rows == {apps["電波 なし子"]: True, apps["圏外 太郎"]: False}
    audited = await AuditLog.count().where(
        (AuditLog.action == "event.attendance") & (AuditLog.target == f"event:{event_id}")
    )
    assert audited == 3  # two marks and the later unmarking, each once
    # two taps on one person in one outbox, sent newest first: each is weighed alone, the later stands
    tapped = now()
    both = [
        {
            "application": str(apps["電波 なし子"]),
            "present": False,
            "marked_at": (tapped + timedelta(seconds=2)).isoformat(),
        },
        {"application": str(apps["電波 なし子"]), "present": True, "marked_at": tapped.isoformat()},
    ]
    assert (await staff.post(url, json={"marks": both})).json() == {"taken": 1, "stale": 1, "refused": []}
    kept = await EventAttendance.select(EventAttendance.present).where(
        (EventAttendance.part == part) & (EventAttendance.application == apps["電波 なし子"])
    )
    assert kept == [{"present": False}]
    future = {**marks[0], "marked_at": (now() + timedelta(days=3)).isoformat()}
    refused = (await staff.post(url, json={"marks": [future, later]})).json()
    too_late = "この記録の時刻にタイムゾーンがないか、1日以上先の時刻です。"
    assert refused == {
        "taken": 0,
        "stale": 1,
        "refused": [{"application": marks[0]["application"], "reason": too_late}],
    }
    assert (await staff.post(url, json={"marks": "no"})).status_code == 400
    other = await new_client()
    await other.login(world.staff_b)
    assert (await other.post(url, json={"marks": marks})).status_code == 404
    worker = await app_client.get("/staff/events/door-sw.js")
    assert worker.status_code == 200 and worker.headers["content-type"].startswith("text/javascript")
