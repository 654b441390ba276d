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
