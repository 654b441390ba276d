"""The lean SQLite converters (server/db.py) give exactly what Piccolo's own give, and refuse
what they refuse."""

from __future__ import annotations

import uuid

import pytest
from piccolo.engine import sqlite as piccolo_sqlite

from server.db import LEAN_CONVERTERS

SAMPLES = {
    "UUID": [
        str(uuid.uuid4()).encode(),
        b"00000000-0000-0000-0000-000000000000",
        str(uuid.UUID(int=2**128 - 1)).encode(),
    ],
    "INTEGER": [b"0", b"-42", b"1500", b"1.0", b"12345678901234567890", b"1e3"],
    "DATE": [b"2025-04-01", b"2026-03-31"],
    "TIME": [b"10:00:00", b"09:30", b"23:59:59.123456"],
    "BOOLEAN": [b"1", b"0"],
    "TIMESTAMPTZ": [b"2026-12-02 01:17:34.944028", b"2026-12-02 01:17:34.944028+00:00", b"2026-12-02T01:17:34"],
}
REFUSED = {
    "UUID": [b"not-a-uuid", b"zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz", b"0123"],
    "INTEGER": [b"hello"],
    "DATE": [b"2025-13-01"],
    "TIME": [b"25:00"],
}


@pytest.mark.parametrize("type_name", list(SAMPLES))
def test_each_lean_converter_gives_what_piccolos_gives(type_name):
    lean, piccolo = LEAN_CONVERTERS[type_name], piccolo_sqlite.CONVERTERS[type_name]
    for value in SAMPLES[type_name]:
        ours, theirs = lean(value), piccolo(value)
        assert (type(ours), ours, repr(ours), str(ours)) == (type(theirs), theirs, repr(theirs), str(theirs)), value
        assert hash(ours) == hash(theirs)
        if type_name == "UUID":
            assert ours.is_safe == theirs.is_safe and ours.version == theirs.version


def refusal(converter, value) -> type[Exception] | None:
    try:
        converter(value)
    except Exception as error:  # noqa: BLE001 - which one is what is compared
        return type(error)
    return None


@pytest.mark.parametrize("type_name", list(REFUSED))
def test_each_lean_converter_refuses_what_piccolos_refuses(type_name):
    for value in REFUSED[type_name]:
        theirs = refusal(piccolo_sqlite.CONVERTERS[type_name], value)
        assert theirs is not None and refusal(LEAN_CONVERTERS[type_name], value) is theirs, value
