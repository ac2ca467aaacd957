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
    this.status = { kind: "connecting" };
    this.log = new LogView(byId("messages"), {
      me: () => this.name,
      online: () => this.status.kind === "online",
      retry: (key) => this.retry(key),
      discard: (key) => this.log.apply(this.timeline.discard(key)),
    });
    this.input = /** @type {HTMLTextAreaElement} */ (byId("composer-input"));
  }

  async start() {
    this.bindForms();
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
    this.client = connection.open(window.location, {
      name: this.name,
      on: {
        message: (m) => m.room === this.room && this.log.apply(this.timeline.live(m)),
        presence: (p) => p.room === this.room && this.presence(p),
        gap: (g) => g.room === this.room && this.gap(g.from, g.to),
        reset: (r) => r.room === this.room && this.log.apply(this.timeline.reset()),
        joined: (j) => j.room === this.room && this.setMembers(j.members),
        status: (s) => this.setStatus(s),
        error: (e) => this.alert(connection.errorText(e)),
      },
    });
  }

  /** A new name needs a new session: close, reopen, and join the room again. */
  reconnect() {
    this.client?.close();
    const room = this.room;
    this.room = null;
    this.connect();
    if (room) this.join(room);
  }

  setStatus(status) {
    const wasOnline = this.status.kind === "online";
    this.status = status;
    renderBadge(status);
    const online = status.kind === "online";
    if (online !== wasOnline) {
      // Pending messages say whether they are being sent or wait for the connection.
      this.log.apply(this.timeline.items.filter((i) => i.kind === "pending").map((item) => ({ op: "update", item })));
    }
    // A connection-level alert (e.g. "the server is shutting down") is over once back online.
    if (online) byId("alert").hidden = true;
  }

  async join(room) {
    if (this.room && this.room !== room) {
      this.client.leave(this.room)?.catch?.(() => {});
    }
    this.room = room;
    remembered.setRoom(room);
    if (roomFromHash() !== room) history.replaceState(null, "", `#${encodeURIComponent(room)}`);
    const timeline = (this.timeline = new Timeline());
    this.members = new Members();
    this.log.clear();
    byId("room-title").textContent = `# ${room}`;
    byId("room-meta").textContent = "Joining…";
    renderMembers(this.members, this.client?.session ?? null, this.name);
    renderAnywhere(room, this.info);
    this.setComposer(true);
    this.refreshRooms();
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

  setMembers(members) {
    this.members.reset(members ?? []);
    renderMembers(this.members, this.client.session ?? null, this.name);
  }

  presence({ action, member }) {
    const change = this.members.apply(action, member);
    if (!change) return;
    renderMembers(this.members, this.client?.session ?? null, this.name);
    const who = displayName(member);
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
    const { item, changes } = this.timeline.pending(body);
    this.log.apply(changes);
    this.publish(item.key, body);
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
    try {
      const seq = await this.client.publish(room, body);
      const message = { room, seq, from: this.name, ts: Date.now(), body };
      if (this.timeline === timeline) this.log.apply(timeline.acked(key, Number(seq), message));
    } catch (error) {
      if (this.timeline === timeline) this.log.apply(timeline.failed(key, connection.errorText(error)));
    }
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

function roomFromHash() {
  const room = decodeURIComponent(window.location.hash.slice(1));
  return ROOM_PATTERN.test(room) ? room : null;
}
