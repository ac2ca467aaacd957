// The chat: one connection, one current room. Wires the connection's events to the models
// (Timeline, Members) and the models' changes to the views.

import * as connection from "./connection.js";
import { byId, h } from "./dom.js";
import { ROOM_PATTERN } from "./format.js";
import { LogView } from "./log-view.js";
import { Members, displayName } from "./members.js";
import { remembered } from "./storage.js";
import { Timeline } from "./timeline.js";
import { renderAnywhere, renderBadge, renderMembers, renderRooms } from "./panels.js";

/** How many stored messages a join shows. */
const HISTORY_ON_JOIN = 100;
/** How often the room list refreshes its member counts. */
const ROOMS_REFRESH_MS = 5000;

export class App {
  constructor() {
    this.name = "";
    this.room = null;
    this.client = null;
    this.timeline = new Timeline();
    this.members = new Members();
    this.info = null;
    /** Nothing is connected before the user has a name (the first-visit dialog). */
    this.status = { kind: "idle" };
    this.log = new LogView(byId("messages"), {
      me: () => this.name,
      online: () => this.status.kind === "online",
      retry: (key) => this.retry(key),
      discard: (key) => {
        this.log.apply(this.timeline.discard(key));
        this.savePending();
      },
    });
    this.input = /** @type {HTMLTextAreaElement} */ (byId("composer-input"));
  }

  async start() {
    this.bindForms();
    // On a phone the commands fold away under their heading: the conversation comes first.
    if (window.matchMedia("(max-width: 40rem)").matches) {
      /** @type {HTMLDetailsElement} */ (byId("anywhere-details")).open = false;
    }
    const name = remembered.name() || (await this.askName());
    this.setName(name);
    const room = roomFromHash() || remembered.room() || "lobby";
    this.connect();
    this.join(room);
    setInterval(() => this.refreshRooms(), ROOMS_REFRESH_MS);
    setInterval(() => renderBadge(this.status), 250);
    window.addEventListener("hashchange", () => {
      const hashed = roomFromHash();
      if (hashed && hashed !== this.room) this.join(hashed);
    });
    this.loadInfo();
  }

