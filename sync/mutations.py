"""The mutation registry: each named mutation validates its args, checks scope, and merges.

A mutation that can never succeed raises ``Rejected`` before it changes anything; the
engine records it as rejected and moves on. Merges are per field and deterministic:
last writer wins by HLC (losing note texts kept in ``conflicts``); tallies add deltas.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from sync import limits
from sync.entities import DEFAULTS, new_record
from sync.ids import is_derived, safety_check_id, scheduled_session_id
from sync.store import Record, Store


class Rejected(Exception):
    """A permanent failure of one mutation: bad args, forbidden, or a deleted record.

    ``code`` and ``params`` say why in a form a client can put in its own words (the
    phone builds Japanese from them, docs/sync.md "Refusals"); the message is the same
    in English, for logs and other clients. Params never name what the caller may not see.
    """

    def __init__(self, code: str, message: str, **params: str) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


def redaction_key(field: str | None = None) -> str:
    """The ``hlcs`` key where an erasure of personal data (server/data_rights) records the
    HLC it redacted a field (or a whole record) at. A write from a copy older than that
    would bring the erased words back, so it is refused."""
    return f"redacted:{field}" if field else "redacted"


@dataclass(frozen=True)
class Scope:
    """Whose push or pull this is, which groups they may touch (None: every group, for
    admins), and of which of those they may read the sensitive fields (None: all)."""

    account_id: UUID
    group_ids: frozenset[UUID] | None
    sensitive_group_ids: frozenset[UUID] | None = None

    def allows(self, group_id: UUID) -> bool:
        return self.group_ids is None or group_id in self.group_ids

    def reveals(self, group_id: UUID) -> bool:
        """Whether the caller may read the group's sensitive fields (entities.SENSITIVE)."""
        return self.sensitive_group_ids is None or group_id in self.sensitive_group_ids


@dataclass
class UnitOfWork:
    """Records loaded during one push, changed in memory, written once at the end."""

    store: Store
    cache: dict[tuple[str, str], Record | None] = field(default_factory=dict)
    dirty: dict[tuple[str, str], Record] = field(default_factory=dict)

    async def get(self, entity: str, entity_id: str) -> Record | None:
        key = (entity, entity_id)
        if key not in self.cache:
            found = await self.store.load(entity, [entity_id])
            self.cache[key] = found.get(entity_id)
        return self.cache[key]

    async def prefetch(self, wanted: dict[str, set[str]]) -> None:
        """Load many records with one query per entity, instead of one query per record."""
        for entity, ids in wanted.items():
            missing = [i for i in ids if (entity, i) not in self.cache]
            if missing:
                found = await self.store.load(entity, missing)
                for entity_id in missing:
                    self.cache[(entity, entity_id)] = found.get(entity_id)

    def put(self, entity: str, entity_id: str, record: Record) -> None:
        self.cache[(entity, entity_id)] = record
        self.dirty[(entity, entity_id)] = record

    async def flush(self) -> None:
        by_entity: dict[str, dict[str, Record]] = {entity: {} for entity in DEFAULTS}  # parents first
        for (entity, entity_id), record in self.dirty.items():
            by_entity[entity][entity_id] = record
        for entity, records in by_entity.items():
            if records:
                await self.store.save(entity, records)
        await self.store.publish(
            [(entity, entity_id, record.group_id) for (entity, entity_id), record in self.dirty.items()]
        )


