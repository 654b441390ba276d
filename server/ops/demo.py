"""The demo council: 武蔵野市民社会福祉協議会, its three areas (圏域) and twelve groups.

What it is made of is in server/ops/demo_content.py.

``load_demo`` makes a year of history up to today (sessions held or cancelled, named
attendance, head counts, roles, 反省会 notes, safety checks), the next three months of
scheduled sessions, a few meetings, the grant programmes and the accounts, then prints
the logins. Content comes from a fixed ``random.Random(SEED)``; dates are relative to
today in Japan. Everything is inserted in bulk inside one transaction.
"""

from __future__ import annotations

import random
import time as clock
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID, uuid4

from dateutil.relativedelta import relativedelta
from piccolo.table import Table

from server.auth.accounts import create_user
from server.auth.passwords import login_key
from server.core.clock import now
from server.core.dates import fiscal_year
from server.core.schedule import occurrences, session_times, zone
from server.db import write_transaction
from server.grants.programmes import save_programme, spec_from_preset
from server.ops.demo_content import (
    ADMIN_PASSWORD,
    ADULT_NAMES,
    AREAS,
    CANCELLED,
    CHILD_NAMES,
    CHUNK,
    CONCERNS,
    COUNCIL,
    GRANTS,
    GROUPS,
    HANDOVER,
    MENUS,
    ORGANISER_PASSWORD,
    PEOPLE_MIX,
    ROLES,
    SAFETY_NOTES,
    SEASON,
    SEED,
    SENIOR_NAMES,
    STAFF_PASSWORD,
    SURNAMES,
    TALLY_CATEGORIES,
    TO_IMPROVE,
    TO_IMPROVE_BY_KIND,
    TZ,
    WALK_INS,
    WENT_WELL,
    WENT_WELL_BY_KIND,
    GroupSpec,
)
from server.sync.store import backfill_change_log
from server.tables import (
    Account,
    Area,
    Attendance,
    AttendanceStatus,
    GrantProgramme,
    Group,
    GroupGrant,
    GroupMembership,
    Ibasho,
    IbashoKind,
    IbashoStatus,
    Note,
    Person,
    ReviewState,
    RoleAssignment,
    SafetyCheck,
    SafetyCheckOutcome,
    Session,
    SessionKind,
    SessionStatus,
    StaffArea,
    Tally,
)
from sync.ids import safety_check_id, scheduled_session_id


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class DemoLogin:
    login: str
    password: str
    role: str
    display_name: str
    where: str
    area: str | None = None  # area key (staff)
    group: str | None = None  # group key (organisers)


def demo_logins() -> list[DemoLogin]:
    """Every demo account: the admin, one staff member per area, two organisers per group."""
    rng = random.Random(SEED)
    logins = [DemoLogin("admin", ADMIN_PASSWORD, "admin", "市民社協 事務局", COUNCIL)]
    logins += [DemoLogin(a.staff_login, STAFF_PASSWORD, "staff", a.staff_name, a.name, area=a.key) for a in AREAS]
    taken: set[str] = set()
    for spec in GROUPS:
        where = spec.group if spec.group == spec.ibasho else f"{spec.group}・{spec.ibasho}"
        for number in (1, 2):
            name = _full_name(rng, SENIOR_NAMES if number == 1 else ADULT_NAMES)[0]
            while name in taken:
                name = _full_name(rng, SENIOR_NAMES if number == 1 else ADULT_NAMES)[0]
            taken.add(name)
            logins.append(
                DemoLogin(f"{spec.key}{number}", ORGANISER_PASSWORD, "organiser", name, where, group=spec.key)
            )
    return logins


def _full_name(rng: random.Random, given_names) -> tuple[str, str]:
    (surname, surname_kana), (given, given_kana) = rng.choice(SURNAMES), rng.choice(given_names)
    return f"{surname} {given}", f"{surname_kana} {given_kana}"


