// Entry point: styles, then the app. The `enchufe` package holds a WebAssembly module, which
// webpack loads asynchronously; the app starts once it is ready.

import "./styles.css";
import { App } from "./app.js";

new App().start().catch((error) => {
  console.error("enchufe: the app failed to start", error);
  const badge = document.getElementById("connection");
  const state = document.getElementById("connection-state");
  if (badge && state) {
    badge.dataset.state = "offline";
    state.textContent = "Failed to start";
  }
});
