"""The demo council (server.ops.demo): what it loads, that its logins work, that it loads once.

The run's database is shared with other tests, so the demo is loaded once here (with
``force``, as other tests may have made areas already) and every check looks the demo's
rows up by its own names.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import date, datetime, time, timedelta

import pytest

from server.core.dates import fiscal_year
from server.core.schedule import zone
from server.grants.model import Rules
from server.grants.presets import PRESETS
from server.ops.demo import (
    AREAS,
    GROUPS,
    ORGANISER_PASSWORD,
    STAFF_PASSWORD,
    TZ,
    demo_logins,
    load_demo,
    load_demo_if_empty,
)
from server.tables import (
    Account,
    Area,
    Attendance,
    GrantProgramme,
    GrantRuleVersion,
    Group,
    GroupGrant,
    GroupMembership,
    Ibasho,
    Note,
    Person,
    RoleAssignment,
    SafetyCheck,
    Session,
    StaffArea,
    Tally,
)
from tests.factories import Person as Login
from tests.server_process import REPO

TALLY_CATEGORIES = {"child", "adult", "senior", "parent_child", "first_time", "volunteer"}


async def _quietly(loader, *args) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        await loader(*args)
    return out.getvalue()


@pytest.fixture(scope="module")
async def demo() -> dict:
    """Load the demo into the run's database once; give its area and group ids by name."""
    printed = await _quietly(load_demo, True)
    areas = {
        row["name"]: row["id"]
        for row in await Area.select(Area.id, Area.name).where(Area.name.is_in([a.name for a in AREAS]))
    }
    groups = {
        row["name"]: row["id"]
        for row in await Group.select(Group.id, Group.name).where(Group.area.is_in(list(areas.values())))
    }
    return {"printed": printed, "areas": areas, "groups": groups}


def today() -> date:
    return datetime.now(zone(TZ)).date()


async def test_three_areas_and_twelve_groups(demo):
    assert set(demo["areas"]) == {"東部圏域", "中央圏域", "西部圏域"}
    assert set(demo["groups"]) == {spec.group for spec in GROUPS}
    assert 10 <= len(demo["groups"]) <= 12
    per_area = Counter(
        row["area"] for row in await Group.select(Group.area).where(Group.id.is_in(list(demo["groups"].values())))
    )
    assert set(per_area) == set(demo["areas"].values())
    assert "loaded 武蔵野市民社会福祉協議会" in demo["printed"]


async def test_kirakura_meets_on_the_first_sunday_10_to_13(demo):
    group_id = demo["groups"]["きらくらの会"]
    group = await Group.select(Group.area).where(Group.id == group_id).first()
    assert group["area"] == demo["areas"]["西部圏域"]
    ibasho = await Ibasho.select().where(Ibasho.group == group_id).first()
    assert ibasho["name"] == "きらくら"
    assert ibasho["rrule"] == "FREQ=MONTHLY;BYDAY=1SU"
    assert (ibasho["start_time"], ibasho["end_time"]) == (time(10), time(13))
    assert ibasho["timezone"] == "Asia/Tokyo"
    assert "西部コミュニティセンター" in ibasho["venue"]
    assert ibasho["kind"] == "kodomo_shokudo" and ibasho["status"] == "active"

    sessions = await Session.select().where(Session.ibasho == ibasho["id"], Session.kind == "session")
    past = [s for s in sessions if s["date"] < today()]
    upcoming = [s for s in sessions if s["date"] >= today()]
    assert 11 <= len(past) <= 13  # a year of first Sundays
    assert all(s["date"] >= today() - timedelta(days=366) for s in past)
    assert all(s["date"].weekday() == 6 and s["date"].day <= 7 for s in sessions)
    assert all(s["status"] in ("held", "cancelled") for s in past)
    assert 2 <= len(upcoming) <= 4
    assert all(s["status"] == "scheduled" and s["from_schedule"] for s in upcoming)
    assert all(s["start_time"] == time(10) and s["end_time"] == time(13) for s in sessions)
    assert all(s["created_at"].tzinfo is not None and s["updated_at"].tzinfo is not None for s in sessions)


