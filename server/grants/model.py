"""A grant programme's rules for one fiscal year, as structured components with parameters.

Staff fill in a form (or a JSON file, docs/grants.md) that says which sessions count,
which whole-year requirements must hold, what each component pays, the caps and the
rounding. Nothing here is an expression language: every part is one of a fixed set of
kinds with whole-number parameters, so a page can show and explain it line by line.

Pure: JSON-shaped dicts in, frozen dataclasses out (``Rules.from_json``), and back
(``Rules.to_json``); a bad value raises ``RulesError`` with one message per problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, ClassVar

from server.core.i18n import gettext as _
from server.core.labels import CATEGORIES, N_

MAX_YEN = 100_000_000
MAX_COUNT = 10_000
ROUNDING_UNITS = (1, 10, 100, 1000, 10000)
ROUNDING_MODES = {"down": N_("rounded down"), "up": N_("rounded up"), "nearest": N_("rounded to the nearest")}
ROLE_LENGTH = 40
PARTICIPANT_CATEGORIES = tuple(c for c in CATEGORIES if c != "volunteer")  # "participants" without a filter


class RulesError(ValueError):
    """The rules as given cannot be used: ``errors`` says why, one message per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


class Reader:
    """Reads a JSON-shaped dict into typed values, collecting a message per problem."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, where: str, problem: str) -> None:
        self.errors.append(_("%(where)s: %(problem)s") % {"where": where, "problem": problem})

    def mapping(self, value: Any, where: str, known: tuple[str, ...]) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(where, _("must be an object"))
            return {}
        unknown = sorted(set(value) - set(known))
        if unknown:
            self.fail(where, _("unknown keys %(keys)s") % {"keys": ", ".join(map(str, unknown))})
        return value

    def whole(self, value: Any, where: str, maximum: int = MAX_YEN, minimum: int = 0) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            self.fail(where, _("must be a whole number from %(min)s to %(max)s") % {"min": minimum, "max": maximum})
            return None
        return value

    def text(self, value: Any, where: str, maximum: int) -> str:
        if value is None:
            return ""
        if not isinstance(value, str) or len(value.strip()) > maximum:
            self.fail(where, _("must be text of at most %(max)s characters") % {"max": maximum})
            return ""
        return value.strip()

    def flag(self, value: Any, where: str) -> bool:
        if value is None:
            return False
        if not isinstance(value, bool):
            self.fail(where, _("must be true or false"))
            return False
        return value

    def choice(self, value: Any, where: str, choices, default: str) -> str:
        if value is None:
            return default
        if value not in choices:
            self.fail(where, _("must be one of %(choices)s") % {"choices": ", ".join(choices)})
            return default
        return value

    def categories(self, value: Any, where: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or any(c not in CATEGORIES for c in value):
            self.fail(where, _("must be a list of %(choices)s") % {"choices": ", ".join(CATEGORIES)})
            return ()
        return tuple(c for c in CATEGORIES if c in value)  # one order, no repeats

    def roles(self, value: Any, where: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or any(
            not isinstance(r, str) or not r.strip() or len(r.strip()) > ROLE_LENGTH for r in value
        ):
            self.fail(where, _("must be a list of role names of at most %(max)s characters") % {"max": ROLE_LENGTH})
            return ()
        return tuple(dict.fromkeys(r.strip() for r in value))


def _dropped(data: dict) -> dict:
    """A dict for JSON without its empty parts, so exported rules read as they were entered."""
    return {key: value for key, value in data.items() if value not in (None, (), [], {}, "", False)}


def categories_text(categories: tuple[str, ...]) -> str:
    if not categories:
        return _("participants")
    return "・".join(_(CATEGORIES[c]) for c in categories)


# --- which sessions count --------------------------------------------------------------


@dataclass(frozen=True)
class Counting:
    """What each session must meet to count (a held 開催回 that is not deleted, and these)."""

    min_minutes: int | None = None
    min_participants: int | None = None
    participant_categories: tuple[str, ...] = ()  # whose heads make min_participants; () all but volunteers
    roles: tuple[str, ...] = ()  # at least one person assigned to one of these roles (e.g. 専門職)

    KEYS: ClassVar = ("min_minutes", "min_participants", "participant_categories", "roles")

    @classmethod
    def read(cls, reader: Reader, value: Any) -> Counting:
        data = reader.mapping(value, _("Sessions"), cls.KEYS)
        return cls(
            min_minutes=reader.whole(data.get("min_minutes"), _("Minimum minutes"), 24 * 60, 1),
            min_participants=reader.whole(data.get("min_participants"), _("Minimum participants"), MAX_COUNT, 1),
            participant_categories=reader.categories(data.get("participant_categories"), _("Whose participants")),
            roles=reader.roles(data.get("roles"), _("Role present")),
        )

    def to_json(self) -> dict:
        return _dropped(
            {
                "min_minutes": self.min_minutes,
                "min_participants": self.min_participants,
                "participant_categories": list(self.participant_categories),
                "roles": list(self.roles),
            }
        )


# --- what must hold for the whole year --------------------------------------------------


@dataclass(frozen=True)
class Requirements:
    """Whole-year requirements: if one fails, nothing is due for the year."""

    every_months: int | None = None  # a counting session at least every N months (from 1 April)
    sessions_each_month: int | None = None  # every month of the year has at least N counting sessions
    min_sessions: int | None = None  # counting sessions in the year
    eligible_years: int | None = None  # the enrolment's first N fiscal years only
    registration: bool = False  # the group's ibasho take registrations (登録制)

    KEYS: ClassVar = ("every_months", "sessions_each_month", "min_sessions", "eligible_years", "registration")

    @classmethod
    def read(cls, reader: Reader, value: Any) -> Requirements:
        data = reader.mapping(value, _("Requirements"), cls.KEYS)
        return cls(
            every_months=reader.whole(data.get("every_months"), _("A session at least every (months)"), 12, 1),
            sessions_each_month=reader.whole(data.get("sessions_each_month"), _("Sessions every month"), 31, 1),
            min_sessions=reader.whole(data.get("min_sessions"), _("Sessions in the year, at least"), 366, 1),
            eligible_years=reader.whole(data.get("eligible_years"), _("Years of eligibility"), 50, 1),
            registration=reader.flag(data.get("registration"), _("Requires registration of participants")),
        )

    def to_json(self) -> dict:
        return _dropped({f.name: getattr(self, f.name) for f in fields(self)})


# --- what each component pays -------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """When a component pays: every bound given must hold, counted on the year's counting
    sessions. The average is the participants per counting session rounded down to a whole
    person, of ``categories`` (all but volunteers when empty). Upper bounds make tiers."""

    min_sessions: int | None = None
    max_sessions: int | None = None
    min_average: int | None = None
    max_average: int | None = None
    categories: tuple[str, ...] = ()

    KEYS: ClassVar = ("min_sessions", "max_sessions", "min_average", "max_average", "categories")

    @classmethod
    def read(cls, reader: Reader, value: Any, where: str) -> Condition | None:
        if value is None:
            return None
        data = reader.mapping(value, where, cls.KEYS)
        condition = cls(
            min_sessions=reader.whole(data.get("min_sessions"), where + " " + _("sessions from"), 366),
            max_sessions=reader.whole(data.get("max_sessions"), where + " " + _("sessions up to"), 366),
            min_average=reader.whole(data.get("min_average"), where + " " + _("average from"), MAX_COUNT),
            max_average=reader.whole(data.get("max_average"), where + " " + _("average up to"), MAX_COUNT),
            categories=reader.categories(data.get("categories"), where + " " + _("whose average")),
        )
        for low, high in (("min_sessions", "max_sessions"), ("min_average", "max_average")):
            lo, hi = getattr(condition, low), getattr(condition, high)
            if lo is not None and hi is not None and lo > hi:
                reader.fail(where, _("the lower bound is above the upper bound"))
        return None if condition == cls() else condition

    def to_json(self) -> dict:
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["categories"] = list(self.categories)
        return _dropped(data)

    @property
    def uses_average(self) -> bool:
        return self.min_average is not None or self.max_average is not None

    def describe(self) -> str:
        parts = []
        if self.min_sessions is not None or self.max_sessions is not None:
            parts.append(_bounds(_("sessions in the year"), self.min_sessions, self.max_sessions, _("times")))
        if self.uses_average:
            who = _("average %(who)s per session") % {"who": categories_text(self.categories)}
            parts.append(_bounds(who, self.min_average, self.max_average, _("people")))
        return "、".join(parts)


def _bounds(what: str, low: int | None, high: int | None, unit: str) -> str:
    values = {"what": what, "low": low, "high": high, "unit": unit}
    if low is not None and high is not None:
        return _("%(what)s %(low)s–%(high)s %(unit)s") % values
    if low is not None:
        return _("%(what)s %(low)s %(unit)s or more") % values
    return _("%(what)s up to %(high)s %(unit)s") % values


@dataclass(frozen=True)
class Component:
    """One part of the amount. Subclasses name their kind and their parameters."""

    KIND: ClassVar[str] = ""
    TITLE: ClassVar[str] = ""
    KEYS: ClassVar[tuple[str, ...]] = ()

    label: str = ""
    when: Condition | None = None

    @classmethod
    def read_parameters(cls, reader: Reader, data: dict, where: str) -> dict:
        return {}

    def parameters_json(self) -> dict:
        return {}

    def describe(self) -> str:
        """The component in a line, as staff would say it (without its condition)."""
        raise NotImplementedError

    def title(self) -> str:
        return self.label or _(self.TITLE)

    def to_json(self) -> dict:
        data = {"kind": self.KIND, **self.parameters_json(), "label": self.label}
        if self.when:
            data["when"] = self.when.to_json()
        return {key: value for key, value in data.items() if value not in ("", None)}


def yen(amount: int) -> str:
    return f"{amount:,}"


@dataclass(frozen=True)
class Amounted(Component):
    """A component that pays ``amount`` yen per something (its parameters add to it)."""

    amount: int = 0

    @classmethod
    def read_parameters(cls, reader, data, where):
        return {"amount": reader.whole(data.get("amount"), where + " " + _("amount"))}

    def parameters_json(self):
        return {"amount": self.amount}


@dataclass(frozen=True)
class PerSession(Amounted):
    """A fixed amount per counting session, for the year's first ``max_sessions`` of them."""

    KIND: ClassVar = "per_session"
    TITLE: ClassVar = N_("Amount per session")
    KEYS: ClassVar = ("amount", "max_sessions")
    max_sessions: int | None = None

    @classmethod
    def read_parameters(cls, reader, data, where):
        most = reader.whole(data.get("max_sessions"), where + " " + _("sessions paid, at most"), 366, 1)
        return {**super().read_parameters(reader, data, where), "max_sessions": most}

    def parameters_json(self):
        return {**super().parameters_json(), "max_sessions": self.max_sessions}

    def describe(self):
        values = {"amount": yen(self.amount), "n": self.max_sessions}
        if self.max_sessions:
            return _("%(amount)s yen per counting session, for %(n)s sessions a year at most") % values
        return _("%(amount)s yen per counting session") % values


