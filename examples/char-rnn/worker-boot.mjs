// Starts worker.ts in a worker thread. Node 20 does not carry tsx's `--import` loader into worker
// threads, so the worker registers it before importing TypeScript.
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
