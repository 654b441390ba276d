"""Grant programmes and their rule versions: the JSON form that moves them between servers
(docs/grants.md), and every change to them, each in one transaction with an audit row.

A version holds the rules from its fiscal year until the next version's. Changing next
year's rules is a new version: the years before keep theirs. A programme is retired by
naming the last fiscal year it pays; its past years are still computed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from server.core.audit import audit
from server.core.clock import now
from server.core.i18n import gettext as _
from server.db import write_transaction
from server.grants.data import decoded
from server.grants.model import Reader, Rules, RulesError
from server.tables import GrantProgramme, GrantRuleVersion

FORMAT = "ibasho-grant-programme/1"
FIRST_YEAR, LAST_YEAR = 1990, 2100  # fiscal years a version may start in
NAME_LENGTH, TEXT_LENGTH = 200, 20_000
KEYS = ("format", "name", "council", "source", "notes", "retired_after", "versions")


@dataclass(frozen=True)
class ProgrammeSpec:
    """A programme as a file holds it: what it is, and its rules by fiscal year."""

    name: str
    council: str = ""
    source: str = ""
    notes: str = ""
    retired_after: int | None = None
    versions: tuple[tuple[int, Rules], ...] = ()  # (from_year, rules), oldest first

    @classmethod
    def from_json(cls, data: Any) -> ProgrammeSpec:
        """The programme in ``data``, or RulesError naming each problem (with the version's year)."""
        if not isinstance(data, dict):
            raise RulesError([_("A programme must be a JSON object.")])
        reader = Reader()
        reader.mapping(data, _("Programme"), KEYS)
        if data.get("format", FORMAT) != FORMAT:
            reader.fail(_("Programme"), _("format must be %(format)s") % {"format": FORMAT})
        name = reader.text(data.get("name"), _("Name"), NAME_LENGTH)
        if not name:
            reader.fail(_("Name"), _("a name is needed"))
        versions = []
        raw_versions = data.get("versions")
        if not isinstance(raw_versions, list) or not raw_versions:
            reader.fail(_("Versions"), _("at least one version is needed"))
            raw_versions = []
        for value in raw_versions:
            where = _("Version")
            item = reader.mapping(value, where, ("from_year", "rules"))
            year = reader.whole(item.get("from_year"), where + " " + _("from fiscal year"), LAST_YEAR, FIRST_YEAR)
            if year is None:
                continue
            try:
                versions.append((year, Rules.from_json(item.get("rules"))))
            except RulesError as error:
                reader.errors += [f"{year}: {message}" for message in error.errors]
        years = [year for year, _rules in versions]
        if len(set(years)) != len(years):
            reader.fail(_("Versions"), _("two versions start in the same fiscal year"))
        spec = cls(
            name=name,
            council=reader.text(data.get("council"), _("Council"), NAME_LENGTH),
            source=reader.text(data.get("source"), _("Source"), TEXT_LENGTH),
            notes=reader.text(data.get("notes"), _("Notes"), TEXT_LENGTH),
            retired_after=reader.whole(data.get("retired_after"), _("Last fiscal year"), LAST_YEAR, FIRST_YEAR),
            versions=tuple(sorted(versions, key=lambda v: v[0])),
        )
        if reader.errors:
            raise RulesError(reader.errors)
        return spec

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "name": self.name,
            "council": self.council,
            "source": self.source,
            "notes": self.notes,
            "retired_after": self.retired_after,
            "versions": [{"from_year": year, "rules": rules.to_json()} for year, rules in self.versions],
        }


def spec_from_preset(preset: dict, from_year: int) -> ProgrammeSpec:
    """A preset (server/grants/presets.py: a programme without versions) from ``from_year`` on."""
    about = {key: preset.get(key, "") for key in ("name", "council", "source", "notes")}
    return ProgrammeSpec.from_json({**about, "versions": [{"from_year": from_year, "rules": preset["rules"]}]})


def spec_from_text(text: str) -> ProgrammeSpec:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise RulesError([_("The file is not JSON: %(error)s") % {"error": error}]) from None
    return ProgrammeSpec.from_json(data)


# --- reading ------------------------------------------------------------------------------------


async def programme_row(programme_id: UUID) -> dict | None:
    return await GrantProgramme.select().where(GrantProgramme.id == programme_id).first()


