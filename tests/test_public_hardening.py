"""What anyone can reach without an account, hardened after a security review: meetings
stay off the public pages and away from participants, secret tokens stay out of the
logs, the calendar feed is valid iCalendar whatever a title holds, and every answer,
errors and HEAD included, carries the security headers."""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import secrets
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic, sleep
from urllib.parse import urlsplit
from uuid import uuid4

import httpx
import icalendar
import pytest

from server import config
from server.core.dates import format_date_ja
from server.core.mail import SmtpServer, send_outbox
from server.reminders import public
from server.reminders.planning import refresh_deliveries
from server.tables import (
    Ibasho,
    IbashoStatus,
    PushSubscription,
    ReminderDelivery,
    Session,
    SessionStatus,
    SubscriptionChannel,
)
from server.web.secret_urls import redact
from tests.factories import Client, asgi_client, make_account, make_venue, reminder_session, subscribe, unique
from tests.server_process import ServerProcess

SECURITY_HEADERS = {"content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy"}


async def add_session(group, ibasho_id, day, start=time(10), end=time(12), kind="session", title="", venue=""):
    session_id, now = uuid4(), datetime.now(UTC)
    await Session.insert(
        Session(
            id=session_id,
            group=group,
            ibasho=ibasho_id,
            kind=kind,
            title=title,
            date=day,
            start_time=start,
            end_time=end,
            venue=venue,
            status=SessionStatus.scheduled.value,
            hlcs={},
            created_at=now,
            updated_at=now,
        )
    )
    return session_id


def assert_secured(response: httpx.Response) -> None:
    missing = SECURITY_HEADERS - set(response.headers)
    assert not missing, (response.request.method, response.request.url, response.status_code, missing)
    assert response.headers["x-content-type-options"] == "nosniff" and response.headers["x-frame-options"] == "DENY"


# --- meetings are for the group's members ---------------------------------------------------


async def test_a_meeting_linked_to_an_ibasho_is_on_none_of_its_public_pages(app_client):
    day = date.today() + timedelta(days=3)
    group, ibasho_id, session_id = await reminder_session(day=day)
    meeting_day, meeting_room = day + timedelta(days=1), unique("第二会議室")
    meeting = await add_session(
        group,
        ibasho_id,
        meeting_day,
        start=time(19),
        end=time(20),
        kind="meeting",
        title=unique("推進委員会"),
        venue=meeting_room,
    )
    event = await add_session(
        group, ibasho_id, day + timedelta(days=2), kind="event", title="交流会", venue=unique("多目的室")
    )

    for url in (f"/i/{ibasho_id}", f"/i/{ibasho_id}/poster"):
        page = await app_client.get(url)
        assert page.status_code == 200 and "コミセン" in page.text  # the public session is there
        assert meeting_room not in page.text and format_date_ja(meeting_day) not in page.text, url
    feed = icalendar.Calendar.from_ical((await app_client.get(f"/i/{ibasho_id}/calendar.ics")).content)
    assert {str(e["UID"]) for e in feed.walk("VEVENT")} == {f"{session_id}@ibasho", f"{event}@ibasho"}
    assert str(meeting) not in (await app_client.get(f"/i/{ibasho_id}/calendar.ics")).text


async def test_a_meetings_reminders_go_to_the_groups_organisers_only(push):
    day = date(2031, 2, 3)  # away from the dates test_reminders.py reconciles
    group, ibasho_id, session_id = await reminder_session(day=day)
    organiser = await make_account("organiser", groups=[group])
    _, participant = await subscribe(push, ibasho_id)
    _, organiser_phone = await subscribe(push, account=organiser.account_id)
    meeting = await add_session(group, ibasho_id, day, start=time(19), end=time(20), kind="meeting", title="推進委員会")
    before = datetime(2031, 1, 20, tzinfo=UTC)

    async def pending_for(session) -> set:
        await refresh_deliveries(session, now=before)
        return {
            row["subscription"]
            for row in await ReminderDelivery.select(ReminderDelivery.subscription).where(
                (ReminderDelivery.session == session) & (ReminderDelivery.state == "pending")
            )
        }

    try:
        assert await pending_for(meeting) == {organiser_phone}
        assert await pending_for(session_id) == {participant, organiser_phone}  # an open session: everyone
        # a session that becomes a meeting: the participant's reminders are withdrawn
        await Session.update({Session.kind: "meeting"}).where(Session.id == session_id)
        assert await pending_for(session_id) == {organiser_phone}
    finally:  # the scheduler tests claim whatever is due in the database
        await ReminderDelivery.delete().where(ReminderDelivery.session.is_in([meeting, session_id]))


