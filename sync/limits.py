"""How long and how large a synced value may be: the one source for the wire validation
(``sync.mutations``) and the database columns (server/tables.py uses these numbers), so
that nothing validation accepts can fail to fit the column on either engine."""

from __future__ import annotations

from datetime import date

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

# Dates a record may carry: a typo like 0026 or 9999 is refused, not stored to break the
# calendar feed, the poster or a time-zone conversion later.
EARLIEST = date(1900, 1, 1)
LATEST = date(2200, 12, 31)
