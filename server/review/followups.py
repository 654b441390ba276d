"""The follow-up list (要フォロー一覧): what staff of an area still have to act on, across
sessions and groups, as a health worker's task list.

Items are derived from the data each time, never stored: open safety checks (and absences
without notice no one has followed up yet), registered participants absent several
sessions in a row (the ibasho's ``absence_follow_up``, 3 by default), groups whose grant
programme's "a session at least every N months" is failing or about to, and groups whose
phones have not synced for ``STALE_SYNC``. Each has a stable key (what it is about and
since when: a new absence streak or a new gap is a new item), and only what staff did
about it is kept, under that key (``FollowUp``: assignee, closed; ``FollowUpComment``).
A closed item leaves the list and stays in the history. Every change is audited.

A fixed number of queries whatever the number of groups.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Annotated
from uuid import UUID, uuid4

from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Template
from piccolo.query.functions.aggregate import Count, Max

from server.auth.guards import principal_of
from server.core.audit import audit
from server.core.clock import now
from server.core.dates import fiscal_year
from server.core.groups import ordinary_groups
from server.core.i18n import gettext as _
from server.db import read_transaction, write_transaction
from server.grants.data import requirement_checks
from server.review.data import JAPAN, ibasho_of, today
from server.review.render import review_page
from server.review.safety import unopened
from server.tables import (
    Attendance,
    AttendanceStatus,
    FollowUp,
    FollowUpComment,
    Group,
    GroupMembership,
    Person,
    Role,
    SafetyCheck,
    SafetyCheckOutcome,
    SessionKind,
    SessionStatus,
    StaffArea,
    SyncClient,
)
from server.web.pages import see_other

STALE_SYNC = timedelta(days=14)
ABSENCE_WINDOW = timedelta(days=400)  # absences further back do not start a streak on the list
GRANT_RULES = ("frequency", "each_month")  # the requirements about holding sessions often enough
DEFAULT_ABSENCES = 3  # sessions without an ibasho
CANDIDATES_PER_QUERY = 10_000  # people asked for by id (SQLite takes 32,766 values a statement)
ABSENT = (AttendanceStatus.absent_notified.value, AttendanceStatus.absent_unnotified.value)
HISTORY = 200
COMMENT_MAX = 2000
ACTIONS = ("assign", "comment", "close", "reopen")
KINDS = ("safety", "absences", "grant", "sync")


@dataclass
class Device:
    owner: str
    first_seen: datetime
    last_push: datetime | None
    last_pull: datetime | None

    @property
    def last_sync(self) -> datetime:
        return max(d for d in (self.last_push, self.last_pull, self.first_seen) if d)


@dataclass
class Item:
    key: str
    kind: str  # one of KINDS
    area: UUID
    area_name: str
    group: UUID
    group_name: str
    title: str
    since: date  # ordering: the oldest first
    link: str = ""
    devices: list[Device] = field(default_factory=list)
    assignee: UUID | None = None
    assignee_name: str = ""
    closed_at: datetime | None = None
    closed_by: str = ""
    comments: list[dict] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return "item-" + hashlib.sha256(self.key.encode()).hexdigest()[:12]


def as_date(value) -> date:
    """SQLite answers an aggregate of dates as text."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def days(day: date) -> str:
    return f"{day.month}/{day.day}"


# --- deriving the items ---------------------------------------------------------------------


async def visible_groups(principal) -> dict[UUID, dict]:
    query = Group.select(Group.id, Group.name, Group.area, Group.area.name.as_alias("area_name"), Group.active).where(
        ordinary_groups(Group.id)
    )
    if (areas := principal.visible_areas()) is not None:
        query = query.where(Group.area.is_in(list(areas) or [None]))
    return {g["id"]: g for g in await query}


def item(groups: dict[UUID, dict], group_id: UUID, **fields) -> Item | None:
    group = groups.get(group_id)
    if group is None:
        return None
    return Item(area=group["area"], area_name=group["area_name"], group=group_id, group_name=group["name"], **fields)