@dataclass(frozen=True)
class Venue(Component):
    """The venue cost entered for each counting session, at actual cost, up to ``cap`` per
    session or per month (no cap when ``cap`` is None)."""

    KIND: ClassVar = "venue"
    TITLE: ClassVar = N_("Venue cost at actual")
    KEYS: ClassVar = ("cap", "per")
    cap: int | None = None
    per: str = "session"

    @classmethod
    def read_parameters(cls, reader, data, where):
        return {
            "cap": reader.whole(data.get("cap"), where + " " + _("cap")),
            "per": reader.choice(data.get("per"), where + " " + _("cap per"), ("session", "month"), "session"),
        }

    def parameters_json(self):
        return {"cap": self.cap, "per": self.per if self.cap is not None else None}

    @property
    def by_month(self) -> bool:
        return self.cap is not None and self.per == "month"

    def describe(self):
        if self.cap is None:
            return _("Venue cost at actual cost")
        if self.per == "month":
            return _("Venue cost at actual cost, up to %(cap)s yen a month") % {"cap": yen(self.cap)}
        return _("Venue cost at actual cost, up to %(cap)s yen a session") % {"cap": yen(self.cap)}


@dataclass(frozen=True)
class PerParticipant(Amounted):
    """Per participant of counting sessions: 延べ人数 (every visit counts) or 実人数 (each
    registered person once; head counts cannot be told apart, so only named people count)."""

    KIND: ClassVar = "per_participant"
    TITLE: ClassVar = N_("Amount per participant")
    KEYS: ClassVar = ("amount", "count", "categories")
    count: str = "visits"
    categories: tuple[str, ...] = ()

    @classmethod
    def read_parameters(cls, reader, data, where):
        return {
            **super().read_parameters(reader, data, where),
            "count": reader.choice(data.get("count"), where + " " + _("count"), ("visits", "people"), "visits"),
            "categories": reader.categories(data.get("categories"), where + " " + _("whose participants")),
        }

    def parameters_json(self):
        return {**super().parameters_json(), "count": self.count, "categories": list(self.categories) or None}

    def describe(self):
        values = {"amount": yen(self.amount), "who": categories_text(self.categories)}
        if self.count == "people":
            return _("%(amount)s yen per person (%(who)s, distinct registered people)") % values
        return _("%(amount)s yen per participant (%(who)s, every visit)") % values


