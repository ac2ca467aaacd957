// Counting messages: the first `warmup` messages are not measured (the JIT, the socket's and
// the server's buffers settle), then the messages of the next `windowMs` milliseconds are.

/**
 * @param {{ warmup: number, windowMs: number }} options
 * @returns {{ received: (n?: number) => void, result: Promise<object>, progress: () => number }}
 *   `received` is called for every message (or every `n`); `result` resolves with the window's
 *   count and length; `progress` says how many arrived so far (for a run that stalls).
 */
export function count({ warmup, windowMs }) {
  let received = 0;
  let settle;
  const result = new Promise((resolve) => (settle = resolve));
  let warm = warmup;
  const onMessage = (n = 1) => {
    received += n;
    if (received < warm) return;
    // Warm: from here on only a number grows per message. A timer ends the window; it may
    // fire late behind queued message events, so the window's length is read when it fires.
    warm = Infinity;
    const start = { at: performance.now(), received };
    setTimeout(() => {
      const ms = performance.now() - start.at;
      const messages = received - start.received;
      settle({ messages, ms, perSec: (messages * 1000) / ms, total: received });
    }, windowMs);
  };
  return { received: onMessage, result, progress: () => received };
}
