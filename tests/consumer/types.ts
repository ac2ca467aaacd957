// Compiled (not run) by test/types.test.js: the package's .d.ts must type a user's code
// precisely — event payloads by event name, option fields, promise results — and reject
// mistakes (the @ts-expect-error lines fail the check if they stop being errors).

import {
  Client,
  isEnchufeError,
  type ConnectionState,
  type EnchufeError,
  type Message,
} from "enchufe";

const client = new Client("ws://127.0.0.1:8480/ws", {
  name: "ana",
  reconnect: { baseMs: 100, capMs: 5000 },
  outboxCapacity: 64,
  encoding: "binary",
});

client.on("message", (m) => {
  const seq: number = m.seq;
  const from: string = m.from;
  void [seq, from, m.body];
});
client.on("state", (s: ConnectionState) => {
  if (s.state === "waiting") {
    const countdown: number = s.retryInMs;
    void countdown;
  }
});
client.on("presence", (p) => {
  const action: "join" | "leave" = p.action;
  void [action, p.member.session];
});
client.on("gap", (g) => void [g.from, g.to]);
const unsubscribe: () => void = client.once("joined", (j) => void j.members);
unsubscribe();
client.on("state", (s) => {
  if (s.state === "waiting" && s.code !== undefined) {
    const why: string | undefined = s.reason;
    void why;
  }
});

interface Chat {
  text: string;
}
client.on("message", (m: Message<Chat>) => {
  const text: string = m.body.text;
  void text;
});
client.on("error", (e: EnchufeError) => {
  const code: number = e.code;
  void [code, e.name];
});

export async function use(): Promise<void> {
  const info = await client.join("lobby", { since: 3 });
  const members: number = info.members.length;
  const recovered: boolean = info.recovered;
  const seq: number = await client.publish("lobby", { text: "hola" });
  await client.publish("lobby", new Uint8Array([1, 2, 3]));
  const messages: Message[] = await client.history("lobby", { since: 1, limit: 10 });
  const chats: Message<Chat>[] = await client.history<Chat>("lobby");
  void chats;
  try {
    await client.publish("lobby", { text: "hola" });
  } catch (e) {
    // The README's example: `e` is `unknown` under `strict`.
    if (isEnchufeError(e)) console.error(`not sent: ${e.name} (${e.code})`);
    else throw e;
  }
  client.reconnect();
  await client.leave("lobby");
  const state: "idle" | "connecting" | "online" | "waiting" | "closed" = client.state;
  const session: string | undefined = client.session;
  void [members, recovered, seq, messages, state, session];
  client.close();
}

// @ts-expect-error: there is no "mesage" event
client.on("mesage", () => {});
// @ts-expect-error: a message listener gets a Message, not a Gap
client.on("message", (m: { from: number }) => void m);
// @ts-expect-error: outboxCapacity is a number
new Client("ws://x/ws", { outboxCapacity: "5" });
// @ts-expect-error: the only encoding is "binary"
new Client("ws://x/ws", { encoding: "xml" });
