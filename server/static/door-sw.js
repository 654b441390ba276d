// The door page's service worker (scope /staff/events/): the door page of each part and what
// it loads are kept from their last load, so that a phone without a signal at the venue still
// opens them. Marks are not handled here: door.js keeps them in IndexedDB and sends them.
// Only these pages are cached (their list of names is what the door needs, nothing more).
const CACHE = "ibasho-door-1";
const DOOR = /^\/staff\/events\/[0-9a-f-]{36}\/door\/[0-9a-f-]{36}$/;
const ASSETS = new Set(["/static/council.css", "/static/door.js", "/static/favicon.svg"]);

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  const door = event.request.mode === "navigate" && DOOR.test(url.pathname);
  if (!door && !ASSETS.has(url.pathname)) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const response = await fetch(event.request);
      if (response.ok && !response.redirected) await cache.put(url.pathname, response.clone());
      // sent to the login page: the login has ended, and its copies of names go with it
      else if (door && (response.redirected || response.type === "opaqueredirect")) await caches.delete(CACHE);
      return response;
    } catch (error) {
      return (await cache.match(url.pathname)) || Response.error();
    }
  })());
});
