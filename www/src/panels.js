// The side panels and the badge: each rendered whole from its model (they are small).

import { connectCommands } from "./commands.js";
import { byId, h } from "./dom.js";
import { displayName } from "./members.js";

const BADGE_TEXT = {
  idle: "Not connected",
  connecting: "Connecting…",
  online: "Online",
  reconnecting: "Reconnecting…",
  offline: "Offline",
};

/**
 * The connection badge; while waiting to retry it counts down to the next attempt. The state
 * is a live region; the countdown is hidden from it, so a screen reader hears each change of
 * state once rather than every second.
 */
export function renderBadge(status) {
  const badge = byId("connection");
  let countdown = "";
  if (status.kind === "reconnecting" && status.retryAt !== undefined) {
    const seconds = Math.ceil((status.retryAt - Date.now()) / 1000);
    if (seconds > 0) countdown = ` in ${seconds} s`;
  }
  const text = BADGE_TEXT[status.kind];
  // Only write on change: the badge is redrawn four times a second.
  if (badge.dataset.state !== status.kind) badge.dataset.state = status.kind;
  setText(byId("connection-state"), countdown ? text.replace(/…$/, "") : text);
  setText(byId("connection-countdown"), countdown ? `${countdown}…` : "");
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

/** The "Here now" list; this tab is the member with `session` (or, before that is known, `name`). */
export function renderMembers(members, session, name) {
  const list = byId("members");
  byId("member-count").textContent = members.size ? `(${members.size})` : "";
  list.replaceChildren(
    ...members.list().map((member) => {
      const name = displayName(member);
      const mine = session ? member.session === session : member.name === name;
      return h(
        "li",
        { dataset: { session: member.session }, class: mine ? "me" : undefined },
        h("span", { class: "avatar", "aria-hidden": "true" }, name.slice(0, 1).toUpperCase()),
        h("span", { class: "who" }, name),
        mine && h("span", { class: "you" }, " (you)"),
      );
    }),
  );
}

let shownRooms = "";

/**
 * The room list from GET /api/rooms, the current room marked. Redrawn only when it changed,
 * keeping the keyboard focus on the room button it was on.
 */
export function renderRooms(rooms, current, join) {
  const list = byId("room-list");
  const sorted = [...rooms].sort((a, b) => b.members - a.members || a.room.localeCompare(b.room));
  if (current && !sorted.some((r) => r.room === current)) sorted.unshift({ room: current, members: 0 });
  const key = JSON.stringify([current, sorted.map((r) => [r.room, r.members])]);
  if (key === shownRooms) return;
  shownRooms = key;
  const focused = list.contains(document.activeElement) ? document.activeElement.dataset.room : null;
  byId("room-list-empty").hidden = sorted.length > 0;
  list.replaceChildren(
    ...sorted.map(({ room, members }) =>
      h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            class: "room",
            dataset: { room },
            "aria-current": room === current ? "true" : undefined,
            onclick: () => room !== current && join(room),
          },
          h("span", { class: "room-name" }, `# ${room}`),
          h(
            "span",
            { class: "count", "aria-label": `${members} ${members === 1 ? "member" : "members"}` },
            String(members),
          ),
        ),
      ),
    ),
  );
  if (focused) list.querySelector(`button[data-room="${focused}"]`)?.focus();
}

/** The "connect from anywhere" commands for `room`. */
export function renderAnywhere(room, info) {
  const panel = byId("anywhere");
  if (!info) {
    panel.replaceChildren(h("p", { class: "hint" }, "Loading the server's addresses…"));
    return;
  }
  const groups = connectCommands(room, window.location, info);
  panel.replaceChildren(
    h("p", { class: "hint" }, "Publish to and subscribe to ", h("strong", {}, `# ${room}`), " from a terminal:"),
    ...groups.map((group) =>
      h(
        "section",
        { class: "group" },
        h("h3", {}, group.title),
        group.note && h("p", { class: "hint" }, group.note),
        ...group.commands.map(({ label, command }) =>
          h(
            "div",
            { class: "command" },
            h("span", { class: "label" }, label),
            h("pre", {}, h("code", { tabindex: "0" }, command)),
            h("button", { type: "button", class: "copy quiet", "aria-label": `Copy: ${label}`, onclick: copy(command) }, "Copy"),
          ),
        ),
      ),
    ),
  );
}

function copy(text) {
  return async (event) => {
    const button = event.currentTarget;
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch {
      // No clipboard (plain http on another host): select the text for Ctrl+C instead.
      const code = button.parentElement.querySelector("code");
      window.getSelection()?.selectAllChildren(code);
      button.textContent = "Selected";
    }
    setTimeout(() => (button.textContent = "Copy"), 1500);
  };
}
