// The "connect from anywhere" commands for a room: nc over TCP, curl over REST and SSE, and
// the `enchufe` CLI, with the address the browser reached and the ports the server reports
// (GET /api/info). Pure functions, unit-tested in test/commands.test.js and run for real by the
// end-to-end test.

/** Quotes `text` for a POSIX shell. */
export function shellQuote(text) {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * A listener address from /api/info ("host:port", "[v6]:port") as the user should type it:
 * an unspecified host (0.0.0.0, ::) is replaced by the host the browser used.
 * @returns {{host: string, port: string} | null}
 */
export function reachable(address, browserHost) {
  if (!address) return null;
  const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(address);
  if (!match) return null;
  let [, host, port] = match;
  if (host === "0.0.0.0" || host === "[::]") host = browserHost;
  return { host, port };
}

/**
 * Command groups for `room`.
 * @param {string} room a valid room name (safe in URLs and shells)
 * @param {{origin: string, hostname: string}} location where the browser reached the server
 * @param {{tcp?: string|null, udp?: string|null}} info the server's listeners
 * @returns {{title: string, note?: string, commands: {label: string, command: string}[]}[]}
 */
export function connectCommands(room, location, info) {
  const browserHost = location.hostname.includes(":") ? `[${location.hostname}]` : location.hostname;
  const http = `${location.origin}/api/rooms/${room}`;
  const tcp = reachable(info?.tcp, browserHost);
  const udp = reachable(info?.udp, browserHost);
  const join = JSON.stringify({ type: "join", room });
  const publish = JSON.stringify({ type: "publish", room, body: "hello from nc" });

  const groups = [
    {
      title: "curl (HTTP)",
      commands: [
        {
          label: "Publish",
          command:
            `curl -X POST -H 'Content-Type: application/json' ` +
            `-d ${shellQuote(JSON.stringify("hello from curl"))} ${shellQuote(`${http}/messages?from=curl`)}`,
        },
        { label: "Subscribe (Server-Sent Events)", command: `curl -N ${shellQuote(`${http}/events`)}` },
        { label: "Last 20 messages", command: `curl ${shellQuote(`${http}/messages?limit=20`)}` },
      ],
    },
  ];

  groups.push(
    tcp
      ? {
          title: "nc (TCP, one JSON frame per line)",
          commands: [
            { label: "Publish", command: `echo ${shellQuote(publish)} | nc -w 1 ${tcp.host} ${tcp.port}` },
            {
              label: "Subscribe (type more frames to publish)",
              command: `(echo ${shellQuote(join)}; cat) | nc ${tcp.host} ${tcp.port}`,
            },
          ],
        }
      : { title: "nc (TCP)", note: "This server's TCP listener is off.", commands: [] },
  );

  // The CLI speaks every transport; TCP when it is on, else the page's own WebSocket.
  const ws = `${location.origin.replace(/^http/, "ws")}/ws`;
  const url = tcp ? `tcp://${tcp.host}:${tcp.port}` : ws;
  const cli = [
    { label: "Publish", command: `enchufe pub ${room} ${shellQuote("hello from the CLI")} --name cli --url ${url}` },
    { label: "Subscribe", command: `enchufe sub ${room} --url ${url}` },
    { label: "Chat (each line you type is sent)", command: `enchufe chat ${room} --name "$USER" --url ${url}` },
  ];
  if (tcp) cli.push({ label: "Subscribe over WebSocket", command: `enchufe sub ${room} --url ${ws}` });
  if (udp) cli.push({ label: "Subscribe over UDP", command: `enchufe sub ${room} --url udp://${udp.host}:${udp.port}` });
  groups.push({
    title: "enchufe CLI",
    note: udp ? "UDP starts with a handshake, so nc -u cannot speak it: use the CLI's udp:// URL." : undefined,
    commands: cli,
  });
  return groups;
}
