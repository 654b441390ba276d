import { h, render } from "../ui.js";
import { t } from "../i18n.js";
import { uuid } from "../ids.js";
import * as store from "../store.js";
import * as sync from "../sync.js";

const CATEGORIES = ["child", "adult", "senior", "parent_child"];

export async function people(groupId) {
  return (await store.list("person"))
    .map((row) => row.data)
    .filter((p) => p.group_id === groupId && p.registered)
    .sort((a, b) => (a.kana || a.display_name).localeCompare(b.kana || b.display_name, "ja"));
}

function personForm(groupId, person, done) {
  const name = h("input", { name: "display_name", value: person?.display_name ?? "", required: true, maxLength: 100 });
  const kana = h("input", { name: "kana", value: person?.kana ?? "", maxLength: 100 });
  const category = h("select", { name: "category" },
    CATEGORIES.map((c) => h("option", { value: c, selected: c === (person?.category ?? "adult") }, t(c))));
  const submit = async (event) => {
    event.preventDefault();
    const args = { id: person?.id ?? uuid(), display_name: name.value, kana: kana.value, category: category.value };
    if (!person) Object.assign(args, { group_id: groupId, registered: true });
    await sync.record("person.upsert", args);
    done();
  };
  return h("form", { className: "stack person-form", onsubmit: submit },
    h("label", {}, t("name"), name), h("label", {}, t("kana"), kana), h("label", {}, t("category"), category),
    h("button", { type: "submit", className: "primary" }, t("save")));
}

export async function rosterView(view, groupId) {
  let editing = null;
  const redraw = async (next = null) => {
    editing = next;
    await drawRoster(view, groupId, editing, redraw);
  };
  await redraw();
  return store.onChange(() => { if (!view.querySelector("form.person-form, .person-qr")) redraw(editing); });
}

// The participant's personal QR code (server/reminders/absence.py): scanned with their
// phone, it subscribes them to reminders they can answer with 「欠席します」. Online only.
// A group that runs several registration-based ibasho first picks the one it is for.
async function showQr(row, person) {
  row.querySelector(".person-qr")?.remove();
  const panel = h("div", { className: "person-qr stack", role: "status" });
  row.append(panel);
  const close = h("button", { onclick: () => panel.remove() }, t("close"));
  const places = await registrationIbasho(person.group_id);
  if (places.length > 1) {
    render(panel, h("p", {}, t("qr_choose")),
      places.map((place) => h("button", { className: "big", onclick: () => drawQr(panel, close, person, place.id) }, place.name)),
      close);
  } else {
    await drawQr(panel, close, person, places[0]?.id);
  }
}

async function registrationIbasho(groupId) {
  return (await store.list("ibasho"))
    .map((row) => row.data)
    .filter((place) => place.group_id === groupId && place.registration_required && place.status === "active")
    .sort((a, b) => a.name.localeCompare(b.name, "ja"));
}

async function drawQr(panel, close, person, ibashoId) {
  render(panel, t("qr_loading"));
  try {
    const body = ibashoId ? { person_id: person.id, ibasho_id: ibashoId } : { person_id: person.id };
    const link = await sync.api("/api/push/person-links", { method: "POST", body });
    render(panel,
      h("img", { src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(link.qr_svg)}`, alt: t("qr_alt", { name: person.display_name }), width: 240, height: 240 }),
      h("p", {}, t("qr_hint")), close);
  } catch (error) {
    render(panel, h("p", { className: "error" }, navigator.onLine ? error.message : t("qr_offline")), close);
  }
}

async function drawRoster(view, groupId, editing, redraw) {
  const list = await people(groupId);
  const remove = async (person) => {
    if (confirm(t("confirm_remove", { name: person.display_name }))) await sync.record("person.delete", { id: person.id });
  };
  render(view,
    h("a", { className: "back", href: "#/" }, `← ${t("back")}`),
    h("h1", {}, `${t("roster")} (${list.length})`),
    editing === "new" ? personForm(groupId, null, () => redraw()) : h("button", { className: "primary big", onclick: () => redraw("new") }, t("add_person")),
    h("ul", { className: "roster" }, list.map((person) =>
      h("li", {},
        editing === person.id
          ? personForm(groupId, person, () => redraw())
          : [h("span", { className: "name" }, person.display_name, h("small", {}, person.kana)),
             h("button", { onclick: () => redraw(person.id) }, t("edit")),
             h("button", { onclick: (event) => showQr(event.target.closest("li"), person) }, t("qr_button")),
             h("button", { className: "danger", onclick: () => remove(person) }, t("remove"))]))));
}
