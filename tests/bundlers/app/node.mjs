// The package in Node, as a server-side user writes it: `import { Client } from "enchufe"`
// (the `node` entry of its exports), with the `ws` package's WebSocket where Node has no global
// one (Node 20). Prints what the flow saw as JSON. Usage: node node.mjs WS_URL ROOM
import * as enchufe from "enchufe";
import WebSocket from "ws";
import { run } from "./flow.js";

const [server, room] = process.argv.slice(2);
const options = globalThis.WebSocket ? {} : { WebSocket };
const outcome = await run(enchufe, server, room, options);
process.stdout.write(JSON.stringify(outcome));