@dataclass
class Context:
    scope: Scope
    work: UnitOfWork
    hlc: str  # the mutation's HLC after the server's clamp

    async def live(self, entity: str, entity_id: str, what: str) -> Record:
        """A record the caller may touch, or a rejection that says why not."""
        record = await self.work.get(entity, entity_id)
        if record is None or not self.scope.allows(record.group_id):
            raise Rejected("not_found", f"no {what} {entity_id} in your groups", entity=what, id=entity_id)
        if record.deleted:
            raise Rejected("deleted", f"{what} {entity_id} was deleted", entity=what, id=entity_id)
        return record

    async def derived(self, entity: str, entity_id: str, owner: Record) -> Record | None:
        """The record under an id derived from ``owner`` (a session), if there is one. A
        derived id belongs to the group of the records it is derived from: a record under
        it in another group is refused, never written to."""
        record = await self.work.get(entity, entity_id)
        if record is not None and record.group_id != owner.group_id:
            raise Rejected("other_group", f"{entity} {entity_id} belongs to another group", entity=entity, id=entity_id)
        return record

    async def session_and_person(self, session_id: UUID, person_id: UUID) -> Record:
        session = await self.live("session", str(session_id), "session")
        person = await self.live("person", str(person_id), "person")
        if person.group_id != session.group_id:
            raise Rejected(
                "person_not_in_group",
                f"person {person_id} is not in the group of session {session_id}",
                person_id=str(person_id),
                session_id=str(session_id),
            )
        return session


def write_fields(record: Record, values: dict[str, Any], hlc: str) -> dict[str, tuple[Any, str]]:
    """Last writer wins, field by field. Returns the values that lost, with their HLCs."""
    losers: dict[str, tuple[Any, str]] = {}
    for name, value in values.items():
        current = record.hlcs.get(name, "")
        if hlc > current:
            if current:
                losers[name] = (record.data.get(name), current)
            record.data[name] = value
            record.hlcs[name] = hlc
        else:
            losers[name] = (value, hlc)
    return losers


def given(args: msgspec.Struct, skip: tuple[str, ...] = ("id",)) -> dict[str, Any]:
    """The fields a mutation actually carried, in wire form."""
    return {
        name: wire_value(value)
        for name, value in msgspec.structs.asdict(args).items()
        if value is not UNSET and name not in skip
    }


def wire_value(value: Any) -> Any:
    """A value as it travels: ids as text, dates ISO 8601, clock times "HH:MM", a nested
    argument struct as an object of the keys it carried."""
    if isinstance(value, msgspec.Struct):
        return given(value, skip=())
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return value


# --- argument types ----------------------------------------------------------------


def text(most: int, least: int = 0) -> Any:
    return Annotated[str, msgspec.Meta(min_length=least, max_length=most)]


LongText = text(limits.LONG_TEXT)
ClockTime = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
Category = Annotated[str, msgspec.Meta(pattern=rf"^[a-z][a-z0-9_]{{0,{limits.CATEGORY - 1}}}$")]
RoleName = text(limits.ROLE, least=1)


_DATE_WINDOW = {"formatMinimum": limits.EARLIEST.isoformat(), "formatMaximum": limits.LATEST.isoformat()}
Day = Annotated[date, msgspec.Meta(extra_json_schema=_DATE_WINDOW)]
# A moment with its offset: its own calendar date must be in the window too.
Moment = Annotated[datetime, msgspec.Meta(tz=True, extra_json_schema=_DATE_WINDOW)]


def _within_dates(value: Any) -> bool:
    """A date (or a moment, on its own calendar) in the window of ``sync.limits``."""
    day = value.date() if isinstance(value, datetime) else value
    return limits.EARLIEST <= day <= limits.LATEST


class Args(msgspec.Struct, forbid_unknown_fields=True):
    def __post_init__(self) -> None:
        limits.check_patterns(self)
        for name, value in msgspec.structs.asdict(self).items():
            if isinstance(value, date) and not _within_dates(value):
                raise ValueError(f"{name} must be between {limits.EARLIEST} and {limits.LATEST}")


class SessionReminderRule(Args):
    """A session's own reminder times (server/reminders/rules.py), e.g. for a meeting: a key
    left out keeps its ibasho's (or the built-in) time; null turns that reminder off."""

    day_before_at: ClockTime | None | UnsetType = UNSET
    hours_before: Annotated[int, msgspec.Meta(ge=1, le=6)] | None | UnsetType = UNSET


