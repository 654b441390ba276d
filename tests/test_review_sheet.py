"""The printable attendance sheet and typing a paper sheet back in through the sync engine."""

from __future__ import annotations

from datetime import timedelta

from server.review.data import today
from server.tables import Attendance, ChangeLog, MutationLog, Tally
from tests.factories import (
    login_client,
    make_person,
    make_session,
    synced_phone,
)


async def test_sheet_lists_registered_people_and_categories(world, app_client):
    session = await make_session(world.group_a, today())
    await make_person(world.group_a, "高橋さくら")
    await app_client.login(world.staff_a)
    response = await app_client.get(f"/review/sessions/{session}/sheet")
    assert response.status_code == 200
    assert "高橋さくら" in response.text and "無断欠席" in response.text and "ボランティア" in response.text
    assert "style=" not in response.text


async def test_typed_paper_numbers_go_through_sync_and_reach_phones(world, new_client):
    session = await make_session(world.group_a, today(), tallies={"child": 5, "senior": 3})
    person = await make_person(world.group_a, "伊藤ミツ")
    phone = await synced_phone(new_client, world.organiser_a)
    staff = await login_client(new_client, world.staff_a)
    form = (await staff.get(f"/review/sessions/{session}/paper")).text
    assert 'value="5"' in form and "伊藤ミツ" in form
    response = await staff.form(
        f"/review/sessions/{session}/paper",
        {
            "count_child": "2",
            "count_senior": "3",
            "count_adult": "250",
            "count_volunteer": "",
            f"person_{person}": "absent_unnotified",
        },
    )
    assert response.status_code == 303, response.text
    counts = {r["category"]: r["delta_sum"] for r in await Tally.select().where(Tally.session == session)}
    assert (
        counts["child"] == 2 and counts["senior"] == 3 and counts["adult"] == 250 and "volunteer" not in counts
    )  # blank: left alone
    status = await Attendance.select(Attendance.status).where(Attendance.session == session).first()
    assert status["status"] == "absent_unnotified"
    assert await MutationLog.count().where(MutationLog.name == "tally.add") >= 4  # 250 = 100 + 100 + 50
    assert await ChangeLog.count().where(ChangeLog.key == f"tally:{session}:adult") == 1
    changes = await phone.pull()
    tallies = {c["data"]["category"]: c["data"]["count"] for c in changes if c["entity"] == "tally"}
    assert tallies.get("child") == 2 and tallies.get("adult") == 250
    # A phone that adds one more child afterwards adds on top of the typed number.
    phone.mutate("tally.add", session_id=str(session), category="child", delta=1)
    assert (await phone.push()).status_code == 200
    assert (await Tally.select(Tally.delta_sum).where(Tally.id == f"{session}:child").first())["delta_sum"] == 3


async def test_bad_numbers_are_refused_and_other_areas_404(world, new_client):
    session = await make_session(world.group_a)
    staff = await new_client()
    await staff.login(world.staff_a)
    response = await staff.form(f"/review/sessions/{session}/paper", {"count_child": "-3"})
    assert response.status_code == 422
    assert (await Tally.select(Tally.delta_sum).where(Tally.id == f"{session}:child").first())["delta_sum"] == 5
    staff_b = await new_client()
    await staff_b.login(world.staff_b)
    for url in (f"/review/sessions/{session}/sheet", f"/review/sessions/{session}/paper"):
        assert (await staff_b.get(url)).status_code == 404
    assert (await staff_b.form(f"/review/sessions/{session}/paper", {"count_child": "1"})).status_code == 404


async def test_a_past_sheet_lists_only_who_had_joined_by_that_day(world, app_client):
    """Someone added to the roster today is not 未記録 at earlier sessions (Person.created_at)."""
    past = await make_session(world.group_a, today() - timedelta(days=7))
    await make_person(world.group_a, "新井はじめ")
    await app_client.login(world.staff_a)
    assert "新井はじめ" not in (await app_client.get(f"/review/sessions/{past}/sheet")).text
    assert "新井はじめ" not in (await app_client.get(f"/review/sessions/{past}/paper")).text
    current = await make_session(world.group_a, today())
    assert "新井はじめ" in (await app_client.get(f"/review/sessions/{current}/sheet")).text
