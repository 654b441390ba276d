"""``ibasho grants import FILE``, ``export NAME`` and ``check``: programmes move between
servers as the JSON of docs/grants.md, and a group's year is checked from a terminal.

Each returns the exit status: 0 done (``check``: every requirement holds), 1 ``check``
found a requirement not met, 2 the input was wrong (nothing changed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from uuid import UUID

from server.core.dates import wareki_fiscal_year
from server.core.i18n import gettext as _
from server.grants.data import Version, evaluate_for, rules_in_force
from server.grants.model import RulesError
from server.grants.programmes import (
    load_spec,
    programme_by_name,
    save_programme,
    spec_from_text,
    versions_of,
)
from server.grants.rules import GrantResult
from server.tables import GrantProgramme, Group, GroupGrant


def fail(command: str, messages: list[str]) -> int:
    for message in messages:
        print(f"ibasho grants {command}: {message}", file=sys.stderr)
    return 2


async def import_file(path: str) -> int:
    try:
        spec = spec_from_text(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        return fail("import", [str(error)])
    except RulesError as error:
        return fail("import", error.errors)
    existing = await programme_by_name(spec.name)
    await save_programme(spec, None, existing["id"] if existing else None)
    years = ", ".join(wareki_fiscal_year(year) for year, _rules in spec.versions)
    print(f"{'replaced' if existing else 'created'} {spec.name} ({years})")
    return 0


async def find(table, name_or_id: str) -> dict | None:
    try:
        return await table.select().where(table.id == UUID(name_or_id)).first()
    except ValueError:
        return await table.select().where(table.name == name_or_id).first()


async def export_programme(name: str, output: str | None) -> int:
    row = await find(GrantProgramme, name)
    if row is None:
        return fail("export", [f"no programme {name!r}"])
    text = json.dumps((await load_spec(row["id"])).to_json(), ensure_ascii=False, indent=2) + "\n"
    if output:
        Path(output).write_text(text, encoding="utf-8")
        print(f"{row['name']} written to {output}")
    else:
        sys.stdout.write(text)
    return 0


def computation_text(result: GrantResult) -> str:
    """The computation as the amount page shows it, as plain lines."""
    out = [_("Requirements")]
    out += [f"  {'✓' if rule.ok else '✗'} {rule.reason.text()}" for rule in result.rules]
    if result.lines:
        out.append(_("Computation"))
        for line in result.lines:
            amount = f"{line.amount:+,}" if line.kind != "component" else f"{line.amount:,}"
            out.append(f"  {line.title.text()}: {line.detail.text()}  {amount if line.paid else _('not due')}")
    if result.sessions:
        out.append(_("Sessions"))
        for s in result.sessions:
            why = "; ".join(reason.text() for reason in s.reasons)
            earned = f"{s.amount:,}" if s.counts else ""
            out.append(f"  {'○' if s.counts else '×'} {s.session.date.isoformat()} {earned} {why}".rstrip())
    out.append(f"{_('Amount due')}: {result.amount_due:,}{_('yen')}")
    return "\n".join(out)


async def check(programme_name: str, group_name: str, year: int) -> int:
    programme = await find(GrantProgramme, programme_name)
    group = await find(Group, group_name)
    problems = [f"no programme {programme_name!r}"] if programme is None else []
    problems += [f"no group {group_name!r}"] if group is None else []
    if problems:
        return fail("check", problems)
    versions = [Version(programme["id"], y, r) for y, r in await versions_of(programme["id"])]
    version = rules_in_force(versions, year, programme["retired_after"])
    print(f"{programme['name']} — {group['name']} — {wareki_fiscal_year(year)}")
    if not isinstance(version, Version):
        print(f"✗ {version.text()}")
        return 1
    enrolment = (
        await GroupGrant.select(GroupGrant.first_fiscal_year)
        .where((GroupGrant.group == group["id"]) & (GroupGrant.programme == programme["id"]))
        .first()
    )
    first = enrolment["first_fiscal_year"] if enrolment else year
    if enrolment is None:
        print(_("Not enrolled: computed as the first year of the grant."))
    print(_("Computed with the rules from %(year)s") % {"year": wareki_fiscal_year(version.from_year)})
    result = await evaluate_for(group["id"], year, version.rules, first)
    print(computation_text(result))
    return 0 if result.rules_hold else 1
