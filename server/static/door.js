// The door page, with or without a signal. A tap marks the person at once on the page and
// puts the mark in an outbox (IndexedDB); the outbox is sent whenever the phone is online
// (now, when the signal returns, every half minute) and each mark is dropped once the server
// has answered for it. The server takes a mark once: the same mark sent again, or an older
// one than it has, changes nothing (server/events/records.py, mark), so nothing is lost when
// a reply never arrives and nothing is counted twice when the outbox is sent again.
// The service worker (door-sw.js) keeps the page itself for opening it offline.

const list = document.querySelector("[data-marks]");
const DB = "ibasho-door";

function openDb() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore("outbox", { keyPath: "id", autoIncrement: true });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function store(mode, work) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction("outbox", mode);
    const result = work(tx.objectStore("outbox"));
    tx.oncomplete = () => resolve(result.result);
    tx.onerror = () => reject(tx.error);
  });
}

// every part's marks not sent yet (a phone may go to the next part's page before a signal)
const waiting = async () => store("readonly", (s) => s.getAll());

function show(li, present) {
  const button = li.querySelector("button");
  li.classList.toggle("came", present);
  button.classList.toggle("came", present);
  button.setAttribute("aria-pressed", String(present));
  button.querySelector(".door-mark").textContent = present ? list.dataset.came : list.dataset.notYet;
  li.querySelector("input[name=present]").value = present ? "0" : "1"; // the next tap undoes it
}

async function refresh() {
  const rows = [...list.querySelectorAll("li.door-row")];
  const count = document.querySelector("[data-door-count]");
  const came = rows.filter((li) => li.classList.contains("came")).length;
  count.textContent = count.dataset.doorCount.replace("{came}", came).replace("{count}", rows.length);
  const n = (await waiting()).length;
  const note = document.querySelector(".door-outbox");
  note.hidden = n === 0;
  note.textContent = note.dataset.waiting.replace("{n}", n);
}

function csrf() {
  const cookie = document.cookie.split("; ").find((c) => c.startsWith("csrftoken="));
  return cookie ? cookie.slice("csrftoken=".length) : list.querySelector("input[name=_csrf_token]")?.value ?? "";
}

let sending = false;
let again = false; // a tap while a send is under way: send once more after it
async function send() {
  if (!navigator.onLine) return;
  if (sending) { again = true; return; }
  sending = true;
  try {
    do {
      again = false;
      await sendAll();
    } while (again && navigator.onLine);
  } finally {
    sending = false;
    await refresh();
  }
}

async function sendAll() {
  try {
    const byPart = new Map();
    for (const m of await waiting()) byPart.set(m.url, [...(byPart.get(m.url) ?? []), m]);
    for (const [url, marks] of byPart) {
      const response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        redirect: "manual", // signed out: the login page is no answer for the marks
        headers: { "content-type": "application/json", "x-csrftoken": csrf() },
        body: JSON.stringify({ marks: marks.map(({ application, present, marked_at }) => ({ application, present, marked_at })) }),
      });
      // 400/404: never to be taken (the part is gone, or not this login's area): dropped.
      // Anything but the server's JSON answer (signed out, the server away): kept for the next try.
      const answered = response.ok && (response.headers.get("content-type") ?? "").includes("json");
      if (!answered && response.status !== 400 && response.status !== 404) continue;
      await store("readwrite", (s) => { for (const m of marks) s.delete(m.id); return s.count(); });
    }
  } catch (error) {
    // no signal after all: kept for the next try
  }
}

async function tap(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const li = form.closest("li");
  const present = form.querySelector("input[name=present]").value === "1";
  const application = form.querySelector("input[name=application]").value;
  show(li, present);
  await store("readwrite", (s) => s.add({ url: list.dataset.marks, application, present, marked_at: new Date().toISOString() }));
  await refresh();
  send();
}

async function start() {
  if (!list) return;
  for (const form of list.querySelectorAll("form")) form.addEventListener("submit", tap);
  // marks not sent yet (the page opened again without a signal) show as marked
  for (const m of (await waiting()).filter((mark) => mark.url === list.dataset.marks)) {
    const li = list.querySelector(`#a-${CSS.escape(m.application)}`);
    if (li) show(li, m.present);
  }
  await refresh();
  window.addEventListener("online", send);
  setInterval(send, 30000);
  send();
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/staff/events/door-sw.js", { scope: "/staff/events/" });
}

start();