async def test_held_sessions_have_attendance_tallies_roles_and_notes(demo):
    group_ids = list(demo["groups"].values())
    held = await Session.select(Session.id, Session.group, Session.ibasho).where(
        Session.group.is_in(group_ids), Session.status == "held", Session.kind == "session"
    )
    assert len(held) >= 150
    held_ids = [s["id"] for s in held]

    attendance = await Attendance.select(Attendance.id, Attendance.session, Attendance.person, Attendance.status).where(
        Attendance.session.is_in(held_ids)
    )
    statuses = Counter(row["status"] for row in attendance)
    assert statuses["present"] > 5 * (statuses["absent_notified"] + statuses["absent_unnotified"])
    assert statuses["absent_notified"] > 0 and statuses["absent_unnotified"] > 0
    assert all(row["id"] == f"{row['session']}:{row['person']}" for row in attendance)
    assert {row["session"] for row in attendance} == set(held_ids)

    tallies = await Tally.select().where(Tally.session.is_in(held_ids))
    assert len(tallies) == 6 * len(held_ids)
    assert {row["category"] for row in tallies} == TALLY_CATEGORIES
    assert all(row["id"] == f"{row['session']}:{row['category']}" and row["delta_sum"] >= 0 for row in tallies)

    roles = await RoleAssignment.select().where(RoleAssignment.session.is_in(held_ids))
    assert {row["session"] for row in roles} == set(held_ids)
    assert {row["role"] for row in roles} == {"調理", "受付", "配膳", "片付け", "見守り", "買い出し"}
    assert all(row["id"] == f"{row['session']}:{row['role']}:{row['member']}" for row in roles)
    organisers = {
        (row["group"], row["account"])
        for row in await GroupMembership.select().where(GroupMembership.group.is_in(group_ids))
    }
    group_of = {s["id"]: s["group"] for s in held}
    assert all((group_of[row["session"]], row["member"]) in organisers for row in roles)

    notes = await Note.select().where(Note.session.is_in(held_ids))
    assert len(notes) == len(held_ids)
    assert all(
        row["id"] == row["session"] and row["went_well"] and row["to_improve"] and row["handover"] for row in notes
    )
    assert 0 < sum(1 for row in notes if row["concerns"]) < len(notes) / 4


async def test_people_organisers_statuses_meetings_and_grants(demo):
    group_ids = list(demo["groups"].values())
    people = Counter(row["group"] for row in await Person.select(Person.group).where(Person.group.is_in(group_ids)))
    assert all(15 <= people[group_id] <= 30 for group_id in group_ids)
    categories = {row["category"] for row in await Person.select(Person.category).where(Person.group.is_in(group_ids))}
    assert categories == {"child", "adult", "senior", "parent_child"}
    members = Counter(
        row["group"]
        for row in await GroupMembership.select(GroupMembership.group).where(GroupMembership.group.is_in(group_ids))
    )
    assert all(members[group_id] == 2 for group_id in group_ids)

    ibasho = await Ibasho.select().where(Ibasho.group.is_in(group_ids))
    assert len(ibasho) == len(group_ids)
    assert any(
        row["kind"] == "salon" and row["registration_required"] and row["audience"] == "seniors" for row in ibasho
    )
    assert "paused" in {row["status"] for row in ibasho}
    paused = next(row for row in ibasho if row["status"] == "paused")
    assert not await Session.exists().where(Session.ibasho == paused["id"], Session.date >= today())

    cancelled = await Session.count().where(Session.group.is_in(group_ids), Session.status == "cancelled")
    assert 2 <= cancelled <= 8
    meetings = await Session.select().where(Session.group.is_in(group_ids), Session.kind == "meeting")
    assert {"反省会", "推進委員会"} <= {m["title"].split("（")[0] for m in meetings}
    assert all(m["agenda"] for m in meetings)
    # Safety checks follow up on absences without notice, in salons with registration only.
    checks = await SafetyCheck.select(SafetyCheck.outcome).where(SafetyCheck.session._.group.is_in(group_ids))
    assert checks and {"open", "safe"} >= {row["outcome"] for row in checks}

    programmes = {
        row["name"]: row
        for row in await GrantProgramme.select().where(
            GrantProgramme.name.is_in(
                ["身近な地域の居場所づくり助成", "「みんなの居場所」スタートアップ事業", "いきいきサロン"]
            )
        )
    }
    rules = {
        name: Rules.from_json(json.loads(row["rules"]) if isinstance(row["rules"], str) else row["rules"])
        for name, row in programmes.items()
        for row in [await GrantRuleVersion.select().where(GrantRuleVersion.programme == row["id"]).first()]
    }
    musashino = rules["身近な地域の居場所づくり助成"]
    assert (musashino.requirements.every_months, musashino.counting.min_minutes) == (2, 120)
    assert [c.to_json() for c in musashino.components] == PRESETS["musashino"]["rules"]["components"]
    assert musashino.caps.per_year == 100000
    startup = rules["「みんなの居場所」スタートアップ事業"]
    assert (startup.components[0].amount, startup.requirements.eligible_years) == (50000, 3)
    ikiiki = rules["いきいきサロン"]
    assert (ikiiki.requirements.registration, ikiiki.caps.per_year) == (True, 200000)
    enrolments = await GroupGrant.select().where(GroupGrant.group.is_in(group_ids))
    assert {row["programme"] for row in enrolments} == {p["id"] for p in programmes.values()}
    assert all(row["first_fiscal_year"] <= fiscal_year(today()) for row in enrolments)