async def safety_items(principal, groups: dict[UUID, dict]) -> list[Item]:
    query = SafetyCheck.select(
        SafetyCheck.id,
        SafetyCheck.opened_at,
        SafetyCheck.person.display_name.as_alias("person_name"),
        SafetyCheck.session.id.as_alias("session_id"),
        SafetyCheck.session.date.as_alias("session_date"),
        SafetyCheck.session.group.as_alias("group_id"),
    ).where(SafetyCheck.outcome == SafetyCheckOutcome.open.value)
    if (areas := principal.visible_areas()) is not None:
        query = query.where(SafetyCheck.session.group.area.is_in(list(areas) or [None]))
    out = []
    for row in await query:
        out.append(
            item(
                groups,
                row["group_id"],
                key=f"safety:{row['id']}",
                kind="safety",
                title=_("Safety check still open: %(name)s (absent %(day)s)")
                % {"name": row["person_name"], "day": days(row["session_date"])},
                since=row["session_date"],
                link=f"/review/sessions/{row['session_id']}",
            )
        )
    for row in await unopened(principal):
        out.append(
            item(
                groups,
                row["group_id"],
                key=f"safety-due:{row['session_id']}:{row['person_id']}",
                kind="safety",
                title=_("Absent without notice, no safety check yet: %(name)s (%(day)s)")
                % {"name": row["person_name"], "day": days(row["session_date"])},
                since=row["session_date"],
                link=f"/review/sessions/{row['session_id']}",
            )
        )
    return [i for i in out if i]


async def absence_items(groups: dict[UUID, dict], as_of: date) -> list[Item]:
    """Registered participants whose latest marks at an ibasho are N absences in a row
    (with or without notice): the absences after the last day they were present there. A
    session where they were not marked neither counts nor breaks the run. The key names the
    run's first absence.

    Five queries: how often each person was absent at each ibasho, those ibasho, then for
    those absent often enough in all (a run is the absences after the last day present) their
    absences and the last day present (counted by the database, so the many marks never
    travel), and the names of those with a run long enough."""
    s = Attendance.session
    in_window = (
        s.group.is_in(list(groups))
        & (s.status == SessionStatus.held.value)
        & (s.kind == SessionKind.session.value)
        & (s.deleted == False)
        & (s.date >= as_of - ABSENCE_WINDOW)
        & (s.date <= as_of)
    )
    is_absent = Attendance.status.is_in(list(ABSENT))
    counts = await (
        Attendance.select(Attendance.person, s.ibasho.as_alias("ibasho"), Count(alias="n"))
        .where(in_window & is_absent)
        .group_by(Attendance.person, s.ibasho)
    )
    places = await ibasho_of({row["ibasho"] for row in counts if row["ibasho"]})

    def needed(ibasho: UUID | None) -> int:
        return places.get(ibasho, {}).get("absence_follow_up") or DEFAULT_ABSENCES

    often = {(row["person"], row["ibasho"]) for row in counts if row["n"] >= needed(row["ibasho"])}
    if not often:
        return []
    candidates = list({person for person, _ibasho in often})
    # Asked for by id while they fit in a statement beside the groups' ids (SQLite's limit)
    among = in_window & is_absent
    present = in_window & (Attendance.status == AttendanceStatus.present.value)
    if len(candidates) <= CANDIDATES_PER_QUERY:
        among, present = among & Attendance.person.is_in(candidates), present & Attendance.person.is_in(candidates)
    absences = await Attendance.select(
        Attendance.person,
        s.as_alias("id"),
        s.group.as_alias("group"),
        s.ibasho.as_alias("ibasho"),
        s.date.as_alias("date"),
        s.start_time.as_alias("start_time"),
    ).where(among)
    enough: dict[tuple, list[dict]] = defaultdict(list)
    for row in absences:
        if (row["person"], row["ibasho"]) in often:
            row["ibasho_name"] = places.get(row["ibasho"], {}).get("name", "")
            enough[(row["person"], row["ibasho"])].append(row)
    last_present = (
        Attendance.select(Attendance.person, s.ibasho.as_alias("ibasho"), Max(s.date, alias="last"))
        .where(present)
        .group_by(Attendance.person, s.ibasho)
    )
    came = {(r["person"], r["ibasho"]): as_date(r["last"]) for r in await last_present}
    runs = {
        where: [row for row in rows if where not in came or row["date"] > came[where]] for where, rows in enough.items()
    }
    long_enough = {where: run for where, run in runs.items() if len(run) >= needed(where[1])}
    if not long_enough:
        return []
    people = {
        row["id"]: row["display_name"]
        for row in await Person.select(Person.id, Person.display_name).where(
            Person.id.is_in(list({person for person, _ibasho in long_enough}))
            & (Person.registered == True)
            & (Person.deleted == False)
        )
    }
    out = []
    for (person, _ibasho), run in long_enough.items():
        if person not in people:
            continue
        run.sort(key=lambda session: (session["date"], session["start_time"] or time.min))
        first, last = run[0], run[-1]
        out.append(
            item(
                groups,
                last["group"],
                key=f"absences:{person}:{first['id']}",
                kind="absences",
                title=(f"{last['ibasho_name']}: " if last["ibasho_name"] else "")
                + _("%(name)s absent %(n)s sessions in a row (since %(day)s)")
                % {"name": people[person], "n": len(run), "day": days(first["date"])},
                since=first["date"],
                link=f"/review/sessions/{last['id']}",
            )
        )
    return [i for i in out if i]


