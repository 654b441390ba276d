"""Reminder rules: the built-in rule (the day before at 18:00, two hours before, quiet
hours, time zones with DST), and the rules set per ibasho (staff's form), per session (an
override) and per subscription (the participant's management page); their due times, and
how pending deliveries follow a change at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sqlite3
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from server.council.forms import IbashoForm
from server.reminders.planning import occurrence_key, refresh_deliveries
from server.reminders.rules import (
    DAY_BEFORE,
    DEFAULT_RULE,
    HOURS_BEFORE,
    Rule,
    chosen_kinds,
    defer_quiet,
    due_times,
    layered,
)
from server.sync.sessions_ahead import ensure_sessions_ahead
from server.sync.store import decoded_json
from server.tables import Group, Ibasho, PushSubscription, ReminderDelivery, Session, SessionStatus
from sync.ids import scheduled_session_id
from tests.factories import DAY_BEFORE as DAY_BEFORE_18
from tests.factories import (
    SESSION_DAY,
    TWO_HOURS,
    deliveries,
    make_account,
    reminder_session,
    run_cli_ok,
    subscribe,
    unique,
)
from tests.pg import PostgresUnavailable, create_database, drop_database, postgres_admin_url, require_postgres

pytestmark = pytest.mark.usefixtures("no_other_deliveries")

TOKYO = "Asia/Tokyo"
BEFORE = DAY_BEFORE_18 - timedelta(days=1)  # when the tests refresh: long before either reminder


def local(moment: datetime, tz: str = TOKYO) -> datetime:
    return moment.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def kinds_and_times(dues, tz: str = TOKYO) -> list[tuple[str, datetime]]:
    return [(due.kind, local(due.due_at, tz)) for due in dues]


def december(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute)


# --- the built-in rule (pure) ------------------------------------------------------------------


def test_defaults_are_the_day_before_at_18_and_two_hours_before():
    dues = due_times(date(2026, 12, 6), time(10, 0), TOKYO)
    assert [(d.kind, local(d.due_at)) for d in dues] == [
        ("day_before", datetime(2026, 12, 5, 18, 0)),
        ("2h", datetime(2026, 12, 6, 8, 0)),
    ]
    assert all(d.due_at.tzinfo is UTC and local(d.expires_at) == datetime(2026, 12, 6, 10) for d in dues)


def test_a_reminder_at_23_00_is_deferred_to_08_00_the_next_day():
    tokyo = ZoneInfo(TOKYO)
    at_23 = datetime(2026, 12, 5, 23, 0, tzinfo=tokyo)
    assert local(defer_quiet(at_23, tokyo)) == datetime(2026, 12, 6, 8, 0)
    assert local(defer_quiet(datetime(2026, 12, 5, 21, 0, tzinfo=tokyo), tokyo)) == datetime(2026, 12, 6, 8, 0)
    assert local(defer_quiet(datetime(2026, 12, 6, 7, 59, tzinfo=tokyo), tokyo)) == datetime(2026, 12, 6, 8, 0)
    assert local(defer_quiet(datetime(2026, 12, 5, 20, 59, tzinfo=tokyo), tokyo)) == datetime(2026, 12, 5, 20, 59)


def test_two_hours_before_an_early_session_is_deferred_not_dropped():
    dues = {d.kind: d for d in due_times(date(2026, 12, 6), time(9, 30), TOKYO)}
    assert local(dues["2h"].due_at) == datetime(2026, 12, 6, 8, 0)  # 07:30 is quiet


def test_a_reminder_that_could_only_come_after_the_start_is_left_out():
    dues = due_times(date(2026, 12, 6), time(7, 0), TOKYO)  # 2 h before = 05:00 → 08:00, after the start
    assert [d.kind for d in dues] == ["day_before"]


def test_dst_spring_forward_in_berlin():
    # 29 March 2026: clocks go from 02:00 CET to 03:00 CEST.
    dues = {d.kind: d for d in due_times(date(2026, 3, 29), time(12, 0), "Europe/Berlin")}
    assert dues["day_before"].due_at == datetime(2026, 3, 28, 17, 0, tzinfo=UTC)  # 18:00 CET
    assert dues["2h"].due_at == datetime(2026, 3, 29, 8, 0, tzinfo=UTC)  # 10:00 CEST
    assert dues["2h"].expires_at - dues["day_before"].due_at == timedelta(hours=17)  # one hour lost overnight


def test_dst_fall_back_in_new_york():
    # 1 November 2026: clocks go from 02:00 EDT back to 01:00 EST.
    dues = {d.kind: d for d in due_times(date(2026, 11, 1), time(10, 0), "America/New_York")}
    assert dues["day_before"].due_at == datetime(2026, 10, 31, 22, 0, tzinfo=UTC)  # 18:00 EDT
    assert dues["2h"].due_at == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)  # 08:00 EST
    assert local(dues["2h"].due_at, "America/New_York") == datetime(2026, 11, 1, 8, 0)
    # quiet hours are wall-clock: 23:30 EST → 08:00 EST
    late = datetime(2026, 11, 1, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    assert local(defer_quiet(late, ZoneInfo("America/New_York")), "America/New_York") == datetime(2026, 11, 2, 8, 0)


# --- a rule of one's own (pure) ------------------------------------------------------------------


def test_a_custom_day_before_time():
    dues = due_times(date(2026, 12, 6), time(10, 0), TOKYO, Rule(day_before_at=time(19, 30)))
    assert kinds_and_times(dues) == [(DAY_BEFORE, december(5, 19, 30)), (HOURS_BEFORE, december(6, 8))]


def test_custom_hours_before():
    dues = due_times(date(2026, 12, 6), time(14, 0), TOKYO, Rule(hours_before=5))
    assert kinds_and_times(dues) == [(DAY_BEFORE, december(5, 18)), (HOURS_BEFORE, december(6, 9))]


def test_either_kind_can_be_off():
    day = date(2026, 12, 6)
    assert kinds_and_times(due_times(day, time(14, 0), TOKYO, Rule(day_before_at=None))) == [
        (HOURS_BEFORE, datetime(2026, 12, 6, 12, 0))
    ]
    assert kinds_and_times(due_times(day, time(14, 0), TOKYO, Rule(hours_before=None))) == [
        (DAY_BEFORE, datetime(2026, 12, 5, 18, 0))
    ]
    assert due_times(day, time(14, 0), TOKYO, Rule(day_before_at=None, hours_before=None)) == []
    assert Rule(day_before_at=None).kinds == (HOURS_BEFORE,) and DEFAULT_RULE.kinds == (DAY_BEFORE, HOURS_BEFORE)


def test_custom_quiet_hours_defer_to_their_end_never_drop():
    rule = Rule(day_before_at=time(20, 30), hours_before=3, quiet_start=time(20, 0), quiet_end=time(9, 0))
    # 20:30 the day before and 07:00 on the day are both quiet: each waits for 09:00
    dues = due_times(date(2026, 12, 6), time(10, 0), TOKYO, rule)
    assert kinds_and_times(dues) == [(DAY_BEFORE, december(6, 9)), (HOURS_BEFORE, december(6, 9))]
    # with the default quiet hours 20:30 and 07:00 would be 20:30 and 08:00
    assert kinds_and_times(
        due_times(
            date(2026, 12, 6),
            time(10, 0),
            TOKYO,
            dataclasses.replace(rule, quiet_start=time(21, 0), quiet_end=time(8, 0)),
        )
    ) == [(DAY_BEFORE, datetime(2026, 12, 5, 20, 30)), (HOURS_BEFORE, datetime(2026, 12, 6, 8, 0))]
    # quiet hours inside one day (a lunch break), and none at all
    lunch = Rule(quiet_start=time(12, 0), quiet_end=time(13, 30))
    tz = ZoneInfo(TOKYO)
    assert local(defer_quiet(datetime(2026, 12, 6, 12, 15, tzinfo=tz), tz, lunch)) == datetime(2026, 12, 6, 13, 30)
    assert local(defer_quiet(datetime(2026, 12, 6, 23, 0, tzinfo=tz), tz, lunch)) == datetime(2026, 12, 6, 23, 0)
    never = Rule(quiet_start=time(0, 0), quiet_end=time(0, 0))
    assert local(defer_quiet(datetime(2026, 12, 6, 3, 0, tzinfo=tz), tz, never)) == datetime(2026, 12, 6, 3, 0)


def test_dst_with_a_custom_rule():
    berlin, new_york = "Europe/Berlin", "America/New_York"
    no_quiet = dict(quiet_start=time(0, 0), quiet_end=time(0, 0))
    # 29 March 2026, 02:00 CET → 03:00 CEST. Six hours before 08:00 CEST is absolute: 01:00 CET (00:00 UTC).
    dues = {d.kind: d for d in due_times(date(2026, 3, 29), time(8, 0), berlin, Rule(hours_before=6, **no_quiet))}
    assert dues[HOURS_BEFORE].due_at == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    # the day before at 02:30 on the day the clocks jump: a wall-clock time that does not exist moves forward
    rule = Rule(day_before_at=time(2, 30), **no_quiet)
    dues = {d.kind: d for d in due_times(date(2026, 3, 30), time(10, 0), berlin, rule)}
    assert dues[DAY_BEFORE].due_at == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST
    # 1 November 2026, 02:00 EDT → 01:00 EST. 23:00 EDT is quiet until 06:30, which is then EST.
    rule = Rule(day_before_at=time(23, 0), quiet_start=time(22, 0), quiet_end=time(6, 30))
    dues = {d.kind: d for d in due_times(date(2026, 11, 1), time(10, 0), new_york, rule)}
    assert dues[DAY_BEFORE].due_at == datetime(2026, 11, 1, 11, 30, tzinfo=UTC)
    assert dues[HOURS_BEFORE].due_at == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)  # 08:00 EST


def test_stored_rules_are_layered_and_bad_keys_are_ignored():
    rule = Rule(day_before_at=None, hours_before=4, quiet_start=time(22, 0), quiet_end=time(7, 0))
    assert layered(rule.stored()) == rule
    assert layered(None) == layered("") == layered({}) == DEFAULT_RULE
    assert layered('{"hours_before": 3}') == Rule(hours_before=3)  # SQLite hands JSON back as text
    assert layered({"hours_before": 3}, {"day_before_at": None}) == Rule(day_before_at=None, hours_before=3)
    assert layered({"hours_before": 3}, None) == Rule(hours_before=3)  # no session override
    assert layered({"hours_before": 99, "quiet_start": "25:00", "day_before_at": 7, "other": 1}) == DEFAULT_RULE
    assert layered("not json", [1]) == DEFAULT_RULE


def test_a_subscriber_gets_the_kinds_they_chose_that_the_rule_sends():
    both = (DAY_BEFORE, HOURS_BEFORE)
    assert chosen_kinds([], both) == both and chosen_kinds(None, both) == both
    assert chosen_kinds([HOURS_BEFORE], both) == (HOURS_BEFORE,)
    assert chosen_kinds([HOURS_BEFORE], (DAY_BEFORE,)) == (DAY_BEFORE,)  # no silence they did not ask for
    assert chosen_kinds("nonsense", both) == both
    assert chosen_kinds([DAY_BEFORE], ()) == ()


# --- deliveries follow the rules -------------------------------------------------------------


@pytest.fixture(autouse=True)
async def no_subscriber_left_behind():
    """Later tests reconcile whole weeks (tests/test_reminders.py counts what that creates):
    the subscriptions made here go with their test."""
    before = [row["id"] for row in await PushSubscription.select(PushSubscription.id)]
    yield
    made_here = PushSubscription.id.not_in(before) if before else PushSubscription.id.is_not_null()
    await PushSubscription.delete().where(made_here)


async def set_rule(ibasho_id: UUID, rule: Rule | None) -> None:
    await Ibasho.update({Ibasho.reminder_rule: rule.stored() if rule else None}).where(Ibasho.id == ibasho_id)


async def pending_of(session_id: UUID, subscription: UUID | None = None) -> dict[str, datetime]:
    """kind → due time of the session's pending deliveries (of one subscription)."""
    rows = await deliveries(session=session_id, state="pending")
    return {
        r["occurrence"].rsplit(":", 1)[1]: r["due_at"]
        for r in rows
        if subscription is None or r["subscription"] == subscription
    }


