"""Ids the sync contract asks clients to make."""

from __future__ import annotations

import os
import time
import uuid


def uuid7() -> str:
    """A time-ordered UUID (version 7), as phones make for their mutations."""
    millis = time.time_ns() // 1_000_000
    raw = bytearray(millis.to_bytes(6, "big") + os.urandom(10))
    raw[6] = (raw[6] & 0x0F) | 0x70
    raw[8] = (raw[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(raw)))


# Phones compute the same id (pwa/js/ids.js), so a follow-up opened offline on a phone and
# the one the server opens for the same absence are one record, never two.
SAFETY_CHECK_NAMESPACE = uuid.UUID("16485120-4ce7-5a47-bfc2-ec9c5251a647")  # uuid5(URL, ".../safety-check")


def safety_check_id(session_id: str, person_id: str) -> str:
    """The id of the 安否確認 follow-up for one person's absence from one session."""
    return str(uuid.uuid5(SAFETY_CHECK_NAMESPACE, f"{session_id}:{person_id}"))
