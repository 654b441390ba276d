"""``ibasho grants export``, ``import`` and ``check`` on the suite's database, as a council
would run them: a programme goes out and comes back the same; a bad file changes nothing;
check prints the computation and says by its exit status whether the requirements hold."""

from __future__ import annotations

import json
import os
from datetime import date, time
from uuid import uuid4

from server.grants.presets import PRESETS
from server.grants.programmes import load_spec, programme_by_name, save_programme, spec_from_preset
from server.tables import GrantProgramme, Group, GroupGrant
from tests.factories import make_session, run_cli, unique

ENV = dict(os.environ)


async def musashino_copy(name: str, from_year: int = 2024):
    spec = spec_from_preset({**PRESETS["musashino"], "name": name}, from_year)
    return await save_programme(spec, None)


async def test_export_then_import_moves_a_programme_and_replaces_one_of_its_name(tmp_path):
    name = unique("居場所助成")
    programme = await musashino_copy(name)
    exported = run_cli("grants", "export", name, env=ENV)
    assert exported.returncode == 0, exported.stderr
    data = json.loads(exported.stdout)
    assert data["format"] == "ibasho-grant-programme/1" and data["versions"][0]["from_year"] == 2024
    assert data["versions"][0]["rules"]["components"][0] == {"kind": "per_session", "amount": 2500, "label": "活動費"}

    data["versions"].append({"from_year": 2026, "rules": {"components": [{"kind": "fixed", "amount": 30000}]}})
    path = tmp_path / "programme.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    imported = run_cli("grants", "import", str(path), env=ENV)
    assert imported.returncode == 0, imported.stderr
    assert "replaced" in imported.stdout and "令和8年度" in imported.stdout
    spec = await load_spec(programme)
    assert [year for year, _rules in spec.versions] == [2024, 2026]
    assert await GrantProgramme.count().where(GrantProgramme.name == name) == 1

    data["name"] = unique("別の助成")
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert run_cli("grants", "import", str(path), env=ENV).returncode == 0
    assert (await programme_by_name(data["name"])) is not None


async def test_a_bad_file_is_refused_with_its_problems_and_changes_nothing(tmp_path):
    name = unique("助成")
    bad = {
        "name": name,
        "versions": [
            {"from_year": 2025, "rules": {"components": [{"kind": "per_session", "amount": "2500円"}]}},
            {"from_year": 2025, "rules": {"components": [{"kind": "fixed", "amount": 1}]}},
        ],
    }
    path = tmp_path / "bad.json"
    for text in (json.dumps(bad), "{not json"):
        path.write_text(text, encoding="utf-8")
        refused = run_cli("grants", "import", str(path), env=ENV)
        assert refused.returncode == 2
        assert refused.stderr.strip()
    assert "2025" in refused.stderr or "JSON" in refused.stderr
    assert await programme_by_name(name) is None
    missing = run_cli("grants", "export", unique("ない助成"), env=ENV)
    assert missing.returncode == 2 and "no programme" in missing.stderr


async def test_check_prints_the_computation_and_exits_non_zero_when_a_requirement_fails(world):
    name = unique("居場所助成")
    programme = await musashino_copy(name)
    await GroupGrant.insert(GroupGrant(id=uuid4(), group=world.group_a, programme=programme, first_fiscal_year=2025))
    group_name = (await Group.select(Group.name).where(Group.id == world.group_a).first())["name"]
    for month in (5, 7, 9, 11, 1, 3):
        await make_session(world.group_a, date(2025 + (month < 4), month, 1), venue_cost=3000)
    ok = run_cli("grants", "check", "--programme", name, "--group", group_name, "--year", "2025", env=ENV)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "30,000円" in ok.stdout  # 6 × (2,500 + 2,500 of 3,000)
    assert "活動費" in ok.stdout and "2025-05-01" in ok.stdout and "令和7年度" in ok.stdout

    await make_session(world.group_a, date(2026, 4, 10), end=time(11))  # an hour: does not count
    failed = run_cli("grants", "check", "--programme", name, "--group", group_name, "--year", "2026", env=ENV)
    assert failed.returncode == 1
    assert "✗" in failed.stdout and "×" in failed.stdout and "60" in failed.stdout
    assert "0円" in failed.stdout
    unknown = run_cli("grants", "check", "--programme", name, "--group", unique("ない団体"), "--year", "2025", env=ENV)
    assert unknown.returncode == 2 and "no group" in unknown.stderr
