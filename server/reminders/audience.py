"""Which sessions the public hears of: an ibasho's page, poster and calendar feed, and the
reminders of the participants subscribed to it. Sessions and events are open to anyone;
a meeting (会議) is for the group's members only, even when it is linked to an ibasho.
"""

from __future__ import annotations

from server.tables import Session, SessionKind

# An allow-list: a kind added later stays among the members until someone opens it up.
PUBLIC_KINDS = (SessionKind.session.value, SessionKind.event.value)


def is_public(session: dict) -> bool:
    return session["kind"] in PUBLIC_KINDS


def public_only():
    """The same rule as a query condition on Session."""
    return Session.kind.is_in(list(PUBLIC_KINDS))