@dataclass(frozen=True)
class PerMember(Amounted):
    """Per registered member on the roster on one day of the fiscal year (``on`` = "MM-DD")."""

    KIND: ClassVar = "per_member"
    TITLE: ClassVar = N_("Amount per registered member")
    KEYS: ClassVar = ("amount", "on", "categories")
    on: str = "04-01"
    categories: tuple[str, ...] = ()

    @classmethod
    def read_parameters(cls, reader, data, where):
        on = reader.text(data.get("on"), where + " " + _("counted on"), 5) or "04-01"
        try:
            month, day = (int(part) for part in on.split("-"))
            date(2027, month, day)  # not a leap year: 29 February would not exist every year
        except ValueError:
            reader.fail(where + " " + _("counted on"), _("must be a day as MM-DD, such as 04-01"))
            on = "04-01"
        return {
            **super().read_parameters(reader, data, where),
            "on": on,
            "categories": reader.categories(data.get("categories"), where + " " + _("whose participants")),
        }

    def parameters_json(self):
        return {**super().parameters_json(), "on": self.on, "categories": list(self.categories) or None}

    def count_day(self, year: int) -> date:
        month, day = (int(part) for part in self.on.split("-"))
        return date(year if month >= 4 else year + 1, month, day)

    def describe(self):
        month, day = (int(part) for part in self.on.split("-"))
        values = {"amount": yen(self.amount), "who": categories_text(self.categories), "month": month, "day": day}
        return _("%(amount)s yen per registered member (%(who)s) on the roster on %(month)s/%(day)s") % values


