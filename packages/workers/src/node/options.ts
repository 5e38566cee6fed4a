/// <reference types="node" />
/**
 * @file The options of `pmap`, checked once when it is made.
 */
import * as T from "@rewind/tensor";
import { optionsProblem } from "@rewind/tensor/internal/check";

/** Where a value's workers split it: 0 splits axis 0 into equal parts, null gives (or expects) all of it. */
export type ShardAxis = 0 | null;

/** Options of `pmap`. */
export interface PmapOptions {
  /** Number of worker threads (at least 1). */
  readonly workers: number;
  /** Per argument: 0 to split its axis 0 among the workers (every leaf of it), null to give each worker all of it. */
  readonly inAxes: readonly ShardAxis[];
  /**
   * For the result (one entry, or one per element when the result is an array): null (default)
   * for a value every worker computes identically (checked bit for bit), 0 to concatenate the
   * workers' values along axis 0 in worker order.
   */
  readonly outAxes?: ShardAxis | readonly ShardAxis[];
  /** Bytes of the largest value one `psum` reduces (default 16 MiB). */
  readonly collectiveBytes?: number;
  /** How long a worker waits for the others at a collective, and bounds a call (default 60 000 ms). */
  readonly timeoutMs?: number;
}

const KEYS = ["workers", "inAxes", "outAxes", "collectiveBytes", "timeoutMs"];

/** `pmap`'s options with defaults filled in. */
export interface CheckedOptions {
  readonly workers: number;
  readonly inAxes: readonly ShardAxis[];
  readonly outAxes: ShardAxis | readonly ShardAxis[];
  readonly slotBytes: number;
  readonly timeoutMs: number;
}

const refuse = (arg: string, detail: string, fix: string): never =>
  T.fail({ _tag: "ValueError", op: "pmap", arg, detail, fix });

const isAxis = (a: unknown): a is ShardAxis => a === 0 || a === null;

/**
 * Checks `pmap`'s arguments and fills in the defaults.
 * @example checkPmapOptions(new URL("file:///s.js"), "step", { workers: 2, inAxes: [null, 0] })
 */
export const checkPmapOptions = (module: unknown, exportName: unknown, options: PmapOptions): CheckedOptions => {
  if (!(module instanceof URL) && typeof module !== "string")
    refuse("module", `expected a URL or a string, got ${typeof module}`, 'pass new URL("./step.ts", import.meta.url)');
  if (typeof exportName !== "string" || exportName === "")
    refuse("exportName", "expected the name of the module's exported function", 'pass e.g. "step"');
  const problem = optionsProblem("pmap", "options", options, KEYS, true);
  if (problem !== undefined) refuse(problem.arg, problem.detail, problem.fix);
  const { workers, inAxes, outAxes = null, collectiveBytes = 16 * 2 ** 20, timeoutMs = 60_000 } = options;
  if (!(Number.isSafeInteger(workers) && workers >= 1 && workers <= 256))
    refuse("options.workers", `expected an integer from 1 to 256, got ${String(workers)}`, "pass e.g. 2");
  if (!Array.isArray(inAxes) || !inAxes.every(isAxis))
    refuse("options.inAxes", "expected an array of 0 and null, one per argument", "pass e.g. [null, 0]");
  if (!(isAxis(outAxes) || (Array.isArray(outAxes) && outAxes.every(isAxis))))
    refuse("options.outAxes", "expected 0, null, or an array of them", "pass null for replicated outputs");
  if (!(Number.isSafeInteger(collectiveBytes) && collectiveBytes >= 8 && collectiveBytes % 8 === 0))
    refuse(
      "options.collectiveBytes",
      `expected a multiple of 8 bytes, got ${String(collectiveBytes)}`,
      "pass e.g. 2 ** 24",
    );
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0))
    refuse(
      "options.timeoutMs",
      `expected a positive number of milliseconds, got ${String(timeoutMs)}`,
      "pass e.g. 60000",
    );
  return { workers, inAxes, outAxes, slotBytes: collectiveBytes, timeoutMs };
};