async def programme_by_name(name: str) -> dict | None:
    return await GrantProgramme.select().where(GrantProgramme.name == name).first()


async def versions_of(programme_id: UUID) -> list[tuple[int, Rules]]:
    rows = (
        await GrantRuleVersion.select(GrantRuleVersion.from_year, GrantRuleVersion.rules)
        .where(GrantRuleVersion.programme == programme_id)
        .order_by(GrantRuleVersion.from_year)
    )
    return [(row["from_year"], Rules.from_json(decoded(row["rules"]))) for row in rows]


async def load_spec(programme_id: UUID) -> ProgrammeSpec | None:
    row = await programme_row(programme_id)
    if row is None:
        return None
    return ProgrammeSpec(
        name=row["name"],
        council=row["council"],
        source=row["source"],
        notes=row["notes"],
        retired_after=row["retired_after"],
        versions=tuple(await versions_of(programme_id)),
    )


async def name_taken(name: str, except_id: UUID | None = None) -> bool:
    query = GrantProgramme.count().where(GrantProgramme.name == name)
    if except_id:
        query = query.where(GrantProgramme.id != except_id)
    return await query > 0


# --- changing --------------------------------------------------------------------------------------


def target(programme_id: UUID) -> str:
    return f"grant_programme:{programme_id}"


def _version_row(programme_id: UUID, from_year: int, rules: Rules) -> GrantRuleVersion:
    return GrantRuleVersion(
        id=uuid4(), programme=programme_id, from_year=from_year, rules=rules.to_json(), updated_at=now()
    )


def _fields(spec: ProgrammeSpec) -> dict:
    return {
        "name": spec.name,
        "council": spec.council,
        "source": spec.source,
        "notes": spec.notes,
        "retired_after": spec.retired_after,
    }


async def save_programme(spec: ProgrammeSpec, actor: UUID | None, programme_id: UUID | None = None) -> UUID:
    """Create the programme, or replace programme ``programme_id`` (its fields and every version)."""
    async with write_transaction():
        if programme_id is None:
            programme_id = uuid4()
            await GrantProgramme.insert(GrantProgramme(id=programme_id, **_fields(spec)))
            action = "grant_programme_create"
        else:
            await GrantProgramme.update(_fields(spec)).where(GrantProgramme.id == programme_id)
            await GrantRuleVersion.delete().where(GrantRuleVersion.programme == programme_id)
            action = "grant_programme_replace"
        if spec.versions:
            await GrantRuleVersion.insert(*(_version_row(programme_id, year, rules) for year, rules in spec.versions))
        await audit(actor, action, target(programme_id), json.dumps(spec.to_json(), ensure_ascii=False))
    return programme_id


async def update_fields(programme_id: UUID, values: dict, actor: UUID | None) -> None:
    async with write_transaction():
        await GrantProgramme.update(values).where(GrantProgramme.id == programme_id)
        await audit(actor, "grant_programme_edit", target(programme_id), json.dumps(values, ensure_ascii=False))


async def save_version(programme_id: UUID, from_year: int, rules: Rules, actor: UUID | None) -> None:
    """Set the rules of the version starting in ``from_year`` (made if there is none)."""
    async with write_transaction():
        existing = await GrantRuleVersion.select(GrantRuleVersion.id, GrantRuleVersion.rules).where(
            (GrantRuleVersion.programme == programme_id) & (GrantRuleVersion.from_year == from_year)
        )
        if existing:
            before = decoded(existing[0]["rules"])
            await GrantRuleVersion.update({"rules": rules.to_json(), "updated_at": now()}).where(
                GrantRuleVersion.id == existing[0]["id"]
            )
        else:
            before = None
            await GrantRuleVersion.insert(_version_row(programme_id, from_year, rules))
        detail = {"from_year": from_year, "before": before, "after": rules.to_json()}
        await audit(actor, "grant_rules_save", target(programme_id), json.dumps(detail, ensure_ascii=False))


async def retire(programme_id: UUID, last_year: int | None, actor: UUID | None) -> None:
    """Stop paying after fiscal year ``last_year`` (None: in force again)."""
    async with write_transaction():
        await GrantProgramme.update({GrantProgramme.retired_after: last_year}).where(GrantProgramme.id == programme_id)
        await audit(actor, "grant_programme_retire", target(programme_id), str(last_year))
