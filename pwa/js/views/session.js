// One session: attendance, head counts, roles and the 反省会 notes.
import { h, render } from "../ui.js";
import { ROLES, TALLY_CATEGORIES } from "../domain.js";
import { formatDate, t } from "../i18n.js";
import { safetyCheckId } from "../ids.js";
import * as store from "../store.js";
import * as sync from "../sync.js";
import { people } from "./roster.js";

const TABS = ["attendance", "tallies", "roles", "notes"];
const NEXT_STATUS = { undefined: "present", present: "absent_notified", absent_notified: "absent_unnotified", absent_unnotified: "present" };
const NOTE_FIELDS = ["went_well", "to_improve", "handover", "concerns"];
const NOTE_SAVE_DELAY_MS = 600;
const OUTCOMES = ["safe", "unreachable", "needs_support"];
const METHODS = ["phone", "visit", "message"];
const CONTACT_NAME = "ibasho-contact-name"; // who usually makes the calls on this phone

const byId = (rows) => Object.fromEntries(rows.map((row) => [row.id, row.data]));

async function attendanceTab(session) {
  const roster = await people(session.group_id);
  const marks = byId(await store.list("attendance"));
  const statusOf = (person) => marks[`${session.id}:${person.id}`]?.status;
  const present = roster.filter((p) => statusOf(p) === "present").length;
  return [
    h("p", { className: "count", dataset: { testid: "present-count" } }, t("present_count", { n: present, total: roster.length })),
    h("ul", { className: "attendance" }, roster.map((person) => {
      const status = statusOf(person);
      return h("li", {},
        h("button", {
          className: `mark ${status ?? "unmarked"}`,
          dataset: { testid: "person", status: status ?? "" },
          onclick: () => sync.record("attendance.set", { session_id: session.id, person_id: person.id, status: NEXT_STATUS[status] }),
        }, h("span", { className: "name" }, person.display_name), h("span", { className: "status" }, t(status ?? "not_marked"))));
    })),
    await safetySection(session, roster, statusOf),
  ];
}

// 安否確認: each registered person marked 無断欠席 and the follow-up recorded so far. The card
// shows before the server has opened the check, so it can be recorded offline right away.
async function safetySection(session, roster, statusOf) {
  const checks = (await store.list("safety_check")).map((row) => row.data).filter((c) => c.session_id === session.id);
  const checkOf = Object.fromEntries(checks.map((check) => [check.person_id, check]));
  const due = roster.filter((person) => checkOf[person.id]
    ? checkOf[person.id].outcome !== "withdrawn"
    : person.registered && statusOf(person) === "absent_unnotified");
  if (due.length === 0) return null;
  return h("section", { className: "safety", dataset: { testid: "safety-checks" } },
    h("h2", {}, t("safety_checks")),
    h("p", { className: "muted" }, t("safety_hint")),
    due.map((person) => safetyCard(session, person, checkOf[person.id])));
}

function safetyCard(session, person, check) {
  const outcome = check?.outcome ?? "open";
  const method = h("select", { name: "method" },
    METHODS.map((m) => h("option", { value: m, selected: check?.method === m }, t(`method_${m}`))));
  const contactedBy = h("input", { name: "contacted_by", autocomplete: "name",
    value: check?.contacted_by || localStorage.getItem(CONTACT_NAME) || "" });
  const notes = h("textarea", { name: "notes", rows: 2, value: check?.notes ?? "" });
  const save = async (next) => {
    localStorage.setItem(CONTACT_NAME, contactedBy.value.trim());
    await sync.record("safety.record", {
      id: await safetyCheckId(session.id, person.id), session_id: session.id, person_id: person.id,
      outcome: next, method: method.value, contacted_by: contactedBy.value.trim(), notes: notes.value,
      contacted_at: new Date().toISOString(),
    });
  };
  return h("article", { className: `safety-card outcome-${outcome}`, dataset: { testid: "safety-check", outcome } },
    h("h3", {}, person.display_name, " ", h("span", { className: "badge" }, t(`outcome_${outcome}`))),
    check?.contacted_at ? h("p", { className: "muted" }, t("recorded", { when: new Date(check.contacted_at).toLocaleString() })) : null,
    h("div", { className: "row" }, h("label", {}, t("method"), method), h("label", {}, t("contacted_by"), contactedBy)),
    h("label", {}, t("safety_notes"), notes),
    h("div", { className: "outcomes" }, OUTCOMES.map((choice) =>
      h("button", { className: choice === outcome ? "primary" : "", dataset: { outcome: choice }, onclick: () => save(choice) },
        t(`outcome_${choice}`)))));
}

async function talliesTab(session) {
  const counts = byId(await store.list("tally"));
  const countOf = (category) => counts[`${session.id}:${category}`]?.count ?? 0;
  const add = (category, delta) => sync.record("tally.add", { session_id: session.id, category, delta });
  // As the staff reports count them: every category is its own head count; volunteers are not participants.
  const total = TALLY_CATEGORIES.filter((c) => c !== "volunteer").reduce((sum, c) => sum + countOf(c), 0);
  return [
    h("ul", { className: "tallies" }, TALLY_CATEGORIES.map((category) =>
      h("li", { dataset: { category } },
        h("span", { className: "label" }, t(category)),
        h("button", { className: "step", "aria-label": `${t(category)} −1`, onclick: () => add(category, -1) }, "−"),
        h("output", { dataset: { testid: `tally-${category}` } }, String(countOf(category))),
        h("button", { className: "step", "aria-label": `${t(category)} +1`, onclick: () => add(category, 1) }, "+")))),
    h("p", { className: "count" }, `${t("participants_total")}: `, h("strong", { dataset: { testid: "tally-total" } }, String(total))),
  ];
}

