"""Who may call which route: one row per (method, route) of the app, shared by the access,
CSRF and hostile-input tests, plus the helpers they need (fresh sessions without a
password check, a database fingerprint to prove that a refused request changed nothing).

Every identity calls a route about the same target: group A in area A, its ibasho and a
session of it. "organiser_other" and "staff_other" belong to group B / area B.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID, uuid4

import httpx
from piccolo.table import Table

from server import tables
from server.auth.credentials import void_password
from server.auth.logins import LOGIN_COOKIE, start_login
from server.auth.routes import create_invitation, invitation_token_hash
from server.committees.records import member_link
from server.core.clock import now
from server.events.records import applicant_link
from server.pwa.routes import assets
from server.registration.records import status_link
from server.reminders import tokens
from server.reminders.email import confirm_token, stop_token
from server.reminders.tokens import manage_token_hash
from server.tables import Ibasho, Person, PushSubscription, ReminderDelivery, Session
from tests.factories import PASSWORD, World, make_account, make_programme

IDENTITIES = ("anonymous", "participant", "organiser_other", "staff_other", "organiser", "staff", "admin")
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
P256DH = "B" + "A" * 86  # shape-valid subscription keys (base64url, the lengths a browser sends)
AUTH = "A" * 22


def push_endpoint() -> str:
    return f"https://fcm.googleapis.com/fcm/send/{uuid4().hex}"


@dataclass
class Target:
    """The world plus what the routes point at; ``accounts`` maps identity → account id."""

    world: World
    ibasho_id: UUID
    session_id: UUID
    programme_id: UUID
    staff_account_id: UUID  # a staff account the admin pages edit
    login_person: object  # an account whose password every identity may try
    asset_version: str
    asset_path: str
    csrf: str = ""
    accounts: dict[str, UUID | None] = field(default_factory=dict)

    def fill(self, template: str) -> str:
        w = self.world
        return template.format(
            group=w.group_a,
            area=w.area_a,
            ibasho=self.ibasho_id,
            session=self.session_id,
            programme=self.programme_id,
            account=self.staff_account_id,
            version=self.asset_version,
            asset=self.asset_path,
        )


async def make_target(world: World) -> Target:
    ibasho_id, session_id = uuid4(), uuid4()
    await Ibasho.insert(Ibasho(id=ibasho_id, group=world.group_a, name="きらくら", created_at=now()))
    await Session.insert(
        Session(id=session_id, group=world.group_a, ibasho=ibasho_id, title="きらくら", date=date.today())
    )
    programme_id = await make_programme({"components": [{"kind": "fixed", "amount": 1000}]}, enrol=world.group_a)
    version, paths = assets()
    target = Target(
        world=world,
        ibasho_id=ibasho_id,
        session_id=session_id,
        programme_id=programme_id,
        staff_account_id=(await make_account("staff", areas=[world.area_a])).account_id,
        login_person=await make_account("organiser", groups=[world.group_b]),
        asset_version=version,
        asset_path=paths[0],
    )
    target.accounts = {
        "anonymous": None,
        "participant": None,
        "organiser_other": world.organiser_b.account_id,
        "staff_other": world.staff_b.account_id,
        "organiser": world.organiser_a.account_id,
        "staff": world.staff_a.account_id,
        "admin": world.admin.account_id,
    }
    return target


# --- what a request is ------------------------------------------------------------------


@dataclass
class Call:
    url: str
    kwargs: dict = field(default_factory=dict)


Builder = Callable[[Target, str], Awaitable[Call]]


def fixed(url: str, **kwargs) -> Builder:
    async def build(target: Target, who: str) -> Call:
        return Call(target.fill(url), dict(kwargs))

    return build


async def fresh_invitation(target: Target, who: str) -> Call:
    token = await create_invitation(target.world.group_a, target.world.staff_a.account_id)
    return Call(f"/invite/{token}")


async def accept_invitation(target: Target, who: str) -> Call:
    call = await fresh_invitation(target, who)
    login = f"joiner-{uuid4().hex[:10]}"
    return Call(call.url, {"data": {"display_name": "新しい人", "login": login, "password": "a long password"}})


async def line_channel_switch(target: Target, who: str) -> Call:
    """Stop group A's LINE channel (made the first time)."""
    row = (
        await tables.LineChannel.select(tables.LineChannel.id)
        .where(tables.LineChannel.group == target.world.group_a)
        .first()
    )
    channel_id = row["id"] if row else uuid4()
    if row is None:
        await tables.LineChannel.insert(
            tables.LineChannel(
                id=channel_id, group=target.world.group_a, name="きらくら", access_token="t", channel_secret="s" * 32
            )
        )
    return Call(f"/staff/line/{channel_id}/enabled", {"data": {}})


async def participant_subscription() -> str:
    """A participant's subscription to a fresh ibasho: its management token."""
    token = secrets.token_urlsafe(32)
    await PushSubscription.insert(
        PushSubscription(
            id=uuid4(),
            endpoint=push_endpoint(),
            p256dh=P256DH,
            auth=AUTH,
            manage_token_hash=manage_token_hash(token),
        )
    )
    return token


