"""Data safety: backup under write load and restore; one group's export; a participant's erasure.

The backup test runs a real server on a database of its own (SQLite or PostgreSQL, as the
run's engine) with phones writing through it, and the real ``ibasho backup`` / ``ibasho
restore`` commands. Export and erasure run in-process on the run's database through the
admin routes and the CLI.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import random
import shutil
import sqlite3
import subprocess
import zipfile
from uuid import uuid4

import pytest

from server.config import get_settings
from server.sync.store import decoded_json
from server.tables import Attendance, AuditLog, Note, Person, SafetyCheck, Tally
from tests.bench.bench_crash import (
    Activity,
    Database,
    Expected,
    Phone,
    ServerProcess,
    check_state,
    fetch,
    fresh_database,
    integrity_problems,
    login,
    seed,
)
from tests.factories import Client, asgi_client, run_cli, unique
from tests.pg import PostgresUnavailable, require_postgres
from tests.sync_phone import Phone as AsgiPhone

ENGINE = os.environ.get("IBASHO_TEST_ENGINE", "sqlite")


# --- backup under write load, restore into a fresh database ---------------------------------------


async def new_database(prefix: str) -> Database:
    try:
        return await asyncio.to_thread(fresh_database, ENGINE, prefix)
    except PostgresUnavailable as error:
        require_postgres(error)


async def row_counts(db: Database) -> dict[str, int]:
    if db.engine == "sqlite":
        names = await fetch(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    else:
        names = await fetch(db, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {name: (await fetch(db, f'SELECT count(*) FROM "{name}"'))[0][0] for (name,) in names}


def restore_into(backup_file, db: Database) -> None:
    result = run_cli("restore", str(backup_file), env=db.env)
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
async def test_backup_under_write_load_restores_into_a_fresh_database_with_the_same_rows(tmp_path):
    if ENGINE == "postgres" and not shutil.which("pg_dump"):
        if os.environ.get("CI"):
            pytest.fail("pg_dump and pg_restore are required in CI: apt-get install postgresql-client")
        pytest.skip("no pg_dump: apt-get install postgresql-client")
    live = await new_database("ibasho_live")
    databases = [live]
    server = ServerProcess(live.env)
    https = []
    try:
        (group,) = seed(live, groups=1, accounts_per_group=2)
        server.start()
        expected, phones, activities = Expected(), [], []
        session = str(uuid4())
        for number, account in enumerate(group["accounts"]):
            https.append(await login(server.url, account["login"]))
            phone = Phone(https[-1], group["group_id"], account["account_id"])
            activities.append(Activity(phone, expected, session, number, random.Random(number)))
            activities[-1].start()
            phones.append(phone)
        stop = asyncio.Event()

        async def write(activity: Activity) -> None:
            while not stop.is_set():
                activity.step()
                assert await activity.phone.sync(), "the server stopped answering"

        writers = [asyncio.create_task(write(a)) for a in activities]
        await asyncio.sleep(1.5)
        before = await row_counts(live)
        under_load = tmp_path / "under-load.backup"
        result = await asyncio.to_thread(run_cli, "backup", "--output", str(under_load), env=live.env)
        assert result.returncode == 0, result.stderr
        after = await row_counts(live)
        await asyncio.sleep(0.5)
        stop.set()
        await asyncio.gather(*writers)
        assert after["mutation_log"] > before["mutation_log"], "the phones were not writing during the backup"

        # The copy taken under load: one committed state from during the backup.
        restored = await new_database("ibasho_restored")
        databases.append(restored)
        restore_into(under_load, restored)
        counts = await row_counts(restored)
        for table in ("mutation_log", "change_log", "person", "attendance"):  # they only grow here
            assert before[table] <= counts[table] <= after[table], table
        assert await integrity_problems(restored, []) == []
        torn = await fetch(
            restored,
            "SELECT s.id FROM sync_client s WHERE s.last_seq <> "
            "(SELECT count(*) FROM mutation_log m WHERE m.client = s.id)",
        )
        assert torn == [], "a push is in the copy only in part"

        # Quiet now: a second backup restores to exactly the live rows, and serves them.
        for phone in phones:
            await phone.sync_until_done()
        quiet = tmp_path / "quiet.backup"
        assert run_cli("backup", "--output", str(quiet), env=live.env).returncode == 0
        final = await new_database("ibasho_restored")
        databases.append(final)
        restore_into(quiet, final)
        assert await row_counts(final) == await row_counts(live)
        refused = run_cli("restore", str(quiet), env=final.env)  # never over a database in use
        assert refused.returncode == 2 and ("aside" in refused.stderr or "empty" in refused.stderr), refused.stderr

        server.stop()
        server = ServerProcess(final.env)
        server.start()
        https.append(await login(server.url, group["accounts"][0]["login"]))
        reader = Phone(https[-1], group["group_id"], group["accounts"][0]["account_id"])
        check_state(await reader.pull(cursor=0), expected, "a phone on the restored server")
    finally:
        for http in https:
            await http.aclose()
        server.stop()
        for db in databases:
            await asyncio.to_thread(db.drop)


# --- export of one group, erasure of one participant ------------------------------------------------


async def admin_and_organiser(app, world):
    admin, organiser = Client(asgi_client(app)), Client(asgi_client(app))
    await admin.login(world.admin)
    await organiser.login(world.organiser_a)
    return admin, organiser


async def test_group_export_holds_every_record_of_the_group_and_nothing_else(app, world):
    admin, organiser = await admin_and_organiser(app, world)
    other = Client(asgi_client(app))
    await other.login(world.organiser_b)
    phone, stranger = AsgiPhone(organiser), AsgiPhone(other)
    session, person, hidden = str(uuid4()), str(uuid4()), str(uuid4())
    phone.mutate("session.upsert", id=session, group_id=str(world.group_a), date="2026-12-05", title="きらくら")
    phone.mutate(
        "person.upsert", id=person, group_id=str(world.group_a), display_name="山田 太郎", kana="やまだ たろう"
    )
    phone.mutate("attendance.set", session_id=session, person_id=person, status="present")
    phone.mutate("tally.add", session_id=session, category="child", delta=4)
    phone.mutate("note.set", session_id=session, field="went_well", text="=1+1 カレー")
    phone.mutate("note.set", session_id=session, field="handover", text="[1, 2]")  # text that parses as JSON
    await phone.sync()
    stranger.mutate("person.upsert", id=hidden, group_id=str(world.group_b), display_name="他の会の人")
    await stranger.sync()

    response = await admin.get(f"/admin/groups/{world.group_a}/export.zip")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    document = json.loads(archive.read("group.json"))
    assert [g["id"] for g in document["group"]] == [str(world.group_a)]
    assert {p["id"]: p["display_name"] for p in document["person"]} == {person: "山田 太郎"}
    assert [(a["person_id"], a["status"]) for a in document["attendance"]] == [(person, "present")]
    assert [(t["category"], t["count"]) for t in document["tally"]] == [("child", 4)]
    assert [(n["went_well"], n["handover"], n["conflicts"]) for n in document["note"]] == [
        ("=1+1 カレー", "[1, 2]", [])
    ]
    assert hidden not in response.content.decode("latin-1")
    people_csv = archive.read("person.csv").decode("utf-8-sig").splitlines()
    assert people_csv[0].startswith("id,group_id,display_name,kana") and len(people_csv) == 2
    assert "'=1+1 カレー" in archive.read("note.csv").decode("utf-8-sig")  # a formula stays text
    assert await AuditLog.exists().where(
        (AuditLog.action == "group.export") & (AuditLog.target == f"group:{world.group_a}")
    )

    assert (await organiser.get(f"/admin/groups/{world.group_a}/export.zip")).status_code == 403
    assert (await admin.get(f"/admin/groups/{uuid4()}/export.zip")).status_code == 404


def database_text() -> str:
    """Everything the run's database holds, as text: where an erased name must not appear."""
    settings = get_settings()
    if settings.is_sqlite:
        with sqlite3.connect(settings.sqlite_path) as connection:
            return "\n".join(connection.iterdump())
    dump = subprocess.run(
        ["pg_dump", "--data-only", f"--dbname={settings.database_url}"], capture_output=True, text=True, check=True
    )
    return dump.stdout


