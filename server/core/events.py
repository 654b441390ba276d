"""Changes one area makes that another reacts to, without the first calling into the second.

An area publishes what happened ("these sessions changed", "this ibasho changed") after its
transaction committed; areas that care listen (the reminders bring their deliveries in
line; server/reminders/listeners.py, registered by server/app.py and by the test harness).
Listeners are
best effort: a failure is logged and the periodic work repairs it (the reminders'
reconcile), so a change never fails because a reaction did.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID

log = logging.getLogger("ibasho.events")


@dataclass(frozen=True)
class SessionsChanged:
    """Sessions were created, moved, cancelled or deleted, or who hears of them changed."""

    session_ids: tuple[object, ...]  # ids as phones sent them: UUIDs or text, not checked yet


@dataclass(frozen=True)
class IbashoChanged:
    """An ibasho's schedule, time zone or reminder rule changed: its upcoming sessions follow."""

    ibasho_id: UUID


Event = SessionsChanged | IbashoChanged
_listeners: dict[type, list[Callable[[Event], Awaitable[None]]]] = {}


def listen(event_type: type, listener: Callable[[Event], Awaitable[None]]) -> None:
    """Once per listener (the app may be built more than once in a process: tests)."""
    listeners = _listeners.setdefault(event_type, [])
    if listener not in listeners:
        listeners.append(listener)


async def publish(event: Event) -> None:
    for listener in _listeners.get(type(event), []):
        try:
            await listener(event)
        except Exception:
            log.exception("a listener of %s failed; the periodic work repairs it", type(event).__name__)