@dataclass(frozen=True)
class PerMonth(Amounted):
    """Per month of the fiscal year with at least ``min_sessions`` counting sessions."""

    KIND: ClassVar = "per_month"
    TITLE: ClassVar = N_("Amount per month with sessions")
    KEYS: ClassVar = ("amount", "min_sessions")
    min_sessions: int = 1

    @classmethod
    def read_parameters(cls, reader, data, where):
        least = reader.whole(data.get("min_sessions"), where + " " + _("sessions a month"), 31, 1) or 1
        return {**super().read_parameters(reader, data, where), "min_sessions": least}

    def parameters_json(self):
        return {**super().parameters_json(), "min_sessions": self.min_sessions}

    def describe(self):
        values = {"amount": yen(self.amount), "n": self.min_sessions}
        return _("%(amount)s yen per month with %(n)s or more counting sessions") % values


@dataclass(frozen=True)
class Fixed(Amounted):
    """A fixed amount for the year: a base amount, often due only under a condition."""

    KIND: ClassVar = "fixed"
    TITLE: ClassVar = N_("Fixed amount")
    KEYS: ClassVar = ("amount",)

    def describe(self):
        return _("%(amount)s yen for the year") % {"amount": yen(self.amount)}


@dataclass(frozen=True)
class Startup(Amounted):
    """A one-off amount in each of the first ``years`` fiscal years of the enrolment."""

    KIND: ClassVar = "startup"
    TITLE: ClassVar = N_("Start-up amount")
    KEYS: ClassVar = ("amount", "years")
    years: int = 1

    @classmethod
    def read_parameters(cls, reader, data, where):
        years = reader.whole(data.get("years"), where + " " + _("years"), 50, 1) or 1
        return {**super().read_parameters(reader, data, where), "years": years}

    def parameters_json(self):
        return {**super().parameters_json(), "years": self.years}

    def describe(self):
        values = {"amount": yen(self.amount), "years": self.years}
        if self.years == 1:
            return _("%(amount)s yen in the first year only") % values
        return _("%(amount)s yen a year in the first %(years)s years") % values


