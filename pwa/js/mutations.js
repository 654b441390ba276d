// The phone's side of the mutation table (the server's is sync/mutations.py): how each
// mutation shows on this phone before the server has it. Both sides run the same cases,
// tests/vectors/mutations.json, so what a phone shows is what the server will hold.

// [entity, id, change(old data or null) -> new data or null (gone)] for each record a mutation touches.
export const LOCAL_EFFECTS = {
  "session.upsert": (args) => [["session", args.id, (old) => ({ ...(old ?? { status: "scheduled", kind: "session" }), ...args })]],
  "person.upsert": (args) => [["person", args.id, (old) => ({ ...(old ?? { registered: true, category: "adult", kind: "participant" }), ...args })]],
  "person.delete": (args) => [["person", args.id, () => null]],
  "attendance.set": (args) => [[
    "attendance", `${args.session_id}:${args.person_id}`,
    (old) => ({ ...old, session_id: args.session_id, person_id: args.person_id, status: args.status }),
  ]],
  // A counter: the sum of every delta, shown floored at zero (never floored step by step,
  // or -3 then +5 would show 5 where the server holds 2).
  "tally.add": (args) => [[
    "tally", `${args.session_id}:${args.category}`,
    (old) => {
      const sum = (old?.delta_sum ?? old?.count ?? 0) + args.delta;
      return { session_id: args.session_id, category: args.category, delta_sum: sum, count: Math.max(0, sum) };
    },
  ]],
  // A role goes to an organiser (member_id) or a volunteer on the roster (person_id).
  "role.set": (args) => [[
    "role_assignment", `${args.session_id}:${args.role}:${args.member_id ?? args.person_id}`,
    (old) => ({ ...old, session_id: args.session_id, role: args.role, ...helper(args), assigned: args.assigned }),
  ]],
  "meeting.attend": (args) => [[
    "meeting_attendance", `${args.session_id}:${args.member_id ?? args.person_id}`,
    (old) => ({ ...old, session_id: args.session_id, ...helper(args), present: args.present }),
  ]],
  "action.upsert": (args) => [["action_item", args.id, (old) => ({ text: "", owner: "", due: null, done: false, ...old, ...args })]],
  "action.delete": (args) => [["action_item", args.id, () => null]],
  "note.set": (args) => [[
    "note", args.session_id,
    (old) => ({ conflicts: [], hlcs: {}, ...old, session_id: args.session_id, [args.field]: args.text }),
  ]],
  "note.resolve": (args) => [[
    "note", args.session_id,
    (old) => old && { ...old, conflicts: old.conflicts.filter((c) => !(c.field === args.field && c.hlc === args.hlc)) },
  ]],
  "safety.record": (args) => [["safety_check", args.id, (old) => ({ outcome: "open", ...old, ...args })]],
  // A call of the 電話連絡網; 欠席の連絡 counts like a reply to a reminder: 連絡あり欠席.
  "call.set": (args) => [
    ["call", `${args.session_id}:${args.person_id}`, (old) => ({
      ...old, session_id: args.session_id, person_id: args.person_id, outcome: args.outcome === "unmarked" ? null : args.outcome,
    })],
    ...(args.outcome === "absent" ? LOCAL_EFFECTS["attendance.set"]({ ...args, status: "absent_notified" }) : []),
  ],
};

function helper(args) {
  return { member_id: args.member_id ?? null, person_id: args.person_id ?? null };
}

// The records a mutation touches, as [entity, id] pairs.
export const touched = (name, args) => LOCAL_EFFECTS[name]?.(args).map(([entity, id]) => [entity, id]) ?? [];

// Apply a mutation to a Map of "entity:id" -> data (the tests' view of a phone's records).
export function applyLocal(state, name, args) {
  for (const [entity, id, change] of LOCAL_EFFECTS[name](args)) {
    const key = `${entity}:${id}`;
    const next = change(state.get(key) ?? null);
    if (next === null) state.delete(key);
    else state.set(key, { ...next, id });
  }
}