async def grant_items(groups: dict[UUID, dict], as_of: date) -> list[Item]:
    """Groups whose programme asks for a session every N months (or N a month) and that
    fail it or will within the evaluator's warning time: before the grant is lost."""
    active = [g for g, row in groups.items() if row["active"]]
    year = fiscal_year(as_of)
    out = []
    for enrolment, checks in await requirement_checks(active, year, as_of=as_of):
        if not checks or not checks[0].ok:  # not eligible this year: nothing to keep
            continue
        for rule in checks:
            if rule.code not in GRANT_RULES or (rule.ok and not rule.at_risk):
                continue
            values = ",".join(str(v) for _k, v in sorted(rule.reason.params.items()))
            group = enrolment["group"]
            title = enrolment["programme_name"] + ": " + rule.reason.text()
            out.append(
                item(
                    groups,
                    group,
                    key=f"grant:{group}:{enrolment['programme_id']}:{year}:{rule.code}:{values}",
                    kind="grant",
                    title=title if rule.ok else _("Grant rule failing") + " — " + title,
                    since=as_of,
                    link=f"/review/groups/{group}?year={year}",
                )
            )
    return [i for i in out if i]


async def sync_items(groups: dict[UUID, dict], moment: datetime) -> list[Item]:
    """Active groups with phones none of which has synced for STALE_SYNC: whatever was typed
    on them since may be there still. Each device is listed with its last push and pull."""
    active = [g for g, row in groups.items() if row["active"]]
    if not active:
        return []
    members = await GroupMembership.select(GroupMembership.account, GroupMembership.group).where(
        GroupMembership.group.is_in(active)
    )
    by_account: dict[UUID, list[UUID]] = defaultdict(list)
    for row in members:
        by_account[row["account"]].append(row["group"])
    if not by_account:
        return []
    devices: dict[UUID, list[Device]] = defaultdict(list)
    rows = await SyncClient.select(
        SyncClient.account,
        SyncClient.account.display_name.as_alias("owner"),
        SyncClient.created_at,
        SyncClient.last_seen_at,
        SyncClient.last_pull_at,
    ).where(SyncClient.account.is_in(list(by_account)))
    for row in rows:
        device = Device(row["owner"], row["created_at"], row["last_seen_at"], row["last_pull_at"])
        for group in by_account[row["account"]]:
            devices[group].append(device)
    out = []
    for group, listed in devices.items():
        latest = max(d.last_sync for d in listed)
        if moment - latest < STALE_SYNC:
            continue
        listed.sort(key=lambda d: d.last_sync, reverse=True)
        out.append(
            item(
                groups,
                group,
                key=f"sync:{group}:{latest.astimezone(JAPAN).date().isoformat()}",
                kind="sync",
                title=_("No phone has synced for %(days)s days") % {"days": (moment - latest).days},
                since=latest.astimezone(JAPAN).date(),
                link=f"/staff/groups/{group}",
                devices=listed,
            )
        )
    return [i for i in out if i]


