import { h, render, today } from "../ui.js";
import { t } from "../i18n.js";
import { uuid } from "../ids.js";
import * as store from "../store.js";
import * as sync from "../sync.js";

// Reminder times for this one session or meeting (server/reminders/rules.py): a key left
// out keeps the usual time, null turns that reminder off.
const REMINDER_RULES = {
  usual: undefined,
  day_before_only: { hours_before: null },
  hours_before_only: { day_before_at: null },
  no_reminders: { day_before_at: null, hours_before: null },
};

export function newSessionView(view, groupId, go) {
  const field = (name, props = {}) => h("input", { name, ...props });
  const kind = h("select", { name: "kind" }, ["session", "meeting", "event"].map((k) => h("option", { value: k }, t(k))));
  const title = field("title", { maxLength: 200, placeholder: "反省会" });
  const date = field("date", { type: "date", value: today(), required: true });
  const start = field("start_time", { type: "time", value: "10:00" });
  const end = field("end_time", { type: "time", value: "12:00" });
  const venue = field("venue", { maxLength: 300 });
  const agenda = h("textarea", { name: "agenda", rows: 3 });
  const reminders = h("select", { name: "reminders" },
    Object.keys(REMINDER_RULES).map((key) => h("option", { value: key }, t(`reminders_${key}`))));
  const submit = async (event) => {
    event.preventDefault();
    const id = uuid();
    await sync.record("session.upsert", {
      id, group_id: groupId, kind: kind.value, title: title.value, date: date.value,
      start_time: start.value || null, end_time: end.value || null, venue: venue.value, agenda: agenda.value,
      ...(REMINDER_RULES[reminders.value] ? { reminder_rule: REMINDER_RULES[reminders.value] } : {}),
    });
    go(`#/session/${id}`);
  };
  render(view,
    h("a", { className: "back", href: "#/" }, `← ${t("back")}`),
    h("h1", {}, t("new_session")),
    h("form", { className: "stack", onsubmit: submit },
      h("label", {}, t("kind"), kind), h("label", {}, t("title"), title), h("label", {}, t("date"), date),
      h("div", { className: "row" }, h("label", {}, t("start"), start), h("label", {}, t("end"), end)),
      h("label", {}, t("venue"), venue), h("label", {}, t("agenda"), agenda),
      h("label", {}, t("reminders"), reminders),
      h("button", { type: "submit", className: "primary big" }, t("create"))));
}
