"""``POST /api/sync/push`` and ``GET /api/sync/pull``: the sync engine over HTTP (docs/sync.md)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.exceptions import HTTPException, PermissionDeniedException, ValidationException
from litestar.params import FromQuery, Parameter
from litestar.status_codes import HTTP_409_CONFLICT, HTTP_413_REQUEST_ENTITY_TOO_LARGE

from server.auth.guards import principal_of, signed_in
from server.auth.principal import sync_scope
from server.core.clock import now
from server.core.events import SessionsChanged, publish
from server.db import read_transaction, write_transaction
from server.sync.store import PiccoloStore
from server.tables import SyncClient
from server.web.openapi import error_responses, raw_json_body
from sync import engine
from sync.wire import (
    DEFAULT_PULL_LIMIT,
    MAX_CURSOR,
    MAX_MUTATIONS,
    MAX_PULL_LIMIT,
    EnvelopeError,
    PullResponse,
    PushRequest,
    PushResponse,
    SeqGap,
)

PULL_TOUCH = timedelta(minutes=10)  # a device's last pull is written at most this often


class SeqGapOut(msgspec.Struct, kw_only=True):
    """The 409 a client acts on: resend from ``expected_seq`` (docs/sync.md)."""

    error: Literal["seq_gap"] = "seq_gap"
    expected_seq: int
    detail: str


def decode_push(body: bytes) -> PushRequest:
    """Strict decoding: a string where a number belongs is an error, named by its path. JSON
    has one kind of number, so a seq written ``2.0`` is the integer 2 (as JSON Schema, and so
    the API document, reads it), which msgspec's strict mode alone would refuse."""
    try:
        push = msgspec.json.decode(body)
        mutations = push.get("mutations") if isinstance(push, dict) else None
        for mutation in mutations if isinstance(mutations, list) else ():
            if isinstance(mutation, dict) and isinstance(seq := mutation.get("seq"), float) and seq.is_integer():
                mutation["seq"] = int(seq)
        return msgspec.convert(push, type=PushRequest, strict=True)
    except msgspec.ValidationError as error:
        raise ValidationException(detail=f"invalid push: {error}") from None
    except msgspec.DecodeError as error:
        raise ValidationException(detail=f"request body is not valid JSON: {error}") from None


@post(
    "/push",
    guards=[signed_in],
    status_code=200,
    summary="Apply a batch of mutations exactly once (see docs/sync.md)",
    # The route decodes the body itself, strictly (a string where a number belongs is an error).
    operation_class=raw_json_body(
        PushRequest, f"mutations[].seq are consecutive (1, 2, 3, … per client); at most {MAX_MUTATIONS} mutations"
    ),
    responses=error_responses(
        400,
        401,
        403,
        409,
        413,
        bodies={409: SeqGapOut},
        why={
            400: "Not JSON, a field missing or of the wrong type, seqs not consecutive, or a NUL in a mutation's "
            "id, name or hlc; nothing is applied",
            403: "CSRF token missing or wrong, or the client_id belongs to another account",
            409: "The first new mutation is not `last_seq + 1`: nothing is applied; resend from `expected_seq`",
            413: f"Body over 1 MiB, or more than {MAX_MUTATIONS} mutations; nothing is applied",
        },
    ),
)
async def sync_push(request: Request) -> Response[PushResponse]:
    data = decode_push(await request.body())
    if len(data.mutations) > MAX_MUTATIONS:
        raise HTTPException(
            status_code=HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            detail=f"a push holds at most {MAX_MUTATIONS} mutations, this one {len(data.mutations)}",
        )
    principal = principal_of(request)
    try:
        result = await engine.push(PiccoloStore(), await sync_scope(principal), data)
    except SeqGap as gap:
        return Response(SeqGapOut(expected_seq=gap.expected_seq, detail=str(gap)), status_code=HTTP_409_CONFLICT)
    except EnvelopeError as error:
        raise ValidationException(detail=str(error)) from None
    except engine.ClientOwnedByAnother as error:
        raise PermissionDeniedException(str(error)) from None
    # After the commit: a session created, moved or cancelled gets its reminders now.
    applied = {r.seq for r in result.results if r.status == "applied"}
    await publish(
        SessionsChanged(
            tuple(m.args.get("id") for m in data.mutations if m.name == "session.upsert" and m.seq in applied)
        )
    )
    return Response(result)


@get(
    "/pull",
    guards=[signed_in],
    summary="Changes after a cursor, within the caller's scope",
    responses=error_responses(400, 401, 403, why={403: "The client_id belongs to another account"}),
)
async def sync_pull(
    request: Request,
    client_id: FromQuery[UUID],
    cursor: Annotated[int, Parameter(ge=0, le=MAX_CURSOR, description="the cursor of the last page; 0: all")] = 0,
    limit: Annotated[int, Parameter(ge=1, le=MAX_PULL_LIMIT, description="changes per page")] = DEFAULT_PULL_LIMIT,
) -> PullResponse:
    principal = principal_of(request)
    async with read_transaction():
        device = SyncClient.select(SyncClient.account, SyncClient.last_pull_at)
        owner = await device.where(SyncClient.id == client_id).first()
        if owner is not None and owner["account"] != principal.account_id:
            raise PermissionDeniedException(f"client {client_id} belongs to another account")
        page = await engine.pull(PiccoloStore(), await sync_scope(principal), client_id, cursor, limit)
    if owner is not None and (owner["last_pull_at"] is None or now() - owner["last_pull_at"] > PULL_TOUCH):
        async with write_transaction():  # staff see when each phone last synced (the follow-up list)
            await SyncClient.update({SyncClient.last_pull_at: now()}).where(SyncClient.id == client_id)
    return page


sync_router = Router(path="/api/sync", route_handlers=[sync_push, sync_pull], tags=["sync"])
