// A connect-and-subscribe app as a Vite user writes it: `import { Client } from "enchufe"`
// and nothing else (no Vite configuration). The test reads `window.outcome`.
import * as enchufe from "enchufe";
import { run } from "./flow.js";

const params = new URLSearchParams(location.search);
window.outcome = run(enchufe, params.get("server"), params.get("room"));
