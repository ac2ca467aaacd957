// The token from the chat's URL fragment (src/token.js).

import assert from "node:assert/strict";
import { test } from "node:test";
import { tokenFrom } from "../src/token.js";

test("the fragment's token parameter is the token, and there is none without it", () => {
  assert.equal(tokenFrom({ hash: "#token=eyJhbGciOi.x.y" }), "eyJhbGciOi.x.y");
  assert.equal(tokenFrom({ hash: "#room=lobby&token=abc" }), "abc");
  assert.equal(tokenFrom({ hash: "" }), undefined);
  assert.equal(tokenFrom({ hash: "#token=" }), undefined);
  assert.equal(tokenFrom({}), undefined);
});
