"""One command to run ibasho, one to test it, on a machine with only Python 3.11+.

    python3 -m server.quickstart            # venv, install, migrate, demo data if empty, serve
    python3 -m server.quickstart test       # venv, install with test extras, ruff, pytest on SQLite then PostgreSQL

Standard library only: this runs before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("IBASHO_VENV", REPO / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
NO_TESTS_COLLECTED = 5  # pytest's exit code


def _install_stamp(extras: str) -> Path:
    digest = hashlib.sha256((REPO / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()[:16]
    return VENV / f".ibasho-installed-{digest}"


def ensure_installed(extras: str = "") -> None:
    """Create the venv and install the project once per pyproject.toml version."""
    if sys.version_info < (3, 11):  # noqa: UP036 (run by whatever python3 the machine has)
        raise SystemExit("ibasho needs Python 3.11 or newer")
    if not PYTHON.exists():
        print(f"creating a virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = _install_stamp(extras)
    if stamp.exists():
        return
    target = f".[{extras}]" if extras else "."
    print(f"installing ibasho{f' with {extras} extras' if extras else ''} (first run only)", flush=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", "-e", target], cwd=REPO, check=True)
    stamp.touch()


def run_app(args: list[str]) -> int:
    ensure_installed()
    return subprocess.call([str(BIN / "ibasho"), "serve", "--demo", *args], cwd=REPO)


def run_tests(args: list[str]) -> int:
    """pytest on each engine; ``--engine sqlite|postgres|both`` (default both)."""
    engines = ["sqlite", "postgres"]
    if args[:1] == ["--engine"] and len(args) > 1:
        engines = ["sqlite", "postgres"] if args[1] == "both" else [args[1]]
        args = args[2:]
    ensure_installed("test")
    # The code's own rules first (pyproject.toml [tool.ruff]): lint, import order, format.
    status = subprocess.call([str(BIN / "ruff"), "check", "."], cwd=REPO)
    status = status or subprocess.call([str(BIN / "ruff"), "format", "--check", "."], cwd=REPO)
    for engine in engines:
        print(f"\n=== tests on {engine} ===", flush=True)
        env = {**os.environ, "IBASHO_TEST_ENGINE": engine}
        code = subprocess.call([str(PYTHON), "-m", "pytest", *args], cwd=REPO, env=env)
        if code == NO_TESTS_COLLECTED:
            print(f"no tests ran on {engine}", flush=True)
            code = 1 if os.environ.get("CI") else 0
        status = status or code
    return status


def main(argv: list[str]) -> int:
    if argv[:1] == ["test"]:
        return run_tests(argv[1:])
    if argv[:1] == ["run"]:
        argv = argv[1:]
    return run_app(argv)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
