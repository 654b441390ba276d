"""Which sessions the public hears of: an ibasho's page, poster and calendar feed, and the
reminders of the participants subscribed to it. Sessions and events are open to anyone;
a meeting (会議) is for the group's members only, even when it is linked to an ibasho.
And which ibasho take new subscribers: active ones only, on every channel.
"""

from __future__ import annotations

from uuid import UUID

from litestar.exceptions import HTTPException, NotFoundException
from litestar.status_codes import HTTP_409_CONFLICT

from server.core.i18n import gettext as _
from server.tables import Ibasho, IbashoStatus, Session, SessionKind

# An allow-list: a kind added later stays among the members until someone opens it up.
PUBLIC_KINDS = (SessionKind.session.value, SessionKind.event.value)


def is_public(session: dict) -> bool:
    return session["kind"] in PUBLIC_KINDS


def public_only():
    """The same rule as a query condition on Session."""
    return Session.kind.is_in(list(PUBLIC_KINDS))


class SignUpsClosed(HTTPException):
    status_code = HTTP_409_CONFLICT
    code = "sign_ups_closed"  # the public page's script says so in words (server/static/reminders.js)


def closed_message() -> str:
    return _("This ibasho is not taking new sign-ups for reminders now.")


async def ibasho_taking_sign_ups(ibasho_id: UUID) -> dict:
    """The ibasho a new subscription (email, phone, LINE) is for: 404 if there is none, and
    if it is paused or closed a 409 that says so (a page left open from before, or a code
    or confirmation link sent then, must not sign anyone up)."""
    row = await Ibasho.select().where(Ibasho.id == ibasho_id).first()
    if row is None:
        raise NotFoundException("no such ibasho")
    if row["status"] != IbashoStatus.active.value:
        raise SignUpsClosed(detail=closed_message())
    return row
