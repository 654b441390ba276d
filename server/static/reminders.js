// The participants' reminder pages (server/templates/reminders): subscribe, stop, 「欠席します」.
// A file, not inline script: the Content-Security-Policy allows same-origin scripts only.
// Texts come from the page (data-* attributes), so the templates hold all the wording.

const csrf = () => (document.cookie.match(/(?:^|; )csrftoken=([^;]*)/) || [])[1] || "";
const b64 = (text) => Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4)), (c) => c.charCodeAt(0));
const withTimeout = (promise, ms) => Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), ms))]);

// Not navigator.serviceWorker.ready: that waits for a worker controlling *this* page, and
// these pages lie outside the app's scope (/app/), so it would never resolve.
const activated = (registration) => new Promise((resolve) => {
  const worker = registration.installing || registration.waiting;
  if (registration.active || !worker) return resolve(registration);
  worker.addEventListener("statechange", () => { if (worker.state === "activated") resolve(registration); });
});

// iPhone and iPad deliver Web Push only to a web app added to the Home Screen: in Safari
// itself there is no PushManager, so first the page shows how to add it (iPadOS says "Mac").
const appleMobile = () => /iPhone|iPad|iPod/.test(navigator.userAgent) || (/Macintosh/.test(navigator.userAgent) && navigator.maxTouchPoints > 1);
const onHomeScreen = () => navigator.standalone === true || matchMedia("(display-mode: standalone)").matches;

function subscribePage(button, status) {
  if (appleMobile() && !onHomeScreen()) {
    document.getElementById("home-screen-steps").hidden = false;
    button.hidden = true;
    return;
  }
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
    button.disabled = true;
    status.textContent = status.dataset.unsupported;
    return;
  }
  button.addEventListener("click", async () => {
    button.disabled = true;
    status.textContent = status.dataset.working;
    try {
      // Asked only here, from the tap: browsers refuse (and users resent) prompts on load.
      if ((await Notification.requestPermission()) !== "granted") throw new Error("permission");
      const registration = await withTimeout(activated(await navigator.serviceWorker.register("/sw.js", { scope: "/app/" })), 30000);
      const { public_key: key } = await (await fetch("/api/push/public-key")).json();
      // In some browsers subscribe() neither resolves nor rejects: never wait for ever.
      const subscription = await withTimeout(registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: b64(key) }), 15000);
      if (!csrf()) await fetch("/healthz");
      const response = await fetch("/api/push/subscriptions", {
        method: "POST", headers: { "content-type": "application/json", "x-csrftoken": csrf() },
        body: JSON.stringify({ ...subscription.toJSON(), ibasho_id: button.dataset.ibasho, person_token: button.dataset.person || null }),
      });
      if (!response.ok) throw new Error((await response.json().catch(() => ({}))).code || String(response.status));
      const { manage_url: manageUrl } = await response.json();
      status.replaceChildren(status.dataset.done, Object.assign(document.createElement("a"), { href: manageUrl, textContent: location.origin + manageUrl }));
    } catch (error) {
      // In words the reader can act on; the code ("permission", "timeout", a status) is for no one.
      const why = { permission: status.dataset.denied, timeout: status.dataset.slow, sign_ups_closed: status.dataset.closed };
      status.textContent = why[error.message] || status.dataset.failed;
      button.disabled = false;
    }
  });
}

// One POST; the server decides (stop by management token, absence by reply token).
function actionButton(button, status, url, method) {
  button.addEventListener("click", async () => {
    button.disabled = true;
    if (!csrf()) await fetch("/healthz");
    const response = await fetch(url, { method, headers: { "x-csrftoken": csrf() } }).catch(() => null);
    status.textContent = response && response.ok ? status.dataset.done : status.dataset.failed;
    if (response && response.ok) button.remove();
    else button.disabled = false;
  });
}

const subscribe = document.getElementById("subscribe");
if (subscribe) subscribePage(subscribe, document.getElementById("subscribe-status"));
const stop = document.getElementById("stop");
if (stop) actionButton(stop, document.getElementById("stop-status"), `/api/push/subscriptions/${encodeURIComponent(stop.dataset.token)}`, "DELETE");
const absent = document.getElementById("absent");
if (absent) actionButton(absent, document.getElementById("absent-status"), `/api/push/absences/${encodeURIComponent(absent.dataset.token)}`, "POST");
