// Building DOM without innerHTML, so whatever anyone typed is shown as text, never run.
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name in element && name !== "list") element[name] = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined && child !== false) element.append(child);
  }
  return element;
}

export function render(target, ...nodes) {
  target.replaceChildren(...nodes.flat(Infinity).filter(Boolean));
}

// The phone's own calendar day ("YYYY-MM-DD") of a moment: now, or an ISO 8601 text.
export const localDay = (moment = new Date()) => {
  const at = new Date(moment);
  return new Date(at.getTime() - at.getTimezoneOffset() * 60_000).toISOString().slice(0, 10);
};
export const today = () => localDay();

// A screen's redraw. Each change starts one and several may be under way at once; only the
// newest may draw, or an older one finishing late would put stale records back on screen.
// While ``hold()`` is true (someone is typing, a panel is open) a redraw a change started
// is kept back, and drawn as soon as the hold ends (focus leaves a field, a field is
// emptied): otherwise a sync finishing while someone typed would leave 送信待ち on screen
// until some later change. One the organiser asked for (``force``) draws at once.
export function drawer(target, build, hold = () => false) {
  let newest = 0;
  let heldBack = false;
  const draw = async (force = false) => {
    const mine = ++newest;
    const nodes = await build();
    if (mine !== newest) return;
    heldBack = !force && hold();
    if (!heldBack) render(target, nodes);
  };
  const resume = () => setTimeout(() => { if (heldBack && !hold()) draw(); }, 0); // after focus has moved
  for (const event of ["focusout", "input", "toggle"]) target.addEventListener(event, resume, true);
  return draw;
}

// Whether someone is in the middle of typing on this screen: a field has focus, or a form
// holds words not yet saved. A redraw then waits, so nothing typed is wiped.
export function typing(target) {
  if (document.activeElement?.matches("textarea, input, select")) return true;
  return [...target.querySelectorAll("form input:not([type=checkbox]), form textarea")].some((field) => field.value);
}
