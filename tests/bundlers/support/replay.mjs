// The client's own cost of receiving: replays recorded.json (record.mjs) into a package's
// `Client` through a WebSocket that does nothing but deliver it, and prints the best of ten
// runs in messages per second (decoding, the state machine, the message objects, a listener).
// Not a test: a measuring tool (docs/PERFORMANCE.md, "The browser benchmark").
//
//   node support/replay.mjs PACKAGE_DIR ROOM recorded.json

import { readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [dir, room, file] = process.argv.slice(2);
const { Client } = await import(pathToFileURL(path.resolve(dir, "node.js")).href);
const recorded = JSON.parse(readFileSync(file, "utf8")).map((text) => {
  const bytes = Buffer.from(text, "base64");
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
});
let socket;
class Replaying {
  constructor() {
    socket = this;
  }
  send() {}
  close() {}
}

async function run() {
  const client = new Client("ws://replay/ws", { WebSocket: Replaying });
  let got = 0;
  client.on("message", () => got++);
  await new Promise((resolve) => setTimeout(resolve, 0)); // the first events are held a tick
  client.join(room).catch(() => {});
  socket.onopen({ target: socket });
  const start = performance.now();
  for (const data of recorded) socket.onmessage({ data, target: socket });
  const ms = performance.now() - start;
  client.close();
  return [got, ms];
}

for (let i = 0; i < 3; i++) await run(); // warm-up
let best = Infinity;
let got = 0;
for (let i = 0; i < 10; i++) {
  const [n, ms] = await run();
  got = n;
  best = Math.min(best, ms);
}
console.log(`${dir}: ${got} messages in ${best.toFixed(1)} ms, ${Math.round((got / best) * 1000)} messages/s`);
