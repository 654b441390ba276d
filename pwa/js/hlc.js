// Hybrid logical clock, as in the sync contract: "{wall_ms:018d}-{counter:05d}-{client_id}".
const pad = (n, width) => String(n).padStart(width, "0");

export function format({ wall, counter }, node) {
  return `${pad(wall, 18)}-${pad(counter, 5)}-${node}`;
}

export function parse(text) {
  const [wall, counter] = text.split("-", 2).map(Number);
  return { wall, counter };
}

// Next clock state: never backwards, past everything seen.
export function tick(state, now = Date.now()) {
  if (now > state.wall) return { wall: now, counter: 0 };
  return { wall: state.wall, counter: state.counter + 1 };
}

export function observe(state, text) {
  const seen = parse(text);
  if (seen.wall > state.wall || (seen.wall === state.wall && seen.counter > state.counter)) return seen;
  return state;
}
