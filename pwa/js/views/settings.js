// Settings kept on this phone: the text size (標準 / 大きい / とても大きい).
import { h, render } from "../ui.js";
import { t } from "../i18n.js";
import * as sync from "../sync.js";

const TEXT_SIZE = "ibasho-text-size";
export const TEXT_SIZES = ["normal", "large", "xlarge"];

export function applyTextSize(size = localStorage.getItem(TEXT_SIZE) ?? "normal") {
  document.documentElement.dataset.textSize = TEXT_SIZES.includes(size) ? size : "normal";
}

export function settingsView(view) {
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
      emailForm());
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
