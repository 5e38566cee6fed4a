// The module piscina starts each pmap worker with (plain JavaScript, so it loads without a
// TypeScript loader). Worker threads of Node 20 do not inherit one, not even `--import tsx`, so
// when the worker entry or the user's module is TypeScript, pmap passes the URL of tsx's ESM
// registration API in workerData and this registers it before importing the entry.
import { workerData } from "node:worker_threads";

const { tsxApi, entry } = workerData;
if (typeof tsxApi === "string") (await import(tsxApi)).register();
export default (await import(entry)).default;
