// nats.ws, as its documentation shows: `connect`, then `subscribe` with a callback (its
// fastest form: no async iterator per message).

import { connect } from "nats.ws";

export function subscriber() {
  return async (server, subject, received) => {
    const nc = await connect({ servers: server });
    nc.subscribe(subject, { callback: () => received() });
    // The SUB has reached the server once a PING sent after it is answered.
    await nc.flush();
    return nc;
  };
}