def _person_name(rng: random.Random, category: str) -> tuple[str, str]:
    if category == "parent_child":
        (surname, kana), (parent, parent_kana), (child, child_kana) = (
            rng.choice(SURNAMES),
            rng.choice(ADULT_NAMES),
            rng.choice(CHILD_NAMES),
        )
        return f"{surname} {parent}・{child}", f"{kana} {parent_kana}・{child_kana}"
    return _full_name(rng, {"child": CHILD_NAMES, "adult": ADULT_NAMES, "senior": SENIOR_NAMES}[category])


# Tables in the order their rows go in (foreign keys first).
INSERT_ORDER = (
    Area,
    StaffArea,
    Group,
    Ibasho,
    GroupMembership,
    GroupGrant,
    Person,
    Session,
    Attendance,
    SafetyCheck,
    Tally,
    RoleAssignment,
    Note,
)


@dataclass
class Rows:
    """Every row to insert, per table."""

    tables: dict[type[Table], list[Table]] = field(default_factory=lambda: {table: [] for table in INSERT_ORDER})

    def add(self, row: Table) -> None:
        self.tables[type(row)].append(row)

    def count(self, table: type[Table]) -> int:
        return len(self.tables.get(table, []))


@dataclass
class GroupRun:
    """What building one group's history needs to know."""

    spec: GroupSpec
    group_id: UUID
    ibasho_id: UUID
    organisers: list[tuple[UUID, str]]  # (account id, display name)
    people: list[tuple[UUID, str, str, float]] = field(default_factory=list)  # id, name, category, regularity


