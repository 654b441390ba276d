"""The meaning of each mutation, as data both sides run (tests/vectors/mutations.json).

Here against the sync engine itself with the in-memory store (no database, no HTTP), and
in Chromium against the phone's own mutation table (pwa/js/mutations.js): a phone shows
what the server will hold, and the two cannot drift apart unnoticed.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from sync import engine
from sync.entities import DEFAULTS
from sync.memory import MemoryStore
from sync.mutations import Scope
from sync.store import Record
from sync.wire import Mutation, PushRequest

VECTORS = json.loads((Path(__file__).parent / "vectors" / "mutations.json").read_text())
ACCOUNT = uuid.UUID("3e3be511-0000-4000-8000-000000000001")  # the seeded member: the phone's organiser


def seeded_store() -> MemoryStore:
    store = MemoryStore()
    for entity, records in VECTORS["seed"].items():
        for entity_id, data in records.items():
            full = {**DEFAULTS.get(entity, {}), **data}
            store.seed(entity, entity_id, Record(group_id=uuid.UUID(data["group_id"]), data=full))
    return store


def matches(expected: dict | None, got: dict | None) -> bool:
    if expected is None:
        return got is None
    return got is not None and all(got.get(key) == value for key, value in expected.items())


@pytest.mark.parametrize("case", VECTORS["cases"], ids=[case["name"] for case in VECTORS["cases"]])
async def test_the_engine_gives_each_vectors_results(case):
    store = seeded_store()
    scope = Scope(ACCOUNT, frozenset(uuid.UUID(group) for group in VECTORS["scope"]))
    client = uuid.uuid4()
    mutations = [
        Mutation(id=str(uuid.uuid4()), seq=seq, name=m["name"], args=m["args"], hlc=m["hlc"])
        for seq, m in enumerate(case["mutations"], start=1)
    ]
    response = await engine.push(store, scope, PushRequest(client_id=client, mutations=mutations))
    assert [result.status for result in response.results] == case["results"], [r.error for r in response.results]
    if "codes" in case:  # what a phone translates a refusal from (docs/sync.md "Refusals")
        assert [result.code for result in response.results] == case["codes"], [r.error for r in response.results]
    pulled = await engine.pull(store, scope, client, cursor=0, limit=5000)
    state = {f"{change.entity}:{change.id}": change.data for change in pulled.changes}
    for key, expected in case["after"].items():
        assert matches(expected, state.get(key)), (key, state.get(key))


def test_every_mutation_has_a_vector():
    from sync.mutations import REGISTRY

    covered = {m["name"] for case in VECTORS["cases"] for m in case["mutations"]}
    assert set(REGISTRY) <= covered


PHONE_RUN = """async ({vectors, module}) => {
  const {applyLocal} = await import(module);
  const failures = [];
  for (const vector of vectors.cases.filter((c) => c.phone)) {
    const state = new Map();
    for (const [entity, records] of Object.entries(vectors.seed)) {
      for (const [id, data] of Object.entries(records)) state.set(`${entity}:${id}`, {...data, id});
    }
    for (const m of vector.mutations) applyLocal(state, m.name, m.args);
    for (const [key, expected] of Object.entries(vector.after)) {
      const got = state.get(key) ?? null;
      const same = expected === null ? got === null
        : got !== null && Object.entries(expected).every(([k, v]) => JSON.stringify(got[k]) === JSON.stringify(v));
      if (!same) failures.push({vector: vector.name, key, expected, got});
    }
  }
  return failures;
}"""


async def test_the_phone_shows_what_the_server_will_hold(chromium, live_server):
    from server.pwa.routes import asset_url

    page = await (await chromium.new_context()).new_page()
    await page.goto(f"{live_server.url}/healthz")  # same origin, and no service worker to reload the page
    failures = await page.evaluate(PHONE_RUN, {"vectors": VECTORS, "module": asset_url("js/mutations.js")})
    await page.context.close()
    assert failures == []
