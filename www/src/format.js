// How bodies and times are shown.

/** Room names as the server accepts them (core/src/room.rs). */
export const ROOM_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * A message body as text: a JSON string as itself, an object's `text` field when it has one,
 * other JSON as JSON, bytes as UTF-8 when they are, else as a byte count.
 */
export function bodyText(body) {
  if (typeof body === "string") return body;
  if (body instanceof Uint8Array) {
    try {
      return decoder.decode(body);
    } catch {
      return `(${body.length} bytes)`;
    }
  }
  if (body && typeof body === "object" && typeof body.text === "string") return body.text;
  return JSON.stringify(body);
}

const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const full = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

/** A server timestamp (ms since the epoch) as {short, long, iso}. */
export function timeText(ts) {
  const date = new Date(ts);
  return { short: clock.format(date), long: full.format(date), iso: date.toISOString() };
}