def jst(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2030, 6, day, hour, minute, tzinfo=ZoneInfo(TOKYO)).astimezone(UTC)


async def test_the_ibashos_rule_sets_the_times_and_a_change_moves_or_withdraws_only_unsent_ones(push):
    _, ibasho_id, session_id = await reminder_session()  # SESSION_DAY 10:00 JST
    await set_rule(ibasho_id, Rule(day_before_at=time(19, 30), hours_before=1))
    _, sub_id = await subscribe(push, ibasho_id)
    assert await refresh_deliveries(session_id, now=BEFORE) == 2
    assert await pending_of(session_id) == {DAY_BEFORE: jst(8, 19, 30), HOURS_BEFORE: jst(9, 9)}

    # the day-before one goes out; a retry of the other waits for its backoff
    day_before = (
        await deliveries(
            session=session_id,
            occurrence=occurrence_key(await Session.select().where(Session.id == session_id).first(), DAY_BEFORE),
        )
    )[0]
    await ReminderDelivery.update({ReminderDelivery.state: "sent", ReminderDelivery.sent_at: jst(8, 19, 30)}).where(
        ReminderDelivery.id == day_before["id"]
    )
    await set_rule(ibasho_id, Rule(day_before_at=time(17, 0), hours_before=3))
    assert await refresh_deliveries(session_id, now=BEFORE) == 0
    assert await pending_of(session_id) == {HOURS_BEFORE: jst(9, 8)}  # 07:00 is quiet: 08:00
    sent = (await deliveries(id=day_before["id"]))[0]
    assert sent["state"] == "sent" and sent["due_at"] == jst(8, 19, 30)  # never touched

    retry_at = jst(9, 8, 30)
    await ReminderDelivery.update({ReminderDelivery.attempts: 1, ReminderDelivery.due_at: retry_at}).where(
        (ReminderDelivery.session == session_id) & (ReminderDelivery.state == "pending")
    )
    await set_rule(ibasho_id, Rule(hours_before=2))
    await refresh_deliveries(session_id, now=BEFORE)
    assert await pending_of(session_id) == {HOURS_BEFORE: retry_at}  # a retry keeps its backoff

    # turned off: withdrawn; on again: the same delivery is pending again (one per occurrence and subscriber)
    await set_rule(ibasho_id, Rule(hours_before=None))
    await refresh_deliveries(session_id, now=BEFORE)
    assert await pending_of(session_id) == {}
    withdrawn = await deliveries(session=session_id, state="withdrawn")
    assert [r["subscription"] for r in withdrawn] == [sub_id]
    await set_rule(ibasho_id, Rule(hours_before=1))
    assert await refresh_deliveries(session_id, now=BEFORE) == 1
    assert await pending_of(session_id) == {HOURS_BEFORE: jst(9, 9)}
    assert len(await deliveries(session=session_id)) == 2


