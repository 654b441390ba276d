// The local store: every user action writes its visible effect and its outbox entry in
// ONE IndexedDB transaction, so nothing typed is lost even if the phone dies right after.
import { STORES, all, allOf, del, get, keysFrom, put, transaction } from "./db.js";
import * as hlc from "./hlc.js";
import { uuid, uuid7 } from "./ids.js";
import { LOCAL_EFFECTS, touched } from "./mutations.js";

const { entities, server, outbox, meta } = STORES;
const listeners = new Set();

export function onChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function changed() {
  for (const listener of listeners) listener();
}

export async function getMeta(name) {
  return transaction([meta], "readonly", (tx) => get(tx, meta, name));
}

export async function setMeta(name, value) {
  await transaction([meta], "readwrite", (tx) => put(tx, meta, value, name));
  changed();
}

export async function list(entity) {
  return transaction([entities], "readonly", (tx) => allOf(tx, entity));
}

export async function find(entity, id) {
  return transaction([entities], "readonly", (tx) => get(tx, entities, [entity, id]));
}

export async function pending() {
  return transaction([outbox], "readonly", (tx) => all(tx, outbox));
}

async function applyEffect(tx, name, args) {
  for (const [entity, id, change] of LOCAL_EFFECTS[name](args)) {
    const old = await get(tx, entities, [entity, id]);
    const next = change(old?.data ?? null);
    if (next === null) await del(tx, entities, [entity, id]);
    else await put(tx, entities, { entity, id, data: { ...next, id } });
  }
}

// Record what the user did: the visible change and the outbox entry, atomically.
export async function mutate(name, args) {
  await transaction([entities, outbox, meta], "readwrite", async (tx) => {
    const clientId = await get(tx, meta, "client_id");
    const seq = (await get(tx, meta, "next_seq")) ?? 1;
    const clock = hlc.tick((await get(tx, meta, "clock")) ?? { wall: 0, counter: 0 });
    if (name === "note.set") {
      // A second edit of the same field builds on this phone's own pending one, not a conflict with it.
      const previous = (await all(tx, outbox)).filter(
        (e) => e.name === "note.set" && e.args.session_id === args.session_id && e.args.field === args.field,
      ).pop();
      if (previous) args = { ...args, base_hlc: previous.hlc };
    }
    await put(tx, outbox, { seq, id: uuid7(), name, args, hlc: hlc.format(clock, clientId) });
    await put(tx, meta, seq + 1, "next_seq");
    await put(tx, meta, clock, "clock");
    await applyEffect(tx, name, args);
  });
  changed();
}

const effectKeys = (entry) => touched(entry.name, entry.args);
const keyText = ([entity, id]) => `${entity}|${id}`;

// Visible state of these entities = the server's copy + the still-pending mutations on top.
async function rebuild(tx, keys) {
  const wanted = new Set(keys.map(keyText));
  for (const key of keys) {
    const copy = await get(tx, server, key);
    if (copy) await put(tx, entities, copy);
    else await del(tx, entities, key);
  }
  for (const entry of await all(tx, outbox)) {
    if (effectKeys(entry).some((key) => wanted.has(keyText(key)))) await applyEffect(tx, entry.name, entry.args);
  }
}

async function dropAcknowledged(tx, lastSeq) {
  for (const entry of await all(tx, outbox)) {
    if (entry.seq <= lastSeq) await del(tx, outbox, entry.seq);
  }
}

// Where a fetched call list (電話連絡網) is kept: `calls:<session id>` in meta.
export const CALL_LIST_PREFIX = "calls:";

// Entities that name their group; the rest belong to a session (or, for a group, are one).
const GROUP_OWNED = new Set(["session", "person", "ibasho", "member"]);

// What this phone holds of groups it no longer syncs (its organiser was removed from them)
// goes: records, the server's copies and unsent changes. Returns the names of those groups.
async function dropGroupsOtherThan(tx, keep) {
  const kept = new Set(keep);
  const me = await get(tx, meta, "me");
  const gone = new Set((me?.groups ?? []).map((g) => g.id).filter((id) => !kept.has(id)));
  for (const row of await all(tx, server)) {
    if (row.entity === "group" && !kept.has(row.id)) gone.add(row.id);
    else if (GROUP_OWNED.has(row.entity) && !kept.has(row.data.group_id)) gone.add(row.data.group_id);
  }
  if (!gone.size) return [];
  const dropped = new Set([...gone]); // ids of gone groups and of their sessions and people
  for (const store of [server, entities]) {
    for (const row of await all(tx, store)) {
      if (GROUP_OWNED.has(row.entity) && gone.has(row.data.group_id)) dropped.add(row.id);
    }
  }
  const refersToDropped = (data) =>
    ["id", "group_id", "session_id", "person_id"].some((key) => data?.[key] && dropped.has(data[key]));
  for (const store of [server, entities]) {
    for (const row of await all(tx, store)) {
      if ((row.entity === "group" && gone.has(row.id)) || refersToDropped(row.data)) {
        await del(tx, store, [row.entity, row.id]);
      }
    }
  }
  for (const entry of await all(tx, outbox)) {
    if (refersToDropped(entry.args)) await del(tx, outbox, entry.seq);
  }
  // the call lists fetched for those sessions hold participants' phone numbers
  for (const key of await keysFrom(tx, meta, CALL_LIST_PREFIX)) {
    if (dropped.has(key.slice(CALL_LIST_PREFIX.length))) await del(tx, meta, key);
  }
  const names = (me?.groups ?? []).filter((g) => gone.has(g.id)).map((g) => g.name);
  if (me) await put(tx, meta, { ...me, groups: me.groups.filter((g) => !gone.has(g.id)) }, "me");
  return names;
}

