// The log's ordering and de-duplication rules (src/timeline.js), without a browser.

import assert from "node:assert/strict";
import { test } from "node:test";
import { Timeline } from "../src/timeline.js";

const msg = (seq, body = `m${seq}`, from = "ana") => ({ room: "r", seq, from, ts: 1000 + seq, body });
const shown = (t) => t.items.map((i) => (i.kind === "message" ? `${i.message.seq}:${i.message.body}` : i.kind));

test("live messages and an overlapping history answer show each seq once, in order", () => {
  const t = new Timeline();
  t.live(msg(5));
  t.live(msg(6));
  t.history([msg(3), msg(4), msg(5)]);
  assert.deepEqual(shown(t), ["3:m3", "4:m4", "5:m5", "6:m6"]);
});

test("a history answer fills in before later messages and reports where", () => {
  const t = new Timeline();
  t.live(msg(4));
  const changes = t.history([msg(2)]);
  assert.deepEqual(changes.map((c) => [c.op, c.before]), [["add", "m0-4"]]);
});

test("a pending publish is replaced by the server's copy when its echo comes first", () => {
  const t = new Timeline();
  const { item } = t.pending("hi");
  assert.deepEqual(shown(t), ["pending"]);
  t.live(msg(1, "hi"));
  t.acked(item.key, 1, msg(1, "hi"));
  assert.deepEqual(shown(t), ["1:hi"]);
});

test("an ack before the echo shows the message once, then takes the server's copy", () => {
  const t = new Timeline();
  const { item } = t.pending("hi");
  t.acked(item.key, 1, { ...msg(1, "hi"), ts: 1 });
  assert.equal(t.items[0].provisional, true);
  const changes = t.live(msg(1, "hi"));
  assert.deepEqual(changes.map((c) => c.op), ["update"]);
  assert.deepEqual(shown(t), ["1:hi"]);
  assert.equal(t.items[0].message.ts, 1001);
});

test("pending publishes stay after every message, failed ones can be retried", () => {
  const t = new Timeline();
  const a = t.pending("a").item;
  t.live(msg(1));
  assert.deepEqual(shown(t), ["1:m1", "pending"]);
  t.failed(a.key, "outbox full");
  assert.equal(a.status, "failed");
  assert.equal(a.error, "outbox full");
  t.retrying(a.key);
  assert.equal(a.status, "sending");
});

test("a reset starts a new epoch after a divider; the new numbering shows in full, past the old last seq", () => {
  const t = new Timeline();
  t.live(msg(1, "before-1"));
  t.live(msg(2, "before-2"));
  const changes = t.reset();
  assert.deepEqual(changes.map((c) => [c.op, c.item.kind, c.before]), [["add", "divider", null]]);
  for (const seq of [1, 2, 3, 4]) t.live(msg(seq, `after-${seq}`));
  assert.deepEqual(shown(t), ["1:before-1", "2:before-2", "divider", "1:after-1", "2:after-2", "3:after-3", "4:after-4"]);
});

test("without a reset a seq already shown is the same message, not a restart", () => {
  const t = new Timeline();
  t.live(msg(1));
  t.live(msg(2));
  t.history([msg(1), msg(2), msg(3)]);
  assert.deepEqual(t.live(msg(3)), []);
  assert.deepEqual(t.live(msg(2)), []);
  assert.deepEqual(shown(t), ["1:m1", "2:m2", "3:m3"]);
  assert.equal(t.epoch, 0);
});

test("a reset before anything was shown starts the epoch without a divider", () => {
  const t = new Timeline();
  t.pending("waiting");
  assert.deepEqual(t.reset(), []);
  t.live(msg(1));
  assert.deepEqual(shown(t), ["1:m1", "pending"]);
});

test("a pending publish acknowledged after a reset lands in the new numbering", () => {
  const t = new Timeline();
  for (const seq of [1, 2, 3]) t.live(msg(seq));
  const { item } = t.pending("offline");
  t.reset();
  t.live(msg(1, "new"));
  t.acked(item.key, 2, msg(2, "offline"));
  t.live(msg(2, "offline"));
  t.live(msg(3, "new-3"));
  t.live(msg(4, "new-4"));
  assert.deepEqual(shown(t), ["1:m1", "2:m2", "3:m3", "divider", "1:new", "2:offline", "3:new-3", "4:new-4"]);
});

test("a gap is filled by history in the epoch it was reported in", () => {
  const t = new Timeline();
  t.live(msg(7));
  t.reset();
  const { fill } = t.gap(1, 2);
  assert.equal(fill, true);
  const epoch = t.epoch;
  t.live(msg(3, "live"));
  t.history([msg(1, "a"), msg(2, "b")], epoch);
  assert.deepEqual(shown(t), ["7:m7", "divider", "1:a", "2:b", "3:live"]);
});

test("a gap ahead of what was seen is filled in the same epoch", () => {
  const t = new Timeline();
  t.live(msg(1));
  const { fill } = t.gap(2, 3);
  assert.equal(fill, true);
  t.live(msg(4));
  t.history([msg(2), msg(3)]);
  assert.deepEqual(shown(t), ["1:m1", "2:m2", "3:m3", "4:m4"]);
});

test("a history answer from before a reset is dropped", () => {
  const t = new Timeline();
  t.live(msg(2));
  const epoch = t.epoch;
  t.reset();
  t.live(msg(1, "new"));
  assert.deepEqual(t.history([msg(1, "old"), msg(2, "old")], epoch), []);
  assert.deepEqual(shown(t), ["2:m2", "divider", "1:new"]);
});

test("notices follow the messages shown when they happened", () => {
  const t = new Timeline();
  t.live(msg(1));
  t.notice("bob joined");
  t.live(msg(2));
  assert.deepEqual(shown(t), ["1:m1", "notice", "2:m2"]);
});
