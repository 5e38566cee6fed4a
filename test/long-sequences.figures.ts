/**
 * @file Node-side helpers of the long-sequence checks: run the memory-measuring child process, and
 * merge figures into node_modules/.cache/fuzz/long-sequences.json (read by the README's
 * Reliability section). Shared by long-sequences.test.ts and test/soak/long-sequences.ts.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { MemoryReport } from "./long-sequences.child.js";
import { BATCH, CARRY_BYTES } from "./long-sequences.support.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const figuresPath = join(root, "node_modules/.cache/fuzz/long-sequences.json");

/** What else a measured run changes: the loss, the batch size, and whether to stop after the forward pass. */
export interface MeasureRun {
  /** "manyToOne": the LSTM through @rewind/rnn's `manyToOne` instead of a raw scan. */
  readonly loss?: "scan" | "manyToOne";
  /** Batch size (default `BATCH`). */
  readonly batch?: number;
  /** Report `held` and skip the backward pass (`backwardPeak` is then the forward's peak; no grads). */
  readonly forwardOnly?: boolean;
}

/**
 * Runs long-sequences.child.ts for one policy and sequence length (eagerly, or compiled with
 * `jit`) in a fresh `node --expose-gc`; resolves to its report.
 */
export const measure = (policy: unknown, length: number, jit = false, run: MeasureRun = {}): Promise<MemoryReport> =>
  new Promise((resolve, reject) => {
    // --no-flush-bytecode: V8 otherwise drops the bytecode of functions that ran only before the
    // baseline (setup, warm-up) after a few collections, and the measurement would count that
    // release against the residuals (seen once under a loaded CI run: "carries" held 0.88× its estimate).
    const args = [
      "--expose-gc",
      "--no-flush-bytecode",
      "--import",
      "tsx",
      join(root, "test/long-sequences.child.ts"),
      JSON.stringify(policy),
      String(length),
    ];
    const child = spawn(process.execPath, [...args, jit ? "jit" : "", run.loss ?? "scan", String(run.batch ?? BATCH)], {
      cwd: root,
      env: { ...process.env, REWIND_MEM_FORWARD_ONLY: run.forwardOnly === true ? "1" : "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0
        ? resolve(JSON.parse(out) as MemoryReport)
        : reject(
            new Error(
              `long-sequences child (${JSON.stringify(policy)}, T = ${length}${jit ? ", jit" : ""}) exited with ${code}: ${err}`,
            ),
          ),
    );
  });

/** The sections of the figures file; `forward` and `bptt` come from pnpm test, `soak` from the soak run. */
export interface FigureSections {
  readonly forward?: { readonly length: number } & Readonly<Record<string, unknown>>;
  readonly bptt?: { readonly length: number } & Readonly<Record<string, unknown>>;
  readonly soak?: { readonly bpttLength: number } & Readonly<Record<string, unknown>>;
}

/**
 * Merges `sections` into the figures file and refreshes its summary: the longest forward and the
 * longest BPTT length any section reached.
 */
export const recordFigures = (sections: FigureSections): void => {
  const before = (existsSync(figuresPath) ? JSON.parse(readFileSync(figuresPath, "utf8")) : {}) as FigureSections;
  const next = { ...before, ...sections };
  const summary = {
    longestForwardT: next.forward?.length ?? 0,
    longestBpttT: Math.max(next.bptt?.length ?? 0, next.soak?.bpttLength ?? 0),
  };
  mkdirSync(dirname(figuresPath), { recursive: true });
  writeFileSync(figuresPath, `${JSON.stringify({ ...next, ...summary }, null, 2)}\n`);
};

/**
 * T-independent working memory of the interpreter on top of the residuals: the traced forward and
 * backward body graphs, tape entries, one step's tensors. Measured at 0.1–0.45 MB for T = 2,000
 * to 20,000; 768 KiB leaves room for noise.
 */
export const OVERHEAD_BYTES = 768 * 1024;

/**
 * The memory promises of the remat policies, checked against eager measurements of the same
 * T under "all", "carries" and `{ every: 100 }`; returns what was broken (empty when all hold).
 */
export const memoryViolations = (
  r: { readonly all: MemoryReport; readonly carries: MemoryReport; readonly every: MemoryReport },
  length: number,
): string[] => {
  const broken: string[] = [];
  const check = (ok: boolean, what: string): void => {
    if (!ok) broken.push(what);
  };
  const mb = (b: number): string => `${(b / 1e6).toFixed(3)} MB`;
  for (const m of [r.all, r.carries, r.every]) {
    const name = JSON.stringify(m.policy);
    const held = m.held ?? NaN;
    // What the forward pass keeps is at most its tape (estimateResiduals, an upper bound)...
    check(
      held <= m.tapeEstimate + OVERHEAD_BYTES,
      `${name}: held ${mb(held)} > tape estimate ${mb(m.tapeEstimate)} + overhead`,
    );
    // ...and at least the scan residuals the estimate promises: the measurement does see them.
    check(held >= 0.9 * m.scanEstimate, `${name}: held ${mb(held)} < 0.9 × scan estimate ${mb(m.scanEstimate)}`);
  }
  // The estimates themselves: one carry per step, one per 100 steps.
  check(r.carries.scanEstimate === length * CARRY_BYTES, `"carries" estimate ${r.carries.scanEstimate} ≠ T carries`);
  check(
    r.every.scanEstimate === Math.floor(length / 100) * CARRY_BYTES,
    `every:100 estimate ${r.every.scanEstimate} ≠ T/100 carries`,
  );
  // { every: 100 } promises one carry per segment plus, in the backward pass, one segment at a time.
  const bound = r.every.tapeEstimate + 100 * CARRY_BYTES + OVERHEAD_BYTES;
  check(
    r.every.backwardPeak <= bound,
    `every:100 backward peak ${mb(r.every.backwardPeak)} > tape + one segment + overhead = ${mb(bound)}`,
  );
  // Well under "all": the estimates put every:100 at 0.3% of "all"; with the overhead that is still
  // under a quarter, and at least 3/4 of the promised saving must show in the measurement.
  check(
    r.every.backwardPeak <= 0.25 * r.all.backwardPeak,
    `every:100 peak ${mb(r.every.backwardPeak)} > 1/4 of "all" ${mb(r.all.backwardPeak)}`,
  );
  const promised = r.all.scanEstimate - r.every.scanEstimate;
  check(
    r.all.backwardPeak - r.every.backwardPeak >= 0.75 * promised,
    `measured saving ${mb(r.all.backwardPeak - r.every.backwardPeak)} < 3/4 of the promised ${mb(promised)}`,
  );
  check(
    r.every.backwardPeak < r.carries.backwardPeak,
    `every:100 peak ${mb(r.every.backwardPeak)} ≥ "carries" ${mb(r.carries.backwardPeak)}`,
  );
  return broken;
};
