// One session: attendance, head counts, roles and the 反省会 notes; or, for a meeting (会議),
// the members who came and the minutes (議事録: agenda, decisions, action items).
import { drawer, h, render, today, typing } from "../ui.js";
import { ROLES, TALLY_CATEGORIES } from "../domain.js";
import { formatDate, t } from "../i18n.js";
import { safetyCheckId, uuid } from "../ids.js";
import * as store from "../store.js";
import * as sync from "../sync.js";
import { byReading, joinedBy, matches, pendingBadge, people } from "./roster.js";

const TABS = { session: ["attendance", "tallies", "roles", "notes"], event: ["attendance", "tallies", "roles", "notes"], meeting: ["members", "minutes"] };
const NOTE_FIELDS = ["went_well", "to_improve", "handover", "concerns"];
const NOTE_SAVE_DELAY_MS = 600;
const OUTCOMES = ["safe", "unreachable", "needs_support"];
const METHODS = ["phone", "visit", "message"];
const CONTACT_NAME = "ibasho-contact-name"; // who usually makes the calls on this phone
// The 欠席 button steps through the absences and back to 未記録 (before the day: notified only).
const NEXT_ABSENCE = { absent_notified: "absent_unnotified", absent_unnotified: "unmarked" };

const byId = (rows) => Object.fromEntries(rows.map((row) => [row.id, row.data]));
const dataOf = async (entity) => (await store.list(entity)).map((row) => row.data);

// Earlier gatherings of the same ibasho (or, without one, of the group), newest first.
function earlierSessions(session, sessions) {
  return sessions
    .filter((s) => s.id !== session.id && s.group_id === session.group_id && s.kind === session.kind
      && (s.ibasho_id ?? null) === (session.ibasho_id ?? null) && s.date < session.date && s.status !== "cancelled")
    .sort((a, b) => b.date.localeCompare(a.date));
}

// How many times in a row, up to this session, someone was marked absent. Earlier sessions
// where nobody's attendance was taken are passed over.
function absenceStreak(person, earlier, marks, recorded) {
  let streak = 0;
  for (const other of earlier) {
    const status = marks[`${other.id}:${person.id}`]?.status;
    if (status === "absent_notified" || status === "absent_unnotified") streak += 1;
    else if (recorded.has(other.id)) break;
  }
  return streak;
}

async function attendanceTab(session, context) {
  const marks = byId(await store.list("attendance"));
  const statusOf = (person) => {
    const status = marks[`${session.id}:${person.id}`]?.status;
    return status === "unmarked" ? undefined : status;
  };
  const everyone = (await dataOf("person")).filter((p) => p.group_id === session.group_id && (p.kind ?? "participant") === "participant");
  // The roster of the session's day, and its walk-ins who were not put on it.
  const roster = everyone
    .filter((p) => (p.registered && joinedBy(p, session.date)) || marks[`${session.id}:${p.id}`])
    .sort(byReading);
  const present = roster.filter((p) => statusOf(p) === "present").length;
  const future = session.date > today();
  const registrationBased = context.ibasho ? context.ibasho.registration_required : true;
  const earlier = earlierSessions(session, context.sessions);
  const recorded = new Set(Object.values(marks).map((m) => m.session_id));
  const mark = (person, status) => sync.record("attendance.set", { session_id: session.id, person_id: person.id, status });
  const unmarked = roster.filter((p) => p.registered && !statusOf(p));
  const allPresent = async () => {
    for (const person of unmarked) await mark(person, "present");
  };
  const list = h("ul", { className: "attendance" });
  const fill = (query) => render(list, roster.filter((p) => matches(p, query)).map((person) => {
    const status = statusOf(person);
    const streak = absenceStreak(person, earlier, marks, recorded);
    const nextAbsence = NEXT_ABSENCE[status] ?? "absent_notified";
    return h("li", {},
      h("button", {
        className: `mark ${status ?? "unmarked"}`,
        disabled: future,
        dataset: { testid: "person", status: status ?? "" },
        onclick: () => mark(person, status === "present" ? "unmarked" : "present"),
      },
      h("span", { className: "name" }, person.display_name,
        streak >= 2 ? h("small", { className: "streak", dataset: { testid: "streak" } }, t("absences_in_a_row", { n: streak })) : null,
        pendingBadge(context.pendingKeys, "attendance", `${session.id}:${person.id}`)),
      h("span", { className: "status" }, t(status ?? "not_marked"))),
      h("button", {
        className: "absence",
        dataset: { testid: "absence" },
        "aria-label": `${person.display_name} ${t("mark_absent")}`,
        onclick: () => mark(person, future && nextAbsence === "absent_unnotified" ? "unmarked" : nextAbsence),
      }, t("mark_absent")));
  }));
  const search = h("input", { name: "search", type: "search", className: "search", "aria-label": t("search"), placeholder: t("search"), oninput: () => fill(search.value) });
  fill("");
  return [
    h("p", { className: "count", dataset: { testid: "present-count" } }, t("present_count", { n: present, total: roster.length })),
    future ? h("p", { className: "notice", dataset: { testid: "future-hint" } }, t("future_hint")) : null,
    context.ibasho ? h("p", {}, h("a", { className: "button", href: `#/calls/${session.id}`, dataset: { testid: "open-calls" } }, t("calls_open"))) : null,
    registrationBased && !future && unmarked.length
      ? h("div", { className: "stack" },
          h("button", { className: "primary big", dataset: { testid: "all-present" }, onclick: allPresent }, t("all_present")),
          h("p", { className: "muted" }, t("all_present_hint")))
      : null,
    roster.length > 8 ? search : null,
    list,
    future ? null : guestForm(session),
    await safetySection(session, roster, statusOf),
  ];
}

