/**
 * @file `pnpm bench:alloc`: steady-state bytes allocated per call of the jitted char-rnn training
 * step, with and without donation, each measured in a fresh child process (see measure.ts; the
 * step is train-step.ts).
 * Prints the commands it ran and a table. Nothing here fails on a number.
 */
import { fileURLToPath } from "node:url";
import { childCommand, measureInChild, type AllocMeasurement } from "./measure.js";

const script = fileURLToPath(new URL("./train-step.ts", import.meta.url));
const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;

const results: AllocMeasurement[] = [];
for (const variant of ["plain", "donate"]) {
  console.log(`$ ${childCommand(script, [variant]).join(" ")}`);
  results.push(...measureInChild(script, [variant]));
}
const width = Math.max(...results.map((r) => r.label.length));
console.log(`\n${"step".padEnd(width)}  bytes/step  of which ArrayBuffers  steps measured`);
for (const r of results) {
  console.log(
    `${r.label.padEnd(width)}  ${kib(r.bytesPerStep).padStart(10)}  ${kib(r.arrayBufferBytesPerStep).padStart(20)}  ` +
      `${String(r.steps).padStart(14)}${r.attempts > 1 ? ` (after ${r.attempts - 1} window(s) with a GC)` : ""}`,
  );
}
