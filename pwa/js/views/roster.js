import { drawer, h, localDay, render } from "../ui.js";
import { t } from "../i18n.js";
import { uuid } from "../ids.js";
import * as store from "../store.js";
import * as sync from "../sync.js";

const CATEGORIES = ["child", "adult", "senior", "parent_child"];

// 五十音順 by reading: katakana read as hiragana, so 「サトウ」 and 「さとう」 sort (and match) alike.
export const reading = (person) => toHiragana(person.kana || person.display_name || "");

function toHiragana(text) {
  return text.normalize("NFKC").replace(/[\u30a1-\u30f6]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0x60));
}

export const byReading = (a, b) => reading(a).localeCompare(reading(b), "ja");

// Whether someone matches what was typed into the search box: their name or their reading.
export function matches(person, query) {
  const wanted = toHiragana(query.trim()).replace(/\s+/g, "");
  if (!wanted) return true;
  return [person.display_name ?? "", person.kana ?? ""].some((text) => toHiragana(text).replace(/\s+/g, "").includes(wanted));
}

// The group's people of one kind (participants: those registered), 五十音順.
export async function people(groupId, kind = "participant") {
  return (await store.list("person"))
    .map((row) => row.data)
    .filter((p) => p.group_id === groupId && (p.kind ?? "participant") === kind && (kind === "volunteer" || p.registered))
    .sort(byReading);
}

// On the roster by that day: a person counts only from the day they joined (the server
// sends when; someone this phone added and not yet synced has joined today).
export const joinedBy = (person, day) => !person.joined_at || localDay(person.joined_at) <= day;

export function pendingBadge(pendingKeys, entity, id) {
  return pendingKeys.has(store.recordKey(entity, id))
    ? h("span", { className: "badge pending", dataset: { testid: "pending" } }, t("pending_badge"))
    : null;
}

function personForm(groupId, person, kind, done) {
  const name = h("input", { name: "display_name", value: person?.display_name ?? "", required: true, maxLength: 100 });
  const kana = h("input", { name: "kana", value: person?.kana ?? "", maxLength: 100 });
  const category = h("select", { name: "category" },
    CATEGORIES.map((c) => h("option", { value: c, selected: c === (person?.category ?? "adult") }, t(c))));
  const submit = async (event) => {
    event.preventDefault();
    const args = { id: person?.id ?? uuid(), display_name: name.value, kana: kana.value, category: category.value };
    if (!person) Object.assign(args, { group_id: groupId, registered: true, kind });
    await sync.record("person.upsert", args);
    done();
  };
  return h("form", { className: "stack person-form", onsubmit: submit },
    h("label", {}, t("name"), name), h("label", {}, t("kana"), kana),
    kind === "participant" ? h("label", {}, t("category"), category) : null,
    h("button", { type: "submit", className: "primary" }, t("save")));
}

export async function rosterView(view, groupId) {
  const state = { editing: null, query: "" };
  // A form being filled in, a QR code on show or a search being typed keeps its screen.
  const busy = () => Boolean(view.querySelector("form.person-form, .person-qr")) || document.activeElement?.name === "search";
  const draw = drawer(view, () => buildRoster(groupId, state, (next) => redraw(next)), busy);
  const redraw = async (next = null) => {
    state.editing = next;
    await draw(true);
  };
  await redraw();
  return store.onChange(() => draw());
}

// The participant's personal QR code (server/reminders/absence.py): scanned with their
// phone, it subscribes them to reminders they can answer with 「欠席します」. Online only.
// A group that runs several registration-based ibasho first picks the one it is for.
async function showQr(row, person, places) {
  row.querySelector(".person-qr")?.remove();
  const panel = h("div", { className: "person-qr stack", role: "status" });
  row.append(panel);
  const close = h("button", { onclick: () => panel.remove() }, t("close"));
  if (places.length > 1) {
    render(panel, h("p", {}, t("qr_choose")),
      places.map((place) => h("button", { className: "big", onclick: () => drawQr(panel, close, person, place.id) }, place.name)),
      close);
  } else {
    await drawQr(panel, close, person, places[0].id);
  }
}

// Personal links work only for an active registration-based ibasho: without one, no QR button.
async function registrationIbasho(groupId) {
  return (await store.list("ibasho"))
    .map((row) => row.data)
    .filter((place) => place.group_id === groupId && place.registration_required && place.status === "active")
    .sort((a, b) => a.name.localeCompare(b.name, "ja"));
}

async function drawQr(panel, close, person, ibashoId) {
  render(panel, t("qr_loading"));
  try {
    const link = await sync.api("/api/push/person-links", { method: "POST", body: { person_id: person.id, ibasho_id: ibashoId } });
    render(panel,
      h("img", { src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(link.qr_svg)}`, alt: t("qr_alt", { name: person.display_name }), width: 240, height: 240 }),
      h("p", {}, t("qr_hint")), close);
  } catch (error) {
    render(panel, h("p", { className: "error" }, navigator.onLine ? t("qr_failed") : t("qr_offline")), close);
  }
}

async function buildRoster(groupId, state, redraw) {
  const participants = await people(groupId);
  const volunteers = await people(groupId, "volunteer");
  const places = await registrationIbasho(groupId);
  const pendingKeys = await store.pendingKeys();
  const remove = async (person) => {
    if (confirm(t("confirm_remove", { name: person.display_name }))) await sync.record("person.delete", { id: person.id });
  };
  const row = (person, kind) => h("li", { dataset: { testid: "roster-person" } },
    state.editing === person.id
      ? personForm(groupId, person, kind, () => redraw())
      : [h("span", { className: "name" }, person.display_name, h("small", {}, person.kana), pendingBadge(pendingKeys, "person", person.id)),
         h("button", { onclick: () => redraw(person.id) }, t("edit")),
         kind === "participant" && places.length
           ? h("button", { onclick: (event) => showQr(event.target.closest("li"), person, places) }, t("qr_button"))
           : null,
         h("button", { className: "danger", onclick: () => remove(person) }, t("remove"))]);
  const list = h("ul", { className: "roster", dataset: { testid: "roster" } });
  const fill = () => {
    const shown = participants.filter((person) => matches(person, state.query));
    render(list, shown.length ? shown.map((person) => row(person, "participant")) : h("li", { className: "muted" }, t("no_match")));
  };
  const search = h("input", {
    name: "search", type: "search", className: "search", value: state.query, "aria-label": t("search"), placeholder: t("search"),
    oninput: () => { state.query = search.value; fill(); },
  });
  fill();
  return [
    h("a", { className: "back", href: "#/" }, `← ${t("back")}`),
    h("h1", {}, `${t("roster")} (${participants.length})`),
    state.editing === "new" ? personForm(groupId, null, "participant", () => redraw())
      : h("button", { className: "primary big", onclick: () => redraw("new") }, t("add_person")),
    search,
    list,
    h("section", { className: "volunteers", dataset: { testid: "volunteers" } },
      h("h2", {}, `${t("volunteers")} (${volunteers.length})`),
      h("p", { className: "muted" }, t("volunteer_hint")),
      state.editing === "new-volunteer" ? personForm(groupId, null, "volunteer", () => redraw())
        : h("button", { className: "big", onclick: () => redraw("new-volunteer") }, t("add_volunteer")),
      h("ul", { className: "roster" }, volunteers.map((person) => row(person, "volunteer")))),
  ];
}