def by_token(url: str) -> Builder:
    """The participant holds the token of a live subscription; everyone else tries a made-up one."""

    async def build(target: Target, who: str) -> Call:
        token = await participant_subscription() if who == "participant" else secrets.token_urlsafe(32)
        return Call(url.format(token=token))

    return build


def by_email_token(url: str, sign: Callable[[UUID], str]) -> Builder:
    """The participant holds a signed link of an email subscription of theirs (a
    confirmation or a stop link); everyone else a forged one."""

    async def build(target: Target, who: str) -> Call:
        sub_id = uuid4()
        if who == "participant":
            address = f"{sub_id.hex[:12]}@example.jp"
            await PushSubscription.insert(
                PushSubscription(
                    id=sub_id,
                    endpoint=f"email:{target.ibasho_id}:{address}",
                    ibasho=target.ibasho_id,
                    channel="email",
                    address=address,
                )
            )
        return Call(url.format(token=sign(sub_id) if who == "participant" else f"{sub_id.hex}.forged"))

    return build


def by_absence_token(url: str) -> Builder:
    """The participant holds the reply token of a reminder sent to their person-linked
    subscription (for today's session, which has no start time: too late to reply, 409);
    everyone else tries a forged one."""

    async def build(target: Target, who: str) -> Call:
        if who != "participant":
            return Call(url.format(token=tokens.absence(uuid4())))
        person, subscription, delivery = uuid4(), uuid4(), uuid4()
        await Person.insert(Person(id=person, group=target.world.group_a, display_name="参加者"))
        await PushSubscription.insert(
            PushSubscription(
                id=subscription,
                endpoint=push_endpoint(),
                p256dh=P256DH,
                auth=AUTH,
                ibasho=target.ibasho_id,  # a person-linked subscription is to the session's ibasho
                person=person,
                manage_token_hash=manage_token_hash(secrets.token_urlsafe(32)),
            )
        )
        await ReminderDelivery.insert(
            ReminderDelivery(
                id=delivery,
                occurrence=f"{target.session_id}:day_before",
                subscription=subscription,
                session=target.session_id,
                due_at=now(),
                expires_at=now(),
                state="sent",
            )
        )
        return Call(url.format(token=tokens.absence(delivery)))

    return build


async def person_link(target: Target, who: str) -> Call:
    """A registered participant of group A at a registration-based ibasho of theirs."""
    person, ibasho = uuid4(), uuid4()
    await Ibasho.insert(
        Ibasho(id=ibasho, group=target.world.group_a, name="サロン", registration_required=True, created_at=now())
    )
    await Person.insert(Person(id=person, group=target.world.group_a, display_name="参加者"))
    return Call("/api/push/person-links", {"json": {"person_id": str(person), "ibasho_id": str(ibasho)}})


async def organiser_removal(target: Target, who: str) -> Call:
    """Remove a fresh organiser of group A from it (made without a password: no hashing)."""
    account = uuid4()
    await tables.Account.insert(
        tables.Account(
            id=account, login=f"leaver-{account.hex[:10]}", display_name="leaver", password_hash="-", role="organiser"
        )
    )
    await tables.GroupMembership.insert(tables.GroupMembership(id=uuid4(), account=account, group=target.world.group_a))
    return Call(f"/staff/groups/{target.world.group_a}/organisers/{account}/remove")


async def fresh_reset(target: Target, who: str) -> Call:
    """A link to choose a new password for a fresh account (made without a password)."""
    account = uuid4()
    await tables.Account.insert(
        tables.Account(
            id=account, login=f"lost-{account.hex[:10]}", display_name="lost", password_hash="-", role="organiser"
        )
    )
    return Call(f"/reset/{await void_password(account, None)}")


async def mismatched_reset(target: Target, who: str) -> Call:
    call = await fresh_reset(target, who)
    return Call(call.url, {"data": {"password": "a long password", "confirm": "another one"}})


async def fresh_registration(target: Target) -> UUID:
    """An application to area A, as the public form makes it (no mail is sent: no server)."""
    registration = uuid4()
    await tables.Registration.insert(
        tables.Registration(
            id=registration,
            area=target.world.area_a,
            group_name=f"申請-{registration.hex[:8]}",
            ibasho_name="みどり食堂",
            representative="緑川 花子",
            email="midori@example.jp",
        )
    )
    return registration


async def empty_application(target: Target, who: str) -> Call:
    """Each caller as if from an address of its own: the form allows a few an hour per address."""
    await tables.RateCounter.delete().where(tables.RateCounter.key.like("apply:%"))
    return Call("/apply", dict(EMPTY_FORM))


def registration_status(method_data: dict | None = None) -> Builder:
    async def build(target: Target, who: str) -> Call:
        link = status_link("", await fresh_registration(target))
        return Call(link, dict(method_data or {}))

    return build


def registration_page(suffix: str = "", **kwargs) -> Builder:
    async def build(target: Target, who: str) -> Call:
        return Call(f"/staff/registrations/{await fresh_registration(target)}{suffix}", dict(kwargs))

    return build


