// What a room's message log holds, in display order, without any DOM: the rules that keep it
// free of duplicates and in seq order live here, so they are unit-tested in Node
// (test/timeline.test.js) and the view only mirrors the changes this returns.
//
// Ordering. Messages sort by (epoch, seq). An epoch is one life of the room's sequence on the
// server: the hub keeps history in memory, so a restarted server numbers a room from 1 again
// under a new epoch. The client says so with a `reset` event (right after the re-join, before
// any message of the new numbering), and that is the one signal that starts a new epoch here:
// within an epoch the client delivers each seq at most once and in order, so a seq already
// shown is the same message (a history answer overlapping live ones), never a new one.
//
// Pending publishes sit after every message, in the order they were written, until the server
// acknowledges them; the acknowledged message then takes its place in seq order.

/** @typedef {{room: string, seq: number, from: string, ts: number, body: unknown}} Message */

const PENDING_EPOCH = Number.POSITIVE_INFINITY;

/**
 * One line of the log. `kind` is "message", "pending" (sending or failed), "notice" (presence,
 * gaps) or "divider" (a new epoch, after a `reset`).
 * @typedef {object} Item
 * @property {string} key unique within the timeline, also the DOM id suffix
 * @property {"message"|"pending"|"notice"|"divider"} kind
 * @property {number[]} sort [epoch, seq, sub]
 * @property {Message} [message]
 * @property {unknown} [body] a pending item's body
 * @property {"sending"|"failed"} [status]
 * @property {string} [error]
 * @property {boolean} [provisional] built from an ack before the server's copy arrived
 * @property {string} [text]
 */

/** A change for the view: add `item` before the item keyed `before` (null: at the end). */
/** @typedef {{op: "add", item: Item, before: string|null} | {op: "update", item: Item} | {op: "remove", key: string}} Change */

function compare(a, b) {
  for (let i = 0; i < 3; i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

export class Timeline {
  constructor() {
    /** @type {Item[]} sorted by `sort` */
    this.items = [];
    /** @type {Map<string, Item>} */
    this.byKey = new Map();
    this.epoch = 0;
    /** Highest seq the server delivered in the current epoch. */
    this.maxSeq = 0;
    this.counter = 0;
  }

  /** A message the server delivered live (in seq order). */
  live(message) {
    const existing = this.byKey.get(messageKey(this.epoch, message.seq));
    if (existing?.provisional) {
      // The server's copy of a message first shown from its ack.
      existing.message = message;
      existing.provisional = false;
      this.maxSeq = Math.max(this.maxSeq, message.seq);
      return [{ op: "update", item: existing }];
    }
    if (existing) return [];
    return this.addMessage(message);
  }

  /**
   * The client reported that the room was numbered anew (`reset` event: the server restarted
   * or re-created it): what follows starts a new epoch, after a divider when anything of the
   * old numbering is shown.
   */
  reset() {
    const shown = this.items.some((i) => i.kind !== "pending");
    this.epoch += 1;
    this.maxSeq = 0;
    if (!shown) return [];
    const item = {
      key: `d${this.epoch}`,
      kind: "divider",
      sort: [this.epoch, 0, 0],
      text: "The server restarted. Messages below this line are new.",
    };
    return [this.insert(item)];
  }

  /**
   * Messages from a history answer requested during `epoch`: added where missing, never
   * starting an epoch (history overlaps what is shown).
   */
  history(messages, epoch = this.epoch) {
    if (epoch !== this.epoch) return [];
    const changes = [];
    for (const message of messages) {
      const existing = this.byKey.get(messageKey(this.epoch, message.seq));
      if (existing?.provisional) {
        existing.message = message;
        existing.provisional = false;
        changes.push({ op: "update", item: existing });
      } else if (!existing) {
        changes.push(...this.addMessage(message));
      }
    }
    return changes;
  }

  /**
   * The client reported that seqs `from..=to` will not arrive live: whether a history request
   * should fill the range (the caller tags it with `this.epoch`; the answer lands in this epoch).
   */
  gap(from, to) {
    return { fill: to >= from };
  }

  /** A publish written by this user, shown until its ack. */
  pending(body) {
    const item = {
      key: `p${++this.counter}`,
      kind: "pending",
      sort: [PENDING_EPOCH, this.counter, 0],
      body,
      status: "sending",
    };
    return { item, changes: [this.insert(item)] };
  }

  /** The server stored pending `key` as `seq` (`message` builds the provisional copy). */
  acked(key, seq, message) {
    const item = this.byKey.get(key);
    if (!item || item.kind !== "pending") return [];
    const changes = [this.remove(key)];
    if (!this.byKey.has(messageKey(this.epoch, seq))) {
      changes.push(...this.addMessage({ ...message, seq }, true));
    }
    return changes;
  }

  /** Pending `key` will not be delivered. */
  failed(key, error) {
    const item = this.byKey.get(key);
    if (!item || item.kind !== "pending") return [];
    item.status = "failed";
    item.error = error;
    return [{ op: "update", item }];
  }

  /** Pending `key` is being sent again. */
  retrying(key) {
    const item = this.byKey.get(key);
    if (!item || item.kind !== "pending") return [];
    item.status = "sending";
    item.error = undefined;
    return [{ op: "update", item }];
  }

  /** Drops a failed pending item the user gave up on. */
  discard(key) {
    return this.byKey.has(key) ? [this.remove(key)] : [];
  }

  /** A line such as "bob joined", after every message shown so far. */
  notice(text) {
    const item = {
      key: `n${++this.counter}`,
      kind: "notice",
      sort: [this.epoch, this.maxSeq, ++this.counter],
      text,
    };
    return [this.insert(item)];
  }

  /** The delivered messages in display order (for tests and for the view's checks). */
  messages() {
    return this.items.filter((i) => i.kind === "message").map((i) => i.message);
  }

  addMessage(message, provisional = false) {
    const item = {
      key: messageKey(this.epoch, message.seq),
      kind: "message",
      sort: [this.epoch, message.seq, 0],
      message,
      provisional,
    };
    // Only the server's own copies count: an ack-built copy must not make its echo look old.
    if (!provisional) this.maxSeq = Math.max(this.maxSeq, message.seq);
    return [this.insert(item)];
  }

  insert(item) {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compare(this.items[mid].sort, item.sort) <= 0) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, item);
    this.byKey.set(item.key, item);
    return { op: "add", item, before: this.items[lo + 1]?.key ?? null };
  }

  remove(key) {
    const index = this.items.findIndex((i) => i.key === key);
    if (index >= 0) this.items.splice(index, 1);
    this.byKey.delete(key);
    return { op: "remove", key };
  }
}

function messageKey(epoch, seq) {
  return `m${epoch}-${seq}`;
}
