"""Push (exactly once, one transaction) and pull (cursor pages within the caller's scope)."""

from __future__ import annotations

from uuid import UUID

from sync.entities import present
from sync.hlc import InvalidHLC, clamp, now_ms
from sync.mutations import Context, Rejected, Scope, UnitOfWork, parse_args, referenced
from sync.store import ChangeRef, LoggedMutation, Store
from sync.wire import (
    DEFAULT_PULL_LIMIT,
    MAX_PULL_LIMIT,
    Change,
    MutationResult,
    PullResponse,
    PushRequest,
    PushResponse,
    SeqGap,
    check_envelope,
)


class ClientOwnedByAnother(Exception):
    """A client_id already registered to another account: refuse rather than mix histories."""


async def push(store: Store, scope: Scope, request: PushRequest, clock=now_ms) -> PushResponse:
    """Apply a push in one transaction. Raises SeqGap (nothing applied) or EnvelopeError."""
    check_envelope(request)
    async with store.transaction():
        client = await store.lock_client(request.client_id, scope.group_ids)
        if client is not None and client.account_id != scope.account_id:
            raise ClientOwnedByAnother(f"client {request.client_id} belongs to another account")
        last_seq = client.last_seq if client else 0
        fresh = [m for m in request.mutations if m.seq > last_seq]
        if fresh and fresh[0].seq != last_seq + 1:
            raise SeqGap(last_seq + 1)

        work = UnitOfWork(store)
        wanted: dict[str, set[str]] = {}
        for mutation in fresh:
            for entity, entity_id in referenced(mutation.name, mutation.args):
                wanted.setdefault(entity, set()).add(entity_id)
        await work.prefetch(wanted)
        results: list[MutationResult] = []
        logged: list[LoggedMutation] = []
        server_now = clock()
        for mutation in request.mutations:
            if mutation.seq <= last_seq:
                results.append(MutationResult(seq=mutation.seq, status="duplicate"))
                continue
            try:
                spec, args = parse_args(mutation.name, mutation.args)
                hlc = clamp(mutation.hlc, server_now)
                await spec.apply(Context(scope=scope, work=work, hlc=hlc), args)
            except Rejected as error:
                result = MutationResult(
                    seq=mutation.seq, status="rejected", error=str(error), code=error.code, params=error.params
                )
            except InvalidHLC as error:
                result = MutationResult(seq=mutation.seq, status="rejected", error=str(error), code="invalid_hlc")
            else:
                result = MutationResult(seq=mutation.seq, status="applied")
            results.append(result)
            logged.append(
                LoggedMutation(
                    request.client_id, mutation.id, mutation.seq, mutation.name, result.status, result.error or ""
                )
            )
            last_seq = mutation.seq  # a rejected mutation still advances: it never blocks the queue

        if fresh:
            await store.save_client(request.client_id, scope.account_id, last_seq)
            await store.log_mutations(logged)
            await work.flush()  # last: change numbers are handed out just before commit
        return PushResponse(last_seq=last_seq, results=results)


async def pull(
    store: Store, scope: Scope, client_id: UUID, cursor: int, limit: int = DEFAULT_PULL_LIMIT
) -> PullResponse:
    limit = max(1, min(limit, MAX_PULL_LIMIT))
    refs = await store.changes_after(cursor, scope.group_ids, limit + 1)
    more = len(refs) > limit
    refs = refs[:limit]
    changes = await _materialise(store, refs, scope)
    return PullResponse(
        cursor=refs[-1].change_no if refs else cursor,
        more=more,
        last_seq=await store.last_seq(client_id),
        changes=changes,
        groups=sorted(scope.group_ids, key=str) if scope.group_ids is not None else None,
    )


async def _materialise(store: Store, refs: list[ChangeRef], scope: Scope) -> list[Change]:
    """The whole current state of each changed entity; a missing or deleted one is a tombstone."""
    ids_by_entity: dict[str, list[str]] = {}
    for ref in refs:
        ids_by_entity.setdefault(ref.entity, []).append(ref.id)
    records = {entity: await store.load(entity, ids) for entity, ids in ids_by_entity.items()}
    changes = []
    for ref in refs:
        record = records[ref.entity].get(ref.id)
        if record is None or record.deleted:
            changes.append(Change(entity=ref.entity, id=ref.id, deleted=True, data=None))
        else:
            data = {"id": ref.id, **present(ref.entity, record, scope.reveals(record.group_id))}
            changes.append(Change(entity=ref.entity, id=ref.id, deleted=False, data=data))
    return changes
