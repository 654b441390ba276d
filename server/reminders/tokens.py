"""Signed capability tokens of the reminders; nothing is stored, the server secret signs them.

- A *person link* (``person_link``): lets one phone tie its subscription to a registered
  participant. The organiser shows it as a QR code; it expires after PERSON_LINK_LIFETIME.
- An *absence reply* (``absence``): names one delivery, so whoever holds the notification
  (and only they) can answer 「欠席します」 for that person and session. It lives as long
  as its delivery row: stopping the subscription makes it worthless.

Both are signed as server/core/signing.py says.
"""

from __future__ import annotations

import hashlib
import time
from uuid import UUID

from server.core.signing import sign, verify

PERSON_LINK_LIFETIME = 15 * 60  # seconds: shown and scanned at the venue, then useless


def person_link(person_id: UUID, ibasho_id: UUID, now: float | None = None) -> tuple[str, int]:
    """(token, expiry as a Unix time)."""
    expires = int(time.time() if now is None else now) + PERSON_LINK_LIFETIME
    return sign("person-link", person_id.hex, ibasho_id.hex, str(expires)), expires


def read_person_link(token: str, now: float | None = None) -> tuple[UUID, UUID] | None:
    """(person, ibasho) of a genuine, unexpired link; None otherwise."""
    parts = verify("person-link", token, 3)
    if parts is None or not parts[2].isdigit() or int(parts[2]) <= (time.time() if now is None else now):
        return None
    try:
        return UUID(hex=parts[0]), UUID(hex=parts[1])
    except ValueError:
        return None


def absence(delivery_id: UUID) -> str:
    return sign("absence", delivery_id.hex)


def read_absence(token: str) -> UUID | None:
    parts = verify("absence", token, 1)
    try:
        return UUID(hex=parts[0]) if parts else None
    except ValueError:
        return None


def manage_token_hash(token: str) -> str:
    """What is stored of a participant's management link (random, not signed): its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()
