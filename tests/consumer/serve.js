// A static file server for the test pages, on a free loopback port: the webpack bundle from
// dist/, the shared flow from src/, and the installed package from node_modules/enchufe (for
// the <script type="module"> page, which loads the `web` build without a bundler).

import { createServer } from "node:http";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

const app = path.dirname(fileURLToPath(import.meta.url));

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };

const PAGES = {
  "/bundle.html": `<!doctype html><link rel="icon" href="data:,"><script src="/main.js"></script>`,
  "/web.html": `<!doctype html><link rel="icon" href="data:,">
<script type="module">
  import init, { Client } from "/node_modules/enchufe/web/enchufe.js";
  import { run } from "/src/flow.js";
  await init();
  window.outcome = run(Client);
</script>`,
};

/** Where a URL path is served from, or null. */
function file(urlPath) {
  const clean = path.posix.normalize(urlPath);
  if (clean.includes("..")) return null;
  if (clean.startsWith("/node_modules/enchufe/") || clean.startsWith("/src/")) {
    return path.join(app, clean);
  }
  return path.join(app, "dist", clean);
}

/** Starts the server; resolves with its base URL and a `close` function. */
export async function serve() {
  const server = createServer(async (req, res) => {
    const urlPath = new URL(req.url, "http://x").pathname;
    if (PAGES[urlPath]) {
      res.writeHead(200, { "content-type": "text/html" }).end(PAGES[urlPath]);
      return;
    }
    const target = file(urlPath);
    try {
      const body = await readFile(target);
      const type = TYPES[path.extname(target)] ?? "application/octet-stream";
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