class SessionUpsert(Args):
    id: UUID
    group_id: UUID | UnsetType = UNSET
    ibasho_id: UUID | None | UnsetType = UNSET
    kind: Literal["session", "meeting", "event"] | UnsetType = UNSET
    title: text(limits.TITLE) | UnsetType = UNSET
    date: Day | UnsetType = UNSET
    start_time: ClockTime | None | UnsetType = UNSET
    end_time: ClockTime | None | UnsetType = UNSET
    venue: text(limits.VENUE) | UnsetType = UNSET
    status: Literal["scheduled", "held", "cancelled", "postponed"] | UnsetType = UNSET
    agenda: LongText | UnsetType = UNSET
    online_url: text(limits.URL) | UnsetType = UNSET
    application_deadline: Day | None | UnsetType = UNSET
    venue_cost: Annotated[int, msgspec.Meta(ge=0, le=limits.YEN)] | None | UnsetType = UNSET
    reminder_rule: SessionReminderRule | None | UnsetType = UNSET


class PersonUpsert(Args):
    id: UUID
    group_id: UUID | UnsetType = UNSET
    display_name: text(limits.PERSON_NAME, least=1) | UnsetType = UNSET
    kana: text(limits.PERSON_NAME) | UnsetType = UNSET
    category: Category | UnsetType = UNSET
    kind: Literal["participant", "volunteer"] | UnsetType = UNSET
    registered: bool | UnsetType = UNSET
    contact: text(limits.CONTACT) | UnsetType = UNSET


class PersonDelete(Args):
    id: UUID


class AttendanceSet(Args):
    session_id: UUID
    person_id: UUID
    status: Literal["present", "absent_notified", "absent_unnotified", "unmarked"]


class TallyAdd(Args):
    session_id: UUID
    category: Category
    delta: Annotated[int, msgspec.Meta(ge=-100, le=100)]


class RoleSet(Args):
    """A role goes to an organiser (``member_id``, an account) or a volunteer on the roster
    (``person_id``): exactly one of them."""

    session_id: UUID
    role: RoleName
    assigned: bool
    member_id: UUID | UnsetType = UNSET
    person_id: UUID | UnsetType = UNSET


NoteField = Literal["went_well", "to_improve", "handover", "concerns", "decisions"]


class NoteSet(Args):
    session_id: UUID
    field: NoteField
    text: LongText
    # The HLC of the text the writer was editing: when it is the current one, the write
    # replaces it cleanly; otherwise the two texts were written concurrently.
    base_hlc: str | None = None


class NoteResolve(Args):
    """Dismiss a conflicting text once it has been merged (identified by its HLC)."""

    session_id: UUID
    field: NoteField
    hlc: Annotated[str, msgspec.Meta(max_length=120)]


class CallSet(Args):
    """A call of the 電話連絡網 to a participant: 伝えた, 不在, 欠席の連絡, or not yet."""

    session_id: UUID
    person_id: UUID
    outcome: Literal["told", "no_answer", "absent", "unmarked"]


class SafetyRecord(Args):
    id: UUID
    session_id: UUID | UnsetType = UNSET
    person_id: UUID | UnsetType = UNSET
    outcome: Literal["open", "safe", "unreachable", "needs_support"] | UnsetType = UNSET
    contacted_by: text(limits.CONTACTED_BY) | UnsetType = UNSET
    contacted_at: Moment | None | UnsetType = UNSET
    method: text(limits.METHOD) | UnsetType = UNSET
    notes: LongText | UnsetType = UNSET


class MeetingAttend(Args):
    """Whether a member (an organiser, ``member_id``, or a volunteer, ``person_id``) came to a meeting."""

    session_id: UUID
    present: bool
    member_id: UUID | UnsetType = UNSET
    person_id: UUID | UnsetType = UNSET


class ActionUpsert(Args):
    """A meeting's action item: what, whom (a name) and by when."""

    id: UUID
    session_id: UUID | UnsetType = UNSET
    text: LongText | UnsetType = UNSET
    owner: text(limits.PERSON_NAME) | UnsetType = UNSET
    due: Day | None | UnsetType = UNSET
    done: bool | UnsetType = UNSET


class ActionDelete(Args):
    id: UUID


# --- the registry ------------------------------------------------------------------

Apply = Callable[[Context, Any], Awaitable[None]]


