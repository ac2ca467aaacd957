// What every fixture does with the package, in a browser or in Node: connect, join, publish,
// receive its own message back, read history, close; and the API's edges (once, the function
// `on` returns, isEnchufeError, a disposed client). Returns what it saw, for the test.

/**
 * @param {typeof import("enchufe")} enchufe the package's exports
 * @param {string} server the live server's ws:// URL
 * @param {string} room a fresh room
 * @param {import("enchufe").ClientOptions} [options] more options (Node passes `WebSocket`)
 */
export async function run(enchufe, server, room, options = {}) {
  const { Client, isEnchufeError } = enchufe;
  const client = new Client(server, { name: "fixture", ...options });
  const states = [];
  client.on("state", (s) => states.push(s.state));
  let onceCalls = 0;
  client.once("state", () => (onceCalls += 1));
  let removedCalls = 0;
  const off = client.on("message", () => (removedCalls += 1));
  off();
  const received = new Promise((resolve) => {
    client.on("message", (m) => {
      if (m.room === room) resolve(m);
    });
  });
  const joined = await client.join(room);
  const seq = await client.publish(room, { text: "hola from a fixture", n: 7 });
  const message = await received;
  const history = await client.history(room, { since: 0 });
  const outcome = { joined, seq, message, history, states, state: client.state };
  let invalid;
  try {
    await client.publish("not a room", 1);
  } catch (e) {
    invalid = isEnchufeError(e) ? `${e.name} ${e.code}` : `not an EnchufeError: ${e}`;
  }
  client.close();
  // Disposed (`free()`, or the end of a `using` block): a named error, not a null pointer.
  client.free();
  let disposed;
  try {
    await client.publish(room, "after free");
  } catch (e) {
    disposed = isEnchufeError(e) ? `${e.name} ${e.code}` : `not an EnchufeError: ${e}`;
  }
  Object.assign(outcome, {
    onceCalls,
    removedCalls,
    invalid,
    disposed,
    stateAfterFree: client.state,
    notAnError: isEnchufeError(new Error("x")),
  });
  return outcome;
}
