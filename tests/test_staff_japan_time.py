"""Times on the staff pages are read on the group's wall clock (Asia/Tokyo by default),
through one formatter (server/core/dates.py ``format_moment``); they are stored UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from server.core.audit import audit
from server.core.dates import format_moment
from server.tables import AuditLog, SafetyCheck
from tests.factories import make_group, make_person, make_session

LATE_NIGHT = datetime(2026, 11, 30, 17, 39, tzinfo=UTC)  # 2026/12/1 02:39 in Tokyo


def test_one_formatter_turns_a_stored_moment_into_the_wall_clock():
    assert format_moment(LATE_NIGHT) == "2026/12/1 02:39"  # the council's default zone
    assert format_moment(LATE_NIGHT, "Asia/Tokyo") == "2026/12/1 02:39"
    assert format_moment(LATE_NIGHT, "Europe/London") == "2026/11/30 17:39"
    assert format_moment(LATE_NIGHT.replace(tzinfo=None)) == "2026/12/1 02:39"  # naive from SQLite: UTC
    assert format_moment(None) == ""
    assert format_moment(LATE_NIGHT, "Not/AZone") == "2026/12/1 02:39"  # a bad stored name: the default


async def test_a_safety_check_after_midnight_shows_on_the_next_day_in_japan(world, app_client):
    session = await make_session(world.group_a)
    person = await make_person(world.group_a, "夜中一郎")
    check = uuid4()
    await SafetyCheck.insert(
        SafetyCheck(
            id=check,
            session=session,
            person=person,
            outcome="safe",
            contacted_by="田中",
            contacted_at=LATE_NIGHT,
            method="phone",
            opened_at=LATE_NIGHT,
            closed_at=LATE_NIGHT,
        )
    )
    await app_client.login(world.staff_a)
    listed = (await app_client.get("/review/safety?show=all")).text
    row = listed[listed.index(f'id="check-{check}"') :]
    row = row[: row.index("</tr>")]
    assert "2026/12/1 02:39" in row and "17:39" not in row and "2026-11-30" not in row
    assert "電話" in row and ">phone<" not in row
    review = (await app_client.get(f"/review/sessions/{session}")).text
    assert "2026/12/1 02:39" in review and "電話" in review and "17:39" not in review


async def test_the_audit_log_is_in_japan_time(world, app_client):
    target, group = f"test:{uuid4()}", await make_group(world.area_a)
    await audit(world.admin.account_id, "view_concerns", target, group=group)
    await AuditLog.update({AuditLog.at: LATE_NIGHT}).where(AuditLog.target == target)
    await app_client.login(world.admin)
    html = (await app_client.get(f"/review/audit?group={group}")).text  # among the latest, whatever ran before
    assert "2026/12/1 02:39" in html and "2026-11-30 17:39" not in html