@dataclass(frozen=True)
class MutationSpec:
    args_type: type[Args]
    apply: Apply


REGISTRY: dict[str, MutationSpec] = {}


def mutation(name: str, args_type: type[Args]) -> Callable[[Apply], Apply]:
    def register(apply: Apply) -> Apply:
        REGISTRY[name] = MutationSpec(args_type, apply)
        return apply

    return register


def holds_nul(value: Any) -> bool:
    """Whether a NUL hides anywhere in a decoded JSON value. Without recursion: a JSON
    parser accepts nesting deeper than Python's stack, and one such mutation must be
    rejected on its own, not fail its whole push on every retry."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending += item.keys()
            pending += item.values()
        elif isinstance(item, list):
            pending += item
    return False


def parse_args(name: str, args: dict[str, Any]) -> tuple[MutationSpec, Args]:
    spec = REGISTRY.get(name)
    if spec is None:
        raise Rejected("unknown_mutation", f"unknown mutation {name[:64]!r}", name=name[:64])
    if holds_nul(args):
        raise Rejected("nul_text", "text must not contain NUL characters")  # no database can store one
    try:
        return spec, msgspec.convert(args, spec.args_type)
    except msgspec.ValidationError as error:
        raise Rejected("invalid_args", f"invalid args for {name}: {error}", name=name, detail=str(error)) from None
    except RecursionError:  # nested deeper than any argument is
        raise Rejected(
            "invalid_args", f"invalid args for {name}: nested too deeply", name=name, detail="nested too deeply"
        ) from None


def derives_own_id(args: Args) -> bool:
    """Whether a new record's derived id is the one its own args derive: a scheduled
    session's from its ibasho and date. No other entity a phone creates has one."""
    if isinstance(args, SessionUpsert):
        return (
            args.ibasho_id not in (UNSET, None)
            and args.date is not UNSET
            and args.id == scheduled_session_id(args.ibasho_id, args.date)
        )
    return False


async def owned_record(
    ctx: Context, entity: str, args: SessionUpsert | PersonUpsert, required: str
) -> tuple[str, Record]:
    """The record an upsert changes: an existing one in the caller's groups, or a new one
    in one of their groups (a new one needs ``group_id`` and ``required``). A new record
    may not take a derived id other than its own (``derives_own_id``): the ibasho id in a
    poster's QR code must not let another group take that ibasho's future sessions."""
    entity_id = str(args.id)
    record = await ctx.work.get(entity, entity_id)
    mine = record is not None and ctx.scope.allows(record.group_id)
    if not mine and is_derived(args.id) and not derives_own_id(args):
        # the same answer whether or not another group has it: a scheduled session's id
        # can be worked out from a poster, and must not tell whether that date exists
        raise Rejected(
            "derived_id",
            f"{entity} id {entity_id} is derived from other records: a new {entity} needs an id of its own",
            entity=entity,
            id=entity_id,
        )
    if record is None:
        if args.group_id is UNSET or getattr(args, required) is UNSET:
            raise Rejected(
                "needs_fields",
                f"a new {entity} needs group_id and {required}",
                entity=entity,
                fields=f"group_id,{required}",
            )
        if not ctx.scope.allows(args.group_id):
            raise Rejected("group_not_yours", f"group {args.group_id} is not one of yours", group_id=str(args.group_id))
        return entity_id, new_record(entity, args.group_id, group_id=str(args.group_id))
    record = await ctx.live(entity, entity_id, entity)
    if args.group_id is not UNSET and args.group_id != record.group_id:
        raise Rejected("cannot_move", f"a {entity} cannot move to another group", entity=entity)
    return entity_id, record


@mutation("session.upsert", SessionUpsert)
async def session_upsert(ctx: Context, args: SessionUpsert) -> None:
    entity_id, record = await owned_record(ctx, "session", args, required="date")
    values = given(args, skip=("id", "group_id"))
    if values.get("ibasho_id"):
        ibasho = await ctx.work.get("ibasho", values["ibasho_id"])
        if ibasho is None or ibasho.group_id != record.group_id:
            raise Rejected(
                "ibasho_not_in_group",
                f"ibasho {values['ibasho_id']} does not belong to this group",
                ibasho_id=values["ibasho_id"],
            )
    write_fields(record, values, ctx.hlc)
    ctx.work.put("session", entity_id, record)