// After a pull page: keep the server's copy of each changed entity, drop acknowledged
// outbox entries, and re-apply the still-pending mutations on top.
export async function absorb(page) {
  await transaction([entities, server, outbox, meta], "readwrite", async (tx) => {
    let clock = (await get(tx, meta, "clock")) ?? { wall: 0, counter: 0 };
    for (const change of page.changes) {
      const key = [change.entity, change.id];
      if (change.deleted) await del(tx, server, key);
      else await put(tx, server, { entity: change.entity, id: change.id, data: change.data });
      for (const stamp of Object.values(change.data?.hlcs ?? {})) clock = hlc.observe(clock, stamp);
    }
    await put(tx, meta, clock, "clock");
    await dropAcknowledged(tx, page.last_seq);
    await rebuild(tx, page.changes.map((c) => [c.entity, c.id]));
    await put(tx, meta, page.cursor, "cursor");
    if (Array.isArray(page.groups)) {
      const removed = await dropGroupsOtherThan(tx, page.groups);
      if (removed.length) await put(tx, meta, { kind: "removed", groups: removed }, "notice");
    }
  });
  changed();
}

// Staff ended this phone's login (a lost phone, a volunteer who left), or its organiser
// logged out of a shared phone (notice null): nothing of the groups stays on it, unsent
// changes included. Whoever logs in next starts afresh.
export async function wipe(notice = { kind: "ended" }) {
  await transaction([entities, server, outbox, meta], "readwrite", async (tx) => {
    for (const store of [entities, server, outbox, meta]) tx.objectStore(store).clear();
    if (notice) await put(tx, meta, notice, "notice");
  });
  changed();
}

// What a refusal or the history needs to name an entry in words later, when the
// records it names may be gone: the person and the session as this phone knew them.
async function snapshot(tx, entry) {
  const personId = entry.args.person_id ?? (entry.name.startsWith("person.") ? entry.args.id : undefined);
  const person = personId ? (await get(tx, entities, ["person", personId]))?.data : undefined;
  const session = entry.args.session_id ? (await get(tx, entities, ["session", entry.args.session_id]))?.data : undefined;
  return {
    person: person && { display_name: person.display_name, kana: person.kana, category: person.category, kind: person.kind, group_id: person.group_id, registered: person.registered },
    session: session && { title: session.title, date: session.date, kind: session.kind },
  };
}

const HISTORY_KEPT = 200;

// After a push: forget what the server processed; undo the local effect of rejections and
// keep each with its reason (a code and its parameters) until the organiser dismisses it.
export async function acknowledge(lastSeq, results) {
  await transaction([entities, server, outbox, meta], "readwrite", async (tx) => {
    const resultOf = new Map(results.map((r) => [r.seq, r]));
    const done = (await all(tx, outbox)).filter((entry) => entry.seq <= lastSeq);
    const at = new Date().toISOString();
    const sent = [];
    const shown = [];
    for (const entry of done) {
      const result = resultOf.get(entry.seq);
      const about = await snapshot(tx, entry);
      const rejected = result?.status === "rejected";
      sent.push({ seq: entry.seq, name: entry.name, args: entry.args, at, rejected, ...about });
      if (rejected) shown.push({ seq: entry.seq, name: entry.name, args: entry.args, code: result.code ?? null, params: result.params ?? {}, error: result.error, ...about });
    }
    const rejectedEntries = done.filter((entry) => resultOf.get(entry.seq)?.status === "rejected");
    await dropAcknowledged(tx, lastSeq);
    await rebuild(tx, rejectedEntries.flatMap(effectKeys));
    const earlier = (await get(tx, meta, "rejected")) ?? [];
    await put(tx, meta, [...earlier, ...shown].slice(-20), "rejected");
    const history = (await get(tx, meta, "history")) ?? [];
    await put(tx, meta, [...history, ...sent].slice(-HISTORY_KEPT), "history");
  });
  changed();
}

export async function dismissRejection(seq) {
  await transaction([meta], "readwrite", async (tx) => {
    const kept = ((await get(tx, meta, "rejected")) ?? []).filter((r) => r.seq !== seq);
    await put(tx, meta, kept, "rejected");
  });
  changed();
}

// "entity|id" of every record a still-unsent change touches (its row shows 送信待ち).
export async function pendingKeys() {
  return new Set((await pending()).flatMap(effectKeys).map(keyText));
}

export const recordKey = (entity, id) => keyText([entity, id]);

// Who the server says is logged in (the session cookie decides): the same person keeps
// everything, unsent changes included; someone else starts afresh.
export async function adopt(me) {
  if ((await getMeta("owner")) !== me.id) await reset(me);
  else await setMeta("me", me);
}

// A fresh start for a phone (first login, or someone else logs in): a new client id.
export async function reset(me) {
  await transaction([entities, server, outbox, meta], "readwrite", async (tx) => {
    for (const store of [entities, server, outbox, meta]) tx.objectStore(store).clear();
    await put(tx, meta, uuid(), "client_id");
    await put(tx, meta, 1, "next_seq");
    await put(tx, meta, 0, "cursor");
    await put(tx, meta, me, "me");
    await put(tx, meta, me.id, "owner");
  });
  changed();
}