class DemoBuilder:
    def __init__(self, rng: random.Random, today: date, accounts: dict[str, UUID], logins: Sequence[DemoLogin]):
        self.rng = rng
        self.today = today
        self.accounts = accounts
        self.logins = logins
        self.rows = Rows()
        self.stats = {"held": 0, "cancelled": 0, "scheduled": 0, "meetings": 0}

    def build(self, programme_ids: dict[str, UUID]) -> Rows:
        area_ids = {}
        for area in AREAS:
            area_ids[area.key] = uuid4()
            self.rows.add(Area(id=area_ids[area.key], name=area.name, description=area.description, created_at=now()))
        for login in self.logins:
            if login.area:
                self.rows.add(StaffArea(id=uuid4(), account=self.accounts[login.login], area=area_ids[login.area]))
        runs = [self._group(spec, area_ids[spec.area], programme_ids) for spec in GROUPS]
        # Two one-off cancellations somewhere in the year, besides the new-year break.
        past = [(run, day) for run in runs for day in self._past_dates(run.spec)]
        cancelled = {
            (run.spec.key, day): reason
            for (run, day), reason in zip(self.rng.sample(past, 2), CANCELLED[:2], strict=True)
        }
        for run in runs:
            self._history(run, cancelled)
            self._upcoming(run)
        self._meetings(runs)
        return self.rows

    # --- structure

    def _group(self, spec: GroupSpec, area_id: UUID, programme_ids: dict[str, UUID]) -> GroupRun:
        rng = self.rng
        group_id, ibasho_id = uuid4(), uuid4()
        organisers = [
            (self.accounts[login.login], login.display_name) for login in self.logins if login.group == spec.key
        ]
        self.rows.add(
            Group(
                id=group_id,
                area=area_id,
                name=spec.group,
                name_kana=spec.kana,
                representative=organisers[0][1],
                contact=f"代表 {organisers[0][1]}　電話 0422-00-{rng.randint(1000, 9999)}",
                timezone=TZ,
                registered_on=spec.active_from - timedelta(days=rng.randint(20, 60)),
                created_at=now(),
            )
        )
        self.rows.add(
            Ibasho(
                id=ibasho_id,
                group=group_id,
                name=spec.ibasho,
                venue=spec.venue,
                kind=spec.kind.value,
                audience=spec.audience.value,
                registration_required=spec.registration_required,
                listed=True,
                status=spec.status.value,
                rrule=spec.rrule,
                start_time=spec.start,
                end_time=spec.end,
                timezone=TZ,
                active_from=spec.active_from,
                description=spec.description,
                created_at=now(),
            )
        )
        for account_id, _ in organisers:
            self.rows.add(GroupMembership(id=uuid4(), account=account_id, group=group_id, joined_at=now()))
        if spec.grant:
            first_year = max(fiscal_year(spec.active_from), fiscal_year(self.today) - rng.randint(0, 2))
            self.rows.add(
                GroupGrant(
                    id=uuid4(), group=group_id, programme=programme_ids[spec.grant], first_fiscal_year=first_year
                )
            )
        run = GroupRun(spec, group_id, ibasho_id, organisers)
        mix = PEOPLE_MIX[spec.kind]
        seen: set[str] = set()
        while len(run.people) < spec.people:
            category = rng.choices(list(mix), weights=list(mix.values()))[0]
            name, kana = _person_name(rng, category)
            if name in seen:
                continue
            seen.add(name)
            person_id = uuid4()
            contact = f"0422-00-{rng.randint(1000, 9999)}" if spec.registration_required else ""
            self.rows.add(
                Person(
                    id=person_id,
                    group=group_id,
                    display_name=name,
                    kana=kana,
                    category=category,
                    contact=contact,
                    updated_at=now(),
                )
            )
            run.people.append((person_id, name, category, rng.uniform(0.55, 0.95)))
        return run

    # --- sessions

    def _past_dates(self, spec: GroupSpec) -> list[date]:
        start = self.today - relativedelta(years=1)
        last = self.today - timedelta(days=1)
        if spec.status is IbashoStatus.paused:
            last = self.today - timedelta(days=120)  # paused since about four months ago
        return occurrences(spec.rrule, spec.active_from, start, last)

    def _session(self, run: GroupRun, day: date, status: SessionStatus, **extra) -> UUID:
        spec = run.spec
        session_id = scheduled_session_id(run.ibasho_id, day)  # the id the app's schedule gives it
        starts, ends = session_times(day, spec.start, spec.end, TZ)
        past = status is not SessionStatus.scheduled
        self.rows.add(
            Session(
                id=session_id,
                group=run.group_id,
                ibasho=run.ibasho_id,
                kind=SessionKind.session.value,
                title=spec.ibasho,
                date=day,
                start_time=spec.start,
                end_time=spec.end,
                venue=spec.venue,
                status=status.value,
                venue_cost=spec.venue_cost if status is SessionStatus.held else None,
                from_schedule=True,
                created_at=utc(starts - timedelta(days=30)) if past else now(),
                updated_at=utc(ends + timedelta(hours=2)) if past else now(),
                **extra,
            )
        )
        self.stats[status.value] += 1
        return session_id

    def _history(self, run: GroupRun, cancelled: dict) -> None:
        for number, day in enumerate(self._past_dates(run.spec)):
            reason = cancelled.get((run.spec.key, day))
            if reason is None and not date(day.year, 1, 4) <= day <= date(day.year, 12, 28):
                reason = "年末年始のため休み。"
            if reason:
                session_id = self._session(run, day, SessionStatus.cancelled, review_state=ReviewState.reviewed.value)
                self.rows.add(
                    Note(
                        id=session_id,
                        session=session_id,
                        handover=f"{reason}参加者へは電話とLINEで連絡済み。",
                        updated_at=now(),
                    )
                )
                continue
            self._held(run, day, number)

    def _held(self, run: GroupRun, day: date, number: int) -> None:
        rng, spec = self.rng, run.spec
        concern_person = None
        if rng.random() < 0.12:
            concern_person = rng.choice(run.people)
        age = (self.today - day).days
        review, comment = ReviewState.unreviewed, ""
        if concern_person and age > 14:
            review, comment = ReviewState.follow_up, "地域担当が次回訪問して様子をうかがいます。"
        elif age > 21 and rng.random() < 0.9:
            review = ReviewState.reviewed
        session_id = self._session(run, day, SessionStatus.held, review_state=review.value, review_comment=comment)
        _, ends = session_times(day, spec.start, spec.end, TZ)
        written = utc(ends + timedelta(minutes=30))

        present = 0
        for person_id, _, _, regularity in run.people:
            roll = rng.random()
            if roll < regularity:
                status = AttendanceStatus.present
                present += 1
            elif spec.registration_required:
                status = AttendanceStatus.absent_notified if rng.random() < 0.88 else AttendanceStatus.absent_unnotified
            elif roll < regularity + 0.05:
                status = AttendanceStatus.absent_notified
            else:
                continue
            self.rows.add(
                Attendance(
                    id=f"{session_id}:{person_id}",
                    session=session_id,
                    person=person_id,
                    status=status.value,
                    updated_at=written,
                )
            )
            if status is AttendanceStatus.absent_unnotified:
                self._safety_check(run, session_id, person_id, ends)

        counts = {category: rng.randint(*span) for category, span in WALK_INS[spec.kind].items()}
        if day.month == 8 and spec.kind is IbashoKind.kodomo_shokudo:
            counts["child"] += 4  # summer holidays
        for category in TALLY_CATEGORIES:
            self.rows.add(
                Tally(
                    id=f"{session_id}:{category}",
                    session=session_id,
                    category=category,
                    delta_sum=counts[category],
                    updated_at=written,
                )
            )

        for index, role in enumerate(ROLES[spec.kind]):  # 輪番: roles rotate between the organisers
            members = [run.organisers[(index + number) % len(run.organisers)]]
            if role == "調理":
                members = run.organisers
            for member_id, _ in members:
                self.rows.add(
                    RoleAssignment(
                        id=f"{session_id}:{role}:{member_id}",
                        session=session_id,
                        role=role,
                        member=member_id,
                        updated_at=written,
                    )
                )

        self._note(run, session_id, day, present + sum(counts.values()), counts["first_time"], concern_person, written)

    def _note(
        self, run: GroupRun, session_id: UUID, day: date, total: int, first_time: int, concern_person, written: datetime
    ) -> None:
        rng, kind = self.rng, run.spec.kind
        values = {
            "total": total,
            "first_time": max(first_time, 1),
            "season": SEASON[day.month],
            "menu": rng.choice(MENUS),
            "next_season": SEASON[day.month % 12 + 1],
            "organiser": rng.choice(run.organisers)[1],
        }
        went_well = rng.sample(WENT_WELL + WENT_WELL_BY_KIND[kind], 2)
        concerns = ""
        if concern_person is not None:
            _, name, category, _ = concern_person
            concerns = rng.choice(CONCERNS["senior" if category in ("senior", "adult") else "young"]).format(name=name)
        self.rows.add(
            Note(
                id=session_id,
                session=session_id,
                went_well="\n".join(text.format(**values) for text in went_well),
                to_improve=rng.choice(TO_IMPROVE + TO_IMPROVE_BY_KIND[kind]),
                handover=rng.choice(HANDOVER).format(**values),
                concerns=concerns,
                updated_at=written,
            )
        )

    def _safety_check(self, run: GroupRun, session_id: UUID, person_id: UUID, ends: datetime) -> None:
        """安否確認 of a registered participant absent without notice: closed, unless very recent."""
        opened = utc(ends)
        check_id = safety_check_id(str(session_id), str(person_id))  # the id a phone would give it
        if (self.today - ends.date()).days <= 10:
            self.rows.add(SafetyCheck(id=check_id, session=session_id, person=person_id, opened_at=opened))
            return
        notes = self.rng.choice(SAFETY_NOTES)
        visited = "訪問" in notes
        # a call within hours of the session; a visit in the evening (Japan time), as its note says
        later = ends + timedelta(hours=self.rng.randint(1, 5))
        contacted = utc(max(later.replace(hour=17), ends + timedelta(hours=1)) if visited else later)
        self.rows.add(
            SafetyCheck(
                id=check_id,
                session=session_id,
                person=person_id,
                outcome=SafetyCheckOutcome.safe.value,
                contacted_by=self.rng.choice(run.organisers)[1],
                contacted_at=contacted,
                method="visit" if visited else "phone",
                notes=notes,
                opened_at=opened,
                closed_at=contacted,
            )
        )

    def _upcoming(self, run: GroupRun) -> None:
        if run.spec.status is IbashoStatus.paused:
            return
        for day in occurrences(run.spec.rrule, run.spec.active_from, self.today, self.today + relativedelta(months=3)):
            self._session(run, day, SessionStatus.scheduled)

    def _meetings(self, runs: list[GroupRun]) -> None:
        by_key = {run.spec.key: run for run in runs}

        def meeting(
            key: str, title: str, day: date, starts: time, ends: time, venue: str, agenda: str, with_ibasho: bool
        ) -> None:
            run = by_key[key]
            past = day < self.today
            self.rows.add(
                Session(
                    id=uuid4(),
                    group=run.group_id,
                    ibasho=run.ibasho_id if with_ibasho else None,
                    kind=SessionKind.meeting.value,
                    title=title,
                    date=day,
                    start_time=starts,
                    end_time=ends,
                    venue=venue,
                    status=(SessionStatus.held if past else SessionStatus.scheduled).value,
                    agenda=agenda,
                    review_state=(ReviewState.reviewed if past else ReviewState.unreviewed).value,
                    created_at=now(),
                    updated_at=now(),
                )
            )
            self.stats["meetings"] += 1

        def weekday(offset_days: int, weekday_index: int) -> date:
            day = self.today + timedelta(days=offset_days)
            return day + timedelta(days=(weekday_index - day.weekday()) % 7)

        meeting(
            "kirakura",
            "反省会（上半期のふりかえり）",
            weekday(-70, 2),
            time(18, 30),
            time(20),
            "西部コミュニティセンター 会議室",
            "上半期の参加者数のふりかえり\n食材費と参加費の見直し\nボランティア募集チラシの作成\n来年度の助成申請",
            True,
        )
        meeting(
            "sumire",
            "反省会",
            weekday(-40, 4),
            time(14, 30),
            time(15, 30),
            "すみれの家",
            "役割分担表（輪番）の見直し\n冬季の暖房費\n差し入れのルール",
            True,
        )
        meeting(
            "nadeshiko",
            "推進委員会",
            weekday(18, 3),
            time(14),
            time(15, 30),
            "境南コミュニティセンター 会議室",
            "次年度の活動計画\nいきいきサロン助成の申請\n安否確認の連絡網の見直し\n地域包括支援センターとの意見交換",
            False,
        )
        meeting(
            "kirin",
            "打ち合わせ",
            weekday(10, 0),
            time(19),
            time(20),
            "本町コミュニティセンター 学習室",
            "冬休みの特別学習会の日程\n大学生ボランティアのシフト",
            False,
        )


