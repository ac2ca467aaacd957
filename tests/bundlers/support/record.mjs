// Records what an enchufe server sends one subscriber while another client publishes N messages,
// for replay.mjs. Not a test: a measuring tool (docs/PERFORMANCE.md, "The browser benchmark").
//
//   enchufe serve --rate 0 …   (the publisher sends faster than the default 1000 frames/s)
//   node support/record.mjs PACKAGE_DIR ws://127.0.0.1:8480/ws ROOM N > recorded.json
//
// PACKAGE_DIR is an unpacked `enchufe` package (e.g. target/npm/enchufe). Prints a JSON array of
// the binary messages the subscriber received, base64.

import path from "node:path";
import { pathToFileURL } from "node:url";
import WebSocket from "ws";

const [dir, url, room, count] = process.argv.slice(2);
const n = Number(count);
const { Client } = await import(pathToFileURL(path.resolve(dir, "node.js")).href);
const recorded = [];
class Recording extends WebSocket {
  constructor(address) {
    super(address);
    this.addEventListener("message", (e) => {
      if (e.data instanceof ArrayBuffer) recorded.push(Buffer.from(e.data).toString("base64"));
    });
  }
}
const subscriber = new Client(url, { name: "sub", WebSocket: Recording });
let got = 0;
const all = new Promise((resolve) => subscriber.on("message", () => ++got === n && resolve()));
await subscriber.join(room);
const publisher = new Client(url, { name: "pub", WebSocket });
for (let i = 0; i < n; i += 200) {
  const batch = [];
  for (let j = i; j < Math.min(n, i + 200); j++) batch.push(publisher.publish(room, { text: "hola", n: j }));
  await Promise.all(batch);
}
await all;
process.stdout.write(JSON.stringify(recorded));
subscriber.close();
publisher.close();
process.exit(0);
