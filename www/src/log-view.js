// The message log: mirrors a Timeline's changes into the <ol role="log">.

import { h } from "./dom.js";
import { bodyText, timeText } from "./format.js";

export class LogView {
  /**
   * @param {HTMLOListElement} list
   * @param {{me: () => string, online: () => boolean, retry: (key: string) => void, discard: (key: string) => void}} actions
   */
  constructor(list, actions) {
    this.list = list;
    this.actions = actions;
  }

  clear() {
    this.list.replaceChildren();
  }

  /** Applies Timeline changes, keeping the view scrolled to the end if it was there. */
  apply(changes) {
    if (changes.length === 0) return;
    const atEnd = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
    for (const change of changes) {
      if (change.op === "remove") {
        this.node(change.key)?.remove();
      } else if (change.op === "update") {
        this.node(change.item.key)?.replaceWith(this.render(change.item));
      } else {
        const before = change.before ? this.node(change.before) : null;
        this.list.insertBefore(this.render(change.item), before);
      }
    }
    if (atEnd) this.list.scrollTop = this.list.scrollHeight;
  }

  node(key) {
    return this.list.querySelector(`:scope > [data-key="${key}"]`);
  }

  render(item) {
    switch (item.kind) {
      case "message":
        return this.message(item);
      case "pending":
        return this.pending(item);
      case "divider":
        return h("li", { class: "divider", dataset: { key: item.key }, role: "separator" }, item.text);
      default:
        return h("li", { class: "notice", dataset: { key: item.key } }, item.text);
    }
  }

  message(item) {
    const { message } = item;
    const time = timeText(message.ts);
    const mine = message.from === this.actions.me();
    return h(
      "li",
      {
        class: mine ? "message mine" : "message",
        dataset: { key: item.key, seq: message.seq, from: message.from },
      },
      h(
        "div",
        { class: "meta" },
        h("span", { class: "from" }, message.from),
        " ",
        h("time", { datetime: time.iso, title: time.long }, time.short),
      ),
      h("p", { class: "body" }, bodyText(message.body)),
    );
  }

  pending(item) {
    const failed = item.status === "failed";
    return h(
      "li",
      { class: `message mine pending ${item.status}`, dataset: { key: item.key, status: item.status } },
      h(
        "div",
        { class: "meta" },
        h("span", { class: "from" }, this.actions.me()),
        " ",
        h("span", { class: "status" }, failed ? `Not sent: ${item.error}` : this.actions.online() ? "Sending…" : "Waiting for the connection…"),
      ),
      h("p", { class: "body" }, bodyText(item.body)),
      failed &&
        h(
          "div",
          { class: "actions" },
          h("button", { type: "button", onclick: () => this.actions.retry(item.key) }, "Retry"),
          h(
            "button",
            { type: "button", class: "quiet", onclick: () => this.actions.discard(item.key) },
            "Discard",
          ),
        ),
    );
  }
}
