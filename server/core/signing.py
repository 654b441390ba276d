"""Signed capability tokens: the server secret signs them and nothing is stored, so a link
can be made again whenever it is needed (in a second mail, say) and checked without a
lookup. A token is ``<part>.<part>…<mac>``: the parts are hex ids and numbers, the MAC is
HMAC-SHA256 (truncated to 128 bits, base64url) over the purpose and the parts, so a token
of one purpose never passes for another. Changing the secret voids every token.
"""

from __future__ import annotations

import hashlib
import hmac
from base64 import urlsafe_b64encode
from uuid import UUID

from server.config import get_settings


def _mac(purpose: str, body: str) -> str:
    digest = hmac.new(get_settings().secret.encode(), f"{purpose}|{body}".encode(), hashlib.sha256).digest()
    return urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def sign(purpose: str, *parts: str) -> str:
    body = ".".join(parts)
    return f"{body}.{_mac(purpose, body)}"


def signed_id(purpose: str, token: str) -> UUID | None:
    """The id a one-part token of ``purpose`` carries (``sign(purpose, id.hex)``), or None."""
    parts = verify(purpose, token, 1)
    try:
        return UUID(hex=parts[0]) if parts else None
    except ValueError:
        return None


def verify(purpose: str, token: str, count: int) -> list[str] | None:
    """The token's ``count`` parts if its MAC is right, else None."""
    body, _, mac = token.rpartition(".")
    parts = body.split(".")
    if len(parts) != count or not hmac.compare_digest(mac.encode(), _mac(purpose, body).encode()):
        return None
    return parts
