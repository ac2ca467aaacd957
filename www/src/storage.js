// What survives a reload: the display name, the last room, and each room's messages not yet
// acknowledged by the server (localStorage, when available — private modes may refuse it, and
// the app then simply asks again and forgets).

const NAME = "enchufe.name";
const ROOM = "enchufe.room";
const PENDING = "enchufe.pending.";

function read(key) {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key, value) {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    // Storage is full or forbidden: the app works, it just forgets on reload.
  }
}

export const remembered = {
  name: () => read(NAME),
  room: () => read(ROOM),
  setName: (name) => write(NAME, name),
  setRoom: (room) => write(ROOM, room),
  /** The bodies written in `room` and not acknowledged yet, oldest first. */
  pending(room) {
    try {
      const bodies = JSON.parse(read(PENDING + room) ?? "[]");
      return Array.isArray(bodies) ? bodies.filter((b) => typeof b === "string") : [];
    } catch {
      return [];
    }
  },
  setPending(room, bodies) {
    if (bodies.length) write(PENDING + room, JSON.stringify(bodies));
    else {
      try {
        window.localStorage.removeItem(PENDING + room);
      } catch {
        // As in write().
      }
    }
  },
};
