"""A fake Web Push service on loopback for the reminder tests.

It is a real HTTP server (``http.server`` in a thread). Each POST must carry a VAPID
``Authorization: vapid t=<JWT>, k=<key>`` whose ES256 signature verifies against ``k``,
whose ``aud`` is this server's origin (with its port), ``exp`` at most 24 h ahead and
``sub`` present; the body is decrypted with http_ece using the subscriber's private key,
which the test holds. It answers as the test scripts it (default 201).
"""

from __future__ import annotations

import json
import os
import threading
import time
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def b64(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Subscriber:
    """A browser's side of a subscription: the keys the test keeps."""

    path: str
    private_key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth_secret: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        return b64(self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))

    @property
    def auth(self) -> str:
        return b64(self.auth_secret)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    payload: dict
    status: int


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # many senders connecting at once: no SYN dropped by a short backlog


class FakePushService:
    def __init__(self, latency: float = 0.0) -> None:
        """``latency``: seconds each answer takes, as a remote push service's round trip would."""
        self.latency = latency
        self.subscribers: dict[str, Subscriber] = {}
        self.script: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self.received: list[Received] = []
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self._verified: dict[str, dict] = {}  # Authorization header -> its claims, checked once
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real push services: one connection, many messages

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                status, headers = service.handle(self.path, {k.lower(): v for k, v in self.headers.items()},
                                                 self.rfile.read(int(self.headers.get("content-length", 0))))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def subscriber(self) -> Subscriber:
        sub = Subscriber(path=f"/push/{b64(os.urandom(12))}")
        self.subscribers[sub.path] = sub
        return sub

    def endpoint(self, sub: Subscriber) -> str:
        return self.origin + sub.path

    def answer(self, sub: Subscriber, *responses: tuple[int, dict[str, str]] | int) -> None:
        """The next answers for this subscriber, in order; then 201."""
        self.script.setdefault(sub.path, []).extend(r if isinstance(r, tuple) else (r, {}) for r in responses)

    def for_path(self, sub: Subscriber) -> list[Received]:
        return [r for r in self.received if r.path == sub.path]

    def _verify(self, path: str, headers: dict[str, str], body: bytes) -> dict:
        auth = headers.get("authorization", "")
        claims = self._verified.get(auth)
        if claims is None:  # a push service verifies a reused header once; exp is checked every time
            assert auth.startswith("vapid "), f"no vapid authorization: {auth!r}"
            parts = dict(part.strip().split("=", 1) for part in auth[len("vapid "):].split(","))
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(parts["k"]))
            claims = jwt.decode(parts["t"], key, algorithms=["ES256"], audience=self.origin)
            assert claims["exp"] <= time.time() + 24 * 3600, "exp more than 24 h ahead"
            assert claims.get("sub"), "no sub"
            self._verified[auth] = claims
        assert claims["exp"] > time.time(), "VAPID token expired"
        assert int(headers["ttl"]) > 0, "TTL must be > 0"
        assert headers.get("content-encoding") == "aes128gcm"
        assert headers.get("urgency") in {"very-low", "low", "normal", "high"}
        assert headers.get("topic") and len(headers["topic"]) <= 32
        sub = self.subscribers[path]
        plain = http_ece.decrypt(body, private_key=sub.private_key, auth_secret=sub.auth_secret, version="aes128gcm")
        return json.loads(plain)

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        if self.latency:
            time.sleep(self.latency)
        try:
            payload = self._verify(path, headers, body)
        except Exception as error:  # a test asserts errors == []
            with self.lock:
                self.errors.append(f"{path}: {type(error).__name__}: {error}")
            return 400, {}
        with self.lock:
            queue = self.script.get(path) or []
            status, extra = queue.pop(0) if queue else (201, {})
            self.received.append(Received(path, headers, payload, status))
        return status, extra
