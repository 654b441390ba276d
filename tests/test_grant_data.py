"""Loading what the grant rules read (server/grants/data.py) from the database: each year
with its own rule version, head counts by category, named people, roles and the roster on
a day (``person.created_at``, stamped by the database for the rows phones push), in a
number of queries that does not grow with the number of groups."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

from server.core.clock import now
from server.db import write_rows
from server.grants.data import group_grants
from server.tables import Attendance, GrantProgramme, GrantRuleVersion, GroupGrant, Person, RoleAssignment
from tests.factories import count_queries, make_account, make_group, make_programme, make_session

YEAR = 2025


async def test_the_database_stamps_people_that_phones_push(world):
    person, group = uuid4(), world.group_a
    await write_rows(Person, [{"id": person, "group": group, "display_name": "新しい人", "hlcs": {}}])
    row = await Person.select(Person.created_at).where(Person.id == person).first()
    assert row["created_at"] is not None and abs(row["created_at"] - now()) < timedelta(minutes=5)


async def test_each_year_is_computed_with_its_own_version_and_a_retired_programme_stops(world):
    programme = await make_programme({"components": [{"kind": "per_session", "amount": 1000}]}, from_year=2024)
    await GrantRuleVersion.insert(
        GrantRuleVersion(
            id=uuid4(),
            programme=programme,
            from_year=2026,
            rules={"components": [{"kind": "per_session", "amount": 3000}]},
            updated_at=now(),
        )
    )
    await GroupGrant.insert(GroupGrant(id=uuid4(), group=world.group_a, programme=programme, first_fiscal_year=2023))
    for day in (date(2024, 5, 1), date(2025, 5, 1), date(2026, 5, 1), date(2027, 5, 1)):
        await make_session(world.group_a, day)

    async def due(year):
        [enrolment] = (await group_grants([world.group_a], year, as_of=date(year + 1, 3, 31)))[world.group_a]
        return enrolment.from_year, enrolment.result.amount_due

    assert [await due(year) for year in (2023, 2024, 2025, 2026, 2027)] == [
        (None, 0),
        (2024, 1000),
        (2024, 1000),
        (2026, 3000),
        (2026, 3000),
    ]
    await GrantProgramme.update({GrantProgramme.retired_after: 2026}).where(GrantProgramme.id == programme)
    assert await due(2027) == (None, 0)
    assert await due(2026) == (2026, 3000)  # a past year still computes


async def test_categories_people_roles_and_the_roster_come_from_the_records(world):
    rules = {
        "sessions": {"roles": ["専門職"]},
        "components": [
            {"kind": "per_participant", "amount": 100, "categories": ["child"]},
            {"kind": "per_participant", "amount": 10, "count": "people"},
            {"kind": "per_member", "amount": 1000, "on": "04-01"},
        ],
    }
    await make_programme(rules, enrol=world.group_a, first_year=YEAR)
    member = await make_account("organiser", groups=[world.group_a])
    people = {}
    for name, category, joined in (
        ("a", "child", date(2024, 3, 1)),
        ("b", "senior", date(2025, 3, 31)),
        ("c", "adult", date(2025, 4, 2)),
    ):
        people[name] = uuid4()
        await Person.insert(
            Person(
                id=people[name],
                group=world.group_a,
                display_name=name,
                category=category,
                created_at=datetime(joined.year, joined.month, joined.day, 3, tzinfo=UTC),  # noon in Tokyo
            )
        )
    sessions = []
    for day, children in ((date(YEAR, 5, 10), 4), (date(YEAR, 6, 14), 6), (date(YEAR, 7, 12), 9)):
        sessions.append(await make_session(world.group_a, day, tallies={"child": children, "adult": 3}))
    for session in sessions[:2]:  # the third has no professional: it does not count
        await RoleAssignment.insert(
            RoleAssignment(
                id=f"{session}:専門職:{member.account_id}", session=session, role="専門職", member=member.account_id
            )
        )
    for session, name in ((sessions[0], "a"), (sessions[1], "a"), (sessions[1], "b"), (sessions[2], "c")):
        await Attendance.insert(
            Attendance(id=f"{session}:{people[name]}", session=session, person=people[name], status="present")
        )
    [enrolment] = (await group_grants([world.group_a], YEAR, as_of=date(YEAR + 1, 3, 31)))[world.group_a]
    result = enrolment.result
    assert [s.counts for s in result.sessions] == [True, True, False]
    # children: 4 + 1 named, 6 + 1 named; people a and b; on the roster on 1 April 2025: a and b
    assert result.amount_due == 100 * (5 + 7) + 10 * 2 + 1000 * 2


async def test_loading_does_not_grow_with_the_number_of_groups(world, monkeypatch):
    rules = {
        "sessions": {"roles": ["専門職"], "min_participants": 1, "participant_categories": ["child"]},
        "requirements": {"registration": True},
        "components": [
            {"kind": "per_participant", "amount": 1, "count": "people"},
            {"kind": "per_member", "amount": 1},
            {"kind": "per_month", "amount": 1},
        ],
    }
    small = [world.group_a]
    large = [world.group_b] + [await make_group(world.area_b) for _ in range(15)]
    programme_small = await make_programme(rules, enrol=world.group_a)
    await make_session(world.group_a, date(YEAR, 5, 10))
    for group in large:
        await make_session(group, date(YEAR, 5, 10))
        enrolment = GroupGrant(id=uuid4(), group=group, programme=programme_small, first_fiscal_year=YEAR)
        await GroupGrant.insert(enrolment)
    few = await count_queries(monkeypatch, lambda: group_grants(small, YEAR))
    many = await count_queries(monkeypatch, lambda: group_grants(large, YEAR))
    assert few == many <= 10


async def test_the_dashboard_flags_what_the_full_computation_calls_at_risk(world):
    from server.review.dashboard import dashboard_lines

    rules = {
        "sessions": {"min_participants": 3, "participant_categories": ["child"]},
        "requirements": {"every_months": 2},
        "components": [{"kind": "per_participant", "amount": 100, "categories": ["child"]}],
    }
    steady, lapsed, not_yet = world.group_a, await make_group(world.area_a), await make_group(world.area_a)
    programme = await make_programme(rules, enrol=steady, first_year=YEAR)
    for group, first in ((lapsed, YEAR), (not_yet, YEAR + 1)):
        await GroupGrant.insert(GroupGrant(id=uuid4(), group=group, programme=programme, first_fiscal_year=first))
    for month in (5, 7, 9, 11, 1, 3):
        for group in (steady, lapsed, not_yet):
            # the lapsed group's sessions from September on have too few children to count
            children = 1 if group == lapsed and month not in (5, 7) else 4
            await make_session(group, date(YEAR + (month < 4), month, 1), tallies={"child": children})
    year_end = date(YEAR + 1, 3, 31)
    lines = {line.id: line for line in await dashboard_lines([world.area_a], YEAR, year_end)}
    full = await group_grants([steady, lapsed, not_yet], YEAR, as_of=year_end)
    for group in (steady, lapsed, not_yet):
        [enrolment] = full[group]
        assert lines[group].grant_at_risk == (enrolment.result.at_risk and enrolment.result.rules[0].ok)
    assert [lines[g].grant_at_risk for g in (steady, lapsed, not_yet)] == [False, True, False]
    assert full[steady][0].result.amount_due == 6 * 400


async def test_rows_asked_for_in_several_queries_come_back_whole(world, monkeypatch):
    from server.grants import data

    rules = {"components": [{"kind": "per_participant", "amount": 10, "categories": ["child"]}]}
    await make_programme(rules, enrol=world.group_a)
    for month in (5, 6, 7, 8, 9):
        await make_session(world.group_a, date(YEAR, month, 1), tallies={"child": month, "adult": 1})
    whole = await group_grants([world.group_a], YEAR, as_of=date(YEAR + 1, 3, 31))
    monkeypatch.setattr(data, "IDS_PER_QUERY", 2)
    chunked = await group_grants([world.group_a], YEAR, as_of=date(YEAR + 1, 3, 31))
    assert whole[world.group_a][0].result.amount_due == chunked[world.group_a][0].result.amount_due == 10 * 35
