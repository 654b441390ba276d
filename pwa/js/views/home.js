import { drawer, h, render, today } from "../ui.js";
import { formatDate, lang, t } from "../i18n.js";
import * as store from "../store.js";
import * as sync from "../sync.js";
import * as push from "../push.js";
import { noticeBanner } from "./notice.js";

function sessionButton(session) {
  const time = session.start_time ? ` ${session.start_time}〜${session.end_time ?? ""}` : "";
  return h("a", { className: `card-link ${session.status}`, href: `#/session/${session.id}` },
    h("span", { className: "date" }, formatDate(session.date) + time),
    h("strong", {}, session.title || t(session.kind)),
    session.status !== "scheduled" ? h("span", { className: "badge" }, t(session.status)) : null);
}

let remindersFailed = false; // the last tap could not turn them on: say so until the next

function remindersSection(state, redraw) {
  const enable = async (event) => {
    event.target.disabled = true;
    remindersFailed = !(await push.enable().catch(() => false)) && Notification.permission !== "denied";
    redraw();
  };
  return h("section", { className: "reminders", dataset: { testid: "reminders", state } },
    h("h2", {}, t("reminders")),
    state === "on" ? h("p", {}, t("reminders_on"))
      : state === "denied" ? h("p", { className: "muted" }, t("reminders_blocked"))
      : state === "unsupported" ? h("p", { className: "muted" }, t("reminders_unsupported"))
      : [h("p", { className: "muted" }, t("reminders_hint")),
         remindersFailed ? h("p", { className: "error", role: "alert" }, t("reminders_failed")) : null,
         h("button", { className: "big", dataset: { testid: "reminders-enable" }, onclick: enable }, t("reminders_enable"))]);
}

// The printable poster of each active ibasho (server/reminders/poster.py): a QR code that
// takes participants to its public page, where they subscribe to reminders. Small links,
// opened in a new tab: printing is a browser page's job, not the app's.
function posterLinks(places) {
  return places.map((place) => h("p", { className: "muted" },
    h("a", { href: `/i/${place.id}/poster`, target: "_blank", rel: "noopener", dataset: { testid: "poster-link" } },
      t("poster_link", { name: place.name }))));
}

export async function homeView(view, go) {
  // The logout warning stays up until it is answered.
  const draw = drawer(view, () => buildHome(go, () => draw(true)), () => Boolean(view.querySelector(".logout .warning")));
  await draw(true);
  return store.onChange(draw);
}

async function buildHome(go, redraw) {
  const me = await store.getMeta("me");
  const sessions = (await store.list("session")).map((row) => row.data).sort((a, b) => a.date.localeCompare(b.date));
  const day = today();
  const todays = sessions.filter((s) => s.date === day);
  const upcoming = sessions.filter((s) => s.date > day).slice(0, 12);
  const past = sessions.filter((s) => s.date < day).slice(-8).reverse();
  const places = (await store.list("ibasho")).map((row) => row.data)
    .filter((place) => place.status === "active").sort((a, b) => a.name.localeCompare(b.name, "ja"));
  return [
    h("header", { className: "topbar" },
      h("h1", {}, t("app")),
      h("div", { className: "topbar-actions" },
        h("a", { className: "button quiet", href: "#/settings" }, t("settings")),
        h("button", { className: "quiet", lang: lang() === "ja" ? "en" : "ja", onclick: () => document.dispatchEvent(new Event("ibasho:language")) }, t("language")))),
    await noticeBanner(),
    h("section", {}, h("h2", {}, t("today")), todays.length ? todays.map(sessionButton) : h("p", { className: "muted" }, t("no_sessions"))),
    h("section", {}, h("h2", {}, t("upcoming")), upcoming.map(sessionButton)),
    (me?.groups ?? []).map((group) => group.committee
      // A 推進委員会: its meetings are the council's (they arrive with the sessions), no 居場所 to run
      ? h("section", { className: "group-actions", dataset: { testid: "committee" } },
        h("h2", {}, group.name, " ", h("span", { className: "badge" }, t("committee"))),
        h("a", { className: "button", href: `#/roster/${group.id}` }, t("roster")))
      : h("section", { className: "group-actions" },
        h("h2", {}, group.name),
        h("a", { className: "button", href: `#/new/${group.id}` }, t("new_session")),
        h("a", { className: "button", href: `#/roster/${group.id}` }, t("roster")),
        posterLinks(places.filter((place) => place.group_id === group.id)))),
    past.length ? h("section", {}, h("h2", {}, t("past")), past.map(sessionButton)) : null,
    remindersSection(await push.status(), redraw),
    h("p", {}, h("a", { href: "#/history" }, t("history"))),
    logoutSection(go),
  ];
}

// Logging out of a shared phone: with changes still waiting it warns first (they exist only
// here); otherwise, or when the organiser chooses so, nothing of the groups stays on the phone.
function logoutSection(go) {
  const section = h("section", { className: "logout", dataset: { testid: "logout" } });
  const leave = async () => {
    await sync.api("/api/auth/logout", { method: "POST", body: {} }).catch(() => {});
    await store.wipe(null);
    go("#/login");
  };
  const ask = async () => {
    const unsent = (await store.pending()).length;
    if (!unsent) return leave();
    render(section,
      h("p", { className: "warning", role: "alert" }, t("logout_waiting", { n: unsent })),
      navigator.onLine ? h("button", { className: "primary big", onclick: () => { sync.syncNow(); drawButton(); } }, t("logout_send_first"))
        : h("p", {}, t("logout_offline")),
      h("button", { className: "big", onclick: drawButton }, t("logout_keep")),
      h("button", { className: "danger", onclick: leave }, t("logout_discard")));
  };
  const drawButton = () => render(section, h("button", { className: "big", onclick: ask }, t("logout")));
  drawButton();
  return section;
}
