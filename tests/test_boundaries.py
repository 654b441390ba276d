"""Every limit the sync validation allows fits the database, on both engines.

The cases come from the wire schema itself (msgspec's JSON schema of each mutation's
arguments): every string at its longest, in three-byte Japanese characters, every
number and date at its bounds, is applied and reads back exactly; one step beyond is
rejected. A patterned string is refused with a final newline or a non-ASCII digit, as
JSON Schema reads its pattern (Python's ``re.search`` would take both). Nothing is a
500, which would block a phone's queue on every retry.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest
from hypothesis import find
from hypothesis import strategies as st

from sync import limits
from sync.ids import safety_check_id
from sync.mutations import REGISTRY
from sync.wire import MAX_CURSOR
from tests.sync_phone import Phone

TEXT = "あ"  # three bytes in UTF-8: a length counted in bytes anywhere would show


def properties(name: str) -> dict[str, dict]:
    args_type = REGISTRY[name].args_type
    definition = msgspec.json.schema(args_type)["$defs"][args_type.__name__]
    flat = {}
    for field, spec in definition["properties"].items():
        options = [option for option in spec.get("anyOf", [spec]) if option.get("type") != "null"]
        flat[field] = options[0]
    return flat


def cases(spec: dict) -> list[tuple[Any, bool]]:
    """(value, valid) at and just beyond each bound the schema states."""
    found: list[tuple[Any, bool]] = []
    if spec.get("type") == "string" and "maxLength" in spec:
        found += [(TEXT * spec["maxLength"], True), (TEXT * (spec["maxLength"] + 1), False)]
        if spec.get("minLength", 0) > 0:
            found.append(("", False))
    if spec.get("type") == "string" and (longest := re.search(r"\{0,(\d+)\}\$$", spec.get("pattern", ""))):
        repeat = int(longest.group(1))  # a pattern like ^[a-z][a-z0-9_]{0,39}$
        found += [("a" + "b" * repeat, True), ("a" + "b" * (repeat + 1), False)]
    if spec.get("type") == "string" and "pattern" in spec:
        example = find(st.from_regex(spec["pattern"], fullmatch=True), lambda _: True)
        found += [(example, True), (example + "\n", False)]
        if re.search("[0-9]", example):
            found.append((re.sub("[0-9]", "\u0663", example, count=1), False))  # ٣, an Arabic-Indic three
    if spec.get("type") == "integer":
        found += [(spec["minimum"], True), (spec["minimum"] - 1, False)] if "minimum" in spec else []
        found += [(spec["maximum"], True), (spec["maximum"] + 1, False)] if "maximum" in spec else []
    if spec.get("format") == "date" and "formatMinimum" in spec:
        first, last = date.fromisoformat(spec["formatMinimum"]), date.fromisoformat(spec["formatMaximum"])
        found += [
            (first.isoformat(), True),
            (last.isoformat(), True),
            ((first - timedelta(days=1)).isoformat(), False),
            ((last + timedelta(days=1)).isoformat(), False),
            ("0001-01-01", False),
            ("9999-12-31", False),
        ]
    if spec.get("format") == "date-time" and "formatMinimum" in spec:
        first, last = spec["formatMinimum"], spec["formatMaximum"]
        found += [
            (f"{first}T00:00:00+14:00", True),
            (f"{last}T23:59:59-12:00", True),
            ("0001-01-01T00:00:00+14:00", False),
            ("9999-12-31T23:59:59-12:00", False),
        ]
    return found


def all_cases() -> list[tuple[str, str, Any, bool]]:
    return [
        (name, field, value, valid)
        for name in sorted(REGISTRY)
        for field, spec in properties(name).items()
        for value, valid in cases(spec)
    ]


def test_the_schema_states_the_bounds():
    """The generator below finds what it is meant to find (so it cannot pass by finding nothing)."""
    found = {(name, field) for name, field, _, _ in all_cases()}
    assert {
        ("session.upsert", "venue"),
        ("session.upsert", "date"),
        ("session.upsert", "venue_cost"),
        ("safety.record", "contacted_at"),
        ("person.upsert", "display_name"),
        ("tally.add", "delta"),
        ("role.set", "role"),
        ("note.set", "text"),
        ("person.upsert", "category"),
        ("tally.add", "category"),
        ("session.upsert", "start_time"),
    } <= found


@pytest.fixture
async def venue(new_client, world):
    """Group A's phone, a session and a registered person of it."""
    client = await new_client()
    await client.login(world.organiser_a)
    phone = Phone(client)
    session, person = str(uuid.uuid4()), str(uuid.uuid4())
    phone.mutate("session.upsert", id=session, group_id=str(world.group_a), date="2026-12-06")
    phone.mutate("person.upsert", id=person, group_id=str(world.group_a), display_name="新井 花子")
    await phone.sync()
    return {
        "phone": phone,
        "group": str(world.group_a),
        "session": session,
        "person": person,
        "member": str(world.organiser_a.account_id),
    }


