// What the consumer app does with the package, shared by the webpack bundle (src/index.js)
// and the plain <script type="module"> page (the `enchufe/web` build): connect, join, publish,
// and receive its own message back. The test reads `window.outcome`.

/**
 * @param {typeof import("enchufe").Client} Client
 * @returns {Promise<object>} what the page saw, for the test to check
 */
export async function run(Client) {
  const params = new URLSearchParams(location.search);
  const room = params.get("room");
  const client = new Client(params.get("server"), { name: "consumer" });
  const states = [];
  client.on("state", (s) => states.push(s.state));
  const received = new Promise((resolve) => {
    client.on("message", (m) => {
      if (m.room === room) resolve(m);
    });
  });
  const joined = await client.join(room);
  const seq = await client.publish(room, { text: "hola from the package", n: 42 });
  const message = await received;
  const history = await client.history(room, { since: 0 });
  const outcome = { joined, seq, message, history, states, state: client.state };
  client.close();
  return outcome;
}
