"""Ids the sync contract asks clients to make, and the ids derived from other records.

A derived id is a UUID version 5 computed from the ids of the records it belongs to, so
that two phones offline (or a phone and the server) name the same thing the same way.
Ids a phone makes for new records are random (version 4) or time-ordered (version 7),
never version 5: a version 5 id is always derived, and is only valid for the inputs it is
derived from (see ``sync.mutations``). The PWA computes the same ids (pwa/js/store.js).
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import date

DERIVED_VERSION = 5


def uuid7() -> str:
    """A time-ordered UUID (version 7), as phones make for their mutations."""
    millis = time.time_ns() // 1_000_000
    raw = bytearray(millis.to_bytes(6, "big") + os.urandom(10))
    raw[6] = (raw[6] & 0x0F) | 0x70
    raw[8] = (raw[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(raw)))


def is_derived(entity_id: uuid.UUID | str) -> bool:
    """Whether an id has the shape of a derived one (UUID version 5)."""
    try:
        return uuid.UUID(str(entity_id)).version == DERIVED_VERSION
    except ValueError:
        return False


# uuid5(NAMESPACE_URL, "https://ibasho.invalid/scheduled-session"): existing rows carry ids made with it.
SCHEDULED_SESSION_NAMESPACE = uuid.UUID("6d22dc3b-3dcc-5b5a-8cd0-437d18d2ba86")
SAFETY_CHECK_NAMESPACE = uuid.UUID("16485120-4ce7-5a47-bfc2-ec9c5251a647")  # uuid5(URL, ".../safety-check")


def scheduled_session_id(ibasho_id: uuid.UUID | str, day: date) -> uuid.UUID:
    """The session an ibasho's schedule implies on one day: the server makes it ahead of
    time, and every phone sees the same id for it."""
    return uuid.uuid5(SCHEDULED_SESSION_NAMESPACE, f"{ibasho_id}:{day.isoformat()}")


def safety_check_id(session_id: str, person_id: str) -> str:
    """The id of the 安否確認 follow-up for one person's absence from one session: one
    record whether a phone offline or the server opens it."""
    return str(uuid.uuid5(SAFETY_CHECK_NAMESPACE, f"{session_id}:{person_id}"))