@mutation("person.upsert", PersonUpsert)
async def person_upsert(ctx: Context, args: PersonUpsert) -> None:
    entity_id, record = await owned_record(ctx, "person", args, required="display_name")
    write_fields(record, given(args, skip=("id", "group_id")), ctx.hlc)
    ctx.work.put("person", entity_id, record)


async def tombstone(ctx: Context, entity: str, entity_id: str, personal: tuple[str, ...] = ()) -> None:
    """Delete wins: the record stays as a tombstone (its ``personal`` fields blanked) and no
    later write revives it; deleting twice is the same as once."""
    record = await ctx.work.get(entity, entity_id)
    if record is None or not ctx.scope.allows(record.group_id):
        raise Rejected("not_found", f"no {entity} {entity_id} in your groups", entity=entity, id=entity_id)
    if record.deleted:
        return
    record.deleted = True
    record.data.update(dict.fromkeys(personal, ""))
    record.hlcs["deleted"] = ctx.hlc
    ctx.work.put(entity, entity_id, record)


@mutation("person.delete", PersonDelete)
async def person_delete(ctx: Context, args: PersonDelete) -> None:
    # Personal data goes with the person; attendance rows keep only the id.
    await tombstone(ctx, "person", str(args.id), personal=("display_name", "kana", "contact"))


@mutation("attendance.set", AttendanceSet)
async def attendance_set(ctx: Context, args: AttendanceSet) -> None:
    session = await ctx.session_and_person(args.session_id, args.person_id)
    entity_id = f"{args.session_id}:{args.person_id}"
    record = await ctx.derived("attendance", entity_id, session) or new_record(
        "attendance", session.group_id, session_id=str(args.session_id), person_id=str(args.person_id)
    )
    # the follow-up first, as it may refuse: a rejected mutation leaves every record as it was
    if ctx.hlc > record.hlcs.get("status", "") and args.status != record.data["status"]:
        await follow_up_absence(ctx, str(args.session_id), session, str(args.person_id), args.status)
    write_fields(record, {"status": args.status}, ctx.hlc)
    ctx.work.put("attendance", entity_id, record)


async def _needs_follow_up(ctx: Context, session: Record, person_id: str) -> bool:
    """Only registered participants are expected; a session without an ibasho (ad hoc)
    counts as registration-based when the person is on the roster."""
    person = await ctx.work.get("person", person_id)
    if person is None or not person.data["registered"]:
        return False
    ibasho_id = session.data.get("ibasho_id")
    ibasho = await ctx.work.get("ibasho", ibasho_id) if ibasho_id else None
    return ibasho is None or bool(ibasho.data["registration_required"])


def _untouched(check: Record) -> bool:
    return not any(check.data[key] for key in ("contacted_by", "contacted_at", "method", "notes"))


async def follow_up_absence(ctx: Context, session_id: str, session: Record, person_id: str, status: str) -> None:
    """A registered participant absent without notice (無断欠席) at a registration-based
    ibasho gets a 安否確認 follow-up; correcting the mark withdraws it while nobody has
    acted on it yet."""
    check_id = safety_check_id(session_id, person_id)
    check = await ctx.derived("safety_check", check_id, session)
    if status == "absent_unnotified":
        if not await _needs_follow_up(ctx, session, person_id):
            return
        if check is None:
            check = new_record("safety_check", session.group_id, session_id=session_id, person_id=person_id)
        elif check.data["outcome"] != "withdrawn":
            return  # already followed up (or being followed up): leave it alone
        write_fields(check, {"outcome": "open"}, ctx.hlc)
    elif check is not None and check.data["outcome"] == "open" and _untouched(check):
        write_fields(check, {"outcome": "withdrawn"}, ctx.hlc)
    else:
        return
    ctx.work.put("safety_check", check_id, check)


