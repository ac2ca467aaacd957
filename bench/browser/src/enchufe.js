// enchufe's npm client, as an app uses it: `new Client`, `join`, a `message` listener.

import { Client } from "enchufe";

/** @param {"binary" | "json"} encoding the WebSocket encoding the client asks for */
export function subscriber(encoding) {
  return async (server, room, received) => {
    const client = new Client(server, { name: "bench", encoding });
    client.on("message", () => received());
    await client.join(room);
    // Kept: a client the page no longer references is collected, and closes its socket.
    return client;
  };
}
