"""The sync contract over HTTP: exactly-once push, gaps, rejections, atomicity, merges, scope."""

from __future__ import annotations

import uuid

import pytest

from server.tables import ChangeLog, SyncClient, Tally
from sync import mutations as registry
from sync.hlc import HLC, Clock, now_ms
from tests.factories import make_account
from tests.sync_phone import Phone

DAY_MS = 24 * 3600 * 1000


async def phone_for(new_client, person) -> Phone:
    client = await new_client()
    await client.login(person)
    return Phone(client)


@pytest.fixture
async def shared_session(new_client, world):
    """A session of group A created by a phone of organiser A; returns (phone, session id)."""
    phone = await phone_for(new_client, world.organiser_a)
    session_id = str(uuid.uuid4())
    phone.mutate(
        "session.upsert",
        id=session_id,
        group_id=str(world.group_a),
        date="2026-11-01",
        start_time="10:00",
        end_time="13:00",
        title="きらくら",
    )
    await phone.sync()
    return phone, session_id


async def tally_count(session_id: str, category: str = "child") -> int | None:
    row = await Tally.select(Tally.delta_sum).where(Tally.id == f"{session_id}:{category}").first()
    return max(0, row["delta_sum"]) if row else None


async def test_a_push_retried_100_times_is_applied_once(shared_session):
    phone, session_id = shared_session
    phone.mutate("tally.add", session_id=session_id, category="child", delta=1)
    batch = list(phone.outbox)
    for attempt in range(100):  # the response was lost each time; the phone sends the same batch again
        response = await phone.push(batch)
        assert response.status_code == 200
        assert response.json()["results"][0]["status"] == ("applied" if attempt == 0 else "duplicate")
    assert await tally_count(session_id) == 1
    await phone.pull()
    assert phone.get("tally", f"{session_id}:child")["count"] == 1


async def test_a_seq_gap_is_409_and_changes_nothing(shared_session):
    phone, session_id = shared_session
    skipped = phone.mutate("tally.add", session_id=session_id, category="child", delta=1)
    later = phone.mutate("tally.add", session_id=session_id, category="child", delta=5)
    response = await phone.push([later])
    assert response.status_code == 409
    assert response.json()["error"] == "seq_gap"
    assert response.json()["expected_seq"] == skipped["seq"]
    assert await tally_count(session_id) is None
    assert (await phone.push()).status_code == 200
    assert await tally_count(session_id) == 6


async def test_an_invalid_mutation_is_rejected_and_the_rest_apply(shared_session):
    phone, session_id = shared_session
    phone.mutate("tally.add", session_id=session_id, category="child", delta=2)
    phone.mutate("tally.add", session_id=session_id, category="child", delta=1000)  # out of range
    phone.mutate("no.such.mutation", x=1)
    phone.mutate("tally.add", session_id=session_id, category="adult", delta=3)
    response = await phone.push()
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["applied", "rejected", "rejected", "applied"]
    assert "delta" in body["results"][1]["error"]
    assert "unknown mutation" in body["results"][2]["error"]
    assert body["last_seq"] == phone.next_seq - 1  # rejections advance last_seq: the queue moves on
    assert await tally_count(session_id) == 2 and await tally_count(session_id, "adult") == 3


async def test_a_batch_that_hits_a_server_error_applies_nothing(shared_session, monkeypatch):
    phone, session_id = shared_session

    async def explode(ctx, args):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(registry.REGISTRY, "test.explode", registry.MutationSpec(registry.PersonDelete, explode))
    before = await SyncClient.select(SyncClient.last_seq).where(SyncClient.id == phone.client_id).first()
    changes_before = await ChangeLog.count()
    phone.mutate("tally.add", session_id=session_id, category="child", delta=4)
    phone.mutate("test.explode", id=str(uuid.uuid4()))
    response = await phone.push()
    assert response.status_code == 500
    assert "disk on fire" not in response.text  # no internals leak
    assert await tally_count(session_id) is None
    after = await SyncClient.select(SyncClient.last_seq).where(SyncClient.id == phone.client_id).first()
    assert after == before and await ChangeLog.count() == changes_before