COMPONENTS: dict[str, type[Component]] = {
    kind.KIND: kind for kind in (PerSession, Venue, PerParticipant, PerMember, PerMonth, Fixed, Startup)
}
MAX_COMPONENTS = 20


def read_component(reader: Reader, value: Any, index: int) -> Component | None:
    where = _("Component %(n)s") % {"n": index + 1}
    if not isinstance(value, dict):
        reader.fail(where, _("must be an object"))
        return None
    kind = COMPONENTS.get(value.get("kind"))
    if kind is None:
        reader.fail(where, _("kind must be one of %(choices)s") % {"choices": ", ".join(COMPONENTS)})
        return None
    data = reader.mapping(value, where, ("kind", "label", "when", *kind.KEYS))
    parameters = kind.read_parameters(reader, data, where)
    if "amount" in kind.KEYS and parameters["amount"] is None:
        if data.get("amount") is None:
            reader.fail(where, _("an amount in yen is needed"))
        parameters["amount"] = 0
    return kind(
        label=reader.text(data.get("label"), where + " " + _("label"), 100),
        when=Condition.read(reader, data.get("when"), where + " " + _("condition")),
        **parameters,
    )


# --- caps, rounding and the whole -----------------------------------------------------------


@dataclass(frozen=True)
class Caps:
    """Caps on the sum of what sessions and months earn (per session, per month) and on the year."""

    per_session: int | None = None
    per_month: int | None = None
    per_year: int | None = None

    KEYS: ClassVar = ("per_session", "per_month", "per_year")

    @classmethod
    def read(cls, reader: Reader, value: Any) -> Caps:
        data = reader.mapping(value, _("Caps"), cls.KEYS)
        return cls(
            per_session=reader.whole(data.get("per_session"), _("Cap per session (yen)")),
            per_month=reader.whole(data.get("per_month"), _("Cap per month (yen)")),
            per_year=reader.whole(data.get("per_year"), _("Yearly cap (yen)")),
        )

    def to_json(self) -> dict:
        return _dropped({f.name: getattr(self, f.name) for f in fields(self)})


