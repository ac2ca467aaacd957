// enchufe's npm client, as an app uses it: `new Client`, `join`, a `message` listener.

import { Client } from "enchufe";

/** The package's client, which speaks the binary encoding and asks for batches. */
export function subscriber() {
  return async (server, room, received) => {
    const client = new Client(server, { name: "bench" });
    client.on("message", () => received());
    await client.join(room);
    // Kept: a client the page no longer references is collected, and closes its socket.
    return client;
  };
}
