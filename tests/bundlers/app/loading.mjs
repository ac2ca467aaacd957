// Clients made while the module is still loading (what the browser entry's users do: it starts
// loading at import, with no top-level await), in Node with the bare `enchufe/web` build and
// `init()` not awaited. Prints what it saw as JSON. Usage: node loading.mjs WS_URL ROOM
import { readFileSync } from "node:fs";
import init, { Client, isEnchufeError } from "enchufe/web";
import WebSocket from "ws";

const [server, room] = process.argv.slice(2);
const options = { WebSocket, name: "loading" };
const wasm = new URL("enchufe_bg.wasm", import.meta.resolve("enchufe/web"));
const loading = init({ module_or_path: readFileSync(wasm) });

const outcome = {};
try {
  new Client("not a url", options);
  outcome.badUrl = "no throw";
} catch (error) {
  outcome.badUrl = error.name;
}
const client = new Client(server, options);
outcome.stateBefore = client.state;
const states = [];
client.on("state", (s) => states.push(s.state));
const joined = client.join(room);
const published = client.publish(room, { text: "before the module was ready" });
const freed = new Client(server, options);
freed.free();

await loading;
outcome.joined = (await joined).room;
outcome.seq = await published;
outcome.states = states;
outcome.stateAfter = client.state;
try {
  await freed.join(room);
  outcome.freed = "resolved";
} catch (error) {
  outcome.freed = isEnchufeError(error) ? error.name : String(error);
}
client.free();
process.stdout.write(JSON.stringify(outcome));
