// Headless Chromium for the test pages (CHROMIUM, default Debian's /usr/bin/chromium).

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

/** Launches the browser the tests share. */
export function launch() {
  const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
  return chromium.launch({ executablePath, args: ARGS });
}
