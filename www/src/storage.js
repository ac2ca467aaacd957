// What survives a reload: the display name and the last room (localStorage, when available —
// private modes may refuse it, and the app then simply asks again).

const NAME = "enchufe.name";
const ROOM = "enchufe.room";

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
};
