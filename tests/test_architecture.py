"""The shape docs/architecture.md draws, held: which part of the code may import which,
and no import cycle between modules (imports inside functions included, since those hide
cycles rather than remove them)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.server_process import REPO

SPINE = {"config", "db", "tables", "piccolo_app", "piccolo_conf"}
ROOTS = {"app", "cli", "quickstart"}
SHARED = {"core", "web"}
# What each area may import besides the spine, core, web and the sync engine.
AREAS: dict[str, set[str]] = {
    "auth": set(),
    "sync": {"auth"},
    "reminders": {"auth", "sync", "pwa"},
    "council": {"auth", "sync", "reminders"},  # reminders: the rule model an ibasho's form edits
    "review": {"auth", "sync", "grants"},
    "grants": {"auth"},
    "data_rights": {"auth", "sync"},
    "api": {"auth"},
    "directory": {"council", "reminders"},  # the schedule in words; what the public may see
    "registration": {"auth", "council", "sync"},  # invitations; the schedule builder; sessions ahead
    "events": {"auth", "reminders"},  # reminders: the rules of when a reminder is due
    "committees": {"auth", "sync", "reminders"},  # meetings as sync mutations; when a reminder is due
    "pwa": set(),
    "ops": {"auth", "sync", "grants"},  # grants: the demo's programmes are presets
}


def modules() -> dict[str, Path]:
    found = {}
    for path in [*(REPO / "server").rglob("*.py"), *(REPO / "sync").rglob("*.py")]:
        name = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        found[name] = path
    return found


def imports_of(path: Path, known: dict[str, Path]) -> set[str]:
    """Every module of ours that ``path`` imports, wherever in the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in known else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name in known}


def part(module: str) -> str:
    """ "engine" for sync/, else the server's area, shared layer, spine or root."""
    pieces = module.split(".")
    if pieces[0] == "sync":
        return "engine"
    if len(pieces) == 1:
        return "server"
    return pieces[1] if len(pieces) > 2 or pieces[1] not in SPINE | ROOTS else f"{pieces[1]}.py"


def allowed(source: str, target: str) -> bool:
    if source == target or target == "server":
        return True
    if source == "engine":
        return False  # the engine imports nothing of ours
    spine = target.removesuffix(".py") in SPINE
    if source.removesuffix(".py") in SPINE:
        return target == "engine" or spine
    if source.removesuffix(".py") in ROOTS:
        return True
    if target == "engine" or spine:
        return True
    if source == "core":
        return False
    if source == "web":
        return target == "core"
    return target in SHARED or target in AREAS.get(source, set())


def test_every_import_keeps_to_its_layer():
    known = modules()
    wrong = sorted(
        f"{name} imports {target}"
        for name, path in known.items()
        for target in imports_of(path, known)
        if not allowed(part(name), part(target))
    )
    assert wrong == []


def test_every_area_is_in_the_table():
    areas = {part(name) for name in modules()} - {"engine", "server", "core", "web"}
    areas = {area for area in areas if not area.endswith(".py")}
    assert areas == set(AREAS)


def test_there_is_no_import_cycle():
    known = modules()
    graph = {name: imports_of(path, known) - {name} for name, path in known.items()}
    cycles = strongly_connected(graph)
    assert cycles == []


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of two or more modules that import each other, directly or around a loop."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = iter(range(len(graph) * 2))

    def visit(node: str) -> None:
        order[node] = low[node] = next(counter)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in order:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], order[target])
        if low[node] == order[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in graph:
        if node not in order:
            visit(node)
    return found


def test_the_checks_can_fail():
    """The rules above see a wrong import and a cycle when there is one."""
    assert not allowed("core", "reminders") and not allowed("engine", "core") and not allowed("grants", "council")
    assert strongly_connected({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]