# --- secret tokens stay out of the logs ------------------------------------------------------


def test_secret_tokens_never_reach_the_servers_output(capfd):
    """uvicorn's access log (in every worker) shows where a request went, never its token."""
    token = f"SeCrEt{secrets.token_hex(8)}"
    place = uuid4()
    requests = [
        ("GET", f"/push/manage/{token}", "/push/manage/"),
        ("POST", f"/push/manage/{token}", "/push/manage/"),
        ("DELETE", f"/api/push/subscriptions/{token}", "/api/push/subscriptions/"),
        ("GET", f"/invite/{token}", "/invite/"),
        ("POST", f"/invite/{token}", "/invite/"),
        ("GET", f"/push/reply/{token}", "/push/reply/"),
        ("POST", f"/api/push/absences/{token}", "/api/push/absences/"),
        ("GET", f"/reset/{token}", "/reset/"),
        ("POST", f"/reset/{token}", "/reset/"),
        ("GET", f"/PUSH/MANAGE/{token}", "/PUSH/MANAGE/"),  # not honoured, but the token is real
        ("GET", f"/i/{place}?person={token}", f"/i/{place}?person="),
        ("GET", f"/i/{place}/manifest.webmanifest?lang=ja&person={token}", "/manifest.webmanifest?lang=ja&person="),
        ("GET", f"/login?next=%2Finvite%2F{token}", "/login?next=%2Finvite%2F"),
        ("GET", f"/i/{place}?%70erson={token}", f"/i/{place}?%70erson="),  # the name as the app decodes it
    ]
    server = ServerProcess(dict(os.environ), workers=2, log_level="info")  # it inherits the captured stdout/stderr
    output = []
    server.start()
    try:
        began = monotonic()
        while "".join(output).count("Application startup complete") < server.workers:
            assert monotonic() - began < 60, "the workers did not start"
            output += capfd.readouterr()
            sleep(0.1)
        for _ in range(3):
            for method, url, _prefix in requests:  # a new connection each: either worker may take it
                assert httpx.request(method, server.url + url).status_code < 500, url
    finally:
        server.stop()
    output += capfd.readouterr()
    out = "".join(output)
    assert token not in out
    for method, _url, prefix in requests:
        assert f'"{method} ' in out and prefix in out, prefix


def test_every_route_with_a_token_in_its_path_is_redacted(app):
    """A new route that takes a token in its path must name it in SECRET_PATHS: checked from
    the app's own routes, so that one added later cannot be forgotten."""
    token = f"SeCrEt{secrets.token_hex(8)}"
    secret_routes = [route.path for route in app.routes if "{token" in route.path]
    assert len(secret_routes) >= 10
    for path in secret_routes:
        url = path.replace(path[path.index("{token") : path.index("}", path.index("{token")) + 1], token)
        assert token not in redact(f'"GET {url} HTTP/1.1" 200'), path


async def broken(*args) -> None:
    raise RuntimeError("the database went away")


async def test_an_unexpected_error_on_a_secret_url_logs_the_path_without_its_token(app_client, monkeypatch, caplog):
    monkeypatch.setattr(public, "_managed", broken)
    token = f"SeCrEt{secrets.token_hex(8)}"
    with caplog.at_level(logging.ERROR, logger="ibasho"):
        response = await app_client.get(f"/push/manage/{token}")
    assert response.status_code == 500
    assert_secured(response)
    assert "unhandled error on GET /push/manage/" in caplog.text and token not in caplog.text


# --- the calendar feed is iCalendar ------------------------------------------------------------


