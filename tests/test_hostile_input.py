"""Hostile input: schema-driven fuzzing of the JSON API, then the specific attacks.

The fuzzer reads the app's own OpenAPI schema (``/schema/openapi.json``) and builds a
Hypothesis strategy per operation that mixes valid values with wrong types, missing and
unknown fields, and nasty strings. Every answer must be below 500, carry no stack trace,
and a refused request (4xx) must leave the database as it was. The number of requests is
bounded by ``IBASHO_FUZZ_EXAMPLES`` (per operation, default 50); the seed is printed so a
failure can be replayed with ``IBASHO_FUZZ_SEED``.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from uuid import uuid4

import msgspec
import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from server.auth.logins import LOGIN_COOKIE, start_login
from server.core.clock import now
from server.review.data import today as japan_today
from server.tables import Area, Ibasho, Note, Person, PushSubscription, Session
from sync.hlc import Clock
from sync.mutations import REGISTRY
from sync.wire import MAX_BODY_BYTES, PushRequest
from tests.access_table import AUTH, P256DH, client_for, fingerprint, make_target
from tests.factories import NASTY, SCRIPT, make_account, make_area, make_group, shown_escaped, unique

FUZZ_EXAMPLES = int(os.environ.get("IBASHO_FUZZ_EXAMPLES", "50"))
FUZZ_SEED = int(os.environ.get("IBASHO_FUZZ_SEED") or random.randrange(2**32))
FUZZ_ADDRESS = "198.51.100.7"  # the fuzzer's failed logins count against its own address only

HOSTILE_TEXT = [
    SCRIPT,
    '"><img src=x onerror=alert(1)>',
    "'; DROP TABLE account; --",
    "1' OR '1'='1",
    "Robert'); --",
    "../../etc/passwd",
    "%00",
    "\x00",
    "\u202e\u0000",
    "{{7*7}}",
    "${jndi:ldap://x}",
    '=HYPERLINK("x")',
    "\ud7ff\ufffd",
    "👩‍👩‍👧‍👦" * 50,
    "a" * 5000,
    "",
    " ",
    "NaN",
    "-1",
    "9" * 40,
]
STACK_TRACE = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+")


# --- strategies from the OpenAPI schema ---------------------------------------------------

# Values that reach deeper than random text for fields of these names.
FIELD_VALUES = {
    "endpoint": st.sampled_from(
        [
            "https://fcm.googleapis.com/fcm/send/fuzz",
            "https://127.0.0.1/",
            "http://169.254.169.254/latest/meta-data",
            "https://localhost/",
            "https://[::1]/",
            "https://fcm.googleapis.com@10.0.0.1/",
            "file:///etc/passwd",
        ]
    ),
    "name": st.sampled_from(sorted(REGISTRY)),
    "args": st.fixed_dictionaries(
        {},
        optional={
            key: st.sampled_from(HOSTILE_TEXT) | st.uuids().map(str)
            for key in (
                "id",
                "session_id",
                "person_id",
                "group_id",
                "title",
                "display_name",
                "text",
                "field",
                "category",
            )
        },
    ),
}


def wrong_values() -> st.SearchStrategy:
    return st.one_of(
        st.sampled_from(HOSTILE_TEXT),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(),
        st.booleans(),
        st.none(),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=5), st.none(), max_size=2),
    )


def from_schema(node: dict, components: dict, known_ids: list[str], name: str = "") -> st.SearchStrategy:
    """Values for a JSON Schema node (the subset Litestar emits), valid or hostile."""
    if name in FIELD_VALUES:
        return FIELD_VALUES[name] | from_schema(node, components, known_ids)
    if "$ref" in node:
        node = components[node["$ref"].rsplit("/", 1)[1]]
    if "oneOf" in node or "anyOf" in node:
        return st.one_of([from_schema(option, components, known_ids) for option in node.get("oneOf") or node["anyOf"]])
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        properties = node.get("properties", {})
        required = set(node.get("required", ()))
        fields = {key: from_schema(sub, components, known_ids, key) for key, sub in properties.items()}
        valid = st.fixed_dictionaries(
            {key: s for key, s in fields.items() if key in required},
            optional={key: s for key, s in fields.items() if key not in required},
        )
        broken = st.dictionaries(st.sampled_from([*properties, "__proto__", "unknown"]), wrong_values(), max_size=4)
        return st.one_of(valid, valid, broken)
    if kind == "array":
        return st.lists(from_schema(node.get("items", {}), components, known_ids), max_size=3) | wrong_values()
    if kind == "string":
        if node.get("format") == "uuid":
            valid = st.sampled_from(known_ids) | st.uuids().map(str)
        elif "pattern" in node:
            valid = st.from_regex(node["pattern"], fullmatch=True)
        else:
            valid = st.text(min_size=node.get("minLength", 0), max_size=min(node.get("maxLength", 200), 200))
        return st.one_of(valid, valid, st.sampled_from(HOSTILE_TEXT), wrong_values())
    if kind == "integer":
        return st.one_of(st.integers(min_value=-10, max_value=10_000), wrong_values())
    if kind == "boolean":
        return st.booleans() | wrong_values()
    return wrong_values() | st.sampled_from(HOSTILE_TEXT)


def as_parameter(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def operation_requests(path: str, method: str, operation: dict, components: dict, known_ids: list[str]):
    """A strategy of (method, url, params, body) for one operation of the schema."""
    path_values, query_values = {}, {}
    for parameter in operation.get("parameters", ()):
        values = from_schema(parameter["schema"], components, known_ids).map(as_parameter)
        (path_values if parameter["in"] == "path" else query_values)[parameter["name"]] = values
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if path == "/api/sync/push":  # decoded by the route itself (strictly), so described by its own type
        body = msgspec.json.schema(PushRequest)
        components = {**components, **body.pop("$defs", {})}
    return st.tuples(
        st.just(method.upper()),
        st.fixed_dictionaries(path_values).map(
            lambda values: re.sub(r"\{(\w+)\}", lambda m: _path_segment(values[m.group(1)]), path)
        ),
        st.fixed_dictionaries({}, optional=query_values),
        from_schema(body, components, known_ids) if body else st.none(),
        st.sampled_from(["anonymous", "organiser", "staff", "admin"]),
    )


def _path_segment(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="") or "x"


def is_refused(status: int) -> bool:
    return status >= 400


@pytest.mark.slow
async def test_fuzz_every_api_operation_from_the_openapi_schema(app, app_client, world, request, capsys):
    target = await make_target(world)
    target.csrf = (await app_client.csrf())["x-csrftoken"]
    schema = (await app_client.get("/schema/openapi.json")).json()
    components = schema.get("components", {}).get("schemas", {})
    known_ids = [str(i) for i in (world.group_a, world.group_b, world.area_a, target.ibasho_id, target.session_id)]
    operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    assert len(operations) >= 14, "the schema lost operations"
    accounts = {
        "anonymous": None,
        "organiser": world.organiser_a.account_id,
        "staff": world.staff_a.account_id,
        "admin": world.admin.account_id,
    }

    cases: list[tuple] = []
    for path, method, operation in operations:
        strategy = operation_requests(path, method, operation, components, known_ids)

        @seed(FUZZ_SEED)
        @settings(
            max_examples=FUZZ_EXAMPLES,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(strategy)
        def collect(case):
            cases.append(case)

        collect()

    started, statuses = time.monotonic(), {}
    for method, url, params, body, who in cases:
        session = await start_login(accounts[who]) if accounts[who] else None
        before = await fingerprint()
        async with client_for(app, target, session, address=FUZZ_ADDRESS) as http:
            headers = {"x-csrftoken": target.csrf}
            content = None if body is None else json.dumps(body).encode()
            if content is not None:
                headers["content-type"] = "application/json"
            response = await http.request(method, url, params=params, content=content, headers=headers)
        where = f"{method} {url} params={params!r} body={content!r} as {who} (IBASHO_FUZZ_SEED={FUZZ_SEED})"
        assert response.status_code < 500, f"{response.status_code} for {where}: {response.text[:500]}"
        assert not STACK_TRACE.search(response.text), where
        if is_refused(response.status_code):
            assert response.headers["content-type"].startswith("application/json"), where
            assert await fingerprint() == before, f"refused with {response.status_code} but changed data: {where}"
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    summary = (
        f"fuzzed {len(cases)} requests over {len(operations)} operations in {time.monotonic() - started:.1f}s "
        f"(IBASHO_FUZZ_EXAMPLES={FUZZ_EXAMPLES}, IBASHO_FUZZ_SEED={FUZZ_SEED}); "
        f"statuses {dict(sorted(statuses.items()))}"
    )
    request.node.user_properties.append(("fuzzed_requests", len(cases)))
    with capsys.disabled():  # shown in every run's log, not only on failure
        print(f"\n{summary}")
    assert len(cases) >= len(operations) * min(FUZZ_EXAMPLES, 5)


# --- specific attacks ----------------------------------------------------------------------


async def test_nul_characters_are_refused_before_they_reach_the_database(organiser, home_group):
    """PostgreSQL text cannot hold NUL: refused up front (400) on both engines, never a 500."""
    session_id = await group_session(home_group)
    requests = [
        ("POST", "/api/auth/login", {"json": {"login": "a\x00b", "password": "whatever-1"}}),
        (
            "POST",
            "/api/sync/push",
            {
                "json": {
                    "client_id": str(uuid4()),
                    "mutations": [
                        {
                            "id": "a\x00",
                            "seq": 1,
                            "name": "note.set",
                            "hlc": "x",
                            "args": {"session_id": session_id, "field": "went_well", "text": "ok"},
                        }
                    ],
                }
            },
        ),
        ("POST", "/login", {"data": {"login": "a\x00b", "password": "x"}}),
        ("DELETE", "/api/push/subscriptions", {"params": {"endpoint": "https://fcm.googleapis.com/\x00"}}),
        ("GET", "/api/sync/pull", {"params": {"client_id": str(uuid4()), "cursor": "0\x00"}}),
    ]
    for method, url, kwargs in requests:
        before = await fingerprint()
        response = await organiser.http.request(method, url, headers=await organiser.csrf(), **kwargs)
        assert response.status_code == 400 and "NUL" in response.text, (url, response.status_code, response.text)
        assert await fingerprint() == before
    # "%00" in JSON is three characters someone typed, not a NUL.
    typed = await organiser.http.post(
        "/api/auth/login", headers=await organiser.csrf(), json={"login": "nobody-%00", "password": "50%00 off"}
    )
    assert typed.status_code == 401, typed.text


async def test_a_nul_in_synced_text_rejects_that_mutation_only(organiser, home_group):
    """One pasted NUL must not block a phone's outbox: the mutation is rejected with its
    reason, the ones after it apply."""
    session_id, client_id = await group_session(home_group), str(uuid4())
    clock = Clock(client_id)
    response = await organiser.http.post(
        "/api/sync/push",
        headers=await organiser.csrf(),
        json={
            "client_id": client_id,
            "mutations": [
                {
                    "id": "m1",
                    "seq": 1,
                    "name": "note.set",
                    "hlc": clock.tick(),
                    "args": {"session_id": session_id, "field": "went_well", "text": "a\x00b"},
                },
                {
                    "id": "m2",
                    "seq": 2,
                    "name": "note.set",
                    "hlc": clock.tick(),
                    "args": {"session_id": session_id, "field": "handover", "text": "米を買う"},
                },
            ],
        },
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert results[0]["status"] == "rejected" and "NUL" in results[0]["error"]
    assert results[1]["status"] == "applied"
    note = await Note.select(Note.went_well, Note.handover).where(Note.session == session_id).first()
    assert note == {"went_well": "", "handover": "米を買う"}


@pytest.fixture(scope="module")
async def home_group():
    return await make_group(await make_area())


@pytest.fixture
async def organiser(app_client, home_group):
    """Signed in as an organiser of ``home_group`` (a session made directly: no password hashing)."""
    person = await make_account("organiser", groups=[home_group])
    app_client.http.cookies.set(LOGIN_COOKIE, await start_login(person.account_id), domain="testserver.local")
    app_client.person = person
    return app_client


async def push(client, mutations: list[dict], client_id: str | None = None):
    numbered = [
        {"id": str(uuid4()), "seq": i + 1, "hlc": f"{int(time.time() * 1000):018d}-00000-x", **m}
        for i, m in enumerate(mutations)
    ]
    return await client.post("/api/sync/push", json={"client_id": client_id or str(uuid4()), "mutations": numbered})


async def group_session(group_id) -> str:
    session_id = uuid4()
    # today in Japan: a roster shows who had joined by the session's day (Japan time)
    await Session.insert(Session(id=session_id, group=group_id, title="きらくら", date=japan_today()))
    return str(session_id)


async def test_bodies_over_one_mebibyte_are_413_and_change_nothing(organiser):
    body = b'{"client_id": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}'

    async def chunked():  # no Content-Length: the limit must hold while reading, too
        for start in range(0, len(body), 65536):
            yield body[start : start + 65536]

    for path in ("/api/sync/push", "/api/auth/login", "/login", "/api/push/subscriptions"):
        for content in (body, chunked()):
            before = await fingerprint()
            response = await organiser.post(path, content=content, headers={"content-type": "application/json"})
            assert response.status_code == 413, (path, response.text)
            assert await fingerprint() == before


async def test_more_than_500_mutations_is_413(organiser, home_group):
    session_id = await group_session(home_group)
    response = await push(
        organiser, [{"name": "tally.add", "args": {"session_id": session_id, "category": "child", "delta": 1}}] * 501
    )
    assert response.status_code == 413 and "500" in response.json()["detail"]


async def test_deeply_nested_json_is_refused_cleanly(organiser):
    for depth in (100, 600, 950, 5_000, 100_000):  # 600–990: msgspec decodes it, Python recursion would not
        await _nested(organiser, depth)


async def _nested(organiser, depth: int) -> None:
    nested = "[" * depth + "]" * depth
    bodies = {
        "/api/sync/push": f'{{"client_id": "{uuid4()}", "mutations": [{{"id": "a", "seq": 1, "name": "tally.add", '
        f'"hlc": "x", "args": {{"deep": {nested}}}}}]}}',
        "/api/auth/login": f'{{"login": {nested}, "password": "x"}}',
        "/api/push/subscriptions": f'{{"endpoint": "https://fcm.googleapis.com/x", "keys": {nested}}}',
    }
    for path, body in bodies.items():
        before = await fingerprint()
        response = await organiser.post(path, content=body.encode(), headers={"content-type": "application/json"})
        assert response.status_code in (200, 400, 413, 422), (path, depth, response.status_code, response.text[:300])
        if response.status_code == 200:  # a deep but small args object is a rejected mutation, not an error
            assert response.json()["results"][0]["status"] == "rejected"
        else:
            assert await fingerprint() == before
        assert not STACK_TRACE.search(response.text)


async def test_wrong_types_are_400_naming_the_field(organiser):
    cases = {
        "/api/sync/push": (
            {
                "client_id": str(uuid4()),
                "mutations": [{"id": "a", "seq": "1", "name": "tally.add", "args": {}, "hlc": "x"}],
            },
            "seq",
        ),
        "/api/auth/login": ({"login": 12, "password": ["x"]}, "login"),
        "/api/push/subscriptions": ({"endpoint": "https://fcm.googleapis.com/x", "keys": "k"}, "keys"),
    }
    for path, (body, field) in cases.items():
        response = await organiser.post(path, json=body)
        assert response.status_code == 400, (path, response.text)
        assert field in response.text
    pull = await organiser.get("/api/sync/pull", params={"client_id": str(uuid4()), "cursor": "ten"})
    assert pull.status_code == 400 and "cursor" in pull.text


async def test_unknown_mutations_and_other_groups_ids_are_rejected(organiser):
    """Each is rejected (the queue moves on) and nothing of another group changes."""
    other_group = await make_group(await make_area())
    theirs = await group_session(other_group)
    person_b = uuid4()
    await Person.insert(Person(id=person_b, group=other_group, display_name="B さん"))
    before = await Person.select(Person.display_name).where(Person.id == person_b).first()
    mutations = [
        {"name": name, "args": {"id": str(uuid4())}}
        for name in ("account.delete", "__proto__", "constructor", "session.upsert;DROP TABLE gathering", "../admin")
    ] + [
        {"name": "person.upsert", "args": {"id": str(person_b), "display_name": "乗っ取り"}},
        {"name": "person.upsert", "args": {"id": str(uuid4()), "group_id": str(other_group), "display_name": "x"}},
        {"name": "attendance.set", "args": {"session_id": theirs, "person_id": str(person_b), "status": "present"}},
        {"name": "note.set", "args": {"session_id": theirs, "field": "concerns", "text": "x"}},
        {"name": "session.upsert", "args": {"id": theirs, "title": "乗っ取り"}},
    ]
    response = await push(organiser, mutations)
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["rejected"] * len(mutations)
    assert await Person.select(Person.display_name).where(Person.id == person_b).first() == before
    assert not await Person.exists().where((Person.group == other_group) & (Person.display_name == "x"))
    assert (await Session.select(Session.title).where(Session.id == theirs).first())["title"] == "きらくら"
    long_name = await push(organiser, [{"name": "x" * 65, "args": {}}])
    assert long_name.status_code == 400 and "name" in long_name.text


async def test_script_and_sql_strings_are_stored_as_text_and_shown_escaped(new_client, world, organiser, home_group):
    """From the phone (sync) and from staff forms, into every text field; read back
    unchanged through the API, and escaped on every page that shows them."""
    session_id, person_id = await group_session(home_group), str(uuid4())
    pushed = await push(
        organiser,
        [
            {
                "name": "person.upsert",
                "args": {
                    "id": person_id,
                    "group_id": str(home_group),
                    "display_name": NASTY,
                    "kana": NASTY,
                    "contact": NASTY,
                },
            },
            {"name": "session.upsert", "args": {"id": session_id, "title": NASTY, "venue": NASTY, "agenda": NASTY}},
            *(
                {"name": "note.set", "args": {"session_id": session_id, "field": field, "text": NASTY}}
                for field in ("went_well", "to_improve", "handover", "concerns")
            ),
            {
                "name": "role.set",
                "args": {
                    "session_id": session_id,
                    "role": SCRIPT[:40],
                    "member_id": str(organiser.person.account_id),
                    "assigned": True,
                },
            },
        ],
    )
    assert {r["status"] for r in pushed.json()["results"]} == {"applied"}, pushed.text
    people = (await organiser.get(f"/api/groups/{home_group}/people")).json()
    assert {p["display_name"] for p in people if p["id"] == person_id} == {NASTY}  # text, byte for byte
    assert await Area.count() > 0  # the SQL in the text did nothing

    staff = await new_client()
    await staff.login(world.admin)
    area_name = f"{SCRIPT}{unique('')}"
    assert (await staff.form("/admin/areas", {"name": area_name, "description": NASTY})).status_code == 303
    area = await Area.select(Area.id).where(Area.name == area_name).first()
    created = await staff.form(
        "/staff/groups/new",
        {
            "area": str(area["id"]),
            "name": NASTY + unique(""),
            "name_kana": NASTY,
            "representative": SCRIPT,
            "contact": NASTY,
            "timezone": "Asia/Tokyo",
            "active": "true",
        },
    )
    assert created.status_code == 303, created.text
    group_id = created.headers["location"].rsplit("/", 1)[1]
    made = await staff.form(
        f"/staff/groups/{group_id}/ibasho/new",
        {
            "name": NASTY,
            "venue": NASTY,
            "description": NASTY,
            "kind": "salon",
            "audience": "anyone",
            "status": "active",
            "timezone": "Asia/Tokyo",
            "frequency": "",
        },
    )
    assert made.status_code == 303, made.text
    ibasho = await Ibasho.select(Ibasho.id).where(Ibasho.group == group_id).first()
    invited = await staff.form(f"/staff/groups/{group_id}/invitations", {"note": SCRIPT})
    assert shown_escaped(invited.text)
    reviewed = await staff.form(
        f"/review/sessions/{session_id}/review", {"review_state": "ok", "review_comment": NASTY}
    )
    assert reviewed.status_code in (303, 422)
    account = await staff.form(
        "/admin/accounts",
        {"login": unique("s"), "password": "a long password", "display_name": NASTY, "areas": str(area["id"])},
    )
    assert account.status_code == 303, account.text

    pages = [
        "/admin/areas",
        "/admin/accounts",
        "/staff",
        f"/staff/groups/{group_id}",
        f"/staff/groups/{group_id}/edit",
        f"/staff/ibasho/{ibasho['id']}/edit",
        f"/review/groups/{home_group}",
        f"/review/sessions/{session_id}",
        f"/review/sessions/{session_id}/sheet",
        f"/review/sessions/{session_id}/paper",
        "/review",
        f"/i/{ibasho['id']}",
    ]
    for page in pages:
        response = await staff.get(page)
        assert response.status_code == 200, page
        assert "text/html" in response.headers["content-type"]
        assert shown_escaped(response.text), f"{page} shows the script unescaped (or not at all)"


async def test_the_pwa_builds_its_dom_without_html_strings():
    """The app shows whatever anyone typed as text: no innerHTML and friends anywhere in it."""
    from server.pwa.routes import PWA_DIR

    sources = {path: path.read_text() for path in PWA_DIR.rglob("*.js")}
    assert len(sources) > 3
    sinks = re.compile(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(")
    offenders = [str(path) for path, text in sources.items() if sinks.search(text.split("\n", 1)[1])]
    assert not offenders


async def test_invalid_utf8_is_refused_cleanly(organiser):
    bad = b'{"login": "\xff\xfe\xc3", "password": "x\xc0\xaf"}'
    for path in ("/api/auth/login", "/api/sync/push", "/api/push/subscriptions"):
        before = await fingerprint()
        response = await organiser.post(path, content=bad, headers={"content-type": "application/json"})
        assert response.status_code == 400, (path, response.status_code, response.text[:300])
        assert await fingerprint() == before
    form = await organiser.post(
        "/login",
        content=b"login=%ff%fe&password=\xff\xfe",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code in (400, 401), form.text[:300]
    for url in (
        "/api/groups/%ff%fe",
        "/invite/%ff%c0%af",
        "/static/%ff",
        "/app/v/%ff/%fe",
        "/api/sync/pull?client_id=%ff",
    ):
        response = await organiser.get(url)
        assert response.status_code in (400, 404), (url, response.status_code)
        assert not STACK_TRACE.search(response.text)
    stopped = await organiser.get("/push/manage/%c0%ae%c0%ae")  # an unknown token: "already stopped"
    assert stopped.status_code == 200 and "すでに止まっています" in stopped.text
    weird_headers = await organiser.get(
        "/api/me", headers=[(b"accept-language", b"\xff\xfe;q=x"), (b"cookie", b"lang=\xff; ibasho_session=\xfe\x00")]
    )
    assert weird_headers.status_code in (200, 401)


INTERNAL_ENDPOINTS = [
    "http://127.0.0.1:8080/push",
    "https://127.0.0.1/push",
    "https://localhost/push",
    "https://[::1]/push",
    "https://169.254.169.254/latest/meta-data",
    "https://10.0.0.5/push",
    "https://2130706433/push",
    "https://0x7f000001/push",
    "https://fcm.googleapis.com@127.0.0.1/push",
    "https://fcm.googleapis.com:8443/push",
    "https://fcm.googleapis.com.evil.example/push",
    "https://evil.example/#fcm.googleapis.com",
    "http://fcm.googleapis.com/push",
    "file:///etc/passwd",
    "gopher://127.0.0.1:25/",
    "//fcm.googleapis.com/x",
    "https://FCM.googleapis.com\\@127.0.0.1/",
    "https://metadata.google.internal/",
    "https:///fcm.googleapis.com",
]


async def test_push_endpoints_on_internal_addresses_are_refused(organiser, home_group):
    """No server-side request forgery: the server would POST to whatever URL it stored."""
    ibasho_id = uuid4()
    await Ibasho.insert(Ibasho(id=ibasho_id, group=home_group, name="きらくら", created_at=now()))
    for endpoint in INTERNAL_ENDPOINTS:
        for owner in ({"ibasho_id": str(ibasho_id)}, {}):  # a participant's, and the organiser's own
            response = await organiser.post(
                "/api/push/subscriptions",
                json={"endpoint": endpoint, "keys": {"p256dh": P256DH, "auth": AUTH}, **owner},
            )
            assert response.status_code == 400, (endpoint, response.text)
    assert not await PushSubscription.exists().where(PushSubscription.endpoint.is_in(INTERNAL_ENDPOINTS))


TRAVERSALS = [
    "/static/../app.py",
    "/static/..%2fapp.py",
    "/static/%2e%2e/%2e%2e/pyproject.toml",
    "/static/....//config.py",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/..\\..\\pyproject.toml",
    "/static/council.css%00.py",
    "/app/v/x/../../server/app.py",
    "/app/v/x/..%2f..%2fserver%2fapp.py",
    "/app/v/x//etc/passwd",
    "/app/v/x/%2e%2e/%2e%2e/pyproject.toml",
    "/app/v/x/index.html/../../pyproject.toml",
    "/app/v/x/sw.js/..",
    "/app/v/../../../etc/passwd/x",
    "/app/v/x/js/../../server/config.py",
]


async def test_path_traversal_in_static_routes_finds_nothing(app_client):
    for url in TRAVERSALS:
        response = await app_client.get(url)
        assert response.status_code in (400, 404), (url, response.status_code, response.text[:200])
        for secret in ("[project]", "root:x:0:0", "def create_app", "def get_settings", "IBASHO_SECRET"):
            assert secret not in response.text, url