// Who last did each role in earlier sessions, so the rotation (輪番) can suggest someone.
function suggestion(role, members, assignments, sessions, session) {
  const lastDone = Object.fromEntries(members.map((m) => [m.member_id, ""]));
  for (const a of assignments) {
    const other = sessions[a.session_id];
    if (a.role === role && a.assigned && other && other.date < session.date && a.member_id in lastDone) {
      lastDone[a.member_id] = other.date > lastDone[a.member_id] ? other.date : lastDone[a.member_id];
    }
  }
  return [...members].sort((a, b) => lastDone[a.member_id].localeCompare(lastDone[b.member_id]))[0];
}

async function rolesTab(session) {
  const members = (await store.list("member")).map((r) => r.data).filter((m) => m.group_id === session.group_id);
  const assignments = (await store.list("role_assignment")).map((r) => r.data);
  const sessions = byId(await store.list("session"));
  const assigned = (role, member) =>
    assignments.some((a) => a.session_id === session.id && a.role === role && a.member_id === member.member_id && a.assigned);
  return h("ul", { className: "roles" }, ROLES.map((role) => {
    const suggested = suggestion(role, members, assignments, sessions, session);
    const anyone = members.some((m) => assigned(role, m));
    return h("li", {},
      h("h3", {}, role),
      h("div", { className: "chips" }, members.map((member) =>
        h("button", {
          className: `chip ${assigned(role, member) ? "on" : ""}`,
          "aria-pressed": String(assigned(role, member)),
          onclick: () => sync.record("role.set", { session_id: session.id, role, member_id: member.member_id, assigned: !assigned(role, member) }),
        }, member.display_name))),
      !anyone && suggested ? h("p", { className: "muted" }, t("suggested", { name: suggested.display_name })) : null);
  }));
}

function notesTab(session, note) {
  const saveTimers = {};
  const save = (field, text) => {
    clearTimeout(saveTimers[field]);
    if ((note?.[field] ?? "") === text) return;
    sync.record("note.set", { session_id: session.id, field, text, base_hlc: note?.hlcs?.[field] ?? null });
  };
  return NOTE_FIELDS.map((field) => {
    const area = h("textarea", {
      name: field, rows: 4, value: note?.[field] ?? "",
      oninput: () => {
        clearTimeout(saveTimers[field]);
        saveTimers[field] = setTimeout(() => save(field, area.value), NOTE_SAVE_DELAY_MS);
      },
      onblur: () => save(field, area.value),
    });
    const conflicts = (note?.conflicts ?? []).filter((c) => c.field === field);
    return h("section", { className: `note ${field === "concerns" ? "sensitive" : ""}` },
      h("label", { htmlFor: `note-${field}` }, t(field)),
      field === "concerns" ? h("p", { className: "muted sensitive-note" }, t("sensitive")) : null,
      Object.assign(area, { id: `note-${field}` }),
      conflicts.map((conflict) =>
        h("div", { className: "conflict", dataset: { testid: "conflict" } },
          h("p", { className: "muted" }, t("conflict", { when: new Date(Number(conflict.hlc.slice(0, 18))).toLocaleString() })),
          h("p", { className: "conflict-text" }, conflict.text),
          h("div", { className: "row" },
            h("button", {
              onclick: async () => {
                const merged = [area.value, conflict.text].filter(Boolean).join("\n");
                await sync.record("note.set", { session_id: session.id, field, text: merged, base_hlc: note?.hlcs?.[field] ?? null });
                await sync.record("note.resolve", { session_id: session.id, field, hlc: conflict.hlc });
              },
            }, t("keep_both")),
            h("button", { className: "quiet", onclick: () => sync.record("note.resolve", { session_id: session.id, field, hlc: conflict.hlc }) }, t("dismiss"))))));
  });
}

export async function sessionView(view, sessionId, tab) {
  const draw = async () => {
    const session = (await store.find("session", sessionId))?.data;
    if (!session) {
      render(view, h("a", { className: "back", href: "#/" }, `← ${t("back")}`), h("p", {}, t("no_sessions")));
      return;
    }
    const note = (await store.find("note", sessionId))?.data;
    const content = tab === "attendance" ? await attendanceTab(session)
      : tab === "tallies" ? await talliesTab(session)
      : tab === "roles" ? await rolesTab(session)
      : notesTab(session, note);
    render(view,
      h("a", { className: "back", href: "#/" }, `← ${t("back")}`),
      h("h1", {}, session.title || t(session.kind)),
      h("p", { className: "muted" }, `${formatDate(session.date)} ${session.start_time ?? ""}〜${session.end_time ?? ""} ${session.venue ?? ""}`),
      session.review_comment ? h("p", { className: "notice" }, `${t("staff_comment")}: ${session.review_comment}`) : null,
      h("nav", { className: "tabs" }, TABS.map((name) =>
        h("a", { href: `#/session/${sessionId}/${name}`, className: name === tab ? "active" : "", "aria-current": name === tab ? "page" : null }, t(name)))),
      h("div", { className: `tab ${tab}` }, content));
  };
  await draw();
  // Redraw on changes, except while someone is typing (their words come first).
  return store.onChange(() => {
    if (!document.activeElement?.matches("textarea, input, select")) draw();
  });
}