async def derived_items(principal, as_of: date | None = None) -> list[Item]:
    """Every item the principal's areas have now, oldest first."""
    as_of = as_of or today()
    async with read_transaction():  # one connection and one snapshot for the dozen queries
        groups = await visible_groups(principal)
        if not groups:
            return []
        items = [
            *await safety_items(principal, groups),
            *await absence_items(groups, as_of),
            *await grant_items(groups, as_of),
            *await sync_items(groups, now()),
        ]
    items.sort(key=lambda i: (i.since, i.group_name, i.key))
    return items


# --- what staff did about them -------------------------------------------------------------


async def attach_state(items: list[Item]) -> None:
    """Assignee, closing and comments of the items that have any (two queries)."""
    by_key = {i.key: i for i in items}
    if not by_key:
        return
    rows = await FollowUp.select(
        FollowUp.key,
        FollowUp.assignee,
        FollowUp.assignee.display_name.as_alias("assignee_name"),
        FollowUp.closed_at,
        FollowUp.closed_by.display_name.as_alias("closed_by_name"),
    ).where(FollowUp.key.is_in(list(by_key)))
    for row in rows:
        i = by_key[row["key"]]
        i.assignee, i.assignee_name = row["assignee"], row["assignee_name"] or ""
        i.closed_at, i.closed_by = row["closed_at"], row["closed_by_name"] or ""
    if not rows:
        return
    comments = (
        await FollowUpComment.select(
            FollowUpComment.follow_up.as_alias("key"),
            FollowUpComment.body,
            FollowUpComment.created_at,
            FollowUpComment.author.display_name.as_alias("author"),
        )
        .where(FollowUpComment.follow_up.is_in([r["key"] for r in rows]))
        .order_by(FollowUpComment.created_at)
    )
    for row in comments:
        by_key[row["key"]].comments.append(row)


async def closed_history(principal, area_ids: list[UUID] | None) -> list[Item]:
    """Closed items, newest first, as they were titled when staff last acted on them."""
    query = (
        FollowUp.select(
            FollowUp.key,
            FollowUp.kind,
            FollowUp.area,
            FollowUp.area.name.as_alias("area_name"),
            FollowUp.group,
            FollowUp.group.name.as_alias("group_name"),
            FollowUp.title,
            FollowUp.created_at,
        )
        .where(FollowUp.closed_at.is_not_null())
        .order_by(FollowUp.closed_at, ascending=False)
        .limit(HISTORY)
    )
    if area_ids is not None:
        query = query.where(FollowUp.area.is_in(area_ids or [None]))
    items = [
        Item(
            key=row["key"],
            kind=row["kind"],
            area=row["area"],
            area_name=row["area_name"],
            group=row["group"],
            group_name=row["group_name"] or "",
            title=row["title"],
            since=row["created_at"].astimezone(JAPAN).date(),
        )
        for row in await query
    ]
    await attach_state(items)
    return items


async def assignable(area_ids: set[UUID]) -> dict[UUID, list[dict]]:
    """Per area, the staff who may take on its items (its staff; admins take any)."""
    out: dict[UUID, list[dict]] = defaultdict(list)
    if not area_ids:
        return out
    rows = await StaffArea.select(
        StaffArea.area, StaffArea.account.id.as_alias("id"), StaffArea.account.display_name.as_alias("name")
    ).where(
        StaffArea.area.is_in(list(area_ids))
        & (StaffArea.account.active == True)
        & (StaffArea.account.role.is_in([Role.staff.value, Role.admin.value]))
    )
    for row in sorted(rows, key=lambda r: r["name"]):
        out[row["area"]].append({"id": row["id"], "name": row["name"]})
    return out


async def find_item(principal, key: str) -> Item:
    """The item ``key`` if it is on the principal's list now or in their areas' history; 404
    otherwise, so other areas' items neither show nor change."""
    for i in await derived_items(principal):
        if i.key == key:
            return i
    row = (
        await FollowUp.select(
            FollowUp.key, FollowUp.kind, FollowUp.area, FollowUp.group, FollowUp.title, FollowUp.created_at
        )
        .where(FollowUp.key == key)
        .first()
    )
    if row is None or not principal.may_see_area(row["area"]):
        raise NotFoundException(_("There is no such follow-up item."))
    return Item(key, row["kind"], row["area"], "", row["group"], "", row["title"], row["created_at"].date())


