/**
 * @file Child process of paths.test.ts: calls `loadCheckpoint` and `loadTorchSafetensors` on each
 * path given and prints one JSON line per call (`PathReport`). A child, so that a load that
 * blocks (a FIFO) or reads without end (`/dev/zero`) is stopped by the parent's timeout instead
 * of hanging the test runner, and the parent can tell which path did it.
 *
 *     node --import tsx test/hostile/paths.child.ts <path>...
 */
import { formatTensorError } from "@rewind/tensor";
import { loadCheckpoint } from "@rewind/optim/node";
import { loadTorchSafetensors } from "@rewind/rnn/node";

/** What one call gave. */
export interface PathReport {
  readonly path: string;
  readonly op: "loadCheckpoint" | "loadTorchSafetensors";
  readonly outcome: "left" | "right";
  readonly message: string;
  readonly ms: number;
}

for (const path of process.argv.slice(2)) {
  const calls = [
    ["loadCheckpoint", () => loadCheckpoint(path)],
    ["loadTorchSafetensors", () => loadTorchSafetensors(path, { mode: "gru", inputSize: 2, hiddenSize: 2 })],
  ] as const;
  for (const [op, call] of calls) {
    // Announced first, so a call that never returns is named by the last line the parent saw.
    process.stderr.write(`${op} ${path}\n`);
    const t0 = performance.now();
    const r = call();
    const ms = Math.round(performance.now() - t0);
    const report: PathReport =
      r._tag === "Left"
        ? { path, op, outcome: "left", message: formatTensorError(r.left), ms }
        : { path, op, outcome: "right", message: "", ms };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  }
}
