"""Mutations the server makes itself: a paper sheet typed in by staff, a participant's
「欠席します」 from a notification. They go through the engine as one push from a fresh
device, so they are validated, authorised, merged and logged like any phone's, and
phones learn of them by pull."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID, uuid4

from server.auth.accounts import server_account_id
from server.sync.store import PiccoloStore
from sync import engine
from sync.hlc import Clock
from sync.mutations import Scope
from sync.wire import Mutation, PushRequest, PushResponse


async def apply_as_server(
    scope: Scope, mutations: list[tuple[str, dict[str, Any]]], actor: UUID | None = None
) -> PushResponse:
    """Apply ``(name, args)`` mutations within ``scope`` as one push, as ``actor`` (the
    staff member typing) or, with nobody logged in, as the server's own account."""
    account = actor or await server_account_id()
    client_id = uuid4()
    clock = Clock(str(client_id))
    request = PushRequest(
        client_id=client_id,
        mutations=[
            Mutation(id=str(uuid4()), seq=seq, name=name, args=args, hlc=clock.tick())
            for seq, (name, args) in enumerate(mutations, start=1)
        ],
    )
    return await engine.push(PiccoloStore(), replace(scope, account_id=account), request)
