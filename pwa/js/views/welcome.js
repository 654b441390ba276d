// First use: three short screens before the first login (what works offline, adding the
// app to the home screen, and that records stay on the phone until they are sent).
import { h, render } from "../ui.js";
import { t } from "../i18n.js";

const WELCOMED = "ibasho-welcomed";
const STEPS = 3;

export const welcomed = () => localStorage.getItem(WELCOMED) === "yes";

export function welcomeView(view, step, go) {
  const finish = () => {
    localStorage.setItem(WELCOMED, "yes");
    go("#/login");
  };
  const body = {
    1: [h("p", {}, t("welcome_1_text"))],
    2: [h("p", {}, t("welcome_2_android")), h("p", {}, t("welcome_2_iphone"))],
    3: [h("p", {}, t("welcome_3_text"))],
  }[step] ?? [];
  render(view,
    h("section", { className: "welcome stack", dataset: { testid: "welcome", step: String(step) } },
      h("p", { className: "muted" }, t("welcome_step", { n: step })),
      h("h1", {}, t(`welcome_${step}_title`)),
      body,
      step < STEPS
        ? h("button", { className: "primary big", onclick: () => go(`#/welcome/${step + 1}`) }, t("welcome_next"))
        : h("button", { className: "primary big", onclick: finish }, t("welcome_start")),
      step < STEPS ? h("button", { className: "quiet", onclick: finish }, t("welcome_skip")) : null));
}
