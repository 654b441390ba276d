"""Checking what a staff form posted: one message per problem, in the reader's language,
and the form shown again with what was typed. Every page form uses these."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date, time
from uuid import UUID

from server.config import get_settings
from server.core.i18n import gettext as _
from server.core.schedule import zone
from sync import limits

# Mail goes to an address, so it must at least look like one (the mail server says the rest).
EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s]+"  # also the API document's (server/reminders/email.py)
_EMAIL = re.compile(EMAIL_PATTERN)
_PHONE = re.compile(r"[0-9０-９+()（）\- ー－]{6,40}")

Values = dict[str, object]
Cleaned = tuple[Values, list[str]]


class Checker:
    """Reads submitted strings into column values, keeping one message per problem."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, message: str) -> None:
        self.errors.append(message)

    def text(self, value: str, label: str, max_length: int, required: bool = False) -> str:
        value = value.strip()
        if required and not value:
            self.fail(_("Please enter %(field)s.") % {"field": label})
        elif len(value) > max_length:
            self.fail(_("%(field)s can be at most %(max)s characters.") % {"field": label, "max": max_length})
        return value

    def email(self, value: str, label: str, max_length: int, required: bool = False) -> str:
        value = self.text(value, label, max_length, required)
        if value and not _EMAIL.fullmatch(value):
            self.fail(_("The email address does not look right. Example: hanako@example.jp"))
        return value

    def phone(self, value: str, label: str, max_length: int, required: bool = False) -> str:
        value = self.text(value, label, max_length, required)
        if value and not _PHONE.fullmatch(value):
            self.fail(_("The phone number does not look right. Example: 0422-00-0000"))
        return value

    def parse(self, value: str, parse, label: str):
        """``parse(value)``, or None for a blank value or (with a message) a bad one."""
        if not value.strip():
            return None
        try:
            return parse(value.strip())
        except ValueError:
            self.fail(_("%(field)s is not valid.") % {"field": label})
            return None

    def date(self, value: str, label: str) -> date | None:
        day = self.parse(value, date.fromisoformat, label)
        if day is not None and not limits.EARLIEST <= day <= limits.LATEST:
            self.fail(
                _("%(field)s must be between %(first)s and %(last)s.")
                % {"field": label, "first": limits.EARLIEST.year, "last": limits.LATEST.year}
            )
            return None
        return day

    def time(self, value: str, label: str) -> time | None:
        return self.parse(value, time.fromisoformat, label)

    def number_between(self, value: str, label: str, choices: range) -> int | None:
        """A whole number from ``choices`` (e.g. 1 to 6), or None with a message saying the range."""
        number = self.parse(value, int, label)
        if number is not None and number not in choices:
            self.fail(
                _("%(field)s must be from %(min)s to %(max)s.")
                % {"field": label, "min": choices[0], "max": choices[-1]}
            )
            return None
        if number is None and not value.strip():
            self.fail(_("Please enter %(field)s.") % {"field": label})
        return number

    def whole_number(self, value: str, label: str, maximum: int) -> int | None:
        """A count or an amount in yen, 0 to ``maximum`` ("1,500" allowed); None when blank."""
        number = self.parse(value.replace(",", ""), int, label)
        if number is not None and not 0 <= number <= maximum:
            self.fail(_("%(field)s is not valid.") % {"field": label})
        return number

    def choice(self, value: str, labels: dict, label: str) -> str:
        if value not in labels:
            self.fail(_("%(field)s is not valid.") % {"field": label})
        return value

    def timezone(self, value: str) -> str:
        value = value.strip() or get_settings().default_timezone
        self.parse(value, zone, _("Time zone"))
        return value

    def area_ids(self, submitted: list[str] | str, allowed: set[UUID]) -> list[UUID]:
        """Checked area boxes (one box arrives as a string, several as a list)."""
        ids = [self.parse(value, UUID, _("Area")) for value in as_list(submitted)]
        if any(area_id not in allowed for area_id in ids if area_id is not None):
            self.fail(_("Choose only areas from the list."))
        return [area_id for area_id in ids if area_id in allowed]


def as_list(value: list[str] | str) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def as_posted(value: object) -> object:
    """A stored value as the browser posts it: text (HH:MM for times), or a checkbox's bool."""
    if value is None:
        return ""
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return value if isinstance(value, (bool, str)) else str(value)


@dataclass
class Honeypot:
    """A public form's spam check (the ``honeypot`` macro of _forms.html): a field people
    never see, which bots fill in. A bot is answered as if it had sent the form."""

    website: str = ""

    @property
    def from_a_bot(self) -> bool:
        return bool(self.website.strip())


class EditsRow:
    """A form that edits a stored row: its fields are named after the row's columns."""

    @classmethod
    def from_row(cls, row: dict, **overrides):
        values = {f.name: as_posted(row[f.name]) for f in fields(cls) if f.name in row}
        return cls(**{**values, **overrides})