async def test_a_sessions_own_rule_overrides_its_ibashos_for_that_session_only(push):
    group, ibasho_id, session_id = await reminder_session()
    _, _, other = await reminder_session(day=SESSION_DAY + timedelta(days=1))
    await Session.update({Session.ibasho: ibasho_id}).where(Session.id == other)
    await set_rule(ibasho_id, Rule(day_before_at=time(19, 0), hours_before=None))
    await subscribe(push, ibasho_id)
    await Session.update({Session.reminder_rule: {"hours_before": 1}}).where(Session.id == session_id)
    await refresh_deliveries(session_id, now=BEFORE)
    await refresh_deliveries(other, now=BEFORE)
    # the ibasho's day-before time stays; the hours-before reminder is this session's own
    assert await pending_of(session_id) == {DAY_BEFORE: jst(8, 19), HOURS_BEFORE: jst(9, 9)}
    assert await pending_of(other) == {DAY_BEFORE: jst(9, 19)}

    await Session.update({Session.reminder_rule: None}).where(Session.id == session_id)  # the override removed
    await refresh_deliveries(session_id, now=BEFORE)
    assert await pending_of(session_id) == {DAY_BEFORE: jst(8, 19)}


async def test_a_meeting_without_an_ibasho_takes_the_built_in_rule_or_its_own(push):
    group, _, _ = await reminder_session()
    organiser = await make_account("organiser", groups=[group])
    _, sub_id = await subscribe(push, account=organiser.account_id)
    meeting = uuid4()
    now = datetime.now(UTC)
    await Session.insert(
        Session(
            id=meeting,
            group=group,
            ibasho=None,
            kind="meeting",
            title="推進委員会",
            date=SESSION_DAY,
            start_time=time(14, 0),
            status=SessionStatus.scheduled.value,
            hlcs={},
            created_at=now,
            updated_at=now,
        )
    )
    await refresh_deliveries(meeting, now=BEFORE)
    assert await pending_of(meeting, sub_id) == {DAY_BEFORE: jst(8, 18), HOURS_BEFORE: jst(9, 12)}
    own = {"day_before_at": None, "hours_before": 3}
    await Session.update({Session.reminder_rule: own}).where(Session.id == meeting)
    await refresh_deliveries(meeting, now=BEFORE)
    assert await pending_of(meeting, sub_id) == {HOURS_BEFORE: jst(9, 11)}