@pytest.mark.parametrize("order", ["first_then_second", "second_then_first"])
async def test_offline_tallies_add_up_in_any_order(new_client, world, shared_session, order):
    first, session_id = shared_session
    second = await phone_for(new_client, world.organiser_a)
    for _ in range(3):
        first.mutate("tally.add", session_id=session_id, category="child", delta=1)
    for _ in range(4):
        second.mutate("tally.add", session_id=session_id, category="child", delta=1)
    phones = [first, second] if order == "first_then_second" else [second, first]
    for phone in phones:
        batch = list(phone.outbox)
        await phone.push(batch)
        await phone.push(batch)  # a retry after a lost response
    for phone in (first, second):
        await phone.pull()
        assert phone.get("tally", f"{session_id}:child")["count"] == 7


async def test_note_edits_merge_per_field_and_keep_losing_text(new_client, world, shared_session):
    first, session_id = shared_session
    second = await phone_for(new_client, world.organiser_a)
    await second.pull()
    first.mutate("note.set", session_id=session_id, field="went_well", text="みんなで歌った")
    second.mutate("note.set", session_id=session_id, field="handover", text="次回は椅子を増やす")
    first.mutate("note.set", session_id=session_id, field="to_improve", text="受付が混んだ")
    second.mutate("note.set", session_id=session_id, field="to_improve", text="配膳が遅れた")
    await second.sync()
    await first.sync()
    await second.pull()
    note_first, note_second = first.get("note", session_id), second.get("note", session_id)
    assert note_first == note_second  # the same state everywhere
    assert note_first["went_well"] == "みんなで歌った" and note_first["handover"] == "次回は椅子を増やす"
    winner = note_first["to_improve"]
    assert winner in ("受付が混んだ", "配膳が遅れた")
    loser = ({"受付が混んだ", "配膳が遅れた"} - {winner}).pop()
    assert [c["text"] for c in note_first["conflicts"] if c["field"] == "to_improve"] == [loser]


async def test_an_edit_based_on_the_current_text_is_not_a_conflict(shared_session):
    phone, session_id = shared_session
    phone.mutate("note.set", session_id=session_id, field="went_well", text="first draft")
    await phone.sync()
    base = phone.get("note", session_id)
    assert base["conflicts"] == []
    # The phone knows which version it edited: the pulled note carries each field's HLC.
    current_hlc = base["hlcs"]["went_well"]
    phone.mutate("note.set", session_id=session_id, field="went_well", text="second draft", base_hlc=current_hlc)
    await phone.sync()
    assert phone.get("note", session_id)["went_well"] == "second draft"
    assert phone.get("note", session_id)["conflicts"] == []


async def test_a_clock_a_day_fast_cannot_beat_a_later_edit(new_client, world, shared_session):
    honest, session_id = shared_session
    fast = await phone_for(new_client, world.organiser_a)
    fast.clock = Clock(fast.client_id, wall=lambda: now_ms() + DAY_MS)
    fast.mutate("session.upsert", id=session_id, title="from the fast phone")
    await fast.sync()
    honest.clock.observe(str(HLC(now_ms(), 0, "x")))
    honest.mutate("session.upsert", id=session_id, title="the later, correct edit")
    await honest.sync()
    await fast.pull()
    assert honest.get("session", session_id)["title"] == "the later, correct edit"
    assert fast.get("session", session_id)["title"] == "the later, correct edit"


async def test_another_groups_session_is_rejected_and_never_pulled(new_client, world, shared_session):
    owner, session_id = shared_session
    owner.mutate("tally.add", session_id=session_id, category="child", delta=2)
    owner.mutate("note.set", session_id=session_id, field="concerns", text="Aさんの元気がない")
    await owner.sync()
    intruder = await phone_for(new_client, world.organiser_b)
    intruder.mutate("tally.add", session_id=session_id, category="child", delta=50)
    intruder.mutate("note.set", session_id=session_id, field="concerns", text="overwritten")
    intruder.mutate("session.upsert", id=str(uuid.uuid4()), group_id=str(world.group_a), date="2026-12-01")
    results = (await intruder.push()).json()["results"]
    assert [r["status"] for r in results] == ["rejected"] * 3
    assert await tally_count(session_id) == 2
    changes = await intruder.pull()
    assert not any(c["data"] and c["data"].get("session_id") == session_id for c in changes)
    assert not any(c["id"] == session_id for c in changes)
    await owner.pull()
    assert owner.get("note", session_id)["concerns"] == "Aさんの元気がない"


async def test_area_staff_pull_their_groups_only(new_client, world, shared_session):
    owner, session_id = shared_session
    staff_a = await phone_for(new_client, world.staff_a)
    staff_b = await phone_for(new_client, world.staff_b)
    await staff_a.pull()
    await staff_b.pull()
    assert staff_a.get("session", session_id) is not None
    assert staff_b.get("session", session_id) is None