async def test_forget_person_erases_their_personal_data_keeps_the_tallies_and_phones_learn_of_it(app, world):
    admin, organiser = await admin_and_organiser(app, world)
    phone = AsgiPhone(organiser)
    tag = uuid4().hex[:6]  # the database is shared by the run: names no other test uses
    name, kana, contact = f"佐藤 花子{tag}", f"さとう はなこ{tag}", f"090-{tag}"
    session, person, other = str(uuid4()), str(uuid4()), str(uuid4())
    phone.mutate("session.upsert", id=session, group_id=str(world.group_a), date="2026-12-05")
    phone.mutate("person.upsert", id=person, group_id=str(world.group_a), display_name=name, kana=kana, contact=contact)
    phone.mutate("person.upsert", id=other, group_id=str(world.group_a), display_name=f"鈴木 一郎{tag}")
    phone.mutate("attendance.set", session_id=session, person_id=person, status="absent_unnotified")
    phone.mutate("attendance.set", session_id=session, person_id=other, status="present")
    phone.mutate("tally.add", session_id=session, category="senior", delta=7)
    phone.mutate("note.set", session_id=session, field="concerns", text=f"{name.replace(' ', '')}さんの足が悪そう")
    phone.mutate("note.set", session_id=session, field="handover", text=f"{kana}さんに電話を")
    await phone.sync()
    check = next(data for (entity, _), data in phone.state.items() if entity == "safety_check")
    phone.mutate(
        "safety.record",
        id=check["id"],
        outcome="safe",
        contacted_by="田中",
        method="phone",
        notes=f"{name}さん無事、{contact}に電話",
    )
    await phone.sync()
    tallies_before = await Tally.select(Tally.id, Tally.delta_sum).where(Tally.session == session)
    assert name in database_text()

    response = await organiser.post(f"/admin/people/{person}/forget", data={"confirm": "yes"})
    assert response.status_code == 403
    data_page = await admin.get(f"/admin/groups/{world.group_a}/data")
    assert f'action="/admin/people/{person}/forget"' in data_page.text and name in data_page.text
    unconfirmed = await admin.form(f"/admin/people/{person}/forget", {})
    assert unconfirmed.status_code == 422 and name in database_text()  # nothing without the box ticked
    response = await admin.form(f"/admin/people/{person}/forget", {"confirm": "yes"})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == f"/admin/groups/{world.group_a}/data?erased=1"
    assert name not in (await admin.get(response.headers["location"])).text

    text = database_text()
    for personal in (name, name.replace(" ", ""), kana, contact):
        assert personal not in text, f"{personal!r} is still in the database"
    row = await Person.select().where(Person.id == person).first()
    assert (row["display_name"], row["kana"], row["contact"], row["deleted"]) == ("", "", "", True)
    assert await Person.select(Person.display_name).where(Person.id == other).first() == {
        "display_name": f"鈴木 一郎{tag}"
    }
    assert await Tally.select(Tally.id, Tally.delta_sum).where(Tally.session == session) == tallies_before
    assert await Attendance.count().where(Attendance.session == session) == 2  # the anonymous count stays
    follow_up = await SafetyCheck.select().where(SafetyCheck.person == person).first()
    assert (follow_up["outcome"], follow_up["notes"], follow_up["contacted_by"]) == ("safe", "", "")
    note = await Note.select(Note.concerns, Note.handover).where(Note.session == session).first()
    assert note == {"concerns": "（削除済み）さんの足が悪そう", "handover": "（削除済み）さんに電話を"}
    audit = (
        await AuditLog.select(AuditLog.detail)
        .where((AuditLog.action == "person.erase") & (AuditLog.target == f"person:{person}"))
        .first()
    )
    assert audit["detail"] == "notes_redacted 1, safety_checks_cleared 1, push_subscriptions_deleted 0"

    await phone.pull()  # the phone learns of it: the person is gone, the note redacted
    assert phone.get("person", person) is None
    assert phone.get("note", session)["concerns"] == "（削除済み）さんの足が悪そう"
    assert phone.get("safety_check", check["id"])["notes"] == ""
    phone.mutate("person.upsert", id=person, display_name=name)  # an old offline edit cannot bring it back
    response = await phone.push()
    assert response.json()["results"][0]["status"] == "rejected"

    # The same from the command line.
    result = await asyncio.to_thread(run_cli, "forget-person", other, env=dict(os.environ))
    assert result.returncode == 0, result.stderr
    assert await Person.select(Person.display_name).where(Person.id == other).first() == {"display_name": ""}
    assert (await asyncio.to_thread(run_cli, "forget-person", str(uuid4()), env=dict(os.environ))).returncode == 2


