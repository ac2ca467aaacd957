// Headless Chromium (CHROMIUM, default Debian's /usr/bin/chromium), launched as the project's
// browser tests launch it (tests/consumer/chromium.js).

import { chromium } from "playwright-core";

/** ../../docs/TOOLCHAIN.md: without the networking flags Chromium's background connections
 * fail against the closed network. */
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export function launch() {
  const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
  return chromium.launch({ executablePath, args: ARGS });
}