async def fresh_event(target: Target) -> tuple[UUID, UUID, UUID]:
    """A one-part course of area A with one applicant who came: (event, part, application)."""
    event, part, application = uuid4(), uuid4(), uuid4()
    await tables.CouncilEvent.insert(
        tables.CouncilEvent(
            id=event, area=target.world.area_a, title="傾聴講座", capacity=10, application_deadline=date.today()
        )
    )
    await tables.EventPart.insert(
        tables.EventPart(id=part, event=event, number=1, date=date.today(), start_time=now().time(), venue="本会")
    )
    await tables.EventApplication.insert(
        tables.EventApplication(id=application, event=event, name="青森 花子", email="h@example.jp", applied_at=now())
    )
    await tables.EventAttendance.insert(
        tables.EventAttendance(id=f"{part}:{application}", part=part, application=application, marked_at=now())
    )
    return event, part, application


def event_page(url: str, **kwargs) -> Builder:
    """``url`` with {event}, {part}, {application} and {token} of a fresh event."""

    async def build(target: Target, who: str) -> Call:
        await tables.RateCounter.delete().where(tables.RateCounter.key.like("event-apply:%"))
        event, part, application = await fresh_event(target)
        token = applicant_link("", application).rsplit("/", 1)[1]
        return Call(url.format(event=event, part=part, application=application, token=token), dict(kwargs))

    return build


async def door_mark(target: Target, who: str) -> Call:
    event, part, application = await fresh_event(target)
    return Call(f"/staff/events/{event}/door/{part}", {"data": {"application": str(application), "present": "1"}})


async def door_marks(target: Target, who: str) -> Call:
    event, part, application = await fresh_event(target)
    mark = {"application": str(application), "present": True, "marked_at": now().isoformat()}
    return Call(f"/staff/events/{event}/door/{part}/marks", {"json": {"marks": [mark]}})


async def fresh_committee(target: Target) -> tuple[UUID, UUID, UUID, UUID]:
    """A committee of area A with one member, one meeting and one member organisation
    nobody sits for: (group, person, session, organisation)."""
    group, person, session, committee, organisation = uuid4(), uuid4(), uuid4(), uuid4(), uuid4()
    await tables.Group.insert(tables.Group(id=group, area=target.world.area_a, name=f"推進委員会-{group.hex[:8]}"))
    await tables.Committee.insert(tables.Committee(id=committee, group=group))
    await tables.CommitteeOrganisation.insert(
        tables.CommitteeOrganisation(id=organisation, committee=committee, name="社会福祉協議会")
    )
    await tables.Person.insert(tables.Person(id=person, group=group, display_name="委員", kind="volunteer"))
    await tables.CommitteeSeat.insert(tables.CommitteeSeat(id=uuid4(), committee=committee, person=person))
    await tables.Session.insert(
        tables.Session(id=session, group=group, kind="meeting", title="全体会議", date=date.today())
    )
    return group, person, session, organisation


def committee_page(url: str, **kwargs) -> Builder:
    """``url`` with {committee}, {session}, {person}, {organisation} and {token} (the
    member's) of a fresh committee."""

    async def build(target: Target, who: str) -> Call:
        group, person, session, organisation = await fresh_committee(target)
        token = member_link("", person).rsplit("/", 1)[1]
        ids = {"committee": group, "session": session, "person": person, "organisation": organisation}
        return Call(url.format(token=token, **ids), dict(kwargs))

    return build


async def invitation_revocation(target: Target, who: str) -> Call:
    token = await create_invitation(target.world.group_a, target.world.staff_a.account_id)
    invitation = (
        await tables.Invitation.select(tables.Invitation.id)
        .where(tables.Invitation.token_hash == invitation_token_hash(token))
        .first()
    )
    return Call(f"/staff/groups/{target.world.group_a}/invitations/{invitation['id']}/revoke")


async def follow_up_item(target: Target, who: str) -> Call:
    """An item of group A's follow-up list (an open safety check), with a form that fails."""
    person, check = uuid4(), uuid4()
    await Person.insert(Person(id=person, group=target.world.group_a, display_name="安否 太郎"))
    await tables.SafetyCheck.insert(tables.SafetyCheck(id=check, session=target.session_id, person=person))
    return Call(f"/review/follow-ups/safety:{check}", dict(EMPTY_FORM))


async def own_subscription(target: Target, who: str) -> Call:
    """Accounts stop their own browser's reminders (anonymous callers name some endpoint)."""
    endpoint = push_endpoint()
    if (account := target.accounts[who]) is not None:
        await PushSubscription.insert(
            PushSubscription(id=uuid4(), endpoint=endpoint, p256dh=P256DH, auth=AUTH, account=account)
        )
    return Call("/api/push/subscriptions", {"params": {"endpoint": endpoint}})


async def new_subscription(target: Target, who: str) -> Call:
    return Call(
        "/api/push/subscriptions", {"json": {"endpoint": push_endpoint(), "keys": {"p256dh": P256DH, "auth": AUTH}}}
    )


