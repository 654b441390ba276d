// The app: routes, the sync bar, refusals, the update prompt, and start-up.
import { h, render } from "./ui.js";
import { lang, setLang, t, formatTime } from "./i18n.js";
import * as store from "./store.js";
import * as sync from "./sync.js";
import * as push from "./push.js";
import { applyTextSize, settingsView } from "./views/settings.js";
import { homeView } from "./views/home.js";
import { loginView } from "./views/login.js";
import { sessionView } from "./views/session.js";
import { callsView } from "./views/calls.js";
import { rosterView } from "./views/roster.js";
import { newSessionView } from "./views/new_session.js";
import { historyView } from "./views/history.js";
import { refusalsPanel } from "./views/refusals.js";
import { welcomed, welcomeView } from "./views/welcome.js";

const screenSlot = document.getElementById("screen");
const refusals = document.getElementById("refusals");
const syncbar = document.getElementById("syncbar");

// Screens anyone may see before logging in; every other one needs to know who is using the phone.
const OPEN = /^#\/(login|welcome\/\d)$/;

// Each route draws into a screen of its own, put on view once drawn.
const ROUTES = [
  [/^#\/login$/, (screen) => loginView(screen, go)],
  [/^#\/welcome\/(\d)$/, (screen, step) => welcomeView(screen, Number(step), go)],
  [/^#\/session\/([\w-]+)(?:\/(\w+))?$/, (screen, id, tab) => sessionView(screen, id, tab)],
  [/^#\/calls\/([\w-]+)$/, (screen, id) => callsView(screen, id)],
  [/^#\/roster\/([\w-]+)$/, (screen, groupId) => rosterView(screen, groupId)],
  [/^#\/new\/([\w-]+)$/, (screen, groupId) => newSessionView(screen, groupId, go)],
  [/^#\/history$/, (screen) => historyView(screen)],
  [/^#\/settings$/, (screen) => settingsView(screen, go)],
  [/^#?\/?$/, (screen) => homeView(screen, go)],
];

export function go(hash) {
  if (location.hash !== hash) location.hash = hash; // hashchange draws the view
}

// One login: the session cookie is the source of truth. Online, the server says who is
// logged in (a login on /login or an accepted invitation included); offline, the phone
// goes on as whoever it stored.
async function learnWhoIsLoggedIn() {
  if (!navigator.onLine) return;
  try {
    await store.adopt(await sync.api("/api/me"));
  } catch {
    // not logged in (401) or no server: the stored person, if any, stays
  }
}

let cleanup = null;
let lastHash = null;
let latest = 0; // the newest route(); an older one still drawing (or redrawing) must not take the screen

async function route() {
  const hash = location.hash;
  if (!OPEN.test(hash) && !(await store.getMeta("me"))) {
    location.replace(welcomed() ? "#/login" : "#/welcome/1"); // hashchange routes again
    return;
  }
  const mine = ++latest;
  for (const [pattern, show] of ROUTES) {
    const match = hash.match(pattern);
    if (match) {
      const screen = h("div", { className: "screen" });
      const dispose = (await show(screen, ...match.slice(1))) ?? null;
      if (mine !== latest) {
        dispose?.(); // a newer route drew meanwhile
        return;
      }
      cleanup?.(); // the old screen's listeners go with it; its late redraws land off-screen
      cleanup = dispose;
      screenSlot.replaceChildren(screen);
      if (hash !== lastHash) window.scrollTo(0, 0); // a new screen starts at its top
      lastHash = hash;
      return;
    }
  }
  go("#/");
}

function statusText(waiting, lastSynced) {
  if (sync.status.syncing) return t("syncing");
  if (!navigator.onLine) return t("offline");
  if (sync.status.error) return t(sync.status.error);
  return lastSynced ? t("last_synced", { time: formatTime(lastSynced) }) : t("never_synced");
}

async function drawSyncbar() {
  syncbar.hidden = !(await store.getMeta("me")); // nothing to send before anyone logs in
  const waiting = (await store.pending()).length;
  const lastSynced = await store.getMeta("last_synced");
  const online = navigator.onLine;
  render(
    syncbar,
    h("p", { className: "sync-status", role: "status" },
      h("span", { className: `pill ${online ? "online" : "offline"}`, dataset: { testid: "network", online: String(online) } },
        statusText(waiting, lastSynced)),
      " ",
      h("a", { href: "#/history", dataset: { testid: "waiting", count: String(waiting) } },
        waiting ? t("waiting", { n: waiting }) : t("all_sent"))),
  );
  render(refusals, await refusalsPanel());
  if (sync.status.needsLogin && location.hash !== "#/login") go("#/login");
}

function offerUpdates(registration) {
  const banner = document.getElementById("update");
  let asked = false; // only the organiser's tap on 再読み込み reloads: never a screen being typed in
  const show = (worker) => {
    render(banner, h("span", {}, t("update_ready")),
      h("button", { className: "primary", onclick: () => { asked = true; worker.postMessage("skip-waiting"); } }, t("reload")));
    banner.hidden = false;
  };
  if (registration.waiting && navigator.serviceWorker.controller) show(registration.waiting);
  registration.addEventListener("updatefound", () => {
    const worker = registration.installing;
    worker?.addEventListener("statechange", () => {
      if (worker.state === "installed" && navigator.serviceWorker.controller) show(worker);
    });
  });
  // A first visit's worker taking control changes nothing on screen; a new version asked for does.
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (asked) location.reload(); // unsynced changes are safe in IndexedDB
  });
}

async function start() {
  setLang(lang());
  applyTextSize();
  window.addEventListener("hashchange", route);
  store.onChange(drawSyncbar);
  sync.onStatus(drawSyncbar);
  window.addEventListener("online", drawSyncbar);
  window.addEventListener("offline", drawSyncbar);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/app/" }).then((registration) => {
      offerUpdates(registration);
      setInterval(() => registration.update().catch(() => {}), 30 * 60_000);
    });
  }
  await learnWhoIsLoggedIn();
  await drawSyncbar();
  await route();
  sync.start();
  push.resend();
}

document.addEventListener("ibasho:language", () => {
  setLang(lang() === "ja" ? "en" : "ja");
  route();
  drawSyncbar();
});

start();