async def test_an_erasure_wins_over_edits_made_before_it(app, world):
    """A phone that still holds the name (offline, or not yet pulled) cannot bring it back
    into a note or a safety check; one that pulled the erasure writes on as usual."""
    admin, organiser = await admin_and_organiser(app, world)
    phone, stale = AsgiPhone(organiser), AsgiPhone(organiser)
    name = f"山田 花子{uuid4().hex[:6]}"
    session, person = str(uuid4()), str(uuid4())
    phone.mutate("session.upsert", id=session, group_id=str(world.group_a), date="2026-12-05")
    phone.mutate("person.upsert", id=person, group_id=str(world.group_a), display_name=name)
    phone.mutate("attendance.set", session_id=session, person_id=person, status="absent_unnotified")
    phone.mutate("note.set", session_id=session, field="handover", text=f"{name}さんが転倒しかけた")
    await phone.sync()
    await stale.pull()
    base = stale.get("note", session)["hlcs"]["handover"]
    check = next(data for (entity, _), data in stale.state.items() if entity == "safety_check")
    # written offline before the erasure, sent after it
    stale.mutate(
        "note.set", session_id=session, field="handover", text=f"{name}さんが転倒しかけた。見守りを", base_hlc=base
    )
    # and into a field that held no text yet
    stale.mutate("note.set", session_id=session, field="went_well", text=f"{name}さんが笑顔")
    stale.mutate("safety.record", id=check["id"], notes=f"{name}さんは入院中", contacted_by="田中")

    assert (await admin.form(f"/admin/people/{person}/forget", {"confirm": "yes"})).status_code == 303
    response = await stale.push()
    assert [r["status"] for r in response.json()["results"]] == ["rejected"] * 3, response.text
    assert name not in database_text()
    note = await Note.select(Note.handover, Note.went_well, Note.conflicts).where(Note.session == session).first()
    assert note["handover"] == "（削除済み）さんが転倒しかけた" and note["went_well"] == ""
    assert decoded_json(note["conflicts"]) == []

    await phone.pull()  # a phone that has the erasure edits the redacted text as usual
    redacted = phone.get("note", session)
    phone.mutate(
        "note.set",
        session_id=session,
        field="handover",
        text="（削除済み）さん、次回も見守りを",
        base_hlc=redacted["hlcs"]["handover"],
    )
    await phone.sync()
    assert phone.get("note", session)["handover"] == "（削除済み）さん、次回も見守りを"


async def test_export_group_from_the_command_line(world, tmp_path):
    output = tmp_path / "group.zip"
    result = await asyncio.to_thread(
        run_cli, "export-group", str(world.group_a), "--output", str(output), env=dict(os.environ)
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(zipfile.ZipFile(output).read("group.json"))["group"][0]["id"] == str(world.group_a)
    missing = await asyncio.to_thread(
        run_cli, "export-group", unique("no-such-group"), "--output", str(output), env=dict(os.environ)
    )
    assert missing.returncode == 2
