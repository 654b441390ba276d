// Logging out of the staff pages takes the door pages' copies with it: door-sw.js keeps each
// part's list of names for a phone without a signal, and a staff phone ends the day with no
// one's names on it. Door marks not yet sent stay (IndexedDB, door.js) for the next login.
// The logout itself waits for this, and happens even where it fails.
const DOOR_CACHES = "ibasho-door";

for (const form of document.querySelectorAll("form[action='/logout']")) {
  form.addEventListener("submit", (event) => {
    if (!("caches" in window)) return;
    event.preventDefault();
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name.startsWith(DOOR_CACHES)).map((name) => caches.delete(name))))
      .catch(() => {})
      .finally(() => form.submit());
  });
}
