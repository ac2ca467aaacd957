// The "connect from anywhere" commands (src/commands.js).

import assert from "node:assert/strict";
import { test } from "node:test";
import { connectCommands, reachable, shellQuote } from "../src/commands.js";

const location = { origin: "http://127.0.0.1:8480", hostname: "127.0.0.1" };
const info = { http: "127.0.0.1:8480", tcp: "127.0.0.1:8481", udp: "127.0.0.1:8482" };
const find = (groups, title, label) =>
  groups.find((g) => g.title.startsWith(title)).commands.find((c) => c.label.startsWith(label)).command;

test("shell quoting keeps safe words bare and escapes single quotes", () => {
  assert.equal(shellQuote("lobby"), "lobby");
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
  assert.equal(shellQuote("a b"), "'a b'");
});

test("an unspecified listener host becomes the host the browser used", () => {
  assert.deepEqual(reachable("0.0.0.0:8481", "chat.example"), { host: "chat.example", port: "8481" });
  assert.deepEqual(reachable("[::]:8481", "[::1]"), { host: "[::1]", port: "8481" });
  assert.deepEqual(reachable("10.0.0.2:9", "x"), { host: "10.0.0.2", port: "9" });
  assert.equal(reachable(null, "x"), null);
});

test("commands name the room, the page's origin and the TCP port", () => {
  const groups = connectCommands("team.ops", location, info);
  assert.equal(
    find(groups, "curl", "Publish"),
    `curl -X POST -H 'Content-Type: application/json' -d '"hello from curl"' 'http://127.0.0.1:8480/api/rooms/team.ops/messages?from=curl'`,
  );
  assert.equal(find(groups, "curl", "Subscribe"), "curl -N http://127.0.0.1:8480/api/rooms/team.ops/events");
  assert.equal(
    find(groups, "nc", "Publish"),
    `echo '{"type":"publish","room":"team.ops","body":"hello from nc"}' | nc -w 1 127.0.0.1 8481`,
  );
  assert.equal(find(groups, "enchufe", "Publish"), "enchufe pub team.ops 'hello from the CLI' --name cli --url tcp://127.0.0.1:8481");
});

test("the CLI reaches UDP and WebSocket too", () => {
  const groups = connectCommands("lobby", location, info);
  assert.equal(find(groups, "enchufe", "Subscribe over UDP"), "enchufe sub lobby --url udp://127.0.0.1:8482");
  assert.equal(find(groups, "enchufe", "Subscribe over WebSocket"), "enchufe sub lobby --url ws://127.0.0.1:8480/ws");
  assert.equal(find(groups, "enchufe", "Chat"), `enchufe chat lobby --name "$USER" --url tcp://127.0.0.1:8481`);
});

test("without a TCP listener nc says so and the CLI uses the WebSocket", () => {
  const groups = connectCommands("lobby", { origin: "https://chat.example", hostname: "chat.example" }, { tcp: null, udp: null });
  const nc = groups.find((g) => g.title.startsWith("nc"));
  assert.deepEqual(nc.commands, []);
  assert.match(nc.note, /off/);
  assert.equal(find(groups, "enchufe", "Publish"), "enchufe pub lobby 'hello from the CLI' --name cli --url wss://chat.example/ws");
  assert.equal(
    groups.flatMap((g) => g.commands).some((c) => c.command.includes("udp://")),
    false,
  );
});