# Valid arguments for each mutation, before the field under test is set; and where the
# field's value comes back in a pull: (entity, id, field), or None if it is not stored.
Base = Callable[[dict], dict]
BASES: dict[str, Base] = {
    "session.upsert": lambda v: {"id": str(uuid.uuid4()), "group_id": v["group"], "date": "2026-12-06"},
    "person.upsert": lambda v: {"id": str(uuid.uuid4()), "group_id": v["group"], "display_name": "x"},
    "tally.add": lambda v: {"session_id": v["session"], "category": "child", "delta": 1},
    "role.set": lambda v: {"session_id": v["session"], "role": "調理", "member_id": v["member"], "assigned": True},
    "note.set": lambda v: {"session_id": v["session"], "field": "handover", "text": "x"},
    "note.resolve": lambda v: {"session_id": v["session"], "field": "handover", "hlc": "x"},
    "action.upsert": lambda v: {"id": str(uuid.uuid4()), "session_id": v["session"], "text": "x"},
    "safety.record": lambda v: {
        "id": safety_check_id(v["session"], v["person"]),
        "session_id": v["session"],
        "person_id": v["person"],
    },
}


def stored(name: str, args: dict, field: str) -> tuple[str, str, str] | None:
    if name in ("session.upsert", "person.upsert", "safety.record"):
        return name.split(".")[0].replace("safety", "safety_check"), args["id"], field
    if name == "action.upsert":
        return "action_item", args["id"], field
    if name == "role.set" and field == "role":
        return "role_assignment", f"{args['session_id']}:{args['role']}:{args['member_id']}", "role"
    if name == "note.set" and field == "text":
        return "note", args["session_id"], args["field"]
    return None


def same(sent: Any, got: Any) -> bool:
    if isinstance(sent, str) and "T" in sent and sent[:4].isdigit():  # a moment: compare the instants
        return datetime.fromisoformat(sent) == datetime.fromisoformat(got).astimezone(UTC)
    return sent == got


async def test_every_bound_of_every_mutation_fits_or_is_refused(venue):
    phone: Phone = venue["phone"]
    planned = []
    for name, field, value, valid in all_cases():
        args = {**BASES[name](venue), field: value}
        phone.mutate(name, **args)
        planned.append((name, field, value, valid, args))
    response = await phone.push()
    assert response.status_code == 200, response.text[:500]
    results = response.json()["results"]
    wrong = [
        (name, field, str(value)[:30], result["status"], result.get("error"))
        for (name, field, value, valid, _), result in zip(planned, results, strict=True)
        if result["status"] != ("applied" if valid else "rejected")
    ]
    assert wrong == []
    await phone.pull()
    for name, field, value, valid, args in planned:
        where = stored(name, args, field) if valid else None
        if where and name != "safety.record":  # one safety check, written over and over: its last value
            entity, entity_id, column = where
            assert same(value, phone.get(entity, entity_id)[column]), (name, field)


async def test_the_longest_venue_and_the_last_date_reach_every_public_page(venue, app_client, world):
    """A session at the limits still renders on the pages that show it."""
    from server.tables import Ibasho

    phone: Phone = venue["phone"]
    ibasho = uuid.uuid4()
    await Ibasho.insert(Ibasho(id=ibasho, group=world.group_a, name="すみれの家"))
    phone.mutate(
        "session.upsert",
        id=str(uuid.uuid4()),
        group_id=venue["group"],
        ibasho_id=str(ibasho),
        date=limits.LATEST.isoformat(),
        start_time="10:00",
        end_time="12:00",
        venue=TEXT * limits.VENUE,
        title=TEXT * limits.TITLE,
    )
    await phone.sync()
    for url in (f"/i/{ibasho}", f"/i/{ibasho}/calendar.ics", f"/i/{ibasho}/poster"):
        assert (await app_client.get(url)).status_code == 200, url


@pytest.mark.parametrize("cursor", [MAX_CURSOR, MAX_CURSOR + 1, 10**30, -1])
async def test_a_pull_cursor_beyond_its_bound_is_refused_not_a_500(venue, cursor):
    phone: Phone = venue["phone"]
    response = await phone.http.get("/api/sync/pull", params={"client_id": phone.client_id, "cursor": cursor})
    if cursor == MAX_CURSOR:
        assert response.status_code == 200 and response.json()["changes"] == []
    else:
        assert response.status_code == 400 and "cursor" in response.text
