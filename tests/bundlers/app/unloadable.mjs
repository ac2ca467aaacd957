// A client whose module cannot be loaded (here: bytes that are no wasm module) says so instead
// of staying idle: an `error` event, the state `closed`, and what it was asked rejects with the
// same error — in Node with the bare `enchufe/web` build. Prints what it saw as JSON.
// Usage: node unloadable.mjs WS_URL ROOM
import init, { Client, isEnchufeError } from "enchufe/web";
import WebSocket from "ws";

const [server, room] = process.argv.slice(2);
const loading = init({ module_or_path: new Uint8Array([0, 97, 115, 109, 1, 0]) });

const client = new Client(server, { WebSocket });
const seen = [];
client.on("error", (error) => seen.push(`error ${error.name}: ${error.message}`));
client.on("state", (state) => seen.push(`state ${state.state}`));
const outcome = (promise) =>
  promise.then(
    () => "resolved",
    (error) => (isEnchufeError(error) ? error.name : `not an EnchufeError: ${error}`),
  );
const joined = outcome(client.join(room));
await loading.then(
  () => seen.push("the module loaded"),
  () => {},
);
const later = outcome(client.publish(room, { text: "after" }));
process.stdout.write(
  JSON.stringify({ seen, joined: await joined, later: await later, state: client.state }),
);
