"""Registering a new 居場所 end to end in Chromium against a real server, on phones (390×844,
ja-JP): a member of the public applies on /apply (a mistake first, then put right), gets the
mail (a real SMTP server on loopback), the area's staff ask a question, the applicant answers
on the page the mail links to, the staff approve, and the representative gets the organiser
invitation; staff of another area see nothing of it."""

from __future__ import annotations

import re
from uuid import uuid4

import pytest

from server.tables import Group, Ibasho, Registration
from tests.browser import PHONE, logged_in, looks_right
from tests.test_registration import APPLICATION, deliver, fresh_address_count, link_in  # noqa: F401 (a fixture)

pytestmark = pytest.mark.usefixtures("fresh_address_count")


async def fill(page, values: dict[str, str]) -> None:
    """Type into the application form as a person does: boxes ticked, choices chosen."""
    for name, value in values.items():
        field = page.locator(f"main [name={name}]")
        kind = await field.evaluate("(e) => e.tagName === 'SELECT' ? 'select' : e.type")
        if kind == "select":
            await field.select_option(value)
        elif kind == "checkbox":
            await field.set_checked(value == "1")
        else:
            await field.fill(value)


async def test_a_new_place_applies_on_a_phone_and_the_areas_staff_approve_it(chromium, live_server, world, smtp):
    number = uuid4().int % 10**8  # digits: no Latin letters on the pages
    email = f"midori{number}@example.jp"
    form = {
        **APPLICATION,
        "area": str(world.area_a),
        "group_name": f"みどりの会{number}",
        "ibasho_name": f"みどり食堂{number}",
        "email": "midori-at-example",  # the mistake
        "agree_rules": "0",  # and a box left unticked
    }
    staff_name = tuple(re.findall(r"[A-Za-z][A-Za-z0-9_.:-]*", f"staff {world.staff_a.login[-4:]}"))  # the factory's
    public = await chromium.new_context(**PHONE)
    desk, staff = await logged_in(chromium, live_server, world.staff_a, **PHONE)
    other, elsewhere = await logged_in(chromium, live_server, world.staff_b, **PHONE)
    try:
        page = await public.new_page()
        await page.goto(f"{live_server.url}/directory")
        await page.get_by_role("link", name="居場所を運営している団体の方へ：登録の申請はこちら").click()
        await page.wait_for_url(f"{live_server.url}/apply")
        await fill(page, form)
        await page.get_by_role("button", name="申請を送る").click()
        errors = await page.locator(".error-box").inner_text()
        assert "メールアドレスの形が正しくないようです。" in errors and "登録要項への同意をお願いします。" in errors
        for name in ("group_name", "ibasho_name", "venue", "email", "description"):  # kept as typed
            assert await page.locator(f"main [name={name}]").input_value() == form[name]
        assert await page.locator("main [name=area]").input_value() == str(world.area_a)
        typed_and_example = ("midori-at-example", "hanako", "example.jp")  # the error gives an example address
        await looks_right(page, "registration-apply-errors.png", latin=typed_and_example)
        assert not await Registration.exists().where(Registration.group_name == form["group_name"])

        await fill(page, {"email": email, "agree_rules": "1"})
        await page.get_by_role("button", name="申請を送る").click()
        await page.get_by_role("heading", name="申請を送りました").wait_for()
        await looks_right(page, "registration-sent.png")
        await deliver(smtp)
        (received,) = smtp.to(email)
        assert received["Subject"] == "居場所の登録申請を受け付けました"
        status = link_in(received.get_content(), "/apply/status/")
        registration = await Registration.select().where(Registration.email == email).first()
        assert registration["state"] == "submitted"

        # the area's staff: the list, the application with its contact, a question
        await staff.get_by_role("link", name="登録申請").first.click()
        await looks_right(staff, "registration-staff-list.png")
        await staff.get_by_role("link", name=form["ibasho_name"]).click()
        await staff.wait_for_url(f"{live_server.url}/staff/registrations/{registration['id']}")
        text = await staff.locator("main").inner_text()
        assert email in text and "0422-00-1234" in text and "毎月第2土曜日" in text
        await staff.locator("main [name=message]").fill("会場の広さと、調理の設備を教えてください。")
        await staff.get_by_role("button", name="質問する").click()
        await staff.wait_for_url(f"{live_server.url}/staff/registrations/{registration['id']}")
        assert "会場の広さと" in await staff.locator("main").inner_text()
        await deliver(smtp)
        question = smtp.to(email)[-1]
        assert question["Subject"] == "登録申請についてのご質問" and "調理の設備" in question.get_content()

        # the applicant answers on the page the mail links to
        await page.goto(live_server.url + link_in(question.get_content(), "/apply/status/"))
        assert page.url == live_server.url + status  # the same link, every time
        await page.locator("main [name=message]").fill("和室で20人ほど入れます。台所もあります。")
        await page.get_by_role("button", name="送る").click()
        await page.get_by_text("和室で20人ほど").wait_for()
        await looks_right(page, "registration-status.png", latin=staff_name)

        await staff.reload()
        assert "台所もあります" in await staff.locator("main").inner_text()
        await looks_right(staff, "registration-staff-detail.png", latin=(*email.split("@"), *staff_name))
        await staff.get_by_role("button", name="承認する（団体を登録し、代表者を招待する）").click()
        await staff.wait_for_url(re.compile(r"/staff/groups/[0-9a-f-]{36}$"))
        group = await Group.select().where(Group.name == form["group_name"]).first()
        assert staff.url.endswith(f"/staff/groups/{group['id']}")
        assert (group["area"], group["representative"]) == (world.area_a, "緑川 花子")
        ibasho = await Ibasho.select().where(Ibasho.group == group["id"]).first()
        assert (ibasho["name"], ibasho["venue"], ibasho["listed"]) == (form["ibasho_name"], form["venue"], True)
        assert form["ibasho_name"] in await staff.locator("main").inner_text()
        await looks_right(staff, "registration-approved.png", latin=tuple(email.split("@")))

        # the representative's invitation to the organisers' app
        await deliver(smtp)
        welcome = smtp.to(email)[-1]
        assert welcome["Subject"] == "居場所の登録が完了しました"
        invitation = link_in(welcome.get_content(), "/invite/")
        await page.goto(live_server.url + invitation)
        assert await page.locator("main input[name=login]").count() == 1  # a live invitation, to accept
        await page.goto(live_server.url + status)
        assert "登録済み" in await page.locator("main").inner_text()

        # another area's staff: neither in their list nor by its address, and no contact data
        await elsewhere.goto(f"{live_server.url}/staff/registrations?show=all")
        assert form["ibasho_name"] not in await elsewhere.locator("main").inner_text()
        refused = await elsewhere.goto(f"{live_server.url}/staff/registrations/{registration['id']}")
        assert refused.status == 404
        assert email not in await elsewhere.content() and "0422-00-1234" not in await elsewhere.content()
    finally:
        await public.close()
        await desk.close()
        await other.close()
