// The call list (電話連絡網) of a session: who asked to be phoned, with their numbers, split
// among the 連絡係. The server makes the list (GET /api/push/calls/<session>); the phone
// keeps the last one it fetched, so calls are marked with no signal. Each mark is the
// synced call.set (伝えた / 不在 / 欠席の連絡); 欠席の連絡 marks the attendance 連絡あり欠席.
import { drawer, h } from "../ui.js";
import { formatDate, formatTime, t } from "../i18n.js";
import * as store from "../store.js";
import * as sync from "../sync.js";
import { pendingBadge } from "./roster.js";

const OUTCOMES = [["told", "calls_told"], ["no_answer", "calls_no_answer"], ["absent", "calls_absent"]];
const cacheKey = (sessionId) => `${store.CALL_LIST_PREFIX}${sessionId}`;

async function fetchList(sessionId) {
  if (!navigator.onLine) return;
  try {
    const list = await sync.api(`/api/push/calls/${sessionId}`);
    await store.setMeta(cacheKey(sessionId), { fetched_at: new Date().toISOString(), list });
  } catch {
    // no signal after all, or not allowed: the copy kept on the phone (if any) is shown
  }
}

function callRow(sessionId, person, marks, pendingKeys) {
  const id = `${sessionId}:${person.person_id}`;
  const outcome = marks[id] === undefined ? person.outcome : marks[id];
  const mark = (value) => sync.record("call.set", {
    session_id: sessionId, person_id: person.person_id, outcome: outcome === value ? "unmarked" : value,
  });
  return h("li", { className: "call", dataset: { testid: "call", outcome: outcome ?? "" } },
    h("div", { className: "call-who" },
      h("span", { className: "name" }, person.name, pendingBadge(pendingKeys, "call", id)),
      h("a", { className: "tel", href: `tel:${person.phone.replace(/[^0-9+]/g, "")}` }, person.phone)),
    h("div", { className: "call-outcomes" }, OUTCOMES.map(([value, label]) =>
      h("button", {
        className: `outcome ${outcome === value ? "chosen" : ""}`,
        "aria-pressed": outcome === value ? "true" : "false",
        dataset: { testid: `call-${value}` },
        onclick: () => mark(value),
      }, t(label)))));
}

export async function callsView(view, sessionId) {
  const draw = drawer(view, async () => {
    const session = (await store.find("session", sessionId))?.data;
    const cached = await store.getMeta(cacheKey(sessionId));
    const me = (await store.getMeta("me"))?.id;
    const marks = Object.fromEntries((await store.list("call")).map((row) => [row.id, row.data.outcome ?? null]));
    const pendingKeys = await store.pendingKeys();
    const header = [
      h("a", { className: "back", href: `#/session/${sessionId}` }, `← ${t("back")}`),
      h("h1", {}, t("calls")),
      session ? h("p", { className: "muted" }, `${session.title ?? ""} ${formatDate(session.date)} ${session.start_time ?? ""}`) : null,
    ];
    if (!cached) return [...header, h("p", { className: "notice", dataset: { testid: "calls-never" } }, t("calls_never_fetched"))];
    const { list, fetched_at: fetchedAt } = cached;
    return [
      ...header,
      navigator.onLine ? null : h("p", { className: "notice", dataset: { testid: "calls-offline" } }, t("calls_offline_copy", { time: formatTime(fetchedAt) })),
      list.callers.map((caller) => h("section", { className: "call-block", dataset: { testid: "call-block" } },
        h("h2", {}, caller.name
          ? [t("calls_caller", { name: caller.name }), caller.member_id === me ? t("calls_you") : ""]
          : t("calls_no_caller")),
        caller.people.length
          ? h("ul", { className: "calls" }, caller.people.map((person) => callRow(sessionId, person, marks, pendingKeys)))
          : h("p", { className: "muted" }, t("calls_none")))),
      h("p", {}, h("a", { className: "button", href: `/calls/${sessionId}`, target: "_blank" }, t("calls_print"))),
    ];
  });
  await draw();
  const stop = store.onChange(() => draw());
  fetchList(sessionId); // the drawn copy first; a fresh one redraws when it comes
  return stop;
}
