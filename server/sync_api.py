"""``POST /api/sync/push`` and ``GET /api/sync/pull``: the sync engine over HTTP (shared/SYNC.md)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec

from litestar import Request, Response, Router, get, post
from litestar.exceptions import HTTPException, PermissionDeniedException, ValidationException
from litestar.params import FromQuery, Parameter
from litestar.status_codes import HTTP_409_CONFLICT, HTTP_413_REQUEST_ENTITY_TOO_LARGE

from server.auth.guards import principal_of, signed_in
from server.auth.principal import sync_scope
from server.reminders.delivery import refresh_sessions
from server.sync_store import PiccoloStore
from server.tables import SyncClient
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


def decode_push(body: bytes) -> PushRequest:
    """Strict decoding: a string where a number belongs is an error, named by its path."""
    try:
        return msgspec.json.decode(body, type=PushRequest, strict=True)
    except msgspec.ValidationError as error:
        raise ValidationException(detail=f"invalid push: {error}") from None
    except msgspec.DecodeError as error:
        raise ValidationException(detail=f"request body is not valid JSON: {error}") from None


@post(
    "/push",
    guards=[signed_in],
    status_code=200,
    summary="Apply a batch of mutations exactly once (body: PushRequest, see docs/sync.md)",
)
async def sync_push(request: Request) -> Response[PushResponse] | Response[dict]:
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
        return Response(
            {"error": "seq_gap", "expected_seq": gap.expected_seq, "detail": str(gap)}, status_code=HTTP_409_CONFLICT
        )
    except EnvelopeError as error:
        raise ValidationException(detail=str(error)) from None
    except engine.ClientOwnedByAnother as error:
        raise PermissionDeniedException(str(error)) from None
    # After the commit: a session created, moved or cancelled gets its reminders now.
    applied = {r.seq for r in result.results if r.status == "applied"}
    await refresh_sessions(m.args.get("id") for m in data.mutations if m.name == "session.upsert" and m.seq in applied)
    return Response(result)


@get("/pull", guards=[signed_in], summary="Changes after a cursor, within the caller's scope")
async def sync_pull(
    request: Request,
    client_id: FromQuery[UUID],
    cursor: Annotated[int, Parameter(ge=0, le=MAX_CURSOR, description="the cursor of the last page; 0: all")] = 0,
    limit: Annotated[int, Parameter(ge=1, le=MAX_PULL_LIMIT, description="changes per page")] = DEFAULT_PULL_LIMIT,
) -> PullResponse:
    principal = principal_of(request)
    owner = await SyncClient.select(SyncClient.account).where(SyncClient.id == client_id).first()
    if owner is not None and owner["account"] != principal.account_id:
        raise PermissionDeniedException(f"client {client_id} belongs to another account")
    return await engine.pull(PiccoloStore(), await sync_scope(principal), client_id, cursor, limit)


sync_router = Router(path="/api/sync", route_handlers=[sync_push, sync_pull], tags=["sync"])
