// The app: routes, the sync bar, the update prompt, and start-up.
import { h, render } from "./ui.js";
import { lang, setLang, t, formatTime } from "./i18n.js";
import * as store from "./store.js";
import * as sync from "./sync.js";
import * as push from "./push.js";
import { homeView } from "./views/home.js";
import { loginView } from "./views/login.js";
import { sessionView } from "./views/session.js";
import { rosterView } from "./views/roster.js";
import { newSessionView } from "./views/new_session.js";

const view = document.getElementById("view");
const syncbar = document.getElementById("syncbar");

// Each route draws into a screen of its own, put on view once drawn.
const ROUTES = [
  [/^#\/login$/, (screen) => loginView(screen, go)],
  [/^#\/session\/([\w-]+)(?:\/(\w+))?$/, (screen, id, tab) => sessionView(screen, id, tab ?? "attendance")],
  [/^#\/roster\/([\w-]+)$/, (screen, groupId) => rosterView(screen, groupId)],
  [/^#\/new\/([\w-]+)$/, (screen, groupId) => newSessionView(screen, groupId, go)],
  [/^#?\/?$/, (screen) => homeView(screen, go)],
];

export function go(hash) {
  if (location.hash !== hash) location.hash = hash; // hashchange draws the view
}

let cleanup = null;
let lastHash = null;
let latest = 0; // the newest route(); an older one still drawing (or redrawing) must not take the screen

async function route() {
  const me = await store.getMeta("me");
  if (!me && location.hash !== "#/login") {
    location.replace("#/login"); // hashchange routes again
    return;
  }
  const hash = location.hash;
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
      view.replaceChildren(screen);
      if (hash !== lastHash) window.scrollTo(0, 0); // a new screen starts at its top
      lastHash = hash;
      return;
    }
  }
  go("#/");
}

async function drawSyncbar() {
  const waiting = (await store.pending()).length;
  const lastSynced = await store.getMeta("last_synced");
  const rejected = (await store.getMeta("rejected")) ?? [];
  const online = navigator.onLine;
  render(
    syncbar,
    h("span", { className: `pill ${online ? "online" : "offline"}`, dataset: { testid: "network" } }, t(online ? "online" : "offline")),
    h("span", { dataset: { testid: "waiting", count: String(waiting) } }, waiting ? t("waiting", { n: waiting }) : t("all_sent")),
    h("span", { className: "muted" }, sync.status.syncing ? t("syncing") : lastSynced ? t("last_synced", { time: formatTime(lastSynced) }) : t("never_synced")),
    sync.status.error ? h("span", { className: "error" }, sync.status.error) : null,
    rejected.length
      ? h("details", { className: "rejected", open: true, dataset: { testid: "rejected" } },
          h("summary", {}, `${t("rejected")} (${rejected.length})`),
          h("ul", {}, rejected.map((r) => h("li", {}, `#${r.seq} ${r.name}: ${r.error}`))))
      : null,
  );
  if (sync.status.needsLogin && location.hash !== "#/login") go("#/login");
}

function offerUpdates(registration) {
  const banner = document.getElementById("update");
  const show = (worker) => {
    render(banner, h("span", {}, t("update_ready")),
      h("button", { className: "primary", onclick: () => worker.postMessage("skip-waiting") }, t("reload")));
    banner.hidden = false;
  };
  if (registration.waiting && navigator.serviceWorker.controller) show(registration.waiting);
  registration.addEventListener("updatefound", () => {
    const worker = registration.installing;
    worker?.addEventListener("statechange", () => {
      if (worker.state === "installed" && navigator.serviceWorker.controller) show(worker);
    });
  });
  let reloading = false;
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (!reloading) {
      reloading = true;
      location.reload(); // unsynced changes are safe in IndexedDB
    }
  });
}

async function start() {
  setLang(lang());
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