@mutation("tally.add", TallyAdd)
async def tally_add(ctx: Context, args: TallyAdd) -> None:
    session = await ctx.live("session", str(args.session_id), "session")
    entity_id = f"{args.session_id}:{args.category}"
    record = await ctx.derived("tally", entity_id, session) or new_record(
        "tally", session.group_id, session_id=str(args.session_id), category=args.category
    )
    total = record.data["delta_sum"] + args.delta  # a counter: the order of arrival never matters
    if abs(total) > limits.HEAD_COUNT:
        raise Rejected(
            "count_too_large",
            f"a count of {total} for {args.category} is beyond {limits.HEAD_COUNT}",
            session_id=str(args.session_id),
            category=args.category,
            limit=str(limits.HEAD_COUNT),
        )
    record.data["delta_sum"] = total
    ctx.work.put("tally", entity_id, record)


async def helper_of(ctx: Context, session: Record, args: RoleSet | MeetingAttend) -> tuple[str, dict[str, str | None]]:
    """Who takes a role or attends a meeting: an organiser of the session's group, or a
    volunteer on its roster. Returns the id that names them and the two wire fields."""
    if (args.member_id is UNSET) == (args.person_id is UNSET):
        raise Rejected("needs_one_helper", "give member_id or person_id, one of them")
    if args.member_id is not UNSET:
        if not await ctx.work.store.is_member(session.group_id, args.member_id):
            raise Rejected(
                "not_a_member",
                f"member {args.member_id} is not an organiser of this group",
                member_id=str(args.member_id),
            )
        return str(args.member_id), {"member_id": str(args.member_id), "person_id": None}
    person_id = str(args.person_id)
    person = await ctx.live("person", person_id, "person")
    if person.group_id != session.group_id or person.data["kind"] != "volunteer":
        raise Rejected("not_a_volunteer", f"person {person_id} is not a volunteer of this group", person_id=person_id)
    return person_id, {"member_id": None, "person_id": person_id}


@mutation("role.set", RoleSet)
async def role_set(ctx: Context, args: RoleSet) -> None:
    session = await ctx.live("session", str(args.session_id), "session")
    helper, who = await helper_of(ctx, session, args)
    entity_id = f"{args.session_id}:{args.role}:{helper}"
    record = await ctx.derived("role_assignment", entity_id, session) or new_record(
        "role_assignment", session.group_id, session_id=str(args.session_id), role=args.role, **who
    )
    write_fields(record, {"assigned": args.assigned}, ctx.hlc)
    ctx.work.put("role_assignment", entity_id, record)


@mutation("meeting.attend", MeetingAttend)
async def meeting_attend(ctx: Context, args: MeetingAttend) -> None:
    session = await ctx.live("session", str(args.session_id), "session")
    if session.data["kind"] != "meeting":
        raise Rejected("not_a_meeting", f"session {args.session_id} is not a meeting", session_id=str(args.session_id))
    helper, who = await helper_of(ctx, session, args)
    entity_id = f"{args.session_id}:{helper}"
    record = await ctx.derived("meeting_attendance", entity_id, session) or new_record(
        "meeting_attendance", session.group_id, session_id=str(args.session_id), **who
    )
    write_fields(record, {"present": args.present}, ctx.hlc)
    ctx.work.put("meeting_attendance", entity_id, record)