async def test_each_subscriber_gets_only_the_kinds_they_chose(push):
    _, ibasho_id, session_id = await reminder_session()
    _, both = await subscribe(push, ibasho_id)
    _, early = await subscribe(push, ibasho_id)
    await PushSubscription.update({PushSubscription.offsets: [DAY_BEFORE]}).where(PushSubscription.id == early)
    assert await refresh_deliveries(session_id, now=BEFORE) == 3
    assert set(await pending_of(session_id, both)) == {DAY_BEFORE, HOURS_BEFORE}
    assert set(await pending_of(session_id, early)) == {DAY_BEFORE}

    await PushSubscription.update({PushSubscription.offsets: [HOURS_BEFORE]}).where(PushSubscription.id == early)
    assert await refresh_deliveries(session_id, now=BEFORE) == 1
    assert await pending_of(session_id, early) == {HOURS_BEFORE: TWO_HOURS}
    assert set(await pending_of(session_id, both)) == {DAY_BEFORE, HOURS_BEFORE}
    [withdrawn] = await deliveries(session=session_id, subscription=early, state="withdrawn")
    assert withdrawn["occurrence"].endswith(":" + DAY_BEFORE)

    # the ibasho stops sending the one they chose: they get what it still sends
    await set_rule(ibasho_id, Rule(hours_before=None))
    await refresh_deliveries(session_id, now=BEFORE)
    assert await pending_of(session_id, early) == {DAY_BEFORE: DAY_BEFORE_18}


