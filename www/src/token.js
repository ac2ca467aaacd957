// The token the chat connects with, from its URL fragment: `https://chat.example/#token=…`, or
// with a room, `#lobby&token=…`.
// A fragment is never sent to a server (not in requests, logs or Referer headers), so a backend
// that signs a user in can hand them a link to the chat carrying their token. Without one the
// chat connects anonymously, which a development server allows.

/**
 * The `token` parameter of `location.hash`, if any.
 * @param {{hash: string}} location
 * @returns {string | undefined}
 */
export function tokenFrom(location) {
  const fragment = (location.hash ?? "").replace(/^#/, "");
  const token = new URLSearchParams(fragment).get("token");
  return token ? token : undefined;
}
