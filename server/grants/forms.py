"""The page form of a programme's rules: posted strings into rules JSON (then ``Rules``),
and rules back into the strings a form shows. What was typed is kept when it is refused.

Field names: the session and year requirements, caps and rounding by name; component
``n`` as ``c{n}_{parameter}`` (``c0_kind``, ``c0_amount``…), its condition as
``c{n}_when_{bound}``. A component row without a kind is left out, so two blank rows
after the filled ones let staff add components without a script.
"""

from __future__ import annotations

import re
from typing import Any

from server.core.i18n import gettext as _
from server.grants.model import COMPONENTS, Component, Rules, RulesError, Venue
from server.web.forms import Checker

BLANK_ROWS = 2
MAX_ROWS = 20
NUMBER = 100_000_000
WHEN_BOUNDS = ("min_sessions", "max_sessions", "min_average", "max_average")
COMPONENT_NUMBERS = ("amount", "cap", "max_sessions", "min_sessions", "years")
TOP_NUMBERS = {
    "min_minutes": ("sessions", "min_minutes"),
    "min_participants": ("sessions", "min_participants"),
    "every_months": ("requirements", "every_months"),
    "sessions_each_month": ("requirements", "sessions_each_month"),
    "min_sessions": ("requirements", "min_sessions"),
    "eligible_years": ("requirements", "eligible_years"),
    "cap_session": ("caps", "per_session"),
    "cap_month": ("caps", "per_month"),
    "cap_year": ("caps", "per_year"),
}
LIST_FIELDS = {"participant_categories"}


def labels() -> dict[str, str]:
    """What each number field is called on the page (its messages name it so)."""
    return {
        "min_minutes": _("Minimum minutes"),
        "min_participants": _("Minimum participants"),
        "every_months": _("A session at least every (months)"),
        "sessions_each_month": _("Sessions every month"),
        "min_sessions": _("Sessions in the year, at least"),
        "eligible_years": _("Years of eligibility"),
        "cap_session": _("Cap per session (yen)"),
        "cap_month": _("Cap per month (yen)"),
        "cap_year": _("Yearly cap (yen)"),
        "amount": _("Amount (yen)"),
        "cap": _("Cap (yen)"),
        "max_sessions": _("Sessions paid a year, at most"),
        "years": _("Years paid"),
        "when_min_sessions": _("Sessions in the year from"),
        "when_max_sessions": _("Sessions in the year up to"),
        "when_min_average": _("Average participants from"),
        "when_max_average": _("Average participants up to"),
    }


class Posted:
    """A posted form (Litestar's FormMultiDict or a plain dict) read as strings and lists."""

    def __init__(self, form) -> None:
        self.form = form

    def text(self, name: str) -> str:
        value = self.form.get(name, "")
        return value.strip() if isinstance(value, str) else ""

    def many(self, name: str) -> list[str]:
        if hasattr(self.form, "getall"):
            return [v for v in self.form.getall(name, []) if isinstance(v, str)]
        value = self.form.get(name, [])
        return [value] if isinstance(value, str) else list(value)


def _rows(posted: Posted) -> int:
    count = posted.text("components")
    return min(int(count), MAX_ROWS) if count.isdigit() else 0


def read_rules_form(form) -> dict:
    """The form's values, kept to show again whatever they hold."""
    posted = Posted(form)
    values: dict[str, Any] = {name: posted.text(name) for name in TOP_NUMBERS}
    values.update(
        participant_categories=posted.many("participant_categories"),
        roles=posted.text("roles"),
        registration=bool(posted.text("registration")),
        rounding_unit=posted.text("rounding_unit") or "1",
        rounding_mode=posted.text("rounding_mode") or "down",
        components=[],
    )
    for n in range(_rows(posted)):
        row = {key: posted.text(f"c{n}_{key}") for key in ("kind", "label", "per", "count", "on", *COMPONENT_NUMBERS)}
        row.update({f"when_{b}": posted.text(f"c{n}_when_{b}") for b in WHEN_BOUNDS})
        row["categories"] = posted.many(f"c{n}_categories")
        row["when_categories"] = posted.many(f"c{n}_when_categories")
        if row["kind"]:
            values["components"].append(row)
    return values


