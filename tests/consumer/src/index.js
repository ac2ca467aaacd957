// The bundled app: `enchufe` resolves to the installed tarball (node_modules/enchufe).
import { Client } from "enchufe";
import { run } from "./flow.js";

window.outcome = run(Client);