  bindForms() {
    byId("name-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const name = /** @type {HTMLInputElement} */ (byId("name-input")).value.trim();
      if (name && name !== this.name) {
        this.setName(name);
        this.reconnect();
      }
    });
    byId("room-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const input = /** @type {HTMLInputElement} */ (byId("room-input"));
      const room = input.value.trim();
      if (!ROOM_PATTERN.test(room)) {
        input.setCustomValidity("Use 1 to 64 letters, digits or _ - . :");
        input.reportValidity();
        return;
      }
      input.value = "";
      this.join(room);
    });
    byId("room-input").addEventListener("input", (event) =>
      /** @type {HTMLInputElement} */ (event.target).setCustomValidity(""),
    );
    byId("composer").addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.send();
      }
    });
    this.input.addEventListener("input", () => this.autosize());
  }

  /** Shows the first-visit dialog and resolves with the chosen name. */
  askName() {
    const dialog = /** @type {HTMLDialogElement} */ (byId("name-dialog"));
    const input = /** @type {HTMLInputElement} */ (byId("name-dialog-input"));
    return new Promise((resolve) => {
      dialog.addEventListener("cancel", (event) => event.preventDefault());
      byId("name-dialog-form").addEventListener("submit", (event) => {
        const name = input.value.trim();
        if (!name) {
          event.preventDefault();
          return;
        }
        resolve(name);
      });
      dialog.showModal();
      input.focus();
    });
  }

  setName(name) {
    this.name = name;
    remembered.setName(name);
    /** @type {HTMLInputElement} */ (byId("name-input")).value = name;
  }

  connect() {
    // The events of a client this one replaced (after a rename) are no longer the page's.
    const current = () => this.client === client;
    const client = connection.open(window.location, {
      name: this.name,
      on: {
        message: (m) => current() && m.room === this.room && this.log.apply(this.timeline.live(m)),
        presence: (p) => current() && p.room === this.room && this.presence(p),
        gap: (g) => current() && g.room === this.room && this.gap(g.from, g.to),
        reset: (r) => current() && r.room === this.room && this.renumbered(r.epoch),
        joined: (j) => {
          if (!current() || j.room !== this.room) return;
          // A client that never knew the room's old numbering (one made by a rename while the
          // server restarted) sends no `reset`: its `joined` shows the new epoch instead.
          this.renumbered(j.epoch);
          this.setMembers(j.members);
        },
        status: (s) => current() && this.setStatus(s),
        error: (e) => current() && this.alert(connection.sentence(connection.errorText(e))),
      },
    });
    this.client = client;
  }

  /**
   * A new name needs a new session: a new client joins the room again, keeping the
   * conversation on screen; what the old one had not sent yet is sent by the new one (also
   * while offline: it waits in the new client's outbox).
   */
  reconnect() {
    const old = this.client;
    this.connect();
    // Its pending publishes reject with `closed`; publish() hands them to the new client.
    old?.close();
    if (this.room) this.join(this.room, { keep: true });
  }

  setStatus(status) {
    const wasOnline = this.status.kind === "online";
    this.status = status;
    renderBadge(status);
    const online = status.kind === "online";
    // Offline, the member list and the room counts are what was last known: shown as such.
    if (online) this.wasOnline = true;
    document.body.toggleAttribute("data-stale", !online && Boolean(this.wasOnline));
    if (online !== wasOnline) {
      // Pending messages say whether they are being sent or wait for the connection.
      this.log.apply(this.timeline.items.filter((i) => i.kind === "pending").map((item) => ({ op: "update", item })));
    }
    // A connection-level alert (e.g. "the server is shutting down") is over once back online.
    if (online) byId("alert").hidden = true;
  }

  /**
   * Shows `room` and joins it. With `keep` (the same room, joined again by a new client after
   * a rename) the conversation on screen stays; otherwise the log starts empty, with the
   * messages this browser wrote there and never got confirmed (kept across reloads) pending.
   */
  async join(room, { keep = false } = {}) {
    if (!keep) this.enter(room);
    const timeline = this.timeline;
    try {
      const joined = await this.client.join(room);
      if (this.timeline !== timeline) return;
      this.setMembers(joined.members);
      byId("room-meta").textContent = "";
      const epoch = timeline.epoch;
      const since = Math.max(0, (joined.seq ?? 0) - HISTORY_ON_JOIN);
      const messages = await this.client.history(room, { since, limit: HISTORY_ON_JOIN });
      if (this.timeline === timeline) this.log.apply(timeline.history(messages, epoch));
      this.refreshRooms();
    } catch (error) {
      if (this.timeline === timeline) {
        byId("room-meta").textContent = `Could not join: ${connection.errorText(error)}`;
      }
    }
  }

  enter(room) {
    if (this.room && this.room !== room) {
      this.client.leave(this.room)?.catch?.(() => {});
    }
    this.room = room;
    remembered.setRoom(room);
    if (roomFromHash() !== room) history.replaceState(null, "", `#${encodeURIComponent(room)}`);
    this.timeline = new Timeline();
    this.epoch = null;
    this.members = new Members();
    this.log.clear();
    byId("room-title").textContent = `# ${room}`;
    byId("room-meta").textContent = "Joining…";
    renderMembers(this.members, this.client?.session ?? null, this.name);
    renderAnywhere(room, this.info);
    this.setComposer(true);
    this.refreshRooms();
    for (const body of remembered.pending(room)) this.write(body);
  }

  /** The room's numbering is `epoch`: a new one starts a new section of the log. */
  renumbered(epoch) {
    const known = this.epoch;
    this.epoch = epoch;
    if (known && epoch && known !== epoch) this.log.apply(this.timeline.reset());
  }

  setMembers(members) {
    this.members.reset(members ?? []);
    renderMembers(this.members, this.client.session ?? null, this.name);
  }

  presence({ action, member }) {
    const who = displayName(member);
    const change = this.members.apply(action, member);
    if (!change) return;
    renderMembers(this.members, this.client?.session ?? null, this.name);
    // No notice for this tab's own sessions, nor for someone who is still (or already) here
    // under another session: a reconnect is not news.
    const mine = member.session === this.client?.session || member.name === this.name;
    const otherSession = this.members.list().some((m) => displayName(m) === who && m.session !== member.session);
    if (mine || otherSession) return;
    this.log.apply(this.timeline.notice(change === "join" ? `${who} joined` : `${who} left`));
  }

  async gap(from, to) {
    const { fill } = this.timeline.gap(from, to);
    if (!fill) return;
    const room = this.room;
    const timeline = this.timeline;
    const epoch = timeline.epoch;
    try {
      const messages = await this.client.history(room, { since: from - 1, limit: to - from + 1 });
      if (this.timeline === timeline) this.log.apply(timeline.history(messages, epoch));
    } catch (error) {
      this.log.apply(timeline.notice(`Messages ${from}–${to} could not be loaded: ${connection.errorText(error)}`));
    }
  }

  send() {
    const body = this.input.value.trim();
    if (!body || !this.room) return;
    this.input.value = "";
    this.autosize();
    this.write(body);
  }

  /** Shows `body` as pending and publishes it. */
  write(body) {
    const { item, changes } = this.timeline.pending(body);
    this.log.apply(changes);
    this.savePending();
    this.publish(item.key, body);
  }

  /** Keeps the room's unconfirmed messages in storage, so that a reload sends them still. */
  savePending() {
    if (!this.room) return;
    const bodies = this.timeline.items.filter((i) => i.kind === "pending").map((i) => i.body);
    remembered.setPending(this.room, bodies);
  }

  retry(key) {
    const item = this.timeline.byKey.get(key);
    if (!item) return;
    this.log.apply(this.timeline.retrying(key));
    this.publish(key, item.body);
  }

  async publish(key, body) {
    const room = this.room;
    const timeline = this.timeline;
    const client = this.client;
    try {
      const seq = await client.publish(room, body);
      const message = { room, seq, from: this.name, ts: Date.now(), body };
      if (this.timeline === timeline) this.log.apply(timeline.acked(key, Number(seq), message));
    } catch (error) {
      if (this.timeline !== timeline) return;
      if (client !== this.client && error?.name === "closed") {
        // Renamed meanwhile: the new session sends it.
        this.publish(key, body);
        return;
      }
      this.log.apply(timeline.failed(key, connection.errorText(error)));
    }
    if (this.timeline === timeline) this.savePending();
  }

  async refreshRooms() {
    try {
      const response = await fetch("/api/rooms", { headers: { accept: "application/json" } });
      if (!response.ok) return;
      const { rooms } = await response.json();
      renderRooms(rooms, this.room, (room) => this.join(room));
    } catch {
      // Offline: the list refreshes on the next tick.
    }
  }

  async loadInfo() {
    try {
      const response = await fetch("/api/info", { headers: { accept: "application/json" } });
      this.info = response.ok ? await response.json() : {};
    } catch {
      this.info = {};
    }
    if (this.room) renderAnywhere(this.room, this.info);
  }

  setComposer(enabled) {
    this.input.disabled = !enabled;
    byId("composer").querySelector("button").disabled = !enabled;
    if (enabled) this.input.focus();
  }

  autosize() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight, 160)}px`;
  }

  alert(text) {
    const box = byId("alert");
    box.hidden = false;
    box.replaceChildren(
      h("span", {}, text),
      h("button", { type: "button", class: "quiet", "aria-label": "Dismiss", onclick: () => (box.hidden = true) }, "×"),
    );
  }
}

/** The room of the URL fragment: `#lobby`, or `#lobby&token=…` (src/token.js). */
function roomFromHash() {
  const first = window.location.hash.slice(1).split("&")[0];
  const room = first.includes("=") ? "" : decodeURIComponent(first);
  return ROOM_PATTERN.test(room) ? room : null;
}
