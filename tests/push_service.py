"""A fake Web Push service on loopback for the reminder tests and the fan-out bench.

It is a real HTTPS server (Hypercorn in a thread, a certificate from a throwaway test CA),
speaking HTTP/2 and HTTP/1.1 as the browser vendors' push services do; a client trusts it
through ``ssl_context()``. Each POST must carry a VAPID
``Authorization: vapid t=<JWT>, k=<key>`` whose ES256 signature verifies against ``k``,
whose ``aud`` is this server's origin (with its port), ``exp`` at most 24 h ahead and
``sub`` present; the body is decrypted with http_ece using the subscriber's private key,
which the test holds. It answers as the test scripts it (default 201).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import ssl
import tempfile
import threading
import time
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass, field
from pathlib import Path

import http_ece
import jwt
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypercorn.asyncio import serve
from hypercorn.config import Config


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
        return b64(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    @property
    def auth(self) -> str:
        return b64(self.auth_secret)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    payload: dict
    status: int
    http_version: str = "1.1"
    client_port: int = 0  # tells the connections apart


class FakePushService:
    def __init__(self, latency: float = 0.0, requests_per_connection: int = 0) -> None:
        """``latency``: seconds each answer takes, as a remote push service's round trip would.
        ``requests_per_connection``: close each connection (HTTP/2 GOAWAY) after this many
        requests, as real push services now and then do; 0 = never."""
        self.latency = latency
        self.subscribers: dict[str, Subscriber] = {}
        self.script: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self.received: list[Received] = []
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self._verified: dict[str, dict] = {}  # Authorization header -> its claims, checked once
        self._dir = tempfile.TemporaryDirectory(prefix="ibasho-push-")
        self._ca = trustme.CA()
        cert = Path(self._dir.name) / "cert.pem"
        self._ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(cert))
        self.ca_file = Path(self._dir.name) / "ca.pem"  # SSL_CERT_FILE for a sender in another process
        self._ca.cert_pem.write_to_path(str(self.ca_file))
        listener = socket.create_server(("127.0.0.1", 0), backlog=256)
        self.port = listener.getsockname()[1]
        self.origin = f"https://127.0.0.1:{self.port}"
        config = Config()
        config.bind = [f"fd://{listener.detach()}"]
        config.certfile = config.keyfile = str(cert)
        config.alpn_protocols = ["h2", "http/1.1"]
        config.keep_alive_max_requests = requests_per_connection or 1 << 62
        config.accesslog = config.errorlog = None
        self._loop = asyncio.new_event_loop()
        self._stopped = asyncio.Event()
        started = threading.Event()

        async def run() -> None:
            self._loop.call_soon(started.set)
            await serve(self._asgi, config, shutdown_trigger=self._stopped.wait)

        self.thread = threading.Thread(target=self._loop.run_until_complete, args=(run(),), daemon=True)
        self.thread.start()
        started.wait(10)

    def close(self) -> None:
        if self._loop.is_closed():
            return  # a test closed it early (the service gone)
        self._loop.call_soon_threadsafe(self._stopped.set)
        self.thread.join(10)
        self._loop.close()
        self._dir.cleanup()

    def ssl_context(self) -> ssl.SSLContext:
        """A client context that trusts this service's certificate."""
        return ssl.create_default_context(cafile=self.ca_file)

    async def _asgi(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the connection went before the body was whole: nothing was delivered
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if self.latency:
            await asyncio.sleep(self.latency)
        headers = {name.decode().lower(): value.decode() for name, value in scope["headers"]}
        status, extra = self.handle(scope["path"], headers, body, scope["http_version"], scope["client"][1])
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode(), v.encode()) for k, v in extra.items()] + [(b"content-length", b"0")],
            }
        )
        await send({"type": "http.response.body", "body": b""})

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
            parts = dict(part.strip().split("=", 1) for part in auth[len("vapid ") :].split(","))
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

    def handle(
        self, path: str, headers: dict[str, str], body: bytes, http_version: str, client_port: int
    ) -> tuple[int, dict[str, str]]:
        try:
            payload = self._verify(path, headers, body)
        except Exception as error:  # a test asserts errors == []
            with self.lock:
                self.errors.append(f"{path}: {type(error).__name__}: {error}")
            return 400, {}
        with self.lock:
            queue = self.script.get(path) or []
            status, extra = queue.pop(0) if queue else (201, {})
            self.received.append(Received(path, headers, payload, status, http_version, client_port))
        return status, extra
