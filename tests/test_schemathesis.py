"""Schemathesis against a live server: the served OpenAPI document is what the server does.

Other clients rely on ``/schema/openapi.json`` (docs/sync.md), so every status, body and
header the server answers must be in it, and every request it describes must be taken.
The run is signed in as an organiser whose group has an ibasho and a participant, so the
scoped routes answer more than 401 and 404; tests/schemathesis_hooks.py teaches the
generator the one rule JSON Schema cannot state (a push's seqs follow each other).
tests/test_hostile_input.py says what schemathesis can't: that a refused request changes
nothing.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from datetime import UTC, datetime, time
from uuid import uuid4

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.reminders.subscriptions import endpoint_allowed, endpoint_pattern
from server.tables import Ibasho, Person, RateCounter
from tests.factories import make_account, make_area, make_group, start_server, unique
from tests.server_process import REPO, free_port

# Per operation: the whole run stays under a minute on two cores. The same cases every run,
# so a failure reproduces with the printed command; both can be raised for a deeper look.
MAX_EXAMPLES = int(os.environ.get("IBASHO_SCHEMATHESIS_EXAMPLES", "20"))
SEED = int(os.environ.get("IBASHO_SCHEMATHESIS_SEED", "20260401"))


@pytest.fixture(scope="module")
async def fuzzed_server():
    env = {
        **os.environ,
        # Fuzzed wrong passwords must not trip the login throttle of this server (only this one).
        "IBASHO_LOGIN_MAX_FAILURES": "100000",
        # Subscriptions it takes can only point at a closed loopback port: no reminder ever
        # leaves the machine, and the endpoint's pattern has its loopback form.
        "IBASHO_PUSH_HOSTS": f"127.0.0.1:{free_port()}",
    }
    server = start_server(env=env)
    yield server
    server.stop()
    # The counters live in the run's shared database, so the fuzzed wrong passwords (a dozen
    # from 127.0.0.1) would otherwise throttle the logins of the tests after this module
    # until the 15-minute window turns.
    await RateCounter.delete(force=True)


async def signed_in_organiser(url: str) -> tuple[str, str]:
    """An organiser of a group with a registration-based ibasho and a participant, logged
    in over HTTP: (Cookie header, CSRF token)."""
    group = await make_group(await make_area())
    organiser = await make_account("organiser", groups=[group])
    # No schedule, so no sessions and no reminders: the run only reads the ibasho.
    await Ibasho.insert(
        Ibasho(
            id=uuid4(),
            group=group,
            name=unique("きらくら"),
            registration_required=True,
            start_time=time(10),
            end_time=time(13, 30),
            created_at=datetime.now(UTC),
        )
    )
    await Person.insert(Person(id=uuid4(), group=group, display_name="山田 花子", kana="やまだ はなこ"))
    async with httpx.AsyncClient(base_url=url) as http:
        await http.get("/healthz")
        csrf = http.cookies["csrftoken"]
        login = await http.post(
            "/api/auth/login",
            headers={"x-csrftoken": csrf},
            json={"login": organiser.login, "password": organiser.password},
        )
        assert login.status_code == 200, login.text
        return "; ".join(f"{name}={value}" for name, value in http.cookies.items()), csrf


@pytest.mark.slow
async def test_the_openapi_document_holds_under_schemathesis(fuzzed_server, tmp_path):
    cookie, csrf = await signed_in_organiser(fuzzed_server.url)
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{fuzzed_server.url}/schema/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "-H",
        f"Cookie: {cookie}",
        "-H",
        f"x-csrftoken: {csrf}",
        "--exclude-path",
        "/api/auth/logout",  # it would end the session the run is signed in with
    ]
    hooks = {"PYTHONPATH": str(REPO), "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks"}
    # In a temporary directory: schemathesis keeps its cache of past failures (replayed on
    # the next run) under the working directory.
    run = subprocess.run(
        command, cwd=tmp_path, env={**os.environ, **hooks}, capture_output=True, text=True, timeout=300
    )
    shown = " ".join(f"{name}={value}" for name, value in hooks.items())
    assert run.returncode == 0, f"$ {shown} {shlex.join(command)}\n{run.stdout}\n{run.stderr}"
    print(run.stdout[run.stdout.rfind("SUMMARY") :])  # shown with -rP


HOSTS = ("fcm.googleapis.com", "*.push.apple.com", "*.notify.windows.com", "127.0.0.1:8443", "127.0.0.1:443")


@settings(max_examples=300, deadline=None)
@given(st.from_regex(endpoint_pattern(HOSTS), fullmatch=True))
def test_every_endpoint_the_document_admits_is_accepted(endpoint):
    assert endpoint_allowed(endpoint, HOSTS)


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/dQw4w9WgXcQ:APA91bH-x_y",
        "https://web.push.apple.com/QGuQyavXutnMSg7PUcvbZNvNEnqaC",
        "https://wns2-par02p.notify.windows.com/w/?token=BQYAAAD%2bA",
        "http://127.0.0.1:8443/push/1",
    ],
)
def test_real_push_services_endpoints_match_the_document(endpoint):
    assert re.fullmatch(endpoint_pattern(HOSTS), endpoint) and endpoint_allowed(endpoint, HOSTS)
