"""The server's VAPID key pair: made once, kept in the data dir (or IBASHO_VAPID_KEY), never in the repo.

``authorization(endpoint)`` signs a VAPID JWT whose ``aud`` is the push service's origin
*with* its port (webpush 1.0.x drops the port), cached per origin for up to 12 hours.
"""

from __future__ import annotations

import os
import time
from base64 import urlsafe_b64encode
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from server.config import Settings, get_settings

TOKEN_LIFETIME = 12 * 3600  # seconds; push services accept at most 24 h
_REUSE_MARGIN = 3600  # a cached header is replaced an hour before it expires


def key_path(settings: Settings | None = None) -> Path:
    settings = settings or get_settings()
    return settings.vapid_key_path or settings.data_dir / "vapid_private.pem"


def ensure_key(path: Path | None = None) -> tuple[Path, bool]:
    """The key file, made now if missing (mode 0600). Returns (path, created)."""
    path = path or key_path()
    if path.exists():
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(pem)
    tmp.chmod(0o600)
    try:
        os.link(tmp, path)  # atomic and exclusive: two processes starting at once keep one key
    except FileExistsError:
        return path, False
    finally:
        tmp.unlink()
    return path, True


class Vapid:
    def __init__(self, pem: bytes, subject: str) -> None:
        self.private_key = serialization.load_pem_private_key(pem, password=None)
        assert isinstance(self.private_key, ec.EllipticCurvePrivateKey)
        self.private_pem = pem
        self.public_pem = self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.application_server_key = urlsafe_b64encode(raw).rstrip(b"=").decode()
        self.subject = subject
        self._cache: dict[str, tuple[str, float]] = {}

    def authorization(self, endpoint: str, now: float | None = None) -> str:
        now = time.time() if now is None else now
        origin = origin_of(endpoint)
        cached = self._cache.get(origin)
        if cached is not None and cached[1] - _REUSE_MARGIN > now:
            return cached[0]
        expires = int(now) + TOKEN_LIFETIME
        token = jwt.encode({"aud": origin, "exp": expires, "sub": self.subject}, self.private_key, algorithm="ES256")
        header = f"vapid t={token}, k={self.application_server_key}"
        self._cache[origin] = (header, expires)
        return header


def origin_of(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1].lower()}"


@lru_cache(maxsize=1)
def load_vapid() -> Vapid:
    settings = get_settings()
    path, _ = ensure_key(key_path(settings))
    return Vapid(path.read_bytes(), settings.vapid_subject)
