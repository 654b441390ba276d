// Reminders on the organiser's own phone: meetings and their role duties (明日はあなたが調理担当です).
import * as store from "./store.js";
import * as sync from "./sync.js";

function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

const supported = () => "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;

async function current() {
  const registration = await navigator.serviceWorker.getRegistration("/app/"); // never waits, unlike .ready
  return registration ? registration.pushManager.getSubscription() : null;
}

// "unsupported" (e.g. iOS Safari outside the Home Screen app), "denied", "on" or "off".
export async function status() {
  if (!supported()) return "unsupported";
  if (Notification.permission === "denied") return "denied";
  return Notification.permission === "granted" && (await current()) ? "on" : "off";
}

async function save(subscription) {
  await sync.api("/api/push/subscriptions", { method: "POST", body: subscription.toJSON() });
}

// Only from a tap: browsers ask for permission after a user gesture, and once.
export async function enable() {
  if ((await Notification.requestPermission()) !== "granted") return false;
  const registration = await navigator.serviceWorker.ready;
  const { public_key: key } = await sync.api("/api/push/public-key");
  await save(await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) }));
  // whichever screen is up now (a sync may have drawn a new one meanwhile) shows it is on
  await store.setMeta("reminders_since", new Date().toISOString());
  return true;
}

// On every start: the server hears of a subscription the push service replaced while the
// app was closed (the worker resubscribes on pushsubscriptionchange but cannot pass CSRF).
export async function resend() {
  if (!supported() || Notification.permission !== "granted" || !(await store.getMeta("me"))) return;
  const subscription = await current();
  if (subscription) await save(subscription).catch(() => {}); // offline: next start
}
