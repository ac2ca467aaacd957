// The member list (src/members.js).

import assert from "node:assert/strict";
import { test } from "node:test";
import { Members, displayName } from "../src/members.js";

test("presence events add and remove members once, keyed by session", () => {
  const m = new Members();
  m.reset([{ session: "s-1", name: "ana" }]);
  assert.equal(m.apply("join", { session: "s-1", name: "ana" }), null);
  assert.equal(m.apply("join", { session: "s-2", name: "bob" }), "join");
  assert.deepEqual(m.list().map(displayName), ["ana", "bob"]);
  assert.equal(m.apply("leave", { session: "s-2", name: "bob" }), "leave");
  assert.equal(m.apply("leave", { session: "s-2", name: "bob" }), null);
  assert.equal(m.size, 1);
});

test("a member without a name is shown by its session id", () => {
  assert.equal(displayName({ session: "s-9f" }), "s-9f");
});
