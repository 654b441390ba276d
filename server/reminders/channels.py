"""Which sender carries a delivery: its subscription's channel decides. Every channel goes
through the same queue (claim, lease, retries, removal on a permanent failure); only the
last step, the send itself, differs."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from server.reminders.sender import Outcome
from server.tables import SubscriptionChannel


class ChannelSender(Protocol):
    async def send(self, row: dict, now: datetime) -> Outcome: ...


class Channels:
    def __init__(self, **senders: ChannelSender) -> None:
        self.senders = senders  # channel name -> sender

    async def send(self, row: dict, now: datetime) -> Outcome:
        sender = self.senders.get(row.get("channel") or SubscriptionChannel.webpush.value)
        if sender is None:  # e.g. LINE before its channel is configured: retried, then given up
            return Outcome(status=None, error=f"no sender for channel {row.get('channel')}")
        return await sender.send(row, now)

    async def close(self) -> None:
        """The senders' kept connections (SMTP sessions, LINE's API clients)."""
        for sender in self.senders.values():
            if close := getattr(sender, "close", None):
                await close()
