// What this phone sent and when, newest first (the server's answers, kept by store.acknowledge).
import { drawer, h } from "../ui.js";
import { formatTime, formatDate, t } from "../i18n.js";
import * as store from "../store.js";
import { describe } from "./refusals.js";

export async function historyView(view) {
  const draw = drawer(view, async () => {
    const history = ((await store.getMeta("history")) ?? []).slice().reverse();
    return [
      h("a", { className: "back", href: "#/" }, `← ${t("back")}`),
      h("h1", {}, t("history")),
      h("p", { className: "muted" }, t("history_hint")),
      history.length
        ? h("ol", { className: "history", dataset: { testid: "history" } }, history.map((entry) =>
            h("li", { className: entry.rejected ? "refused" : "" },
              h("span", {}, describe(entry)),
              h("span", { className: "muted" },
                entry.rejected ? t("history_refused") : t("history_sent", { when: `${formatDate(entry.at.slice(0, 10))} ${formatTime(entry.at)}` })))))
        : h("p", {}, t("history_empty")),
    ];
  });
  await draw();
  return store.onChange(draw);
}