# --- the page --------------------------------------------------------------------------------


async def list_page(
    request: Request, area: str = "", mine: bool = False, errors=(), typed: dict | None = None
) -> Template:
    principal = principal_of(request)
    items = await derived_items(principal)
    await attach_state(items)
    areas = sorted({(i.area_name, i.area) for i in items})
    visible = principal.visible_areas()
    chosen = [a for a in (visible if visible is not None else {i.area for i in items}) if str(a) == area]
    shown = [i for i in items if i.closed_at is None and (not chosen or i.area in chosen)]
    if mine:
        shown = [i for i in shown if i.assignee == principal.account_id]
    by_area: dict[tuple[str, UUID], list[Item]] = defaultdict(list)
    for i in shown:
        by_area[(i.area_name, i.area)].append(i)
    history = await closed_history(principal, chosen or (None if visible is None else list(visible)))
    counts = {kind: sum(1 for i in shown if i.kind == kind) for kind in KINDS}
    response = review_page(
        "followups.html",
        errors,
        by_area=sorted(by_area.items()),
        history=history,
        areas=areas,
        area=area,
        mine=mine,
        counts=counts,
        staff=await assignable({i.area for i in shown} | {i.area for i in history}),
        me=principal.account_id,
        typed=typed or {},
        stale_days=STALE_SYNC.days,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@get("/follow-ups")
async def follow_ups(request: Request, area: FromQuery[str] = "", mine: FromQuery[str] = "") -> Template:
    return await list_page(request, area, mine == "1")


@post("/follow-ups/{key:str}")
async def follow_up_change(
    request: Request,
    key: FromPath[str],
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Response:
    principal = principal_of(request)
    found = await find_item(principal, key)
    action, body = data.get("action", ""), data.get("body", "").strip()
    assignee = data.get("assignee", "").strip()
    errors = []
    chosen: UUID | None = None
    if action not in ACTIONS:
        errors.append(_("Please choose what to do with this item."))
    if action == "comment" and not body:
        errors.append(_("Please write a comment."))
    if len(body) > COMMENT_MAX:
        errors.append(_("%(field)s can be at most %(max)s characters.") % {"field": _("Comment"), "max": COMMENT_MAX})
    if action == "assign" and assignee:
        allowed = {s["id"] for s in (await assignable({found.area}))[found.area]}
        chosen = next((a for a in allowed if str(a) == assignee), None)
        if chosen is None:
            errors.append(_("Please choose a staff member of this area."))
    if errors:
        return await list_page(request, errors=errors, typed={"key": key, "body": body})
    moment = now()
    async with write_transaction():
        existing = await FollowUp.select(FollowUp.key).where(FollowUp.key == key).first()
        if existing is None:
            await FollowUp.insert(
                FollowUp(
                    key=key,
                    kind=found.kind,
                    area=found.area,
                    group=found.group,
                    title=found.title,
                    created_at=moment,
                    updated_at=moment,
                )
            )
        changes: dict = {FollowUp.updated_at: moment}
        if found.group_name:  # still derived: keep the newest title for the history
            changes[FollowUp.title] = found.title
        if action == "assign":
            changes[FollowUp.assignee] = chosen
        elif action == "close":
            changes |= {FollowUp.closed_at: moment, FollowUp.closed_by: principal.account_id}
        elif action == "reopen":
            changes |= {FollowUp.closed_at: None, FollowUp.closed_by: None}
        await FollowUp.update(changes).where(FollowUp.key == key)
        if body:
            await FollowUpComment.insert(
                FollowUpComment(id=uuid4(), follow_up=key, author=principal.account_id, body=body, created_at=moment)
            )
        detail = {"assign": str(chosen or ""), "comment": body, "close": body, "reopen": body}[action]
        await audit(principal.account_id, f"follow_up_{action}", f"follow_up:{key}", detail)
    return see_other(f"/review/follow-ups#{found.anchor}")


HANDLERS = [follow_ups, follow_up_change]
