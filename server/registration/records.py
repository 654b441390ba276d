"""What happens to an application: submitted, asked about, answered, approved or declined.

Each step is one transaction that also writes the audit row and the applicant's mail to the
outbox (server/core/mail.py), so a step is never half done and never goes untold. Approval
makes the group and its ibasho in the application's area (listed in the directory if the
applicant agreed) and sends the representative an organiser invitation.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid4

from litestar.exceptions import HTTPException, NotFoundException

from server.auth.principal import Principal
from server.auth.routes import create_invitation
from server.core import signing
from server.core.audit import audit
from server.core.changelog import publish_server_change
from server.core.clock import now
from server.core.i18n import gettext as _
from server.core.mail import queue_mail
from server.db import write_transaction
from server.sync.sessions_ahead import ensure_sessions_ahead
from server.tables import Group, Ibasho, Registration, RegistrationMessage, RegistrationState
from server.web.templating import make_environment

OPEN = (RegistrationState.submitted.value, RegistrationState.asked.value)
_MAIL = make_environment()  # mail bodies are templates too (templates/registration/mail/),
_MAIL.autoescape = False  # of plain text: nothing in them is HTML


def status_link(base_url: str, registration_id: UUID) -> str:
    """The applicant's link to their application (signed, so every mail can carry it)."""
    return f"{base_url}/apply/status/{signing.sign('registration-status', registration_id.hex)}"


def mail_text(name: str, **context) -> str:
    return _MAIL.get_template(f"registration/mail/{name}.txt").render(**context)


async def tell_applicant(registration: dict, subject: str, template: str, **context) -> None:
    await queue_mail(
        registration["email"], subject, mail_text(template, registration=registration, **context), "registration"
    )


async def submit(values: dict, base_url: str) -> tuple[UUID, str]:
    """A new application; returns its id and the applicant's status link."""
    registration_id = uuid4()
    link = status_link(base_url, registration_id)
    async with write_transaction():
        await Registration.insert(Registration(id=registration_id, created_at=now(), **values))
        registration = await Registration.select().where(Registration.id == registration_id).first()
        await tell_applicant(registration, _("We received your application"), "received", link=link)
        await audit(None, "registration.submit", f"registration:{registration_id}", values["group_name"])
    return registration_id, link


async def by_token(token: str) -> dict:
    registration_id = signing.signed_id("registration-status", token)
    registration = (
        await Registration.select().where(Registration.id == registration_id).first() if registration_id else None
    )
    if registration is None:
        raise NotFoundException(_("This link is not valid."))
    return registration


async def in_scope(principal: Principal, registration_id: UUID) -> dict:
    """The application if it is of one of the principal's areas; 404 otherwise."""
    registration = await Registration.select().where(Registration.id == registration_id).first()
    if registration is None or not principal.may_see_area(registration["area"]):
        raise NotFoundException(f"no application {registration_id} that you may see")
    return registration


async def messages_of(registration_id: UUID) -> list[dict]:
    return (
        await RegistrationMessage.select(
            RegistrationMessage.body,
            RegistrationMessage.created_at,
            RegistrationMessage.author.display_name.as_alias("author_name"),
            RegistrationMessage.author.as_alias("author"),
        )
        .where(RegistrationMessage.registration == registration_id)
        .order_by(RegistrationMessage.created_at)
    )


def _still_open(registration: dict) -> None:
    if registration["state"] not in OPEN:
        raise HTTPException(status_code=409, detail=_("This application has already been decided."))


async def _message(registration_id: UUID, author: UUID | None, body: str) -> None:
    await RegistrationMessage.insert(
        RegistrationMessage(id=uuid4(), registration=registration_id, author=author, body=body, created_at=now())
    )


async def ask(registration: dict, actor: UUID, question: str, base_url: str) -> None:
    _still_open(registration)
    async with write_transaction():
        await _message(registration["id"], actor, question)
        await Registration.update({Registration.state: RegistrationState.asked.value}).where(
            Registration.id == registration["id"]
        )
        await tell_applicant(
            registration,
            _("A question about your application"),
            "question",
            question=question,
            link=status_link(base_url, registration["id"]),
        )
        await audit(actor, "registration.ask", f"registration:{registration['id']}", question[:200])


async def answer(registration: dict, text: str) -> None:
    """The applicant's answer (or a note): the application waits for staff again."""
    _still_open(registration)
    async with write_transaction():
        await _message(registration["id"], None, text)
        await Registration.update({Registration.state: RegistrationState.submitted.value}).where(
            Registration.id == registration["id"]
        )
        await audit(None, "registration.answer", f"registration:{registration['id']}", text[:200])


@dataclass(frozen=True)
class Approved:
    group_id: UUID
    ibasho_id: UUID


async def approve(registration: dict, actor: UUID, base_url: str) -> Approved:
    _still_open(registration)
    group_id, ibasho_id = uuid4(), uuid4()
    async with write_transaction():
        if await Group.exists().where(
            (Group.area == registration["area"]) & (Group.name == registration["group_name"])
        ):
            raise HTTPException(status_code=409, detail=_("A group of that name is already registered in the area."))
        await Group.insert(
            Group(
                id=group_id,
                area=registration["area"],
                name=registration["group_name"],
                name_kana=registration["group_kana"],
                representative=registration["representative"],
                contact="\n".join(filter(None, (registration["email"], registration["phone"]))),
                registered_on=now().date(),
                created_at=now(),
            )
        )
        await Ibasho.insert(
            Ibasho(
                id=ibasho_id,
                group=group_id,
                name=registration["ibasho_name"],
                venue=registration["venue"],
                kind=registration["kind"],
                audience=registration["audience"],
                registration_required=registration["registration_required"],
                listed=registration["listed"],
                rrule=registration["rrule"],
                start_time=registration["start_time"],
                end_time=registration["end_time"],
                active_from=now().date(),
                description=registration["description"],
                created_at=now(),
            )
        )
        await publish_server_change("group", group_id, group_id)
        await publish_server_change("ibasho", ibasho_id, group_id)
        await Registration.update(
            {
                Registration.state: RegistrationState.approved.value,
                Registration.decided_at: now(),
                Registration.decided_by: actor,
                Registration.group: group_id,
            }
        ).where(Registration.id == registration["id"])
        token = await create_invitation(group_id, actor, registration["representative"])
        await tell_applicant(
            registration, _("Your place is registered"), "approved", invitation=f"{base_url}/invite/{token}"
        )
        await audit(actor, "registration.approve", f"registration:{registration['id']}", group=group_id)
    await ensure_sessions_ahead(ibasho_id)
    return Approved(group_id, ibasho_id)


async def decline(registration: dict, actor: UUID, reason: str) -> None:
    _still_open(registration)
    async with write_transaction():
        await _message(registration["id"], actor, reason)
        await Registration.update(
            {
                Registration.state: RegistrationState.declined.value,
                Registration.decided_at: now(),
                Registration.decided_by: actor,
            }
        ).where(Registration.id == registration["id"])
        await tell_applicant(registration, _("About your application"), "declined", reason=reason)
        await audit(actor, "registration.decline", f"registration:{registration['id']}", reason[:200])
