"""A real SMTP server on loopback (aiosmtpd) for the mail tests: it keeps every message it
accepts, parsed, and can be told to refuse an address for good (550) or for now (451)."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.server_process import free_port


@dataclass
class FakeMailServer:
    refuse: dict[str, int] = field(default_factory=dict)  # address -> SMTP code to answer RCPT with
    received: list[EmailMessage] = field(default_factory=list)
    peers: list[tuple] = field(default_factory=list)  # the client's (address, port) of each message: its session

    def __post_init__(self) -> None:
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def restart(self) -> None:
        """Stop and start again on the same port: every open session is dropped, as a relay
        restarting (or timing idle clients out) does."""
        self.controller.stop()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's name)
        code = self.refuse.get(address)
        if code:
            return f"{code} {'mailbox unavailable' if code >= 500 else 'try again later'}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.received.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        self.peers.append(session.peer)
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.received if message["To"] == address]

    def stop(self) -> None:
        self.controller.stop()