async def test_the_calendar_feed_escapes_folds_and_round_trips_any_text(app_client):
    group, ibasho_id, _ = await reminder_session(day=date.today() + timedelta(days=3))
    title = "夜カフェ\r\n第2部, 持ち物; 上履き\\タオル\r終わり\nC:\\new, a\\;b " + "地域の茶の間" * 25
    venue = "西部コミセン\r\n2階; 和室, 奥\\手前 " + "武蔵野市" * 60
    session_id = await add_session(group, ibasho_id, date.today() + timedelta(days=5), title=title, venue=venue)

    response = await app_client.get(f"/i/{ibasho_id}/calendar.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    lines = response.content.split(b"\r\n")
    assert lines[-1] == b"" and all(len(line) <= 75 for line in lines), max(len(line) for line in lines)
    assert not any(b"\r" in line or b"\n" in line for line in lines)  # no bare CR or LF breaks a line
    [event] = [
        e
        for e in icalendar.Calendar.from_ical(response.content).walk("VEVENT")
        if str(e["UID"]) == f"{session_id}@ibasho"
    ]

    def line_breaks(text: str) -> str:  # iCalendar text has one line break (\n) and no CR
        return text.replace("\r\n", "\n").replace("\r", "\n")

    assert str(event["SUMMARY"]) == line_breaks(title)
    assert str(event["LOCATION"]) == line_breaks(venue)


async def test_a_session_at_the_end_of_time_breaks_neither_the_feed_nor_the_pages(app_client):
    """Dates far beyond anything the sync accepts, inserted directly: what cannot be
    represented (an end past 9999-12-31, a UTC time past it) is left out, the rest is shown."""
    group, tokyo, ordinary = await reminder_session(day=date.today() + timedelta(days=3))
    last_day = date(9999, 12, 31)
    morning = await add_session(group, tokyo, last_day)
    await add_session(group, tokyo, last_day, start=time(23), end=time(1))  # ends in year 10000
    los_angeles = uuid4()  # daylight saving: the feed gives UTC times
    await Ibasho.insert(
        Ibasho(
            id=los_angeles,
            group=group,
            name=unique("きらくら"),
            timezone="America/Los_Angeles",
            created_at=datetime.now(UTC),
        )
    )
    await add_session(group, los_angeles, last_day, start=time(20), end=time(22))  # 10000-01-01 in UTC
    evening = await add_session(group, los_angeles, last_day - timedelta(days=1), start=time(20), end=time(1))

    try:
        for ibasho_id in (tokyo, los_angeles):
            for url in (f"/i/{ibasho_id}", f"/i/{ibasho_id}/poster", f"/i/{ibasho_id}/calendar.ics"):
                assert (await app_client.get(url)).status_code == 200, url
        feed = icalendar.Calendar.from_ical((await app_client.get(f"/i/{tokyo}/calendar.ics")).content)
        assert {str(e["UID"]) for e in feed.walk("VEVENT")} == {f"{ordinary}@ibasho", f"{morning}@ibasho"}
        feed = icalendar.Calendar.from_ical((await app_client.get(f"/i/{los_angeles}/calendar.ics")).content)
        assert [str(e["UID"]) for e in feed.walk("VEVENT")] == [f"{evening}@ibasho"]
    finally:  # rows no other test expects to meet
        await Session.delete().where(Session.group == group)


# --- every answer carries the security headers; HEAD is GET without the body -----------------


async def test_router_errors_and_unexpected_errors_carry_the_security_headers(app_client, monkeypatch):
    page = await app_client.get(f"/no-such-page-{uuid4().hex}")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert_secured(page)
    api = await app_client.get(f"/api/no-such-route-{uuid4().hex}")
    assert api.status_code == 404
    assert_secured(api)
    assert api.headers["cache-control"] == "no-store"
    wrong_method = await app_client.http.put("/healthz")
    assert wrong_method.status_code == 405
    assert_secured(wrong_method)

    monkeypatch.setattr(public, "active_ibasho", broken)
    failed = await app_client.get(f"/i/{uuid4()}")
    assert failed.status_code == 500
    assert_secured(failed)


async def test_head_answers_like_get_without_a_body(app_client):
    _, ibasho_id, _ = await reminder_session(day=date.today() + timedelta(days=3))
    await app_client.get("/healthz")  # the CSRF cookie, so both requests carry the same one
    for url in (
        "/healthz",
        "/login",
        f"/i/{ibasho_id}",
        f"/i/{ibasho_id}/poster",
        f"/i/{ibasho_id}/calendar.ics",
        "/static/council.css",
        "/app/",
        f"/no-such-page-{uuid4().hex}",
    ):
        get, head = await app_client.get(url), await app_client.http.head(url)
        assert head.status_code == get.status_code and head.content == b"", url
        assert get.content, url
        same = {name: value for name, value in get.headers.items() if name not in ("date", "set-cookie")}
        assert {name: value for name, value in head.headers.items() if name not in ("date", "set-cookie")} == same, url
        assert_secured(head)


@pytest.mark.parametrize(
    "path, status", [("/healthz", 200), ("/static/council.css", 200), ("/login", 200), ("/no-such-page", 404)]
)
def test_a_real_server_answers_head_with_headers_only(live_server, path, status):
    with httpx.Client(base_url=live_server.url) as http:
        get, head = http.get(path), http.head(path)
    assert get.status_code == head.status_code == status and head.content == b""
    assert head.headers.get("content-length") == get.headers.get("content-length")
    assert_secured(head)


# --- the public sign-up forms ------------------------------------------------------------------


async def person_link_token(app, place) -> str:
    async with asgi_client(app) as http:
        organiser = Client(http)
        await organiser.login(place["organisers"][0])
        made = await organiser.post("/api/push/person-links", json={"person_id": str(place["people"][0].id)})
    assert made.status_code == 201, made.text
    return made.json()["url"].split("?person=", 1)[1]


def from_somewhere(app) -> httpx.AsyncClient:
    return asgi_client(app, f"198.18.{uuid4().int % 250}.{uuid4().int % 250}")


async def test_asking_to_be_phoned_has_the_hourly_allowance_and_the_hidden_field(app, monkeypatch):
    monkeypatch.setattr(
        config, "_settings", dataclasses.replace(config.get_settings(), subscriptions_per_address_per_hour=2)
    )
    place = await make_venue()
    token = await person_link_token(app, place)
    phoned = PushSubscription.channel == SubscriptionChannel.phone.value

    async with from_somewhere(app) as http:
        bot = await Client(http).form(
            f"/i/{place['ibasho']}/phone", {"phone": "0422-11-1111", "person": token, "website": "x"}
        )
    assert bot.status_code == 200 and "0422-11-1111" in bot.text  # thanked as anyone
    assert not await PushSubscription.exists().where(phoned & (PushSubscription.ibasho == place["ibasho"]))

    async with from_somewhere(app) as http:
        prankster = Client(http)
        statuses = [
            (await prankster.form(f"/i/{place['ibasho']}/phone", {"phone": number, "person": token})).status_code
            for number in ("0422-22-2222", "0422-33-3333", "0422-44-4444")
        ]
    assert statuses == [200, 200, 429]
    (row,) = await PushSubscription.select().where(phoned & (PushSubscription.ibasho == place["ibasho"]))
    assert row["address"] == "0422-33-3333"


async def test_a_paused_or_closed_ibasho_takes_no_new_sign_ups(app, smtp):
    place = await make_venue()
    token = await person_link_token(app, place)
    async with from_somewhere(app) as http:
        asked = await Client(http).form(f"/i/{place['ibasho']}/email", {"address": "early@example.jp"})
    assert asked.status_code == 200
    await send_outbox(SmtpServer.from_url(smtp.url))
    (mail,) = smtp.to("early@example.jp")
    confirm = next(p for p in re.findall(r"https?://\S+", mail.get_body(("plain",)).get_content()) if "/confirm/" in p)
    confirm = urlsplit(confirm).path

    for status in (IbashoStatus.paused, IbashoStatus.ended):
        await Ibasho.update({Ibasho.status: status.value}).where(Ibasho.id == place["ibasho"])
        async with from_somewhere(app) as http:
            visitor = Client(http)
            for path, data in (
                ("email", {"address": "late@example.jp"}),
                ("phone", {"phone": "0422-11-1111", "person": token}),
            ):
                refused = await visitor.form(f"/i/{place['ibasho']}/{path}", data)
                assert refused.status_code == 409, (status, path, refused.text)
                assert "新しい申し込みを受け付けていません" in refused.text
            for refused in (await visitor.get(confirm), await visitor.form(confirm, {})):
                assert refused.status_code == 409 and "受け付けていません" in refused.text
    assert not await PushSubscription.exists().where(
        (PushSubscription.ibasho == place["ibasho"]) & PushSubscription.confirmed_at.is_not_null()
    )
    await send_outbox(SmtpServer.from_url(smtp.url))
    assert smtp.to("late@example.jp") == []