# --- staff set the rule on the ibasho form ----------------------------------------------------


def posted(form: IbashoForm, **changes) -> dict[str, str]:
    """The form as a browser posts it: ticked boxes as "1", unticked ones left out."""
    fields = {**dataclasses.asdict(form), **changes}
    return {name: ("1" if value is True else value) for name, value in fields.items() if value is not False}


async def staff_for(group: UUID):
    area = (await Group.select(Group.area).where(Group.id == group).first())["area"]
    return await make_account("staff", areas=[area])


async def test_staff_save_a_reminder_rule_on_the_ibasho_form(app_client, world):
    await app_client.login(world.staff_a)
    new_page = await app_client.get(f"/staff/groups/{world.group_a}/ibasho/new")
    assert all(text in new_page.text for text in ("お知らせ通知", "前日にお知らせする", "送らない時間帯（から）"))
    assert 'name="remind_day_before" value="1" checked' in new_page.text and 'value="18:00"' in new_page.text
    name = unique("きらくら")
    form = posted(
        IbashoForm.new(), name=name, remind_day_before=False, hours_before="3", quiet_start="22:00", quiet_end="07:00"
    )
    assert (await app_client.form(f"/staff/groups/{world.group_a}/ibasho/new", form)).status_code == 303
    row = await Ibasho.select().where(Ibasho.name == name).first()
    assert layered(row["reminder_rule"]) == Rule(
        day_before_at=None, hours_before=3, quiet_start=time(22, 0), quiet_end=time(7, 0)
    )

    edit = await app_client.get(f"/staff/ibasho/{row['id']}/edit")
    assert 'name="remind_day_before" value="1">' in edit.text  # unticked, the default time ready to turn on
    assert 'name="remind_hours_before" value="1" checked' in edit.text and 'name="hours_before"' in edit.text
    assert 'value="3"' in edit.text and 'value="22:00"' in edit.text and 'value="07:00"' in edit.text
    again = IbashoForm.from_row(row)
    assert (again.remind_day_before, again.day_before_at, again.hours_before) == (False, "18:00", "3")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"hours_before": "9"}, "開始の何時間前は1〜6で入力してください。"),
        ({"hours_before": "0"}, "開始の何時間前は1〜6で入力してください。"),
        ({"hours_before": "two"}, "開始の何時間前が正しくありません。"),
        ({"hours_before": ""}, "開始の何時間前を入力してください。"),
        ({"day_before_at": ""}, "前日のお知らせの時刻を入力してください。"),
        ({"day_before_at": "25:00"}, "前日のお知らせの時刻が正しくありません。"),
        ({"quiet_start": "08:00", "quiet_end": "08:00"}, "送らない時間帯の始まりと終わりは別の時刻にしてください。"),
        ({"quiet_end": ""}, "送らない時間帯の始まりと終わりを両方入力してください。"),
    ],
)
async def test_a_bad_reminder_rule_is_refused_with_a_message_and_changes_nothing(app_client, world, changes, message):
    ibasho_id = uuid4()
    stored = Rule(hours_before=4).stored()
    await Ibasho.insert(
        Ibasho(
            id=ibasho_id,
            group=world.group_a,
            name="すみれの家",
            rrule="FREQ=MONTHLY;BYDAY=1SU",
            reminder_rule=stored,
            created_at=datetime.now(UTC),
        )
    )
    row = await Ibasho.select().where(Ibasho.id == ibasho_id).first()
    await app_client.login(world.staff_a)
    refused = await app_client.form(
        f"/staff/ibasho/{ibasho_id}/edit", posted(IbashoForm.from_row(row), name="改名", **changes)
    )
    assert refused.status_code == 422 and message in refused.text, refused.text
    after = await Ibasho.select().where(Ibasho.id == ibasho_id).first()
    assert after["name"] == "すみれの家" and layered(after["reminder_rule"]) == Rule(hours_before=4)


