import { h, render } from "../ui.js";
import { t } from "../i18n.js";
import * as store from "../store.js";
import * as sync from "../sync.js";
import { noticeBanner } from "./notice.js";

function loginFailure(failure) {
  if (!navigator.onLine || !(failure instanceof sync.HttpError)) return t("login_offline");
  if (failure.status === 401) return t("login_failed");
  if (failure.status === 429) return t("login_throttled");
  return t("login_error");
}

export async function loginView(view, go) {
  const error = h("p", { className: "error", role: "alert" });
  const login = h("input", { name: "login", autocomplete: "username", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = async (event) => {
    event.preventDefault();
    try {
      await store.adopt(await sync.api("/api/auth/login", { method: "POST", body: { login: login.value, password: password.value } }));
      navigator.storage?.persist?.(); // ask the browser to keep our data under storage pressure
      go("#/");
      sync.syncNow();
    } catch (failure) {
      error.textContent = loginFailure(failure);
    }
  };
  render(view,
    h("h1", {}, t("app")),
    await noticeBanner(),
    h("form", { className: "stack", onsubmit: submit },
      h("label", {}, t("login_name"), login),
      h("label", {}, t("password"), password),
      error,
      h("button", { type: "submit", className: "primary big" }, t("login"))),
  );
}
