// What the server refused, said in plain words: which record was not saved (naming the
// person and the session, as this phone knew them) and why (the server's code and its
// parameters, docs/sync.md "Refusals"), with a way to act on it and a way to dismiss it.
import { h } from "../ui.js";
import { formatDate, t } from "../i18n.js";
import { uuid } from "../ids.js";
import * as store from "../store.js";
import * as sync from "../sync.js";

export function sessionLabel(session) {
  if (!session) return t("this_session");
  return `${formatDate(session.date)} ${session.title || t(session.kind)}`;
}

const personLabel = (entry) => entry.person?.display_name || t("someone");

// Which record an outbox entry (or a history entry) wrote, in words.
export function describe(entry) {
  const values = {
    session: sessionLabel(entry.session), person: personLabel(entry),
    category: t(entry.args.category ?? ""), role: entry.args.role, field: t(entry.args.field ?? ""), text: entry.args.text ?? "",
  };
  const key = {
    "attendance.set": "what_attendance", "person.upsert": "what_person_upsert", "person.delete": "what_person_delete",
    "tally.add": "what_tally", "role.set": "what_role", "note.set": "what_note", "note.resolve": "what_note",
    "safety.record": "what_safety", "session.upsert": "what_session", "meeting.attend": "what_meeting_attend",
    "action.upsert": "what_action", "action.delete": "what_action",
  }[entry.name] ?? "what_other";
  if (entry.name === "session.upsert") values.session = entry.args.title || sessionLabel(entry.session);
  return t(key, values);
}

function reason(refusal) {
  const { code, params } = refusal;
  if (code === "deleted" && params.entity === "person") return t("reason_deleted_person", { person: personLabel(refusal) });
  if (code === "person_not_in_group") return t("reason_person_not_in_group", { person: personLabel(refusal) });
  if (code === "not_a_volunteer") return t("reason_not_a_member");
  const known = ["deleted", "not_found", "not_a_member", "not_a_meeting", "count_too_large", "too_many_conflicts", "redacted", "erased"];
  return t(known.includes(code) ? `reason_${code}` : "reason_other");
}

// A person deleted on another phone can be put back as a new entry (a deleted person stays
// deleted), and the refused mark recorded for them again.
async function readd(refusal) {
  const { person } = refusal;
  const id = uuid();
  await sync.record("person.upsert", {
    id, group_id: person.group_id, display_name: person.display_name, kana: person.kana ?? "",
    category: person.category ?? "adult", kind: person.kind ?? "participant", registered: person.registered ?? true,
  });
  if (refusal.name === "attendance.set") await sync.record("attendance.set", { ...refusal.args, person_id: id });
  await store.dismissRejection(refusal.seq);
}

export async function refusalsPanel() {
  const refused = (await store.getMeta("rejected")) ?? [];
  if (!refused.length) return null;
  return h("section", { className: "refusals", "aria-labelledby": "refusals-title", dataset: { testid: "rejected" } },
    h("h2", { id: "refusals-title" }, t("rejected")),
    refused.map((refusal) => h("div", { className: "refusal", dataset: { testid: "refusal", code: refusal.code ?? "" } },
      h("p", {}, t("refused", { what: describe(refusal), reason: reason(refusal) })),
      h("div", { className: "row" },
        refusal.code === "deleted" && refusal.params.entity === "person" && refusal.person?.display_name
          ? h("button", { className: "primary", onclick: () => readd(refusal) }, t("refused_readd", { name: refusal.person.display_name }))
          : null,
        h("button", { onclick: () => store.dismissRejection(refusal.seq) }, t("refused_dismiss"))))));
}