async def test_a_kind_that_is_off_is_not_checked(app_client, world):
    ibasho_id = uuid4()
    await Ibasho.insert(
        Ibasho(
            id=ibasho_id,
            group=world.group_a,
            name="すみれの家",
            rrule="FREQ=MONTHLY;BYDAY=1SU",
            created_at=datetime.now(UTC),
        )
    )
    row = await Ibasho.select().where(Ibasho.id == ibasho_id).first()
    await app_client.login(world.staff_a)
    form = posted(IbashoForm.from_row(row), remind_hours_before=False, hours_before="99")
    assert (await app_client.form(f"/staff/ibasho/{ibasho_id}/edit", form)).status_code == 303
    after = await Ibasho.select(Ibasho.reminder_rule).where(Ibasho.id == ibasho_id).first()
    assert layered(after["reminder_rule"]) == Rule(hours_before=None)


async def test_saving_the_ibasho_refreshes_its_upcoming_reminders_at_once(app_client, push):
    day = datetime.now(ZoneInfo(TOKYO)).date() + timedelta(days=3)
    group, ibasho_id, session_id = await reminder_session(day=day)
    await Ibasho.update({Ibasho.rrule: "FREQ=MONTHLY;BYDAY=1SU"}).where(Ibasho.id == ibasho_id)
    await subscribe(push, ibasho_id)
    await refresh_deliveries(session_id)
    assert set(await pending_of(session_id)) == {DAY_BEFORE, HOURS_BEFORE}

    await app_client.login(await staff_for(group))
    row = await Ibasho.select().where(Ibasho.id == ibasho_id).first()
    saved = await app_client.form(
        f"/staff/ibasho/{ibasho_id}/edit", posted(IbashoForm.from_row(row), remind_day_before=False, hours_before="1")
    )
    assert saved.status_code == 303
    # no reconcile ran: the save itself withdrew the day-before reminder and moved the other
    starts = datetime.combine(day, time(10, 0), tzinfo=ZoneInfo(TOKYO))
    assert await pending_of(session_id) == {HOURS_BEFORE: starts - timedelta(hours=1)}
    assert len(await deliveries(session=session_id, state="withdrawn")) == 1

    # a time zone change moves them too, and when they expire (the start)
    row = await Ibasho.select().where(Ibasho.id == ibasho_id).first()
    saved = await app_client.form(
        f"/staff/ibasho/{ibasho_id}/edit", posted(IbashoForm.from_row(row), timezone="Asia/Bangkok")
    )
    assert saved.status_code == 303
    [moved] = await deliveries(session=session_id, state="pending")
    bangkok = ZoneInfo("Asia/Bangkok")
    assert moved["due_at"] == datetime.combine(day, time(9, 0), tzinfo=bangkok)
    assert moved["expires_at"] == datetime.combine(day, time(10, 0), tzinfo=bangkok)