// A walk-in: marked present at once, and put on the roster if the organiser wishes.
function guestForm(session) {
  const name = h("input", { name: "guest_name", required: true, maxLength: 100 });
  const register = h("input", { name: "guest_register", type: "checkbox" });
  const submit = async (event) => {
    event.preventDefault();
    const id = uuid();
    const guest = { id, group_id: session.group_id, display_name: name.value.trim(), kind: "participant", registered: register.checked };
    event.target.reset(); // before recording: the redraw that follows must not wait on a filled form
    await sync.record("person.upsert", guest);
    await sync.record("attendance.set", { session_id: session.id, person_id: id, status: "present" });
  };
  return h("details", { className: "guest", dataset: { testid: "guest" } },
    h("summary", {}, t("guest_add")),
    h("form", { className: "stack", onsubmit: submit },
      h("label", {}, t("guest_name"), name),
      h("label", { className: "check" }, register, t("guest_register")),
      h("button", { type: "submit", className: "primary" }, t("save"))));
}

// 安否確認: each registered person marked 無断欠席 and the follow-up recorded so far. The card
// shows before the server has opened the check, so it can be recorded offline right away.
async function safetySection(session, roster, statusOf) {
  const checks = (await dataOf("safety_check")).filter((c) => c.session_id === session.id);
  const checkOf = Object.fromEntries(checks.map((check) => [check.person_id, check]));
  // A check nobody has followed up yet goes with the 無断欠席 mark (the server withdraws it too).
  const followedUp = (check) => check && !["open", "withdrawn"].includes(check.outcome);
  const due = roster.filter((person) =>
    followedUp(checkOf[person.id]) || (person.registered && statusOf(person) === "absent_unnotified"));
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
    check?.contacted_at ? h("p", { className: "muted" }, t("recorded", { when: new Date(check.contacted_at).toLocaleString("ja-JP") })) : null,
    h("div", { className: "row" }, h("label", {}, t("method"), method), h("label", {}, t("contacted_by"), contactedBy)),
    h("label", {}, t("safety_notes"), notes),
    h("div", { className: "outcomes" }, OUTCOMES.map((choice) =>
      h("button", { className: choice === outcome ? "primary" : "", dataset: { outcome: choice }, onclick: () => save(choice) },
        t(`outcome_${choice}`)))));
}

async function talliesTab(session, context) {
  const counts = byId(await store.list("tally"));
  const countOf = (category) => counts[`${session.id}:${category}`]?.count ?? 0;
  const add = (category, delta) => sync.record("tally.add", { session_id: session.id, category, delta });
  // As the staff reports count them: every category is its own head count; volunteers are not participants.
  const total = TALLY_CATEGORIES.filter((c) => c !== "volunteer").reduce((sum, c) => sum + countOf(c), 0);
  return [
    h("ul", { className: "tallies" }, TALLY_CATEGORIES.map((category) =>
      h("li", { dataset: { category } },
        h("span", { className: "label" }, t(category), pendingBadge(context.pendingKeys, "tally", `${session.id}:${category}`)),
        h("span", { className: "stepper" },
          h("button", { className: "step", "aria-label": `${t(category)} −1`, onclick: () => add(category, -1) }, "−"),
          h("output", { dataset: { testid: `tally-${category}` } }, String(countOf(category))),
          h("button", { className: "step", "aria-label": `${t(category)} +1`, onclick: () => add(category, 1) }, "+"))))),
    h("p", { className: "count" }, `${t("participants_total")}: `, h("strong", { dataset: { testid: "tally-total" } }, String(total))),
  ];
}