async def login_json(target: Target, who: str) -> Call:
    return Call("/api/auth/login", {"json": {"login": target.login_person.login, "password": PASSWORD}})


async def login_form(target: Target, who: str) -> Call:
    return Call("/login", {"data": {"login": target.login_person.login, "password": PASSWORD}})


async def sync_push(target: Target, who: str) -> Call:
    return Call("/api/sync/push", {"json": {"client_id": str(uuid4()), "mutations": []}})


async def sync_pull(target: Target, who: str) -> Call:
    return Call("/api/sync/pull", {"params": {"client_id": str(uuid4())}})


# --- expected statuses -----------------------------------------------------------------


def expect(anonymous, participant, organiser_other, staff_other, organiser, staff, admin) -> dict[str, int]:
    return dict(
        zip(IDENTITIES, (anonymous, participant, organiser_other, staff_other, organiser, staff, admin), strict=True)
    )


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(IDENTITIES, status)


def signed_in(ok: int) -> dict[str, int]:
    return expect(401, 401, ok, ok, ok, ok, ok)


def group_api(ok: int = 200) -> dict[str, int]:
    """Outside your scope is 404, so other groups' existence does not leak."""
    return expect(401, 401, 404, 404, ok, ok, ok)


def staff_page(ok: int, other_area: int | None = None) -> dict[str, int]:
    """Anonymous browsers are sent to the login page (302); organisers 403; staff of
    another area 404 for group A's things (``other_area``) or ``ok`` for area-wide pages."""
    return expect(302, 302, 403, ok if other_area is None else other_area, 403, ok, ok)


def admin_page(ok: int) -> dict[str, int]:
    return expect(302, 302, 403, 403, 403, 403, ok)


@dataclass
class Row:
    method: str
    route: str  # the path exactly as ``app.routes`` spells it
    build: Builder
    expected: dict[str, int]


EMPTY_FORM = {"data": {"_": ""}}  # a form that fails validation: proves access, changes nothing