# --- loading ----------------------------------------------------------------------------


async def insert_in_chunks(table: type[Table], rows: Sequence[Table]) -> None:
    for index in range(0, len(rows), CHUNK):
        await table.insert(*rows[index : index + CHUNK])


async def _create_accounts(logins: Sequence[DemoLogin]) -> dict[str, UUID]:
    """Through ``create_user`` (checks, Argon2 hash) once per distinct password; the other
    accounts sharing that password reuse its hash, to keep loading fast."""
    ids: dict[str, UUID] = {}
    hashes: dict[str, str] = {}
    rows = []
    for login in logins:
        if login.password not in hashes:
            ids[login.login] = await create_user(login.login, login.password, login.role, login.display_name)
            row = await Account.select(Account.password_hash).where(Account.id == ids[login.login]).first()
            hashes[login.password] = row["password_hash"]
            continue
        ids[login.login] = uuid4()
        rows.append(
            Account(
                id=ids[login.login],
                login=login.login,
                login_key=login_key(login.login),
                display_name=login.display_name,
                password_hash=hashes[login.password],
                role=login.role,
                created_at=now(),
            )
        )
    await insert_in_chunks(Account, rows)
    return ids


async def _programmes(first_year: int) -> dict[str, UUID]:
    """The grant programmes, their rules in force from ``first_year``, reusing any already
    registered under the same name."""
    ids = {}
    for grant in GRANTS:
        name = grant.programme["name"]
        row = await GrantProgramme.select(GrantProgramme.id).where(GrantProgramme.name == name).first()
        if row is None:
            row = {"id": await save_programme(spec_from_preset(grant.programme, first_year), None)}
        ids[grant.key] = row["id"]
    return ids


