// The service worker. The server prepends VERSION and ASSETS (the versioned app files).
// It serves the app shell offline and never caches the API or anything personal.
const CACHE = `ibasho-shell-${VERSION}`;
const SHELL = "/app/";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll([SHELL, "/manifest.webmanifest", ...ASSETS])));
  // No skipWaiting here: the page offers "reload" and tells us when (see app.js).
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("ibasho-shell-") && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data === "skip-waiting") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/")) return; // always the network: never cache personal data
  if (event.request.mode === "navigate" && url.pathname.startsWith("/app")) {
    // The shell of this version, online or not; a new version arrives as a new worker,
    // and the page offers to reload into it.
    event.respondWith(caches.match(SHELL, { cacheName: CACHE }).then((hit) => hit || fetch(event.request)));
    return;
  }
  if (url.pathname.startsWith("/app/v/") || url.pathname === "/manifest.webmanifest") {
    event.respondWith(caches.match(event.request, { cacheName: CACHE }).then((hit) => hit || fetch(event.request)));
  }
});

// --- Web Push reminders (server/reminders): always show a notification, tag = occurrence ---

self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (error) {
    message = { body: event.data ? event.data.text() : "" };
  }
  const title = message.title || "居場所のお知らせ";
  const options = {
    body: message.body || "次回の開催が近づいています",
    tag: message.tag || "ibasho-reminder",
    renotify: false,
    lang: "ja",
    icon: `/app/v/${VERSION}/icons/icon-192.png`,
    // A participant linked to their roster entry may answer 「欠席します」 (server/reminders/absence.py).
    actions: Array.isArray(message.actions) ? message.actions.slice(0, 2) : [],
    data: { url: message.url || "/app/", ...(message.absent_url ? { absent_url: message.absent_url } : {}) },
  };
  event.waitUntil(self.registration.showNotification(title, options));
});

// Answers 「欠席します」 without opening anything: the secret URL is the whole authority.
// The result replaces the reminder (same tag); on failure it offers the reply page instead.
async function answerAbsent(notification) {
  const { absent_url: absentUrl, url } = notification.data || {};
  let ok = false;
  try {
    ok = (await fetch(new URL(absentUrl, self.location.origin), { method: "POST", credentials: "omit" })).ok;
  } catch (error) {
    ok = false;
  }
  await self.registration.showNotification(notification.title, {
    body: ok ? "欠席のご連絡をお伝えしました" : "欠席の連絡を送れませんでした。タップしてもう一度お試しください",
    tag: notification.tag,
    lang: "ja",
    icon: notification.icon,
    data: { url: url || "/app/" },
  });
  return ok;
}

function openTarget(notification) {
  const target = new URL((notification.data && notification.data.url) || "/app/", self.location.origin);
  if (target.origin !== self.location.origin) return Promise.resolve();
  return self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
    for (const client of windows) {
      if (new URL(client.url).pathname.startsWith("/app") && target.pathname.startsWith("/app") && "focus" in client) {
        return client.focus().then((focused) => (focused && "navigate" in focused ? focused.navigate(target.href) : focused));
      }
    }
    return self.clients.openWindow(target.href);
  });
}

// A named function so the browser tests can drive it inside this worker (a synthetic
// NotificationEvent is untrusted and may not call waitUntil).
function handleNotificationClick(notification, action) {
  notification.close();
  if (action === "absent" && notification.data && notification.data.absent_url) return answerAbsent(notification);
  return openTarget(notification);
}

self.addEventListener("notificationclick", (event) => {
  event.waitUntil(handleNotificationClick(event.notification, event.action));
});

// The push service replaced the subscription: subscribe again with the same key. The app
// sends the new one to the server on its next start (a worker cannot pass the CSRF check).
self.addEventListener("pushsubscriptionchange", (event) => {
  const key = event.oldSubscription?.options?.applicationServerKey;
  if (key) event.waitUntil(self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }));
});