async def test_sessions_made_ahead_from_the_schedule_get_their_reminders_at_once(push):
    group, ibasho_id, _ = await reminder_session()
    await Ibasho.update({Ibasho.rrule: "FREQ=DAILY", Ibasho.start_time: time(10, 0)}).where(Ibasho.id == ibasho_id)
    await subscribe(push, ibasho_id)
    assert await ensure_sessions_ahead(ibasho_id) > 0
    in_three_days = scheduled_session_id(ibasho_id, datetime.now(ZoneInfo(TOKYO)).date() + timedelta(days=3))
    assert set(await pending_of(in_three_days)) == {DAY_BEFORE, HOURS_BEFORE}


# --- a participant chooses on the management page ---------------------------------------------


async def test_a_participant_chooses_their_reminders_on_the_management_page(app_client, push, allow_fake):
    _, ibasho_id, session_id = await reminder_session(day=datetime.now(ZoneInfo(TOKYO)).date() + timedelta(days=3))
    sub = push.subscriber()
    saved = await app_client.post(
        "/api/push/subscriptions",
        json={
            "endpoint": push.endpoint(sub),
            "keys": {"p256dh": sub.p256dh, "auth": sub.auth},
            "ibasho_id": str(ibasho_id),
        },
    )
    manage_url = saved.json()["manage_url"]
    sub_id = UUID(saved.json()["id"])
    await refresh_deliveries(session_id)
    assert set(await pending_of(session_id, sub_id)) == {DAY_BEFORE, HOURS_BEFORE}

    page = await app_client.get(manage_url)
    assert page.status_code == 200 and "受け取るお知らせ" in page.text and "通知を止める" in page.text
    assert "前日の18:00" in page.text and "開始の2時間前" in page.text and "21:00〜08:00はお送りしません" in page.text
    assert 'name="day_before" value="1" checked' in page.text and 'name="hours_before" value="1" checked' in page.text

    only_early = await app_client.form(manage_url, {"day_before": "1"})
    assert only_early.status_code == 303 and only_early.headers["location"] == f"{manage_url}?saved=1"
    stored = await PushSubscription.select(PushSubscription.offsets).where(PushSubscription.id == sub_id).first()
    assert decoded_json(stored["offsets"]) == [DAY_BEFORE]
    assert set(await pending_of(session_id, sub_id)) == {DAY_BEFORE}  # withdrawn at once, no reconcile
    page = await app_client.get(only_early.headers["location"])
    assert "保存しました。" in page.text
    assert 'name="day_before" value="1" checked' in page.text and 'name="hours_before" value="1">' in page.text

    none = await app_client.form(manage_url, {})
    assert none.status_code == 422 and "受け取るお知らせを一つ以上選んでください。" in none.text
    assert set(await pending_of(session_id, sub_id)) == {DAY_BEFORE}

    both = await app_client.form(manage_url, {"day_before": "1", "hours_before": "1"})
    assert both.status_code == 303
    stored = await PushSubscription.select(PushSubscription.offsets).where(PushSubscription.id == sub_id).first()
    assert decoded_json(stored["offsets"]) == []  # all the ibasho sends
    assert set(await pending_of(session_id, sub_id)) == {DAY_BEFORE, HOURS_BEFORE}


async def test_a_wrong_management_token_changes_nothing(app_client, push):
    _, ibasho_id, _ = await reminder_session()
    _, sub_id = await subscribe(push, ibasho_id)
    before = await PushSubscription.select().where(PushSubscription.id == sub_id).first()
    for token in ("not-a-token", "x" * 43, ""):
        response = await app_client.form(f"/push/manage/{token}", {"day_before": "1"})
        assert response.status_code in (404, 405), (token, response.status_code)
    assert await PushSubscription.select().where(PushSubscription.id == sub_id).first() == before
    # without the CSRF token even the right link is refused (tests/test_access.py checks every route)
    assert (await app_client.http.post("/push/manage/not-a-token", data={"day_before": "1"})).status_code == 403


