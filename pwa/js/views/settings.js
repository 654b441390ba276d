// Settings kept on this phone: the text size (標準 / 大きい / とても大きい).
import { h, render } from "../ui.js";
import { t } from "../i18n.js";

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
        }, t(`text_${size}`)))));
  };
  draw();
}
