// Settings kept on this phone: the text size (標準 / 大きい / とても大きい).
import { h, render } from "../ui.js";
import { formatTime, t } from "../i18n.js";
import * as sync from "../sync.js";

const TEXT_SIZE = "ibasho-text-size";
export const TEXT_SIZES = ["normal", "large", "xlarge"];

export function applyTextSize(size = localStorage.getItem(TEXT_SIZE) ?? "normal") {
  document.documentElement.dataset.textSize = TEXT_SIZES.includes(size) ? size : "normal";
}

export function settingsView(view) {
  const line = lineSection(); // kept across redraws: a code on screen stays there
  const draw = () => {
    const current = document.documentElement.dataset.textSize;
    render(view,
      h("a", { className: "back", href: "#/" }, `← ${t("back")}`),
      h("h1", {}, t("settings")),
      h("fieldset", { className: "text-sizes" },
        h("legend", {}, t("text_size")),
        TEXT_SIZES.map((size) => h("button", {
          className: size === current ? "primary" : "",
          "aria-pressed": String(size === current),
          dataset: { size },
          onclick: () => {
            localStorage.setItem(TEXT_SIZE, size);
            applyTextSize(size);
            draw();
          },
        }, t(`text_${size}`)))),
      emailForm(),
      line);
  };
  draw();
}

// Meetings and duties by email too (an organiser without notifications on this phone):
// the server mails a confirmation link first.
function emailForm() {
  const address = h("input", { name: "reminder_email", type: "email", required: true, maxLength: 254, autocomplete: "email" });
  const status = h("p", { role: "status", dataset: { testid: "email-status" } });
  const submit = async (event) => {
    event.preventDefault();
    try {
      await sync.api("/api/push/email", { method: "POST", body: { address: address.value.trim() } });
      status.textContent = t("email_sent", { address: address.value.trim() });
      event.target.reset();
    } catch (error) {
      status.textContent = t(error instanceof sync.HttpError && error.status === 400 ? "email_invalid" : "email_failed");
    }
  };
  return h("form", { className: "stack", onsubmit: submit, dataset: { testid: "email-form" } },
    h("h2", {}, t("email_reminders")),
    h("label", {}, t("email_address"), address),
    h("button", { type: "submit", className: "primary" }, t("email_send_confirmation")),
    status);
}

// Meetings and duties by LINE too: per group, the LINE公式アカウント serving it (the group's
// own, else the council's) and a code to send it from the organiser's own LINE.
function lineSection() {
  const section = h("section", { className: "stack", dataset: { testid: "line-section" } }, h("h2", {}, t("line_reminders")));
  const body = h("div", { className: "stack" }); // one block per group
  section.append(body);
  sync.api("/api/push/line").then(({ groups }) => {
    if (!groups.length) render(body, h("p", { className: "muted" }, t("line_no_group")));
    else render(body, groups.map(lineGroup));
  }).catch(() => render(body, h("p", { className: "muted" }, t("line_offline"))));
  return section;
}

function lineGroup(group) {
  if (!group.account) {
    return h("p", { dataset: { testid: "line-none" } }, t("line_none", { group: group.group }));
  }
  const shown = h("div", { className: "line-steps" });
  const ask = async () => {
    try {
      const made = await sync.api("/api/push/line", { method: "POST", body: { group_id: group.group_id } });
      render(shown,
        h("p", {}, t("line_step_friend", { account: made.account })),
        made.friend_url ? h("a", { className: "button primary", href: made.friend_url, target: "_blank", rel: "noopener" }, t("line_add_friend")) : null,
        h("p", {}, t("line_step_code", { time: formatTime(made.expires_at) })),
        h("p", { className: "line-code", dataset: { testid: "line-code" } }, h("strong", {}, made.code)),
        h("p", { className: "muted" }, t("line_starts")));
    } catch (error) {
      render(shown, h("p", { role: "status" }, t(error instanceof sync.HttpError && error.status === 404 ? "line_none" : "line_failed", { group: group.group })));
    }
  };
  return h("div", { className: "stack", dataset: { testid: "line-group" } },
    h("p", {}, t(group.linked ? "line_linked" : "line_offered", { group: group.group, account: group.account })),
    h("button", { type: "button", className: group.linked ? "" : "primary", onclick: ask }, t(group.linked ? "line_again" : "line_get_code")),
    shown);
}
