// A static file server for a production build (dist-*), on a free loopback port.

import { createServer } from "node:http";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import path from "node:path";

const TYPES = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".wasm": "application/wasm",
  ".css": "text/css",
};

/** Serves `dir`; resolves with its base URL and a `close` function. */
export async function serveDir(dir) {
  const server = createServer(async (req, res) => {
    let urlPath = path.posix.normalize(new URL(req.url, "http://x").pathname);
    if (urlPath.includes("..")) return res.writeHead(400).end();
    if (urlPath.endsWith("/")) urlPath += "index.html";
    try {
      const body = await readFile(path.join(dir, urlPath));
      const type = TYPES[path.extname(urlPath)] ?? "application/octet-stream";
      res.writeHead(200, { "content-type": type }).end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}
