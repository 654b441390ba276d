"""Hybrid logical clocks: ``"{wall_ms:018d}-{counter:05d}-{client_id}"``, ordered as strings."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

HLC_PATTERN = re.compile(r"([0-9]{18})-([0-9]{5})-([0-9A-Za-z-]{1,64})")  # whole string, ASCII digits
MAX_SKEW_MS = 5 * 60 * 1000  # the server clamps clocks further ahead than this
MAX_COUNTER = 99_999


class InvalidHLC(ValueError):
    pass


@dataclass(frozen=True, order=True)
class HLC:
    wall_ms: int
    counter: int
    node: str

    def __str__(self) -> str:
        return f"{self.wall_ms:018d}-{self.counter:05d}-{self.node}"

    @classmethod
    def parse(cls, text: str) -> HLC:
        match = HLC_PATTERN.fullmatch(text)
        if match is None:
            raise InvalidHLC(f"hlc must look like 000001732280000000-00003-<client id>, got {text[:80]!r}")
        return cls(int(match[1]), int(match[2]), match[3])


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def clamp(text: str, server_now_ms: int) -> str:
    """The HLC the server records: a wall time more than MAX_SKEW_MS ahead becomes the
    server's own time, so a phone whose clock runs fast cannot win every later edit."""
    stamp = HLC.parse(text)
    if stamp.wall_ms > server_now_ms + MAX_SKEW_MS:
        stamp = HLC(server_now_ms, stamp.counter, stamp.node)
    return str(stamp)


def beyond_every_clock(node: str, server_now_ms: int) -> str:
    """An HLC later than any the server has recorded up to now: clamped clocks reach at
    most MAX_SKEW_MS ahead of it. For a server write that must win over every edit made
    before it (an erasure)."""
    return str(HLC(server_now_ms + MAX_SKEW_MS + 1, 0, node))


class Clock:
    """A client's clock: never goes backwards, and moves past every HLC it has seen."""

    def __init__(self, node: str, wall=now_ms) -> None:
        self.node = node
        self.wall = wall
        self.last = HLC(0, 0, node)

    def tick(self) -> str:
        wall = self.wall()
        if wall > self.last.wall_ms:
            self.last = HLC(wall, 0, self.node)
        elif self.last.counter < MAX_COUNTER:
            self.last = HLC(self.last.wall_ms, self.last.counter + 1, self.node)
        else:
            self.last = HLC(self.last.wall_ms + 1, 0, self.node)
        return str(self.last)

    def observe(self, text: str) -> None:
        seen = HLC.parse(text)
        if (seen.wall_ms, seen.counter) > (self.last.wall_ms, self.last.counter):
            self.last = HLC(seen.wall_ms, seen.counter, self.node)