@mutation("action.upsert", ActionUpsert)
async def action_upsert(ctx: Context, args: ActionUpsert) -> None:
    entity_id = str(args.id)
    record = await ctx.work.get("action_item", entity_id)
    if record is None or not ctx.scope.allows(record.group_id):
        # a new one (another group's is answered as one that does not exist); its id is the phone's own
        if is_derived(args.id):
            raise Rejected(
                "derived_id",
                f"action_item id {entity_id} is derived from other records: a new action_item needs an id of its own",
                entity="action_item",
                id=entity_id,
            )
        if args.session_id is UNSET:
            raise Rejected(
                "needs_fields", "a new action_item needs session_id", entity="action_item", fields="session_id"
            )
        session = await ctx.live("session", str(args.session_id), "session")
        if record is not None:
            raise Rejected(
                "other_group", f"action_item {entity_id} belongs to another group", entity="action_item", id=entity_id
            )
        record = new_record("action_item", session.group_id, session_id=str(args.session_id))
    else:
        record = await ctx.live("action_item", entity_id, "action_item")
        if args.session_id is not UNSET and str(args.session_id) != record.data["session_id"]:
            raise Rejected("cannot_move", "an action_item cannot move to another session", entity="action_item")
    write_fields(record, given(args, skip=("id", "session_id")), ctx.hlc)
    ctx.work.put("action_item", entity_id, record)


@mutation("action.delete", ActionDelete)
async def action_delete(ctx: Context, args: ActionDelete) -> None:
    await tombstone(ctx, "action_item", str(args.id))


async def _note(ctx: Context, session_id: UUID) -> tuple[str, Record]:
    session = await ctx.live("session", str(session_id), "session")
    entity_id = str(session_id)
    record = await ctx.derived("note", entity_id, session) or new_record("note", session.group_id, session_id=entity_id)
    return entity_id, record


@mutation("note.set", NoteSet)
async def note_set(ctx: Context, args: NoteSet) -> None:
    entity_id, stored = await _note(ctx, args.session_id)
    redacted = stored.hlcs.get(redaction_key(args.field))
    # written on a copy from before the erasure (or, knowing no text there, before it)
    if redacted and (args.base_hlc if args.base_hlc is not None else ctx.hlc) < redacted:
        raise Rejected(
            "redacted",
            f"the {args.field} text of session {args.session_id} was redacted after this edit was made",
            field=args.field,
            session_id=str(args.session_id),
        )
    # on a copy: a refusal below must leave the stored note as it was
    record = replace(stored, data=dict(stored.data), hlcs=dict(stored.hlcs))
    current_hlc = record.hlcs.get(args.field, "")
    losers = write_fields(record, {args.field: args.text}, ctx.hlc)
    lost = losers.get(args.field)
    clean_replace = args.base_hlc is not None and args.base_hlc == current_hlc
    authors = {**record.data["authors"]}
    writer = str(ctx.scope.account_id)
    won = record.hlcs[args.field] == ctx.hlc
    loser_by = authors.get(args.field, "") if won else writer
    if won:
        authors[args.field] = writer
    record.data["authors"] = authors
    waiting = {c["text"] for c in record.data["conflicts"] if c["field"] == args.field}
    if (
        lost is not None
        and lost[0]
        and lost[0] != record.data[args.field]
        and lost[0] not in waiting
        and not clean_replace
    ):
        # Nobody's words vanish: the losing text waits in conflicts until someone merges it
        # (once: the same words from two phones are one text to merge), up to a bound, so
        # that a note every phone pulls cannot grow without end.
        if sum(c["field"] == args.field for c in record.data["conflicts"]) >= limits.CONFLICTS:
            raise Rejected(
                "too_many_conflicts",
                f"the {args.field} text of session {args.session_id} has {limits.CONFLICTS} texts to merge",
                field=args.field,
                session_id=str(args.session_id),
                limit=str(limits.CONFLICTS),
            )
        conflict = {"field": args.field, "text": lost[0], "hlc": lost[1], "by": loser_by}
        record.data["conflicts"] = [*record.data["conflicts"], conflict]
    ctx.work.put("note", entity_id, record)


@mutation("note.resolve", NoteResolve)
async def note_resolve(ctx: Context, args: NoteResolve) -> None:
    entity_id, record = await _note(ctx, args.session_id)
    record.data["conflicts"] = [
        c for c in record.data["conflicts"] if not (c["field"] == args.field and c["hlc"] == args.hlc)
    ]
    ctx.work.put("note", entity_id, record)