@dataclass(frozen=True)
class Rounding:
    """The amount before the yearly cap, rounded to a multiple of ``unit`` (e.g. 100円未満切り捨て)."""

    unit: int = 1
    mode: str = "down"

    KEYS: ClassVar = ("unit", "mode")

    @classmethod
    def read(cls, reader: Reader, value: Any) -> Rounding:
        data = reader.mapping(value, _("Rounding"), cls.KEYS)
        unit = data.get("unit", 1)
        if unit not in ROUNDING_UNITS or isinstance(unit, bool):
            units = ", ".join(map(str, ROUNDING_UNITS))
            reader.fail(_("Rounding"), _("unit must be one of %(units)s") % {"units": units})
            unit = 1
        return cls(unit=unit, mode=reader.choice(data.get("mode"), _("Rounding"), tuple(ROUNDING_MODES), "down"))

    def apply(self, amount: int) -> int:
        if self.unit == 1:
            return amount
        if self.mode == "up":
            return -(-amount // self.unit) * self.unit
        if self.mode == "nearest":
            return (amount + self.unit // 2) // self.unit * self.unit
        return amount // self.unit * self.unit

    def to_json(self) -> dict:
        return {} if self.unit == 1 else {"unit": self.unit, "mode": self.mode}

    def describe(self) -> str:
        values = {"unit": yen(self.unit), "mode": _(ROUNDING_MODES[self.mode])}
        return _("To a multiple of %(unit)s yen, %(mode)s") % values


@dataclass(frozen=True)
class Rules:
    """Everything that decides one fiscal year's amount under a programme."""

    counting: Counting = field(default_factory=Counting)
    requirements: Requirements = field(default_factory=Requirements)
    components: tuple[Component, ...] = ()
    caps: Caps = field(default_factory=Caps)
    rounding: Rounding = field(default_factory=Rounding)

    KEYS: ClassVar = ("sessions", "requirements", "components", "caps", "rounding")

    @classmethod
    def from_json(cls, data: Any) -> Rules:
        """The rules in ``data`` (as docs/grants.md describes), or RulesError saying what is wrong."""
        reader = Reader()
        if not isinstance(data, dict):
            raise RulesError([_("The rules must be a JSON object.")])
        reader.mapping(data, _("Rules"), cls.KEYS)
        components = data.get("components") or []
        if not isinstance(components, list) or len(components) > MAX_COMPONENTS:
            reader.fail(_("Components"), _("must be a list of at most %(max)s") % {"max": MAX_COMPONENTS})
            components = []
        rules = cls(
            counting=Counting.read(reader, data.get("sessions")),
            requirements=Requirements.read(reader, data.get("requirements")),
            components=tuple(
                c for c in (read_component(reader, value, i) for i, value in enumerate(components)) if c is not None
            ),
            caps=Caps.read(reader, data.get("caps")),
            rounding=Rounding.read(reader, data.get("rounding")),
        )
        if not reader.errors and not rules.components:
            reader.fail(_("Components"), _("add at least one component that pays"))
        if reader.errors:
            raise RulesError(reader.errors)
        return rules

    def to_json(self) -> dict:
        return _dropped(
            {
                "sessions": self.counting.to_json(),
                "requirements": self.requirements.to_json(),
                "components": [c.to_json() for c in self.components],
                "caps": self.caps.to_json(),
                "rounding": self.rounding.to_json(),
            }
        )

    # What loading must provide (server/grants/data.py asks for no more than the rules use)

    def _category_sets(self, amounts: bool = True) -> list[tuple[str, ...]]:
        sets = [self.counting.participant_categories] if self.counting.min_participants else []
        for c in self.components if amounts else ():
            if isinstance(c, PerParticipant) and c.count == "visits":
                sets.append(c.categories)
            if c.when and c.when.uses_average:
                sets.append(c.when.categories)
        return sets

    def categories_read(self, amounts: bool = True) -> frozenset[str]:
        """The head-count categories the rules count by name (none: totals are enough); with
        ``amounts`` False, those the requirements alone read."""
        return frozenset(c for categories in self._category_sets(amounts) for c in categories)

    @property
    def needs_people(self) -> bool:
        return any(isinstance(c, PerParticipant) and c.count == "people" for c in self.components)

    @property
    def needs_roles(self) -> bool:
        return bool(self.counting.roles)

    @property
    def needs_members(self) -> bool:
        return any(isinstance(c, PerMember) for c in self.components)

    def summary(self) -> list[tuple[str, list[str]]]:
        """The rules as a page reads them: (heading, lines) for each part that says something."""
        counting = []
        if self.counting.min_minutes:
            counting.append(_("%(n)s minutes or more") % {"n": self.counting.min_minutes})
        if self.counting.min_participants:
            who = categories_text(self.counting.participant_categories)
            counting.append(_("%(n)s or more %(who)s") % {"n": self.counting.min_participants, "who": who})
        if self.counting.roles:
            counting.append(_("someone as %(roles)s") % {"roles": "・".join(self.counting.roles)})
        need = self.requirements
        required = []
        if need.every_months:
            required.append(_("A session at least every %(n)s months") % {"n": need.every_months})
        if need.sessions_each_month:
            required.append(_("At least %(needed)s sessions every month") % {"needed": need.sessions_each_month})
        if need.min_sessions:
            required.append(_("At least %(n)s counting sessions in the year") % {"n": need.min_sessions})
        if need.eligible_years:
            required.append(_("The first %(n)s fiscal years of the enrolment") % {"n": need.eligible_years})
        if need.registration:
            required.append(_("Requires registration of participants"))
        components = []
        for component in self.components:
            line = f"{component.title()}: {component.describe()}"
            if component.when:
                line += _(" (when %(condition)s)") % {"condition": component.when.describe()}
            components.append(line)
        limits = []
        for value, label in (
            (self.caps.per_session, _("Cap per session (yen)")),
            (self.caps.per_month, _("Cap per month (yen)")),
            (self.caps.per_year, _("Yearly cap (yen)")),
        ):
            if value is not None:
                limits.append(f"{label}: {yen(value)}")
        if self.rounding.unit != 1:
            limits.append(self.rounding.describe())
        parts = [
            (_("Sessions that count"), counting),
            (_("Requirements"), required),
            (_("Components"), components),
            (_("Caps and rounding"), limits),
        ]
        return [(heading, lines) for heading, lines in parts if lines]
