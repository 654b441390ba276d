"""Sessions a schedule implies exist ahead of time, with the same ids for every phone."""

from __future__ import annotations

from datetime import date, time, timedelta
from uuid import uuid4

from server.core.clock import now
from server.sync.sessions_ahead import ensure_sessions_ahead
from server.tables import Ibasho, Session
from sync.ids import scheduled_session_id
from tests.sync_phone import Phone


async def make_ibasho(group_id, rrule="FREQ=MONTHLY;BYDAY=1SU", status="active"):
    ibasho_id = uuid4()
    await Ibasho.insert(
        Ibasho(
            id=ibasho_id,
            group=group_id,
            name="きらくら",
            venue="西部コミセン",
            rrule=rrule,
            status=status,
            start_time=time(10),
            end_time=time(13),
            timezone="Asia/Tokyo",
            active_from=date(2017, 5, 7),
            created_at=now(),
        )
    )
    return ibasho_id


async def test_three_months_of_sessions_are_created_once(world, new_client):
    ibasho_id = await make_ibasho(world.group_a)
    created = await ensure_sessions_ahead(ibasho_id)
    assert created in (3, 4)  # first Sundays within the next three months
    assert await ensure_sessions_ahead(ibasho_id) == 0  # a second run (or another process) adds nothing
    rows = await Session.select().where(Session.ibasho == ibasho_id).order_by(Session.date)
    assert len(rows) == created
    for row in rows:
        assert row["date"].weekday() == 6 and row["date"].day <= 7
        assert row["date"] <= date.today() + timedelta(days=93)
        assert row["id"] == scheduled_session_id(ibasho_id, row["date"])
        assert (row["start_time"], row["end_time"], row["from_schedule"]) == (time(10), time(13), True)

    client = await new_client()
    await client.login(world.organiser_a)
    phone = Phone(client)
    await phone.pull()
    assert {str(row["id"]) for row in rows} <= {key[1] for key in phone.state if key[0] == "session"}


async def test_paused_ibasho_get_no_sessions(world):
    ibasho_id = await make_ibasho(world.group_a, status="paused")
    assert await ensure_sessions_ahead(ibasho_id) == 0
