// Who is in the current room: the `members` of the last join, then each presence event.
// Keyed by session id (one person may have several tabs, each its own session).

/** @typedef {{session: string, name?: string|null}} Member */

/** The name shown for a member: its display name, else its session id. */
export function displayName(member) {
  return member.name || member.session;
}

export class Members {
  constructor() {
    /** @type {Map<string, Member>} */
    this.bySession = new Map();
  }

  /** Replaces everyone (a join's answer). */
  reset(members) {
    this.bySession = new Map(members.map((m) => [m.session, m]));
  }

  /**
   * Applies a presence event; returns what changed ("join", "leave") or null when it was
   * already known (the join's member list and the presence event can overlap).
   */
  apply(action, member) {
    if (action === "join") {
      if (this.bySession.has(member.session)) return null;
      this.bySession.set(member.session, member);
      return "join";
    }
    if (!this.bySession.delete(member.session)) return null;
    return "leave";
  }

  /** Everyone, sorted by shown name. */
  list() {
    return [...this.bySession.values()].sort((a, b) =>
      displayName(a).localeCompare(displayName(b)),
    );
  }

  get size() {
    return this.bySession.size;
  }
}