async def _blockers(logins: Sequence[DemoLogin]) -> list[str]:
    """Why the demo cannot be added to this database (it is there already, or its names are taken)."""
    problems = []
    areas = await Area.select(Area.name).where(Area.name.is_in([a.name for a in AREAS]))
    if areas:
        problems.append("areas " + ", ".join(row["name"] for row in areas) + " exist")
    taken = await Account.select(Account.login).where(Account.login.is_in([login.login for login in logins]))
    if taken:
        names = [row["login"] for row in taken]
        problems.append(
            f"{len(names)} of its logins are taken ({', '.join(names[:3])}{', …' if len(names) > 3 else ''})"
        )
    return problems


def print_logins(logins: Sequence[DemoLogin]) -> None:
    print("\nDemo logins (sign in at /login):")
    print(f"  {'login':<14} {'password':<14} {'role':<10} who")
    for login in logins:
        print(f"  {login.login:<14} {login.password:<14} {login.role:<10} {login.display_name}　{login.where}")
    print(flush=True)


async def load_demo(force: bool = False) -> None:
    """Load the demo council, unless the database has areas already (``force`` loads it
    beside other data, but never twice)."""
    started = clock.perf_counter()
    if not force and (existing := await Area.count()):
        print(
            f"ibasho demo: the database already has {existing} area(s); "
            "not loading the demo (use --force to add it anyway)."
        )
        return
    logins = demo_logins()
    if problems := await _blockers(logins):
        print(f"ibasho demo: not loading, the demo council seems to be loaded already ({'; '.join(problems)}).")
        return
    today = datetime.now(zone(TZ)).date()
    async with write_transaction():
        accounts = await _create_accounts(logins)
        programme_ids = await _programmes(fiscal_year(today) - 2)  # the earliest enrolment's year
        builder = DemoBuilder(random.Random(SEED), today, accounts, logins)
        rows = builder.build(programme_ids)
        for table, table_rows in rows.tables.items():
            await insert_in_chunks(table, table_rows)
    await backfill_change_log()  # so organisers' phones receive the demo by pull
    seconds = clock.perf_counter() - started
    stats = builder.stats
    print(
        f"ibasho demo: loaded {COUNCIL} in {seconds:.1f} s: {rows.count(Area)} areas, {rows.count(Group)} groups, "
        f"{stats['held']} sessions held and {stats['cancelled']} cancelled in the past year, "
        f"{stats['scheduled']} scheduled "
        f"in the next 3 months, {stats['meetings']} meetings, {rows.count(Person)} registered people, "
        f"{rows.count(Attendance)} attendances, {rows.count(Tally)} tallies, "
        f"{rows.count(RoleAssignment)} role assignments, "
        f"{rows.count(Note)} notes, {rows.count(SafetyCheck)} safety checks, {len(GRANTS)} grant programmes."
    )
    print_logins(logins)


async def load_demo_if_empty() -> None:
    """For ``ibasho serve --demo``: load the demo only into a database without areas;
    where the demo was loaded before, remind of its logins."""
    if not await Area.count():
        await load_demo()
    elif await Area.exists().where(Area.name == AREAS[0].name):
        print("ibasho demo: the demo council is loaded already; its logins, unless changed since:")
        print_logins(demo_logins())
