"""Registering a new 居場所: the public form, the applicant's mail and status page, and the
area staff's questions and decisions, with a real SMTP server on loopback."""

from __future__ import annotations

import re
from uuid import UUID

import pytest

from server.core import mail
from server.core.ratelimit import client_network
from server.tables import AuditLog, Group, Ibasho, RateCounter, Registration
from tests.factories import unique

APPLICATION = {
    "group_name": "",
    "group_kana": "みどりのかい",
    "ibasho_name": "",
    "kind": "kodomo_shokudo",
    "audience": "anyone",
    "frequency": "monthly",
    "weekday": "SA",
    "nth": "2",
    "start_time": "11:00",
    "end_time": "14:00",
    "venue": "桜堤コミュニティセンター",
    "description": "月に一度、子どもと地域の大人でごはんを食べます。",
    "representative": "緑川 花子",
    "phone": "0422-00-1234",
    "listed": "1",
    "agree_rules": "1",
    "agree_contact": "1",
}


@pytest.fixture(autouse=True)
async def fresh_address_count():
    """The per-address limit counts the run's requests from 127.0.0.1: start each test afresh."""
    await RateCounter.delete().where(RateCounter.key == f"apply:{client_network('127.0.0.1')}")


def application(world, **changes) -> dict:
    email = f"{unique('apply')}@example.jp"
    return {
        **APPLICATION,
        "area": str(world.area_a),
        "group_name": unique("みどりの会"),
        "ibasho_name": unique("みどり食堂"),
        "email": email,
        **changes,
    }


async def deliver(smtp) -> None:
    await mail.send_outbox(mail.SmtpServer.from_url(smtp.url))


def link_in(text: str, path: str) -> str:
    return re.search(rf"https?://[^\s]+({re.escape(path)}[^\s]+)", text)[1]


async def apply(app_client, world, smtp, **changes) -> tuple[dict, str]:
    """Apply through the public form; returns (the form, the status link from the mail)."""
    form = application(world, **changes)
    sent = await app_client.form("/apply", form)
    assert sent.status_code == 200 and "申請を送りました" in sent.text, sent.text[-2000:]
    assert sent.headers["cache-control"] == "no-store"
    await deliver(smtp)
    (message,) = smtp.to(form["email"])
    assert message["Subject"] == "居場所の登録申請を受け付けました"
    return form, link_in(message.get_content(), "/apply/status/")


async def test_a_new_place_applies_staff_approve_and_the_representative_is_invited(app_client, new_client, world, smtp):
    form, status = await apply(app_client, world, smtp)
    registration = await Registration.select().where(Registration.email == form["email"]).first()
    assert registration["state"] == "submitted" and registration["rrule"] == "FREQ=MONTHLY;BYDAY=2SA"
    assert "社協の確認待ち" in (await app_client.get(status)).text

    staff = await new_client()
    await staff.login(world.staff_a)
    listing = await staff.get("/staff/registrations")
    assert form["ibasho_name"] in listing.text
    detail = await staff.get(f"/staff/registrations/{registration['id']}")
    assert form["email"] in detail.text and detail.headers["cache-control"] == "no-store"

    asked = await staff.form(
        f"/staff/registrations/{registration['id']}/ask", {"message": "会場の広さを教えてください。"}
    )
    assert asked.status_code == 303
    await deliver(smtp)
    question = smtp.to(form["email"])[-1]
    assert question["Subject"] == "登録申請についてのご質問" and "会場の広さ" in question.get_content()
    assert link_in(question.get_content(), "/apply/status/") == status  # the same link, every time
    answered = await app_client.form(status, {"message": "和室で20人ほど入れます。"})
    assert answered.status_code == 303
    assert "和室で20人" in (await staff.get(f"/staff/registrations/{registration['id']}")).text

    approved = await staff.form(f"/staff/registrations/{registration['id']}/approve", {})
    assert approved.status_code == 303
    group = await Group.select().where(Group.name == form["group_name"]).first()
    assert approved.headers["location"] == f"/staff/groups/{group['id']}"
    assert group["area"] == world.area_a and group["representative"] == "緑川 花子"
    ibasho = await Ibasho.select().where(Ibasho.group == group["id"]).first()
    assert (ibasho["name"], ibasho["listed"], ibasho["kind"]) == (form["ibasho_name"], True, "kodomo_shokudo")
    await deliver(smtp)
    welcome = smtp.to(form["email"])[-1]
    assert welcome["Subject"] == "居場所の登録が完了しました"
    invitation = link_in(welcome.get_content(), "/invite/")
    joiner = await new_client()
    joined = await joiner.form(
        invitation, {"display_name": "緑川 花子", "login": unique("midori"), "password": "a long password"}
    )
    assert joined.status_code in (302, 303)
    assert [g["id"] for g in (await joiner.get("/api/me")).json()["groups"]] == [str(group["id"])]
    assert "登録済み" in (await app_client.get(status)).text
    steps = [
        row["action"]
        for row in await AuditLog.select(AuditLog.action)
        .where(AuditLog.target == f"registration:{registration['id']}")
        .order_by(AuditLog.at)
    ]
    assert steps[0] == "registration.submit" and steps[-1] == "registration.approve"
    assert {"registration.view", "registration.ask", "registration.answer"} <= set(steps)
    again = await staff.form(f"/staff/registrations/{registration['id']}/decline", {"message": "x"})
    assert again.status_code == 409  # decided once


