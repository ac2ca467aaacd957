// What every fixture does with the package, in a browser or in Node: connect, join, publish,
// receive its own message back, read history, close. Returns what it saw, for the test.

/**
 * @param {typeof import("enchufe").Client} Client
 * @param {string} server the live server's ws:// URL
 * @param {string} room a fresh room
 * @param {import("enchufe").ClientOptions} [options] more options (Node passes `WebSocket`)
 */
export async function run(Client, server, room, options = {}) {
  const client = new Client(server, { name: "fixture", ...options });
  const states = [];
  client.on("state", (s) => states.push(s.state));
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
  client.close();
  outcome.states = states;
  return outcome;
}
