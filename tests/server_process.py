"""``ibasho serve`` in a subprocess on a loopback port, for the tests and the benches.

Importing it binds no database (tests/conftest.py does, at import), so a bench harness
that sets up its own database can use it too.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServerProcess:
    """A server that can be stopped, SIGKILLed and started again on the same port (phones keep one URL)."""

    env: dict[str, str]
    args: tuple[str, ...] = ()
    workers: int = 1
    log_level: str = "warning"
    quiet: bool = False  # drop its stdout ("serving on …"), as a bench printing figures wants
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> float:
        """Start and wait until /healthz answers; returns the seconds it took."""
        began = time.monotonic()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.cli",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
                "--log-level",
                self.log_level,
                *self.args,
            ],
            cwd=REPO,
            env=self.env,
            stdout=subprocess.DEVNULL if self.quiet else None,
            start_new_session=True,  # its own process group: a signal reaches uvicorn's workers too
        )
        self.starts += 1
        while time.monotonic() - began < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return time.monotonic() - began
            except httpx.HTTPError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"server did not start within {timeout} s")

    def kill(self) -> None:
        """SIGKILL, no chance to finish anything (the crash tests' crash)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