ROWS = [
    Row("GET", "/", fixed("/"), everyone(302)),
    Row("GET", "/healthz", fixed("/healthz"), everyone(200)),
    Row("GET", "/schema", fixed("/schema"), everyone(200)),
    Row("GET", "/schema/openapi.json", fixed("/schema/openapi.json"), everyone(200)),
    Row("GET", "/schema/{path:str}", fixed("/schema/swagger"), everyone(404)),
    Row("GET", "/static/{file_path:path}", fixed("/static/council.css"), everyone(200)),
    Row("HEAD", "/static/{file_path:path}", fixed("/static/council.css"), everyone(200)),
    # the organiser app: public files, the data comes through the API
    Row("GET", "/app", fixed("/app/"), everyone(200)),
    Row("GET", "/app/v/{version:str}/{path:path}", fixed("/app/v/{version}/{asset}"), everyone(200)),
    Row("GET", "/sw.js", fixed("/sw.js"), everyone(200)),
    Row("GET", "/manifest.webmanifest", fixed("/manifest.webmanifest"), everyone(200)),
    # logging in and out
    Row("POST", "/api/auth/login", login_json, everyone(200)),
    Row("POST", "/api/auth/logout", fixed("/api/auth/logout"), signed_in(200)),
    Row("GET", "/api/me", fixed("/api/me"), signed_in(200)),
    Row("GET", "/login", fixed("/login"), everyone(200)),
    Row("POST", "/login", login_form, everyone(302)),
    Row("POST", "/logout", fixed("/logout"), everyone(302)),
    Row("POST", "/language", fixed("/language", data={"language": "en", "next": "/"}), everyone(302)),
    Row("GET", "/invite/{token:str}", fresh_invitation, everyone(200)),
    Row("POST", "/invite/{token:str}", accept_invitation, everyone(302)),
    Row("GET", "/reset/{token:str}", fresh_reset, everyone(200)),
    Row("POST", "/reset/{token:str}", mismatched_reset, everyone(422)),
    Row("GET", "/account/password", fixed("/account/password"), expect(302, 302, 200, 200, 200, 200, 200)),
    Row(
        "POST", "/account/password", fixed("/account/password", **EMPTY_FORM), expect(302, 302, 422, 422, 422, 422, 422)
    ),
    Row(
        "POST",
        "/api/auth/password",
        fixed("/api/auth/password", json={"current_password": "x", "new_password": "short"}),
        signed_in(400),
    ),
    # the JSON API and sync
    Row("GET", "/api/groups", fixed("/api/groups"), signed_in(200)),
    Row("GET", "/api/groups/{group_id:uuid}", fixed("/api/groups/{group}"), group_api()),
    Row("GET", "/api/groups/{group_id:uuid}/ibasho", fixed("/api/groups/{group}/ibasho"), group_api()),
    Row("GET", "/api/groups/{group_id:uuid}/people", fixed("/api/groups/{group}/people"), group_api()),
    Row("POST", "/api/sync/push", sync_push, signed_in(200)),
    Row("GET", "/api/sync/pull", sync_pull, signed_in(200)),
    # reminders: public pages and the participant's management token
    Row("GET", "/api/push/public-key", fixed("/api/push/public-key"), everyone(200)),
    Row("POST", "/api/push/subscriptions", new_subscription, signed_in(201)),
    Row("DELETE", "/api/push/subscriptions", own_subscription, signed_in(204)),
    Row(
        "DELETE",
        "/api/push/subscriptions/{token:str}",
        by_token("/api/push/subscriptions/{token}"),
        expect(404, 204, 404, 404, 404, 404, 404),
    ),
    Row("GET", "/push/manage/{token:str}", by_token("/push/manage/{token}"), everyone(200)),
    # choosing which reminders: only the token's holder; an empty form (no reminder ticked) is 422, changes nothing
    Row("POST", "/push/manage/{token:str}", by_token("/push/manage/{token}"), {**everyone(404), "participant": 422}),
    Row("POST", "/api/push/person-links", person_link, expect(401, 401, 404, 404, 201, 404, 404)),
    Row(
        "POST",
        "/api/push/absences/{token:str}",
        by_absence_token("/api/push/absences/{token}"),
        {**everyone(404), "participant": 409},
    ),
    Row(
        "GET", "/push/reply/{token:str}", by_absence_token("/push/reply/{token}"), {**everyone(404), "participant": 200}
    ),
    Row("GET", "/apply", fixed("/apply"), everyone(200)),
    Row("POST", "/apply", empty_application, everyone(422)),
    Row("GET", "/apply/status/{token:str}", registration_status(), everyone(200)),
    Row("POST", "/apply/status/{token:str}", registration_status(EMPTY_FORM), everyone(422)),
    Row("GET", "/directory", fixed("/directory"), everyone(200)),
    Row("GET", "/directory.csv", fixed("/directory.csv"), everyone(200)),
    Row("GET", "/directory.xlsx", fixed("/directory.xlsx"), everyone(200)),
    Row("GET", "/events", fixed("/events"), everyone(200)),
    Row("GET", "/events/{event_id:uuid}", event_page("/events/{event}"), everyone(200)),
    Row("POST", "/events/{event_id:uuid}/apply", event_page("/events/{event}/apply", **EMPTY_FORM), everyone(422)),
    Row("GET", "/events/mine/{token:str}", event_page("/events/mine/{token}"), everyone(200)),
    Row("POST", "/events/mine/{token:str}/cancel", event_page("/events/mine/{token}/cancel"), everyone(303)),
    Row("GET", "/events/mine/{token:str}/certificate", event_page("/events/mine/{token}/certificate"), everyone(200)),
    Row("GET", "/committee/{token:str}", committee_page("/committee/{token}"), everyone(200)),
    Row("GET", "/i/{ibasho_id:uuid}", fixed("/i/{ibasho}"), everyone(200)),
    Row("GET", "/i/{ibasho_id:uuid}/calendar.ics", fixed("/i/{ibasho}/calendar.ics"), everyone(200)),
    Row("GET", "/i/{ibasho_id:uuid}/poster", fixed("/i/{ibasho}/poster"), everyone(200)),
    Row("GET", "/i/{ibasho_id:uuid}/manifest.webmanifest", fixed("/i/{ibasho}/manifest.webmanifest"), everyone(200)),
    # the call list (電話連絡網): the group's organisers, its area's staff, admins
    Row("GET", "/api/push/calls/{session_id:uuid}", fixed("/api/push/calls/{session}"), group_api()),
    # an organiser's own reminders by email: a malformed address is 400, nothing made
    Row("POST", "/api/push/email", fixed("/api/push/email", json={"address": "x@"}), signed_in(400)),
    # ... or by LINE: what the account's groups offer (its own only); a malformed group is 400
    Row("GET", "/api/push/line", fixed("/api/push/line"), signed_in(200)),
    Row("POST", "/api/push/line", fixed("/api/push/line", json={"group_id": "x"}), signed_in(400)),
    Row("GET", "/calls/{session_id:uuid}", fixed("/calls/{session}"), expect(302, 302, 404, 404, 200, 200, 200)),
    # email and phone reminders: a blank address or number is 422 and changes nothing
    Row("POST", "/i/{ibasho_id:uuid}/email", fixed("/i/{ibasho}/email", **EMPTY_FORM), everyone(422)),
    Row("POST", "/i/{ibasho_id:uuid}/phone", fixed("/i/{ibasho}/phone", **EMPTY_FORM), everyone(422)),
    # LINE: an ibasho without a LINE account has no code to give (404); the webhook wants LINE's signature
    Row("POST", "/i/{ibasho_id:uuid}/line", fixed("/i/{ibasho}/line", **EMPTY_FORM), everyone(404)),
    Row("POST", "/line/webhook/{channel_id:uuid}", fixed(f"/line/webhook/{uuid4()}", content=b"{}"), everyone(404)),
    Row(
        "GET",
        "/push/email/confirm/{token:str}",
        by_email_token("/push/email/confirm/{token}", confirm_token),
        {**everyone(404), "participant": 200},
    ),
    Row(
        "POST",
        "/push/email/confirm/{token:str}",
        by_email_token("/push/email/confirm/{token}", confirm_token),
        {**everyone(404), "participant": 200},
    ),
    Row(
        "GET",
        "/push/stop/{token:str}",
        by_email_token("/push/stop/{token}", stop_token),
        {**everyone(404), "participant": 200},
    ),
    Row(
        "POST",
        "/push/stop/{token:str}",
        by_email_token("/push/stop/{token}", stop_token),
        {**everyone(404), "participant": 200},
    ),
    # staff pages
    Row("GET", "/staff", fixed("/staff"), staff_page(200)),
    Row("GET", "/staff/groups/new", fixed("/staff/groups/new"), staff_page(200)),
    Row("POST", "/staff/groups/new", fixed("/staff/groups/new", **EMPTY_FORM), staff_page(422)),
    Row("GET", "/staff/line", fixed("/staff/line"), staff_page(200)),
    Row("POST", "/staff/line", fixed("/staff/line", **EMPTY_FORM), staff_page(422)),
    Row("POST", "/staff/line/{channel_id:uuid}/enabled", line_channel_switch, staff_page(303, 404)),
    Row("GET", "/staff/groups/{group_id:uuid}", fixed("/staff/groups/{group}"), staff_page(200, 404)),
    Row("GET", "/staff/groups/{group_id:uuid}/edit", fixed("/staff/groups/{group}/edit"), staff_page(200, 404)),
    Row(
        "POST",
        "/staff/groups/{group_id:uuid}/edit",
        fixed("/staff/groups/{group}/edit", **EMPTY_FORM),
        staff_page(422, 404),
    ),
    Row(
        "GET",
        "/staff/groups/{group_id:uuid}/ibasho/new",
        fixed("/staff/groups/{group}/ibasho/new"),
        staff_page(200, 404),
    ),
    Row(
        "POST",
        "/staff/groups/{group_id:uuid}/ibasho/new",
        fixed("/staff/groups/{group}/ibasho/new", **EMPTY_FORM),
        staff_page(422, 404),
    ),
    Row("GET", "/staff/ibasho/{ibasho_id:uuid}/edit", fixed("/staff/ibasho/{ibasho}/edit"), staff_page(200, 404)),
    Row(
        "POST",
        "/staff/ibasho/{ibasho_id:uuid}/edit",
        fixed("/staff/ibasho/{ibasho}/edit", **EMPTY_FORM),
        staff_page(422, 404),
    ),
    Row(
        "POST",
        "/staff/groups/{group_id:uuid}/invitations",
        fixed("/staff/groups/{group}/invitations", data={"note": "x" * 1000}),
        staff_page(422, 404),
    ),
    Row(
        "POST",
        "/staff/groups/{group_id:uuid}/invitations/{invitation_id:uuid}/revoke",
        invitation_revocation,
        staff_page(303, 404),
    ),
    Row(
        "POST",
        "/staff/groups/{group_id:uuid}/organisers/{account_id:uuid}/{action:str}",
        organiser_removal,
        staff_page(303, 404),
    ),
    Row("GET", "/staff/registrations", fixed("/staff/registrations"), staff_page(200)),
    Row("GET", "/staff/registrations/{registration_id:uuid}", registration_page(), staff_page(200, 404)),
    Row(
        "POST",
        "/staff/registrations/{registration_id:uuid}/{action:str}",
        registration_page("/ask", **EMPTY_FORM),
        staff_page(422, 404),
    ),
    Row("GET", "/staff/events", fixed("/staff/events"), staff_page(200)),
    Row("GET", "/staff/events/new", fixed("/staff/events/new"), staff_page(200)),
    Row("POST", "/staff/events/new", fixed("/staff/events/new", **EMPTY_FORM), staff_page(422)),
    Row("GET", "/staff/events/{event_id:uuid}", event_page("/staff/events/{event}"), staff_page(200, 404)),
    Row("GET", "/staff/events/{event_id:uuid}/edit", event_page("/staff/events/{event}/edit"), staff_page(200, 404)),
    Row(
        "POST",
        "/staff/events/{event_id:uuid}/edit",
        event_page("/staff/events/{event}/edit", **EMPTY_FORM),
        staff_page(422, 404),
    ),
    Row(
        "POST",
        "/staff/events/{event_id:uuid}/applications/{application_id:uuid}/cancel",
        event_page("/staff/events/{event}/applications/{application}/cancel"),
        staff_page(303, 404),
    ),
    Row(
        "GET",
        "/staff/events/{event_id:uuid}/door/{part_id:uuid}",
        event_page("/staff/events/{event}/door/{part}"),
        staff_page(200, 404),
    ),
    Row("POST", "/staff/events/{event_id:uuid}/door/{part_id:uuid}", door_mark, staff_page(303, 404)),
    Row("POST", "/staff/events/{event_id:uuid}/door/{part_id:uuid}/marks", door_marks, staff_page(200, 404)),
    Row("GET", "/staff/events/door-sw.js", fixed("/staff/events/door-sw.js"), everyone(200)),
    Row(
        "GET",
        "/staff/events/{event_id:uuid}/certificates",
        event_page("/staff/events/{event}/certificates"),
        staff_page(200, 404),
    ),
    Row("GET", "/staff/committees", fixed("/staff/committees"), staff_page(200)),
    Row("POST", "/staff/committees", fixed("/staff/committees", **EMPTY_FORM), staff_page(422)),
    Row(
        "GET",
        "/staff/committees/{group_id:uuid}",
        committee_page("/staff/committees/{committee}"),
        staff_page(200, 404),
    ),
    *(
        Row(
            "POST",
            f"/staff/committees/{{group_id:uuid}}/{part}",
            committee_page(f"/staff/committees/{{committee}}/{part}", **EMPTY_FORM),
            staff_page(422, 404),
        )
        for part in ("organisations", "members", "meetings")
    ),
    Row(
        "POST",
        "/staff/committees/{group_id:uuid}/organisations/{organisation_id:uuid}/remove",
        committee_page("/staff/committees/{committee}/organisations/{organisation}/remove"),
        staff_page(303, 404),
    ),
    Row(
        "POST",
        "/staff/committees/{group_id:uuid}/members/{person_id:uuid}/remove",
        committee_page("/staff/committees/{committee}/members/{person}/remove"),
        staff_page(303, 404),
    ),
    Row(
        "GET",
        "/staff/committees/{group_id:uuid}/meetings/{session_id:uuid}",
        committee_page("/staff/committees/{committee}/meetings/{session}"),
        staff_page(200, 404),
    ),
    Row(
        "POST",
        "/staff/committees/{group_id:uuid}/meetings/{session_id:uuid}",
        committee_page("/staff/committees/{committee}/meetings/{session}", data={"action_owner": "誰か"}),
        staff_page(422, 404),
    ),
    # review pages
    Row("GET", "/review", fixed("/review"), staff_page(200)),
    Row("GET", "/review/safety", fixed("/review/safety"), staff_page(200)),
    Row("GET", "/review/follow-ups", fixed("/review/follow-ups"), staff_page(200)),
    Row("POST", "/review/follow-ups/{key:str}", follow_up_item, staff_page(422, 404)),
    Row("GET", "/review/groups/{group_id:uuid}", fixed("/review/groups/{group}"), staff_page(200, 404)),
    Row(
        "GET",
        "/review/groups/{group_id:uuid}/export.csv",
        fixed("/review/groups/{group}/export.csv"),
        staff_page(200, 404),
    ),
    Row(
        "GET",
        "/review/groups/{group_id:uuid}/export.xlsx",
        fixed("/review/groups/{group}/export.xlsx"),
        staff_page(200, 404),
    ),
    Row(
        "GET", "/review/areas/{area_id:uuid}/export.csv", fixed("/review/areas/{area}/export.csv"), staff_page(200, 404)
    ),
    Row(
        "GET",
        "/review/areas/{area_id:uuid}/export.xlsx",
        fixed("/review/areas/{area}/export.xlsx"),
        staff_page(200, 404),
    ),
    Row("GET", "/review/groups/{group_id:uuid}/report", fixed("/review/groups/{group}/report"), staff_page(200, 404)),
    Row(
        "GET",
        "/review/groups/{group_id:uuid}/report.xlsx",
        fixed("/review/groups/{group}/report.xlsx"),
        staff_page(200, 404),
    ),
    Row("GET", "/review/areas/{area_id:uuid}/report", fixed("/review/areas/{area}/report"), staff_page(200, 404)),
    Row(
        "GET",
        "/review/areas/{area_id:uuid}/report.xlsx",
        fixed("/review/areas/{area}/report.xlsx"),
        staff_page(200, 404),
    ),
    Row("GET", "/review/sessions/{session_id:uuid}", fixed("/review/sessions/{session}"), staff_page(200, 404)),
    Row(
        "POST",
        "/review/sessions/{session_id:uuid}/review",
        fixed("/review/sessions/{session}/review", **EMPTY_FORM),
        staff_page(422, 404),
    ),
    Row(
        "GET",
        "/review/sessions/{session_id:uuid}/sheet",
        fixed("/review/sessions/{session}/sheet"),
        staff_page(200, 404),
    ),
    Row(
        "GET",
        "/review/sessions/{session_id:uuid}/paper",
        fixed("/review/sessions/{session}/paper"),
        staff_page(200, 404),
    ),
    Row(
        "POST",
        "/review/sessions/{session_id:uuid}/paper",
        fixed("/review/sessions/{session}/paper", **EMPTY_FORM),
        staff_page(303, 404),
    ),
    Row("GET", "/review/audit", fixed("/review/audit"), admin_page(200)),
    Row("GET", "/review/grants", fixed("/review/grants"), staff_page(200)),
    Row("GET", "/review/grants/new", fixed("/review/grants/new"), admin_page(200)),
    Row("POST", "/review/grants/new", fixed("/review/grants/new", **EMPTY_FORM), admin_page(422)),
    Row("POST", "/review/grants/presets/{key:str}", fixed("/review/grants/presets/no-such-preset"), admin_page(404)),
    Row("GET", "/review/grants/{programme_id:uuid}", fixed("/review/grants/{programme}"), staff_page(200)),
    Row("GET", "/review/grants/{programme_id:uuid}/edit", fixed("/review/grants/{programme}/edit"), admin_page(200)),
    Row(
        "POST",
        "/review/grants/{programme_id:uuid}/edit",
        fixed("/review/grants/{programme}/edit", **EMPTY_FORM),
        admin_page(422),
    ),
    Row(
        "POST",
        "/review/grants/{programme_id:uuid}/copy",
        fixed("/review/grants/{programme}/copy", data={"to_year": "next"}),
        admin_page(422),
    ),
    Row(
        "POST",
        "/review/grants/{programme_id:uuid}/retire",
        fixed("/review/grants/{programme}/retire", data={"last_year": "soon"}),
        admin_page(422),
    ),
    Row(
        "GET",
        "/review/grants/{programme_id:uuid}/groups/{group_id:uuid}",
        fixed("/review/grants/{programme}/groups/{group}"),
        staff_page(200, 404),
    ),
    # admin pages
    Row("GET", "/admin/groups/{group_id:uuid}/data", fixed("/admin/groups/{group}/data"), admin_page(200)),
    Row("GET", "/admin/groups/{group_id:uuid}/export.zip", fixed("/admin/groups/{group}/export.zip"), admin_page(200)),
    Row(
        "POST",
        "/admin/people/{person_id:uuid}/forget",
        fixed(f"/admin/people/{uuid4()}/forget", **EMPTY_FORM),
        admin_page(404),
    ),
    Row("GET", "/admin/areas", fixed("/admin/areas"), admin_page(200)),
    Row("POST", "/admin/areas", fixed("/admin/areas", **EMPTY_FORM), admin_page(422)),
    Row("GET", "/admin/areas/{area_id:uuid}/edit", fixed("/admin/areas/{area}/edit"), admin_page(200)),
    Row("POST", "/admin/areas/{area_id:uuid}/edit", fixed("/admin/areas/{area}/edit", **EMPTY_FORM), admin_page(422)),
    Row("GET", "/admin/accounts", fixed("/admin/accounts"), admin_page(200)),
    Row("POST", "/admin/accounts", fixed("/admin/accounts", **EMPTY_FORM), admin_page(422)),
    Row("GET", "/admin/accounts/{account_id:uuid}/edit", fixed("/admin/accounts/{account}/edit"), admin_page(200)),
    Row(
        "POST",
        "/admin/accounts/{account_id:uuid}/edit",
        fixed("/admin/accounts/{account}/edit", data={"display_name": ""}),
        admin_page(422),
    ),
    Row(
        "POST",
        "/admin/accounts/{account_id:uuid}/{action:str}",
        fixed("/admin/accounts/{account}/revoke-sessions"),
        admin_page(303),
    ),
]


