"""A meeting's own reminder times, set on an organiser's phone and carried by sync."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID, uuid4

from server.tables import ReminderDelivery, Session
from tests.factories import make_account, make_area, make_group, subscribe
from tests.sync_phone import Phone


async def pending_kinds(session_id: str) -> list[str]:
    rows = await ReminderDelivery.select(ReminderDelivery.occurrence).where(
        (ReminderDelivery.session == UUID(session_id)) & (ReminderDelivery.state == "pending")
    )
    return sorted(row["occurrence"].rsplit(":", 1)[1] for row in rows)


async def test_a_meetings_reminder_rule_travels_by_sync_and_decides_its_reminders(app_client, push):
    group = await make_group(await make_area())
    organiser = await make_account("organiser", groups=[group])
    await subscribe(push, account=organiser.account_id)  # the organiser's own phone gets the group's meetings
    await app_client.login(organiser)
    phone = Phone(app_client)
    meeting = str(uuid4())
    day = date.today() + timedelta(days=4)

    phone.mutate(
        "session.upsert",
        id=meeting,
        group_id=str(group),
        kind="meeting",
        title="反省会",
        date=day.isoformat(),
        start_time="19:00",
        reminder_rule={"day_before_at": None},
    )
    assert (await phone.push()).status_code == 200
    assert await pending_kinds(meeting) == ["2h"]  # the day-before one is off for this meeting
    stored = await Session.select(Session.reminder_rule).where(Session.id == UUID(meeting)).first()
    assert stored["reminder_rule"] in ({"day_before_at": None}, '{"day_before_at": null}')

    other = Phone(app_client)  # a second phone pulls the rule as it was set
    pulled = {c["id"]: c["data"] for c in await other.pull() if c["entity"] == "session"}
    assert pulled[meeting]["reminder_rule"] == {"day_before_at": None}

    phone.mutate("session.upsert", id=meeting, reminder_rule=None)  # back to the usual times
    assert (await phone.push()).status_code == 200
    assert await pending_kinds(meeting) == ["2h", "day_before"]


async def test_a_bad_reminder_rule_is_refused_with_its_reason_and_changes_nothing(app_client):
    group = await make_group(await make_area())
    organiser = await make_account("organiser", groups=[group])
    await app_client.login(organiser)
    phone = Phone(app_client)
    meeting = str(uuid4())
    phone.mutate(
        "session.upsert",
        id=meeting,
        group_id=str(group),
        kind="meeting",
        date="2030-06-09",
        reminder_rule={"hours_before": 12},
    )
    response = await phone.push()
    assert response.status_code == 200
    result = response.json()["results"][0]
    assert result["status"] == "rejected" and "hours_before" in result["error"]
    assert await Session.select().where(Session.id == UUID(meeting)) == []
