// The benchmark page: subscribes with one client (`?client=`), counts what arrives, and
// measures the rate over a fixed window after a warm-up. run.js reads `window.ready` (the
// subscription is live: start publishing) and `window.result`.
//
// The count is the only work per message, the same for every client: what is measured is the
// client's own cost of receiving.

import { count } from "./count.js";

const CLIENTS = {
  enchufe: () => import("./enchufe.js").then((m) => m.subscriber()),
  nats: () => import("./nats.js").then((m) => m.subscriber()),
};

const params = new URLSearchParams(location.search);
const client = CLIENTS[params.get("client")];
if (!client) throw new Error(`unknown ?client=${params.get("client")}`);
const counter = count({
  warmup: Number(params.get("warmup")),
  windowMs: Number(params.get("windowMs")),
});
window.result = counter.result;
window.progress = counter.progress;
window.ready = client()
  .then((subscribe) => subscribe(params.get("server"), params.get("room"), counter.received))
  .then((subscribed) => {
    // Referenced for the page's life: a client that is collected closes its connection.
    window.client = subscribed;
  });
