// The sync client of the contract: push the outbox, pull to the end, rebase, retry with backoff.
import * as store from "./store.js";

const MAX_BATCH = 500;
const PERIOD_MS = 60_000;
const listeners = new Set();
// error: null, or why the last sync failed as a message key (the bar says it in words).
export const status = { online: navigator.onLine, syncing: false, error: null, needsLogin: false };
let again = false;
let retryTimer = null;
let failures = 0;

export function onStatus(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function report(changes) {
  Object.assign(status, changes);
  for (const listener of listeners) listener(status);
}

function csrfToken() {
  return document.cookie.split("; ").find((c) => c.startsWith("csrftoken="))?.slice("csrftoken=".length) ?? "";
}

// Why a request failed, as a message key: no network, the server's fault, or anything else.
export function failureKey(error) {
  if (!(error instanceof HttpError)) return "sync_unreachable"; // fetch itself failed: no signal or no server
  return error.status >= 500 ? "sync_server_error" : "sync_failed";
}

export class HttpError extends Error {
  constructor(response, body) {
    super(body?.detail ?? `HTTP ${response.status}`);
    this.status = response.status;
    this.body = body;
  }
}

export async function api(path, { method = "GET", body } = {}) {
  if (method !== "GET" && !csrfToken()) await fetch("/healthz", { credentials: "same-origin" });
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    cache: "no-store",
    headers: body === undefined ? {} : { "content-type": "application/json", "x-csrftoken": csrfToken() },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.headers.get("content-type")?.includes("json") ? await response.json() : null;
  if (!response.ok) throw new HttpError(response, data);
  return data;
}

async function pushAll(clientId) {
  for (;;) {
    const entries = (await store.pending()).sort((a, b) => a.seq - b.seq).slice(0, MAX_BATCH);
    if (!entries.length) return;
    const mutations = entries.map(({ id, seq, name, args, hlc }) => ({ id, seq, name, args, hlc }));
    try {
      const result = await api("/api/sync/push", { method: "POST", body: { client_id: clientId, mutations } });
      await store.acknowledge(result.last_seq, result.results);
    } catch (error) {
      if (error.status === 409 && error.body?.expected_seq > entries[0].seq) {
        // The server already has these (a response we never heard): skip past them.
        await store.acknowledge(error.body.expected_seq - 1, []);
        continue;
      }
      throw error;
    }
  }
}

async function pullAll(clientId) {
  for (;;) {
    const cursor = (await store.getMeta("cursor")) ?? 0;
    const page = await api(`/api/sync/pull?client_id=${clientId}&cursor=${cursor}&limit=1000`);
    await store.absorb(page);
    if (!page.more) return;
  }
}

export async function syncNow() {
  if (status.syncing) {
    again = true;
    return;
  }
  const clientId = await store.getMeta("client_id");
  if (!clientId) return;
  clearTimeout(retryTimer);
  report({ syncing: true });
  try {
    await pushAll(clientId);
    await pullAll(clientId);
    failures = 0;
    await store.setMeta("last_synced", new Date().toISOString());
    report({ syncing: false, error: null, online: true, needsLogin: false });
  } catch (error) {
    failures += 1;
    if (error.status === 401 && error.body?.code === "session_ended") await store.wipe();
    const needsLogin = error.status === 401;
    report({ syncing: false, error: needsLogin ? null : failureKey(error), needsLogin });
    if (!needsLogin) {
      // Exponential backoff with jitter, at most five minutes.
      const delay = Math.min(300_000, 2000 * 2 ** Math.min(failures, 8)) * (0.5 + Math.random() / 2);
      retryTimer = setTimeout(syncNow, delay);
    }
  }
  if (again) {
    again = false;
    syncNow();
  }
}

export function start() {
  window.addEventListener("online", () => {
    report({ online: true });
    syncNow();
  });
  window.addEventListener("offline", () => report({ online: false }));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") syncNow();
  });
  setInterval(syncNow, PERIOD_MS);
  syncNow();
}

// Record a change and sync it when the network allows.
export async function record(name, args) {
  await store.mutate(name, args);
  if (navigator.onLine) syncNow();
}
