"""A phone as the sync contract sees it: outbox with seqs, an HLC, a local copy, a cursor.

Used by the sync tests to talk to the real HTTP API like the PWA does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sync.hlc import Clock
from sync.ids import uuid7

if TYPE_CHECKING:
    from tests.factories import Client  # imports this module


@dataclass
class Phone:
    http: Client
    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    outbox: list[dict] = field(default_factory=list)
    next_seq: int = 1
    cursor: int = 0
    state: dict[tuple[str, str], dict] = field(default_factory=dict)
    clock: Clock | None = None

    def __post_init__(self) -> None:
        self.clock = self.clock or Clock(self.client_id)

    def mutate(self, name: str, **args: Any) -> dict:
        mutation = {"id": uuid7(), "seq": self.next_seq, "name": name, "args": args, "hlc": self.clock.tick()}
        self.next_seq += 1
        self.outbox.append(mutation)
        return mutation

    async def push(self, mutations: list[dict] | None = None):
        body = {"client_id": self.client_id, "mutations": self.outbox if mutations is None else mutations}
        response = await self.http.post("/api/sync/push", json=body)
        if response.status_code == 200:
            last_seq = response.json()["last_seq"]
            self.outbox = [m for m in self.outbox if m["seq"] > last_seq]
        return response

    async def pull(self, limit: int = 1000) -> list[dict]:
        """Pull every page; returns all the changes seen."""
        seen = []
        while True:
            response = await self.http.get(
                "/api/sync/pull", params={"client_id": self.client_id, "cursor": self.cursor, "limit": limit}
            )
            assert response.status_code == 200, response.text
            page = response.json()
            for change in page["changes"]:
                key = (change["entity"], change["id"])
                if change["deleted"]:
                    self.state.pop(key, None)
                else:
                    self.state[key] = change["data"]
                    for stamp in (change["data"].get("hlcs") or {}).values():
                        self.clock.observe(stamp)  # as the PWA does: its next edits come after
            seen += page["changes"]
            self.outbox = [m for m in self.outbox if m["seq"] > page["last_seq"]]
            self.cursor = page["cursor"]
            if not page["more"]:
                return seen

    async def sync(self) -> None:
        if self.outbox:
            response = await self.push()
            assert response.status_code == 200, response.text
        await self.pull()

    def get(self, entity: str, entity_id: str) -> dict | None:
        return self.state.get((entity, entity_id))
