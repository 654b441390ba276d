"""The call list (電話連絡網, issue #16): participants who asked to be phoned, split among the
連絡係, each call marked through sync; 欠席の連絡 counts like the reminder's reply."""

from __future__ import annotations

import subprocess
from uuid import uuid4

from server.reminders.calls import split
from server.reminders.planning import refresh_deliveries
from server.tables import Attendance, CallMark, PushSubscription, ReminderDelivery
from tests.factories import login_client, make_account, make_area, make_group, make_venue, synced_phone

NUMBERS = ["0422-11-1111", "0422-22-2222", "0422-33-3333"]


async def ask_to_be_phoned(client, place, person, number) -> None:
    """What the organiser and the participant do with the personal QR code's page."""
    made = await client.post("/api/push/person-links", json={"person_id": str(person.id)})
    assert made.status_code == 201, made.text
    token = made.json()["url"].split("?person=", 1)[1]
    answer = await client.form(f"/i/{place['ibasho']}/phone", {"phone": number, "person": token})
    assert answer.status_code == 200, answer.text
    assert number in answer.text


async def phone_list(new_client, callers: int = 2):
    """A venue whose first three participants asked for a call, and ``callers`` 連絡係."""
    place = await make_venue()
    organiser = await login_client(new_client, place["organisers"][0])
    for person, number in zip(place["people"][:3], NUMBERS, strict=True):
        await ask_to_be_phoned(organiser, place, person, number)
    phone = await synced_phone(new_client, place["organisers"][0])
    for account in place["organisers"][:callers]:
        phone.mutate(
            "role.set", session_id=place["session"], role="連絡係", assigned=True, member_id=str(account.account_id)
        )
    assert (await phone.push()).status_code == 200
    return place, organiser, phone


def test_the_list_is_split_in_blocks_that_differ_by_one_at_most():
    assert split(list(range(7)), 3) == [[0, 1, 2], [3, 4], [5, 6]]
    assert split([1], 2) == [[1], []]


async def test_those_who_chose_the_phone_are_shared_among_the_callers(new_client):
    place, organiser, _ = await phone_list(new_client)
    response = await organiser.get(f"/api/push/calls/{place['session']}")
    assert response.status_code == 200, response.text
    callers = response.json()["callers"]
    assert sorted(c["name"] for c in callers) == ["佐藤 美咲", "田中 花子"]
    assert sorted(len(c["people"]) for c in callers) == [1, 2]
    everyone = [p for c in callers for p in c["people"]]
    # in 五十音 order across the blocks, the first block to the first caller by name
    assert [p["kana"] for p in everyone] == ["あらい はなこ", "いしかわ あきら", "うえだ けん"]
    assert [len(c["people"]) for c in callers] == [2, 1]
    assert {p["phone"] for p in everyone} == set(NUMBERS)
    # nothing is ever sent to a phone subscription
    phones = await PushSubscription.select(PushSubscription.id).where(PushSubscription.channel == "phone")
    await refresh_deliveries(place["session"])
    assert not await ReminderDelivery.exists().where(ReminderDelivery.subscription.is_in([p["id"] for p in phones]))
    # asking again changes the number, never adds a second row
    await ask_to_be_phoned(organiser, place, place["people"][0], "090-0000-0000")
    again = (await organiser.get(f"/api/push/calls/{place['session']}")).json()["callers"]
    numbers = [p["phone"] for c in again for p in c["people"]]
    assert len(numbers) == 3 and "090-0000-0000" in numbers and NUMBERS[0] not in numbers


async def test_without_a_caller_everyone_is_in_one_unassigned_block(new_client):
    place, organiser, _ = await phone_list(new_client, callers=0)
    callers = (await organiser.get(f"/api/push/calls/{place['session']}")).json()["callers"]
    assert len(callers) == 1 and callers[0]["name"] == "" and len(callers[0]["people"]) == 3
    page = await organiser.get(f"/calls/{place['session']}")
    assert "連絡係が未定です" in page.text
    assert page.headers["cache-control"] == "no-store"  # names and numbers: no cache keeps them


async def test_an_absence_told_on_the_phone_counts_like_a_reply(new_client):
    place, organiser, phone = await phone_list(new_client)
    person = str(place["people"][0].id)
    phone.mutate("call.set", session_id=place["session"], person_id=person, outcome="no_answer")
    phone.mutate("call.set", session_id=place["session"], person_id=person, outcome="absent")
    assert (await phone.push()).status_code == 200
    mark = await CallMark.select().where(CallMark.id == f"{place['session']}:{person}").first()
    assert mark["outcome"] == "absent"
    attendance = await Attendance.select().where(Attendance.id == f"{place['session']}:{person}").first()
    assert attendance["status"] == "absent_notified"
    listed = [
        p for c in (await organiser.get(f"/api/push/calls/{place['session']}")).json()["callers"] for p in c["people"]
    ]
    assert {p["person_id"]: p["outcome"] for p in listed}[person] == "absent"
    # another of the group's phones gets the mark and the attendance by pull
    other = await synced_phone(new_client, place["organisers"][1])
    assert other.state[("call", f"{place['session']}:{person}")]["outcome"] == "absent"
    assert other.state[("attendance", f"{place['session']}:{person}")]["status"] == "absent_notified"


async def test_only_the_groups_organisers_and_its_staff_see_the_list(new_client):
    place, _, _ = await phone_list(new_client)
    url = f"/api/push/calls/{place['session']}"
    anonymous = await new_client()
    assert (await anonymous.get(url)).status_code == 401
    stranger = await login_client(
        new_client, await make_account("organiser", groups=[await make_group(await make_area())])
    )
    assert (await stranger.get(url)).status_code == 404
    assert (await stranger.get(f"/calls/{place['session']}")).status_code == 404
    assert (await stranger.get(f"/api/push/calls/{uuid4()}")).status_code == 404


async def test_a_phone_number_needs_a_live_personal_qr_code(new_client):
    place = await make_venue()
    client = await new_client()
    refused = await client.form(f"/i/{place['ibasho']}/phone", {"phone": "0422-11-1111", "person": "forged.token"})
    assert refused.status_code == 422 and "期限が切れています" in refused.text
    organiser = await login_client(new_client, place["organisers"][0])
    made = await organiser.post("/api/push/person-links", json={"person_id": str(place["people"][0].id)})
    token = made.json()["url"].split("?person=", 1)[1]
    bad = await client.form(f"/i/{place['ibasho']}/phone", {"phone": "でんわ", "person": token})
    assert bad.status_code == 422 and "電話番号の形が正しくない" in bad.text
    assert 'value="でんわ"' in bad.text  # the form keeps what was typed
    assert not await PushSubscription.exists().where(
        (PushSubscription.channel == "phone") & (PushSubscription.ibasho == place["ibasho"])
    )


async def test_the_printed_list_is_one_a4_page_with_names_and_numbers(new_client, chromium, live_server, tmp_path):
    place, organiser, _ = await phone_list(new_client)
    page_html = (await organiser.get(f"/calls/{place['session']}")).text
    for number in NUMBERS:
        assert number in page_html
    assert "連絡係：田中 花子" in page_html and "伝えた" in page_html and "欠席の連絡" in page_html
    context = await chromium.new_context(locale="ja-JP")
    page = await context.new_page()
    await page.set_content(page_html.replace('href="/', f'href="{live_server.url}/'))
    pdf = tmp_path / "calls.pdf"
    pdf.write_bytes(await page.pdf(format="A4", print_background=True))
    await context.close()
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "page")], check=True)
    assert len(list(tmp_path.glob("page*.png"))) == 1
