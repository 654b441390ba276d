"""Schemathesis hooks for tests/test_schemathesis.py (loaded through SCHEMATHESIS_HOOKS).

A push's mutations carry consecutive seqs, or the push is refused with 400 and nothing is
applied (docs/sync.md). JSON Schema cannot say that one item's value follows another's, so
the API document says it in words (the request body's description) and the generator is
taught it here. No check is told to accept anything.
"""

from __future__ import annotations

import schemathesis


def _seq(mutation: object) -> int | float | None:
    """The mutation's seq when it is a valid one (a whole number from 1), else None."""
    seq = mutation.get("seq") if isinstance(mutation, dict) else None
    valid = isinstance(seq, (int, float)) and not isinstance(seq, bool) and seq >= 1 and seq == int(seq)
    return seq if valid else None


@schemathesis.hook.apply_to(method="POST", path="/api/sync/push")
def map_body(context, body):
    """Renumber the drawn seqs from the first one on. A body whose seqs are themselves what
    is invalid (a negative case) is left as drawn, so it stays invalid."""
    mutations = body.get("mutations") if isinstance(body, dict) else None
    if not isinstance(mutations, list) or not mutations or any(_seq(m) is None for m in mutations):
        return body
    first = _seq(mutations[0])
    return {**body, "mutations": [{**mutation, "seq": first + offset} for offset, mutation in enumerate(mutations)]}