// Those who may take a role or attend a meeting: the organisers (accounts) and the
// volunteers on the roster, each with the arg that names them in a mutation.
async function helpersOf(groupId) {
  const members = (await dataOf("member")).filter((m) => m.group_id === groupId)
    .map((m) => ({ key: m.member_id, ref: { member_id: m.member_id }, display_name: m.display_name }));
  const volunteers = (await people(groupId, "volunteer"))
    .map((p) => ({ key: p.id, ref: { person_id: p.id }, display_name: p.display_name }));
  return [...members, ...volunteers];
}

const helperKey = (row) => row.member_id ?? row.person_id;

// Who last did each role in earlier sessions, so the rotation (輪番) can suggest someone.
function suggestion(role, helpers, assignments, sessions, session) {
  const lastDone = Object.fromEntries(helpers.map((helper) => [helper.key, ""]));
  for (const a of assignments) {
    const other = sessions[a.session_id];
    const key = helperKey(a);
    if (a.role === role && a.assigned && other && other.date < session.date && key in lastDone) {
      lastDone[key] = other.date > lastDone[key] ? other.date : lastDone[key];
    }
  }
  return [...helpers].sort((a, b) => lastDone[a.key].localeCompare(lastDone[b.key]))[0];
}

async function rolesTab(session, context) {
  const helpers = await helpersOf(session.group_id);
  const assignments = await dataOf("role_assignment");
  const sessions = byId(await store.list("session"));
  const assigned = (role, helper) =>
    assignments.some((a) => a.session_id === session.id && a.role === role && helperKey(a) === helper.key && a.assigned);
  const set = (role, helper, on) => sync.record("role.set", { session_id: session.id, role, ...helper.ref, assigned: on });
  return h("ul", { className: "roles" }, ROLES.map((role) => {
    const suggested = suggestion(role, helpers, assignments, sessions, session);
    const anyone = helpers.some((helper) => assigned(role, helper));
    return h("li", {},
      h("h2", {}, role),
      h("div", { className: "chips" }, helpers.map((helper) =>
        h("button", {
          className: `chip ${assigned(role, helper) ? "on" : ""}`,
          "aria-pressed": String(assigned(role, helper)),
          onclick: () => set(role, helper, !assigned(role, helper)),
        }, helper.display_name, pendingBadge(context.pendingKeys, "role_assignment", `${session.id}:${role}:${helper.key}`)))),
      !anyone && suggested
        ? h("div", { className: "suggestion" },
            h("p", { className: "muted" }, t("suggested", { name: suggested.display_name })),
            h("button", { dataset: { testid: "suggestion" }, onclick: () => set(role, suggested, true) },
              t("take_suggestion", { name: suggested.display_name })))
        : null);
  }));
}

