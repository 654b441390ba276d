// A small promise wrapper around IndexedDB: the phone's own database.
const DB_NAME = "ibasho";

export const STORES = {
  entities: "entities", // visible state: server copy + pending changes; key [entity, id]
  server: "server", // the last pulled server copy; key [entity, id]
  outbox: "outbox", // mutations not yet acknowledged; key seq
  meta: "meta", // client id, seq counter, cursor, clock, who I am…; key name
};

// Each version's changes to the object stores, in order: a phone on version n runs those
// after n, keeping everything it holds (unsent changes above all). A new version appends.
const UPGRADES = [
  (db) => {
    const entities = db.createObjectStore(STORES.entities, { keyPath: ["entity", "id"] });
    entities.createIndex("by_entity", "entity");
    db.createObjectStore(STORES.server, { keyPath: ["entity", "id"] });
    db.createObjectStore(STORES.outbox, { keyPath: "seq" });
    db.createObjectStore(STORES.meta);
  },
];
const DB_VERSION = UPGRADES.length;

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

let opening = null;

export function openDb() {
  opening ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = (event) => {
      for (const upgrade of UPGRADES.slice(event.oldVersion)) upgrade(req.result, req.transaction);
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return opening;
}

// Run `work(tx)` in one transaction over `stores`; resolves once it has committed.
export async function transaction(stores, mode, work) {
  const db = await openDb();
  const tx = db.transaction(stores, mode);
  const done = new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error("transaction aborted"));
  });
  const result = await work(tx);
  await done;
  return result;
}

export const get = (tx, store, key) => request(tx.objectStore(store).get(key));
export const put = (tx, store, value, key) => request(tx.objectStore(store).put(value, key));
export const del = (tx, store, key) => request(tx.objectStore(store).delete(key));
export const all = (tx, store) => request(tx.objectStore(store).getAll());
export const allOf = (tx, entity) =>
  request(tx.objectStore(STORES.entities).index("by_entity").getAll(entity));
// The keys of `store` that start with `prefix` (meta keys are plain strings).
export const keysFrom = (tx, store, prefix) =>
  request(tx.objectStore(store).getAllKeys(IDBKeyRange.bound(prefix, `${prefix}\uffff`)));
export const clear = (tx, store) => request(tx.objectStore(store).clear());
