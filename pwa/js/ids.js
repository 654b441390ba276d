// The ids this phone makes (sync/ids.py on the server): random ones for new records,
// time-ordered ones for mutations, and the derived ones both sides compute alike.

// A new record's own id: random (version 4). Never version 5, which is kept for derived ids.
export function uuid() {
  return crypto.randomUUID();
}

// A time-ordered UUID (version 7) for mutation ids.
export function uuid7() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let ms = Date.now();
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  return formatUuid(bytes, 0x70);
}

function formatUuid(bytes, version) {
  bytes[6] = (bytes[6] & 0x0f) | version;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// A UUID version 5 (SHA-1 of a namespace and a name), as Python's uuid.uuid5.
async function uuid5(namespace, name) {
  const space = namespace.replaceAll("-", "").match(/../g).map((pair) => parseInt(pair, 16));
  const text = new TextEncoder().encode(name);
  const digest = await crypto.subtle.digest("SHA-1", new Uint8Array([...space, ...text]));
  return formatUuid(new Uint8Array(digest).slice(0, 16), 0x50);
}

// The 安否確認 follow-up of one person's absence from one session (sync/ids.py safety_check_id):
// opened on this phone offline or by the server, it is one record.
const SAFETY_CHECK_NAMESPACE = "16485120-4ce7-5a47-bfc2-ec9c5251a647";

export function safetyCheckId(sessionId, personId) {
  return uuid5(SAFETY_CHECK_NAMESPACE, `${sessionId}:${personId}`);
}