async def test_the_management_page_offers_only_what_the_ibasho_sends(app_client, push, allow_fake):
    _, ibasho_id, _ = await reminder_session()
    await set_rule(ibasho_id, Rule(day_before_at=None, hours_before=3, quiet_start=time(22, 0), quiet_end=time(7, 0)))
    sub = push.subscriber()
    saved = await app_client.post(
        "/api/push/subscriptions",
        json={
            "endpoint": push.endpoint(sub),
            "keys": {"p256dh": sub.p256dh, "auth": sub.auth},
            "ibasho_id": str(ibasho_id),
        },
    )
    page = await app_client.get(saved.json()["manage_url"])
    assert "開始の3時間前" in page.text and 'name="day_before"' not in page.text and "22:00〜07:00" in page.text
    await set_rule(ibasho_id, Rule(day_before_at=None, hours_before=None))
    page = await app_client.get(saved.json()["manage_url"])
    assert "いまはお知らせを送っていません" in page.text and "通知を止める" in page.text


async def test_the_public_page_tells_when_this_ibashos_reminders_come(app_client):
    _, ibasho_id, _ = await reminder_session()
    page = await app_client.get(f"/i/{ibasho_id}")
    assert "前日の18:00" in page.text and "開始の2時間前" in page.text and "21:00〜08:00" in page.text
    await set_rule(ibasho_id, Rule(day_before_at=time(17, 30), hours_before=None, quiet_start=time(20, 0)))
    page = await app_client.get(f"/i/{ibasho_id}")
    assert "前日の17:30" in page.text and "時間前" not in page.text and "20:00〜08:00" in page.text


# --- the migration ----------------------------------------------------------------------------

MIGRATION_ID = "2026-11-24T19:52:55:153153"


def test_the_reminder_rule_migration_runs_forwards_and_backwards_on_sqlite(tmp_path):
    env = {**os.environ, "IBASHO_DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)

    def columns(table: str) -> set[str]:
        with sqlite3.connect(tmp_path / "ibasho.sqlite") as connection:
            return {row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')}

    run_cli_ok("migrate", env=env)
    assert "reminder_rule" in columns("ibasho") and "reminder_rule" in columns("gathering")
    run_cli_ok("migrate", "--backwards", MIGRATION_ID, env=env)
    assert "reminder_rule" not in columns("ibasho") | columns("gathering")
    assert "rrule" in columns("ibasho")  # only this migration was undone
    run_cli_ok("migrate", env=env)
    assert "reminder_rule" in columns("ibasho") and "reminder_rule" in columns("gathering")


def test_the_reminder_rule_migration_runs_forwards_and_backwards_on_postgres(tmp_path):
    try:
        name, url = create_database(postgres_admin_url(), "ibasho_rule_migration")
    except PostgresUnavailable as error:
        require_postgres(error)
        pytest.skip(str(error))

    async def columns() -> set[tuple[str, str]]:
        import asyncpg

        connection = await asyncpg.connect(url)
        try:
            rows = await connection.fetch(
                "SELECT table_name, column_name FROM information_schema.columns WHERE column_name = 'reminder_rule'"
            )
        finally:
            await connection.close()
        return {(row["table_name"], row["column_name"]) for row in rows}

    try:
        env = {**os.environ, "IBASHO_DATA_DIR": str(tmp_path), "DATABASE_URL": url}
        run_cli_ok("migrate", env=env)
        assert asyncio.run(columns()) == {("ibasho", "reminder_rule"), ("gathering", "reminder_rule")}
        run_cli_ok("migrate", "--backwards", MIGRATION_ID, env=env)
        assert asyncio.run(columns()) == set()
        run_cli_ok("migrate", env=env)
        assert asyncio.run(columns()) == {("ibasho", "reminder_rule"), ("gathering", "reminder_rule")}
    finally:
        drop_database(postgres_admin_url(), name)