def app_routes(app) -> set[tuple[str, str]]:
    """Every (method, path) the app serves, except the OPTIONS answers Litestar adds itself."""
    return {
        (method, route.path)
        for route in app.routes
        for handler in route.route_handlers
        for method in handler.http_methods
        if method != "OPTIONS"
    }


# --- clients and the database fingerprint ----------------------------------------------


def client_for(app, target: Target, session_token: str | None, address: str = "127.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    http = httpx.AsyncClient(transport=transport, base_url="http://testserver.local", follow_redirects=False)
    http.cookies.set("csrftoken", target.csrf, domain="testserver.local")
    if session_token:
        http.cookies.set(LOGIN_COOKIE, session_token, domain="testserver.local")
    return http


async def session_for(target: Target, who: str) -> str | None:
    """A fresh session per call (no password hashing), so a logout row logs out only itself."""
    account = target.accounts[who]
    return await start_login(account) if account else None


def _tables() -> list[type[Table]]:
    found = [t for t in vars(tables).values() if isinstance(t, type) and issubclass(t, Table) and t is not Table]
    # Failed logins are recorded on purpose (that is the throttle), whatever the answer.
    return [t for t in found if t is not tables.RateCounter]


async def fingerprint() -> tuple:
    """Row counts of every table, and the columns a refused request could quietly update."""
    parts = [f'(SELECT count(*) FROM "{t._meta.tablename}")' for t in _tables()]
    parts += [
        '(SELECT count(*) FROM "login_session" WHERE revoked_at IS NOT NULL)',
        '(SELECT count(*) FROM "account" WHERE active)',
        '(SELECT coalesce(max(change_no), 0) FROM "change_log")',
        '(SELECT coalesce(sum(last_seq), 0) FROM "sync_client")',
        '(SELECT coalesce(max(updated_at), NULL) FROM "push_subscription")',
        '(SELECT coalesce(max(updated_at), NULL) FROM "gathering")',
    ]
    columns = ", ".join(f"{part} AS c{index}" for index, part in enumerate(parts))
    row = (await tables.Area.raw("SELECT " + columns))[0]
    return tuple(str(value) for value in row.values())
