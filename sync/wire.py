"""What travels over the wire (docs/sync.md), as msgspec Structs."""

from __future__ import annotations

from itertools import pairwise
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec

MAX_MUTATIONS = 500
MAX_BODY_BYTES = 1024 * 1024
DEFAULT_PULL_LIMIT = 1000
MAX_PULL_LIMIT = 5000
# Change numbers are 64-bit in the database, but a JavaScript client reads a JSON number
# exactly only up to 2**53 - 1, and so does any schema tool that reads the bound as a float.
MAX_CURSOR = 2**53 - 1

Status = Literal["applied", "duplicate", "rejected"]


class Mutation(msgspec.Struct, forbid_unknown_fields=False):
    id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    seq: Annotated[int, msgspec.Meta(ge=1)]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    args: dict[str, Any]
    hlc: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]


class PushRequest(msgspec.Struct):
    client_id: UUID
    mutations: list[Mutation]  # at most MAX_MUTATIONS: the route answers 413 beyond that


class MutationResult(msgspec.Struct):
    seq: int
    status: Status
    error: str | None = None  # why it was rejected, in English
    code: str | None = None  # the same as a code and its parameters (docs/sync.md "Refusals")
    params: dict[str, str] | None = None


class PushResponse(msgspec.Struct):
    last_seq: int
    results: list[MutationResult]


class Change(msgspec.Struct):
    entity: str
    id: str
    deleted: bool
    data: dict[str, Any] | None


class PullResponse(msgspec.Struct):
    cursor: int
    more: bool
    last_seq: int
    changes: list[Change]
    # The groups the caller syncs now (null: every group, for an admin). A phone drops what
    # it holds of any other group: its organiser was removed from it.
    groups: list[UUID] | None = None


class EnvelopeError(ValueError):
    """The push as a whole is malformed (→ 400/422, nothing applied)."""


class SeqGap(Exception):
    """The first new mutation is not ``last_seq + 1`` (→ 409, nothing applied)."""

    def __init__(self, expected_seq: int) -> None:
        super().__init__(f"expected seq {expected_seq}")
        self.expected_seq = expected_seq


def check_envelope(request: PushRequest) -> None:
    """Seqs must be consecutive within a push (the contract's 400), and the envelope's own
    strings hold no NUL (databases cannot store one)."""
    for mutation in request.mutations:
        if "\x00" in mutation.id or "\x00" in mutation.name or "\x00" in mutation.hlc:
            raise EnvelopeError(f"mutation seq {mutation.seq}: id, name and hlc must not contain NUL characters")
    for before, after in pairwise(request.mutations):
        if after.seq != before.seq + 1:
            raise EnvelopeError(f"mutations[].seq must be consecutive: {before.seq} is followed by {after.seq}")
