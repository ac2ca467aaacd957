// Entry point: styles, then the app. The `enchufe` package holds a WebAssembly module, which
// webpack loads asynchronously; the app starts once it is ready.

import "./styles.css";
import { App } from "./app.js";

new App().start().catch((error) => {
  console.error("enchufe: the app failed to start", error);
  const badge = document.getElementById("connection");
  if (badge) {
    badge.dataset.state = "offline";
    badge.textContent = "Failed to start";
  }
});