def rules_json(values: dict) -> tuple[dict, list[str]]:
    """The form's values as rules JSON (docs/grants.md), and the messages for bad numbers."""
    check = Checker()
    names = labels()

    def number(value: str, label: str) -> int | None:
        return check.whole_number(value, label, NUMBER)

    data: dict[str, dict | list] = {"sessions": {}, "requirements": {}, "caps": {}, "components": []}
    for field, (part, key) in TOP_NUMBERS.items():
        data[part][key] = number(values[field], names[field])
    data["sessions"]["participant_categories"] = values["participant_categories"]
    data["sessions"]["roles"] = [r for r in re.split(r"[,、，\s]+", values["roles"]) if r]
    data["requirements"]["registration"] = values["registration"]
    unit = values["rounding_unit"]
    data["rounding"] = {"unit": int(unit) if unit.isdigit() else unit, "mode": values["rounding_mode"]}
    for index, row in enumerate(values["components"]):
        prefix = _("Component %(n)s") % {"n": index + 1} + " "
        kind = COMPONENTS.get(row["kind"])
        component: dict[str, Any] = {"kind": row["kind"], "label": row["label"]}
        for key in kind.KEYS if kind else ():
            if key in COMPONENT_NUMBERS:
                component[key] = number(row[key], prefix + names[key])
            elif key == "categories":
                component[key] = row["categories"]
            else:
                component[key] = row[key] or None
        when = {b: number(row[f"when_{b}"], prefix + names[f"when_{b}"]) for b in WHEN_BOUNDS}
        if any(v is not None for v in when.values()):
            component["when"] = {**when, "categories": row["when_categories"]}
        data["components"].append(component)
    return data, check.errors


def parse(form) -> tuple[dict, Rules | None, list[str]]:
    """(values to show again, the rules or None, messages)."""
    values = read_rules_form(form)
    data, errors = rules_json(values)
    if errors:
        return values, None, errors
    try:
        return values, Rules.from_json(data), []
    except RulesError as error:
        return values, None, error.errors


def _text(value) -> str:
    return "" if value is None else str(value)


def component_values(component: Component) -> dict:
    row = {key: "" for key in ("label", "per", "count", "on", *COMPONENT_NUMBERS)}
    row.update({f"when_{b}": "" for b in WHEN_BOUNDS})
    row.update(kind=component.KIND, label=component.label, categories=[], when_categories=[])
    for key in component.KEYS:
        value = getattr(component, key)
        row[key] = list(value) if key == "categories" else _text(value)
    if isinstance(component, Venue) and component.cap is None:
        row["per"] = "session"
    if component.when:
        for b in WHEN_BOUNDS:
            row[f"when_{b}"] = _text(getattr(component.when, b))
        row["when_categories"] = list(component.when.categories)
    return row


def form_values(rules: Rules | None) -> dict:
    """What a form shows for ``rules`` (an empty form for None)."""
    rules = rules or Rules()
    values: dict[str, Any] = {
        "min_minutes": _text(rules.counting.min_minutes),
        "min_participants": _text(rules.counting.min_participants),
        "participant_categories": list(rules.counting.participant_categories),
        "roles": "、".join(rules.counting.roles),
        "every_months": _text(rules.requirements.every_months),
        "sessions_each_month": _text(rules.requirements.sessions_each_month),
        "min_sessions": _text(rules.requirements.min_sessions),
        "eligible_years": _text(rules.requirements.eligible_years),
        "registration": rules.requirements.registration,
        "cap_session": _text(rules.caps.per_session),
        "cap_month": _text(rules.caps.per_month),
        "cap_year": _text(rules.caps.per_year),
        "rounding_unit": str(rules.rounding.unit),
        "rounding_mode": rules.rounding.mode,
        "components": [component_values(c) for c in rules.components],
    }
    return values


def with_blank_rows(values: dict) -> list[dict]:
    """The component rows to show: the filled ones and two blank ones to add more."""
    blank = {key: "" for key in ("kind", "label", "per", "count", "on", *COMPONENT_NUMBERS)}
    blank.update({f"when_{b}": "" for b in WHEN_BOUNDS}, categories=[], when_categories=[])
    return values["components"] + [dict(blank) for _ in range(BLANK_ROWS)]