// Who wrote a text and when, from the note's authors and the HLC's wall time.
function byline(names, author, hlc) {
  const when = hlc ? new Date(Number(hlc.slice(0, 18))).toLocaleString("ja-JP", { month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" }) : "";
  return t("conflict_by", { name: names[author] ?? t("someone"), when });
}

// One note field with the texts written on other phones at the same time. The writer's own
// words stay in their own box even when another phone's text won the field; the other text
// shows beside it, named, to join or to leave out.
function noteField(session, note, field, context) {
  const { me, names } = context;
  const conflicts = (note?.conflicts ?? []).filter((c) => c.field === field);
  const current = note?.[field] ?? "";
  const currentHlc = note?.hlcs?.[field] ?? null;
  const mine = note?.authors?.[field] !== me ? conflicts.filter((c) => c.by === me).pop() : undefined;
  const boxText = mine ? mine.text : current;
  const others = mine
    ? [{ text: current, by: note.authors[field], hlc: currentHlc, winner: true }, ...conflicts.filter((c) => c !== mine)]
    : conflicts;
  const saveTimers = {};
  const write = async (text) => {
    await sync.record("note.set", { session_id: session.id, field, text, base_hlc: currentHlc });
    if (mine) await sync.record("note.resolve", { session_id: session.id, field, hlc: mine.hlc });
  };
  const save = (text) => {
    clearTimeout(saveTimers[field]);
    if (boxText === text) return;
    write(text);
  };
  const area = h("textarea", {
    name: field, id: `note-${field}`, rows: 4, value: boxText,
    oninput: () => {
      clearTimeout(saveTimers[field]);
      saveTimers[field] = setTimeout(() => save(area.value), NOTE_SAVE_DELAY_MS);
    },
    onblur: () => save(area.value),
  });
  const leaveOut = (other) => other.winner ? write(area.value) : sync.record("note.resolve", { session_id: session.id, field, hlc: other.hlc });
  const join = async (other) => {
    await write([area.value, other.text].filter(Boolean).join("\n"));
    if (!other.winner) await sync.record("note.resolve", { session_id: session.id, field, hlc: other.hlc });
  };
  return h("section", { className: `note ${field === "concerns" ? "sensitive" : ""}` },
    h("label", { htmlFor: `note-${field}` }, t(field)),
    field === "concerns" ? h("p", { className: "muted sensitive-note" }, t("sensitive")) : null,
    mine || others.length ? h("p", { className: "muted", dataset: { testid: "own-byline" } }, byline(names, me, mine?.hlc ?? currentHlc)) : null,
    area,
    pendingBadge(context.pendingKeys, "note", session.id),
    others.map((other) =>
      h("div", { className: "conflict", dataset: { testid: "conflict" } },
        h("p", { className: "muted", dataset: { testid: "byline" } }, byline(names, other.by, other.hlc)),
        h("p", { className: "conflict-text" }, other.text),
        h("div", { className: "row" },
          h("button", { className: "nowrap", onclick: () => join(other) }, t("keep_both")),
          h("button", { className: "quiet nowrap", onclick: () => leaveOut(other) }, t("dismiss"))))));
}

function notesTab(session, note, context) {
  return NOTE_FIELDS.map((field) => noteField(session, note, field, context));
}

// --- meetings ---------------------------------------------------------------------------

async function membersTab(session, context) {
  const helpers = await helpersOf(session.group_id);
  const came = byId(await store.list("meeting_attendance"));
  const present = (helper) => Boolean(came[`${session.id}:${helper.key}`]?.present);
  return [
    h("p", { className: "muted" }, t("members_hint")),
    h("p", { className: "count", dataset: { testid: "members-count" } }, t("present_count", { n: helpers.filter(present).length, total: helpers.length })),
    h("ul", { className: "attendance" }, helpers.map((helper) =>
      h("li", {}, h("button", {
        className: `mark ${present(helper) ? "present" : "unmarked"}`,
        dataset: { testid: "member", present: String(present(helper)) },
        "aria-pressed": String(present(helper)),
        onclick: () => sync.record("meeting.attend", { session_id: session.id, ...helper.ref, present: !present(helper) }),
      }, h("span", { className: "name" }, helper.display_name, pendingBadge(context.pendingKeys, "meeting_attendance", `${session.id}:${helper.key}`)),
      h("span", { className: "status" }, t(present(helper) ? "attended" : "not_marked")))))),
  ];
}

async function minutesTab(session, note, context) {
  const items = (await dataOf("action_item")).filter((item) => item.session_id === session.id)
    .sort((a, b) => (a.due ?? "9999").localeCompare(b.due ?? "9999"));
  const helpers = await helpersOf(session.group_id);
  const agenda = h("textarea", { name: "agenda", id: "agenda", rows: 3, value: session.agenda ?? "",
    onblur: () => { if (agenda.value !== (session.agenda ?? "")) sync.record("session.upsert", { id: session.id, agenda: agenda.value }); } });
  const text = h("input", { name: "action_text", required: true, maxLength: 2000 });
  const owner = h("input", { name: "action_owner", list: "owners", maxLength: 100 });
  const due = h("input", { name: "action_due", type: "date" });
  const add = async (event) => {
    event.preventDefault();
    const item = { id: uuid(), session_id: session.id, text: text.value.trim(), owner: owner.value.trim(), due: due.value || null };
    event.target.reset(); // before recording: the redraw that follows must not wait on a filled form
    await sync.record("action.upsert", item);
  };
  return [
    h("section", { className: "note" }, h("label", { htmlFor: "agenda" }, t("agenda")), agenda),
    noteField(session, note, "decisions", context),
    h("section", { className: "actions", dataset: { testid: "action-items" } },
      h("h2", {}, t("action_items")),
      items.length ? h("ul", { className: "action-list" }, items.map((item) =>
        h("li", { className: item.done ? "done" : "", dataset: { testid: "action-item" } },
          h("label", { className: "check" },
            h("input", { type: "checkbox", checked: item.done, onchange: (event) => sync.record("action.upsert", { id: item.id, done: event.target.checked }) }),
            h("span", {}, item.text)),
          h("span", { className: "muted" }, t("action_by", { owner: item.owner || t("someone"), due: item.due ? formatDate(item.due) : t("no_due") })),
          pendingBadge(context.pendingKeys, "action_item", item.id),
          h("button", { className: "quiet", onclick: () => sync.record("action.delete", { id: item.id }) }, t("action_delete")))))
        : h("p", { className: "muted" }, t("no_actions")),
      h("form", { className: "stack", onsubmit: add },
        h("label", {}, t("action_text"), text),
        h("label", {}, t("action_owner"), owner),
        h("datalist", { id: "owners" }, helpers.map((helper) => h("option", { value: helper.display_name }))),
        h("label", {}, t("action_due"), due),
        h("button", { type: "submit", className: "primary" }, t("action_add")))),
  ];
}

// 申し送り: what the last gathering of the same ibasho handed over, and the staff's comment on it.
async function carriedForward(session, sessions) {
  const previous = earlierSessions(session, sessions)[0];
  if (!previous) return null;
  const handover = (await store.find("note", previous.id))?.data?.handover;
  if (!handover && !previous.review_comment) return null;
  return h("section", { className: "notice carried", dataset: { testid: "carried-forward" } },
    handover ? [h("h2", {}, t("previous_handover", { date: formatDate(previous.date) })), h("p", { className: "conflict-text" }, handover)] : null,
    previous.review_comment ? [h("h2", {}, t("previous_comment")), h("p", {}, previous.review_comment)] : null);
}

export async function sessionView(view, sessionId, requestedTab) {
  const draw = drawer(view, async () => {
    const session = (await store.find("session", sessionId))?.data;
    if (!session) return [h("a", { className: "back", href: "#/" }, `← ${t("back")}`), h("p", {}, t("no_sessions"))];
    const tabs = TABS[session.kind] ?? TABS.session;
    const tab = tabs.includes(requestedTab) ? requestedTab : tabs[0];
    const me = (await store.getMeta("me"))?.id;
    const members = await dataOf("member");
    const persons = await dataOf("person");
    const context = {
      me,
      names: Object.fromEntries([...members.map((m) => [m.member_id, m.display_name]), ...persons.map((p) => [p.id, p.display_name])]),
      sessions: await dataOf("session"),
      ibasho: session.ibasho_id ? (await store.find("ibasho", session.ibasho_id))?.data : null,
      pendingKeys: await store.pendingKeys(),
    };
    const note = (await store.find("note", sessionId))?.data;
    const content = {
      attendance: () => attendanceTab(session, context), tallies: () => talliesTab(session, context),
      roles: () => rolesTab(session, context), notes: () => notesTab(session, note, context),
      members: () => membersTab(session, context), minutes: () => minutesTab(session, note, context),
    }[tab];
    return [
      h("a", { className: "back", href: "#/" }, `← ${t("back")}`),
      h("h1", {}, session.title || t(session.kind)),
      h("p", { className: "muted" }, `${formatDate(session.date)} ${session.start_time ?? ""}〜${session.end_time ?? ""} ${session.venue ?? ""}`),
      tab === "attendance" ? await carriedForward(session, context.sessions) : null,
      session.review_comment ? h("p", { className: "notice" }, `${t("staff_comment")}: ${session.review_comment}`) : null,
      h("nav", { className: `tabs tabs-${tabs.length}`, "aria-label": t("tabs_label") }, tabs.map((name) =>
        h("a", { href: `#/session/${sessionId}/${name}`, className: name === tab ? "active" : "", "aria-current": name === tab ? "page" : null }, t(name)))),
      h("div", { className: `tab ${tab}` }, await content()),
    ];
  }, () => typing(view)); // while someone is typing, their words come first
  await draw(true);
  return store.onChange(() => draw());
}
