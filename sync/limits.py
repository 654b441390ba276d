"""How long and how large a synced value may be: the one source for the wire validation
(``sync.mutations``) and the database columns (server/tables.py uses these numbers), so
that nothing validation accepts can fail to fit the column on either engine."""

from __future__ import annotations

import re
from datetime import date
from functools import cache

import msgspec

TITLE = 200  # a session's title
VENUE = 500  # a session's venue, which may carry directions
URL = 500  # a session's online meeting link
PERSON_NAME = 100  # a participant's name, and its reading (kana)
CONTACT = 500  # a participant's contact (phone, address)
CATEGORY = 40  # a tally or person category: "child", "adult", … or one a group defines
ROLE = 40  # a role name (役割): 調理, 受付, …
CONTACTED_BY = 100  # who made a safety-check call
METHOD = 32  # how they reached the person: phone, visit, message
LONG_TEXT = 20_000  # agenda, notes, 反省会 texts
YEN = 10_000_000  # an amount in yen (a venue's cost)
HEAD_COUNT = 2_000  # one category's count at one session, either way (the sum of a tally's steps)
CONFLICTS = 20  # texts of one note field waiting to be merged: beyond, the writer merges first

# Dates a record may carry: a typo like 0026 or 9999 is refused, not stored to break the
# calendar feed, the poster or a time-zone conversion later.
EARLIEST = date(1900, 1, 1)
LATEST = date(2200, 12, 31)


# --- patterns, as the API document states them ---------------------------------------------


def _strings(kind: msgspec.inspect.Type) -> list[msgspec.inspect.StrType]:
    """The string types a field's type may take (through Optional, unions and metadata)."""
    if isinstance(kind, msgspec.inspect.Metadata):
        return _strings(kind.type)
    if isinstance(kind, msgspec.inspect.UnionType):
        return [found for option in kind.types for found in _strings(option)]
    return [kind] if isinstance(kind, msgspec.inspect.StrType) else []


@cache
def _patterns(struct_type: type) -> tuple[tuple[str, re.Pattern[str]], ...]:
    return tuple(
        (field.name, re.compile(string.pattern))
        for field in msgspec.inspect.type_info(struct_type).fields
        for string in _strings(field.type)
        if string.pattern
    )


def check_patterns(value: msgspec.Struct) -> None:
    """Hold every patterned string of a struct to its whole pattern, from a struct's
    ``__post_init__``. msgspec checks a pattern with ``re.search``, where ``$`` also matches
    before a final newline; JSON Schema (the API document) reads ``$`` as the very end. So
    "10:00\n" passed as a clock time and then failed the push that stored it, on every
    retry. Patterns are written with ASCII classes (``[0-9]``, never ``\\d``, which Python
    reads as any Unicode digit) so both readings agree."""
    for name, pattern in _patterns(type(value)):
        field_value = getattr(value, name)
        if isinstance(field_value, str) and pattern.fullmatch(field_value) is None:
            raise ValueError(f"{name} must match {pattern.pattern}")