async def test_a_declined_applicant_is_told_why(app_client, new_client, world, smtp):
    form, status = await apply(app_client, world, smtp)
    registration = await Registration.select(Registration.id).where(Registration.email == form["email"]).first()
    staff = await new_client()
    await staff.login(world.staff_a)
    empty = await staff.form(f"/staff/registrations/{registration['id']}/decline", {"message": ""})
    assert empty.status_code == 422  # a reason is needed
    declined = await staff.form(
        f"/staff/registrations/{registration['id']}/decline", {"message": "市外の活動のため、登録の対象外です。"}
    )
    assert declined.status_code == 303
    await deliver(smtp)
    told = smtp.to(form["email"])[-1]
    assert told["Subject"] == "登録申請について" and "市外の活動" in told.get_content()
    page = await app_client.get(status)
    assert "登録できませんでした" in page.text and 'name="message"' not in page.text  # no more answers
    assert not await Group.exists().where(Group.name == form["group_name"])


async def test_the_form_refuses_bad_input_in_japanese_and_keeps_what_was_typed(app_client, world, smtp):
    form = application(world, email="not an address", area="", venue="")
    del form["agree_rules"]  # an unticked box is not sent at all
    refused = await app_client.form("/apply", form)
    assert refused.status_code == 422
    for message in (
        "メールアドレスの形が正しくないようです。",
        "登録要項への同意をお願いします。",
        "居場所のある圏域を選んでください。",
    ):
        assert message in refused.text
    assert f'value="{form["group_name"]}"' in refused.text and "月に一度、子どもと地域の大人で" in refused.text
    assert not await Registration.exists().where(Registration.group_name == form["group_name"])


async def test_a_bot_filling_the_hidden_field_is_thanked_and_nothing_is_kept(app_client, world, smtp):
    form = application(world, website="http://spam.example")
    answer = await app_client.form("/apply", form)
    assert answer.status_code == 200 and "申請を送りました" in answer.text and "/apply/status/" not in answer.text
    assert not await Registration.exists().where(Registration.email == form["email"])
    await deliver(smtp)
    assert smtp.to(form["email"]) == []


async def test_one_address_sends_a_few_applications_an_hour(app_client, world, smtp):
    statuses = [(await app_client.form("/apply", application(world))).status_code for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    refused = await app_client.form("/apply", application(world))
    assert "1時間ほどたってから" in refused.text


async def test_only_the_areas_staff_see_an_application(app_client, new_client, world, smtp):
    form, status = await apply(app_client, world, smtp)
    registration = await Registration.select(Registration.id).where(Registration.email == form["email"]).first()
    url = f"/staff/registrations/{registration['id']}"
    other = await new_client()
    await other.login(world.staff_b)
    assert (await other.get(url)).status_code == 404
    assert form["ibasho_name"] not in (await other.get("/staff/registrations")).text
    assert (await other.form(f"{url}/approve", {})).status_code == 404
    organiser = await new_client()
    await organiser.login(world.organiser_a)
    assert (await organiser.get(url)).status_code == 403
    admin = await new_client()
    await admin.login(world.admin)
    assert (await admin.get(url)).status_code == 200
    forged = status.rsplit("/", 1)[0] + "/" + UUID(int=1).hex + ".AAAAAAAAAAAAAAAAAAAAAA"
    assert (await app_client.get(forged)).status_code == 404
