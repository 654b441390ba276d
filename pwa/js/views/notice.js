// A message the phone keeps until it is read: why data left this phone (store.wipe and
// the pull's list of groups, in store.js).
import { h } from "../ui.js";
import { t } from "../i18n.js";
import * as store from "../store.js";

export async function noticeBanner() {
  const notice = await store.getMeta("notice");
  if (!notice) return null;
  const text = notice.kind === "ended" ? t("notice_ended") : t("notice_removed", { groups: notice.groups.join("、") });
  return h("div", { className: "notice", role: "alert", dataset: { testid: "notice" } },
    h("p", {}, text),
    h("button", { className: "quiet", onclick: () => store.setMeta("notice", null) }, t("close")));
}