async def test_person_delete_wins_and_leaves_a_tombstone(shared_session, world):
    phone, session_id = shared_session
    person_id = str(uuid.uuid4())
    phone.mutate("person.upsert", id=person_id, group_id=str(world.group_a), display_name="佐藤 一郎", kana="さとう")
    phone.mutate("attendance.set", session_id=session_id, person_id=person_id, status="present")
    await phone.sync()
    assert phone.get("person", person_id)["display_name"] == "佐藤 一郎"
    phone.mutate("person.delete", id=person_id)
    phone.mutate("person.upsert", id=person_id, display_name="resurrected")
    results = (await phone.push()).json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected"]
    changes = await phone.pull()
    assert {"entity": "person", "id": person_id, "deleted": True, "data": None} in changes
    assert phone.get("person", person_id) is None


async def test_role_assignment_needs_a_member_of_the_group(shared_session, world):
    phone, session_id = shared_session
    outsider = await make_account("organiser", groups=[world.group_b])
    phone.mutate(
        "role.set", session_id=session_id, role="調理", member_id=str(world.organiser_a.account_id), assigned=True
    )
    phone.mutate("role.set", session_id=session_id, role="受付", member_id=str(outsider.account_id), assigned=True)
    results = (await phone.push()).json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected"]
    await phone.pull()
    assert phone.get("role_assignment", f"{session_id}:調理:{world.organiser_a.account_id}")["assigned"] is True


# --- the envelope ----------------------------------------------------------------------


async def test_more_than_500_mutations_is_413(shared_session):
    phone, session_id = shared_session
    for _ in range(501):
        phone.mutate("tally.add", session_id=session_id, category="child", delta=1)
    assert (await phone.push()).status_code == 413
    assert await tally_count(session_id) is None


async def test_a_body_over_1_mib_is_413(shared_session):
    phone, session_id = shared_session
    phone.mutate("note.set", session_id=session_id, field="went_well", text="あ" * 400_000)  # 1.2 MB of UTF-8
    assert (await phone.push()).status_code == 413


@pytest.mark.parametrize(
    "body, field",
    [
        ({"mutations": []}, "client_id"),
        ({"client_id": "not-a-uuid", "mutations": []}, "client_id"),
        (
            {
                "client_id": str(uuid.uuid4()),
                "mutations": [{"id": "x", "seq": "1", "name": "a", "args": {}, "hlc": "h"}],
            },
            "seq",
        ),
    ],
)
async def test_a_malformed_envelope_is_400_naming_the_field(app_client, world, body, field):
    await app_client.login(world.organiser_a)
    response = await app_client.post("/api/sync/push", json=body)
    assert response.status_code == 400
    assert field in response.text


async def test_non_consecutive_seqs_are_refused_whole(shared_session):
    phone, session_id = shared_session
    first = phone.mutate("tally.add", session_id=session_id, category="child", delta=1)
    phone.mutate("tally.add", session_id=session_id, category="child", delta=1)
    third = phone.mutate("tally.add", session_id=session_id, category="child", delta=1)
    response = await phone.push([first, third])
    assert response.status_code == 400 and "consecutive" in response.text
    assert await tally_count(session_id) is None


async def test_sync_needs_login_and_csrf(app_client, world):
    body = {"client_id": str(uuid.uuid4()), "mutations": []}
    assert (await app_client.post("/api/sync/push", json=body)).status_code == 401
    await app_client.login(world.organiser_a)
    assert (await app_client.http.post("/api/sync/push", json=body)).status_code == 403


async def test_a_client_id_cannot_be_borrowed_by_another_account(new_client, world, shared_session):
    owner, session_id = shared_session
    other = await phone_for(new_client, world.organiser_b)
    other.client_id = owner.client_id
    assert (await other.http.get("/api/sync/pull", params={"client_id": owner.client_id})).status_code == 403


async def test_phones_receive_server_side_data(new_client, world):
    """Members, and groups and ibasho edited on staff pages, reach phones by pull."""
    phone = await phone_for(new_client, world.organiser_a)
    await phone.pull()
    members = [data for (entity, _), data in phone.state.items() if entity == "member"]
    assert {m["member_id"] for m in members} == {str(world.organiser_a.account_id)}
    assert members[0]["display_name"]
    assert all(data.get("group_id", str(world.group_a)) == str(world.group_a) for data in phone.state.values())
