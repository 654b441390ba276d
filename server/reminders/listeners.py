"""What the reminders area does when others change sessions or ibasho: bring their pending
deliveries in line at once, rather than at the next reconcile (server/core/events.py)."""

from __future__ import annotations

from server.core.events import IbashoChanged, SessionsChanged, listen
from server.reminders.planning import refresh_ibasho, refresh_sessions


async def _sessions_changed(event: SessionsChanged) -> None:
    await refresh_sessions(event.session_ids)


async def _ibasho_changed(event: IbashoChanged) -> None:
    await refresh_ibasho(event.ibasho_id)


def register() -> None:
    listen(SessionsChanged, _sessions_changed)
    listen(IbashoChanged, _ibasho_changed)