@mutation("safety.record", SafetyRecord)
async def safety_record(ctx: Context, args: SafetyRecord) -> None:
    entity_id = str(args.id)
    values = given(args)
    record = await ctx.work.get("safety_check", entity_id)
    if record is None or not ctx.scope.allows(record.group_id):
        # another group's check is answered as one that does not exist: its id can be
        # worked out from a person id, and must not tell whether that person was absent
        if args.session_id is UNSET or args.person_id is UNSET:
            raise Rejected(
                "needs_fields",
                "a new safety check needs session_id and person_id",
                entity="safety_check",
                fields="session_id,person_id",
            )
        session = await ctx.session_and_person(args.session_id, args.person_id)
        if entity_id != safety_check_id(str(args.session_id), str(args.person_id)):
            # its id is derived from the absence it follows up, so nobody can open one in
            # advance under the id of another group's absence and silence that follow-up
            raise Rejected(
                "derived_id",
                f"safety check id {entity_id} is not the one derived from its session and person",
                entity="safety_check",
                id=entity_id,
            )
        if (
            record is not None
        ):  # derived from the caller's own records, yet elsewhere: a row from before ids were checked
            raise Rejected(
                "other_group", f"safety_check {entity_id} belongs to another group", entity="safety_check", id=entity_id
            )
        record = new_record("safety_check", session.group_id)
    elif any(values.get(key, record.data[key]) != record.data[key] for key in ("session_id", "person_id")):
        raise Rejected("cannot_move", "a safety check cannot move to another session or person", entity="safety_check")
    elif record.hlcs.get(redaction_key()):
        raise Rejected(
            "erased", f"safety check {entity_id} is of a person whose data was erased", entity="safety_check"
        )
    write_fields(record, values, ctx.hlc)
    ctx.work.put("safety_check", entity_id, record)


@mutation("call.set", CallSet)
async def call_set(ctx: Context, args: CallSet) -> None:
    """An absence told on the phone counts like a reply to a reminder: the attendance is
    連絡あり欠席 (and an untouched 安否確認 withdrawn), as ``attendance.set`` does it."""
    session = await ctx.session_and_person(args.session_id, args.person_id)
    entity_id = f"{args.session_id}:{args.person_id}"
    record = await ctx.derived("call", entity_id, session) or new_record(
        "call", session.group_id, session_id=str(args.session_id), person_id=str(args.person_id)
    )
    if args.outcome == "absent" and ctx.hlc > record.hlcs.get("outcome", ""):
        await attendance_set(ctx, AttendanceSet(args.session_id, args.person_id, "absent_notified"))
    write_fields(record, {"outcome": None if args.outcome == "unmarked" else args.outcome}, ctx.hlc)
    ctx.work.put("call", entity_id, record)


def referenced(name: str, args: dict[str, Any]) -> list[tuple[str, str]]:
    """The records a mutation will read, guessed from its raw args (for prefetching only:
    a wrong guess costs a query later, never correctness)."""
    text = {key: str(value) for key, value in args.items() if isinstance(value, (str, int, bool))}
    session, person, own = text.get("session_id"), text.get("person_id"), text.get("id")
    absence = safety_check_id(session, person) if session and person else None
    refs = [("session", session), ("person", person), ("note", session if name.startswith("note.") else None)]
    refs += {
        "session.upsert": [("session", own)],
        "person.upsert": [("person", own)],
        "person.delete": [("person", own)],
        "attendance.set": [("attendance", f"{session}:{person}"), ("safety_check", absence)],
        "call.set": [("call", f"{session}:{person}"), ("attendance", f"{session}:{person}"), ("safety_check", absence)],
        "tally.add": [("tally", f"{session}:{text.get('category')}")],
        "role.set": [
            ("role_assignment", f"{session}:{text.get('role')}:{text.get('member_id') or text.get('person_id')}"),
            ("person", text.get("person_id")),
        ],
        "meeting.attend": [("meeting_attendance", f"{session}:{text.get('member_id') or text.get('person_id')}")],
        "action.upsert": [("action_item", own)],
        "action.delete": [("action_item", own)],
        "safety.record": [("safety_check", own)],
    }.get(name, [])
    return [(entity, entity_id) for entity, entity_id in refs if entity_id and "None" not in entity_id]