async def test_accounts_admin_staff_per_area_organisers(demo):
    logins = demo_logins()
    accounts = {
        row["login"]: row
        for row in await Account.select().where(Account.login.is_in([login.login for login in logins]))
    }
    assert len(accounts) == len(logins) == 1 + 3 + 2 * len(GROUPS)
    assert accounts["admin"]["role"] == "admin"
    for area in AREAS:
        staff = accounts[area.staff_login]
        assert staff["role"] == "staff"
        links = await StaffArea.select(StaffArea.area).where(StaffArea.account == staff["id"])
        assert [row["area"] for row in links] == [demo["areas"][area.name]]
    assert accounts["kirakura1"]["role"] == "organiser"
    for login in logins:
        assert login.login in demo["printed"] and login.password in demo["printed"]


async def test_printed_staff_login_can_log_in(demo, app_client):
    account = await Account.select(Account.id).where(Account.login == "staff-east").first()
    response = await app_client.login(Login("staff-east", STAFF_PASSWORD, account["id"]))
    assert response.json()["role"] == "staff"
    assert [area["name"] for area in response.json()["areas"]] == ["東部圏域"]


async def test_printed_organiser_login_can_log_in(demo, new_client):
    client = await new_client()
    account = await Account.select(Account.id).where(Account.login == "kirakura1").first()
    response = await client.login(Login("kirakura1", ORGANISER_PASSWORD, account["id"]))
    assert [group["name"] for group in response.json()["groups"]] == ["きらくらの会"]


async def _counts() -> tuple[int, ...]:
    return (
        await Area.count(),
        await Group.count(),
        await Session.count(),
        await Account.count(),
        await Attendance.count(),
    )


async def test_the_demo_does_not_load_twice(demo):
    before = await _counts()
    printed = await _quietly(load_demo_if_empty)
    assert await _counts() == before
    assert "already" in printed
    assert "already has" in await _quietly(load_demo)
    assert "not loading" in await _quietly(load_demo, True)
    assert await _counts() == before


def test_demo_logins_are_fixed():
    assert demo_logins() == demo_logins()
    assert [login.login for login in demo_logins()[:4]] == ["admin", "staff-east", "staff-central", "staff-west"]


def test_cli_demo_on_a_fresh_database_loads_once(tmp_path):
    """``ibasho demo`` as the README runs it: a fresh SQLite database, loaded in seconds, once."""
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env["IBASHO_DATA_DIR"] = str(tmp_path / "data")

    def run() -> str:
        done = subprocess.run(
            [sys.executable, "-m", "server.cli", "demo"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    first = run()
    assert "loaded 武蔵野市民社会福祉協議会" in first
    assert "staff-east" in first and STAFF_PASSWORD in first
    seconds = re.search(r"loaded \S+ in ([\d.]+) s", first)
    assert seconds and float(seconds.group(1)) < 20
    second = run()
    assert "not loading" in second and "loaded 武蔵野" not in second
