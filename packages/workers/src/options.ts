/**
 * @file The options of `pmap`, checked once when it is made.
 */
import * as T from "@rewind/tensor";
import { everyEntry, optionsProblem } from "@rewind/tensor/internal/check";
import { SIGNATURE_BYTES } from "./collective.js";

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
  /**
   * How long a worker waits for the others at a collective, and bounds a call (default 60 000 ms;
   * at most `2 ** 31 − 1 − 5000` ms, about 24.8 days, the timers' limit).
   */
  readonly timeoutMs?: number;
  /**
   * Elements of the returned array that stay with the workers: each comes back as a `Placed`
   * handle, which later calls take as an argument without copying its data (parameters and
   * optimizer state in a training loop). Its entry of `outAxes` says how: null replicated (checked
   * equal across workers by a 64-bit checksum), 0 sharded (each worker keeps its rows).
   */
  readonly keep?: readonly number[];
  /**
   * Arguments whose `Placed` values the call may consume (JAX's `donate_argnums`): their memory
   * holds later kept results, so a training loop allocates none in steady state; using a donated
   * handle afterwards is an error. Tensors in these positions are left alone.
   */
  readonly donate?: readonly number[];
}

const KEYS = ["workers", "inAxes", "outAxes", "collectiveBytes", "timeoutMs", "keep", "donate"];

/** `pmap`'s options with defaults filled in. */
export interface CheckedOptions {
  readonly workers: number;
  readonly inAxes: readonly ShardAxis[];
  readonly outAxes: ShardAxis | readonly ShardAxis[];
  readonly slotBytes: number;
  readonly timeoutMs: number;
  readonly keep: readonly number[];
  readonly donate: readonly number[];
}

const refuse = (arg: string, detail: string, fix: string): never =>
  T.fail({ _tag: "ValueError", op: "pmap", arg, detail, fix });

const isAxis = (a: unknown): a is ShardAxis => a === 0 || a === null;

/**
 * The longest timeout a call can use: Node's and the browsers' timers fire at once for a delay
 * over 2³¹ − 1 ms, and a call waits up to 5 s beyond its timeout (so a huge timeoutMs used to
 * time every call out at once).
 */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1 - 5_000;

/**
 * Checks `pmap`'s options and fills in the defaults.
 * @example checkPmapOptions({ workers: 2, inAxes: [null, 0] })
 */
export const checkPmapOptions = (options: PmapOptions): CheckedOptions => {
  const problem = optionsProblem("pmap", "options", options, KEYS, true);
  if (problem !== undefined) refuse(problem.arg, problem.detail, problem.fix);
  const { workers, inAxes, outAxes = null, collectiveBytes = 16 * 2 ** 20, timeoutMs = 60_000 } = options;
  const { keep = [], donate = [] } = options;
  if (!(Number.isSafeInteger(workers) && workers >= 1 && workers <= 256))
    refuse("options.workers", `expected an integer from 1 to 256, got ${String(workers)}`, "pass e.g. 2");
  if (!everyEntry(inAxes, isAxis))
    refuse("options.inAxes", "expected an array of 0 and null, one per argument", "pass e.g. [null, 0]");
  if (!(isAxis(outAxes) || everyEntry(outAxes, isAxis)))
    refuse("options.outAxes", "expected 0, null, or an array of them", "pass null for replicated outputs");
  if (!(Number.isSafeInteger(collectiveBytes) && collectiveBytes >= 8 && collectiveBytes % 8 === 0))
    refuse(
      "options.collectiveBytes",
      `expected a multiple of 8 bytes, got ${String(collectiveBytes)}`,
      "pass e.g. 2 ** 24",
    );
  if (!(typeof timeoutMs === "number" && timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS))
    refuse(
      "options.timeoutMs",
      `expected a positive number of milliseconds up to ${MAX_TIMEOUT_MS} (the timers' limit), ` +
        `got ${String(timeoutMs)}`,
      "pass e.g. 60000",
    );
  checkIndices("options.keep", keep, Array.isArray(outAxes) ? outAxes.length : undefined, "result element");
  checkIndices("options.donate", donate, Array.isArray(inAxes) ? inAxes.length : 0, "argument");
  // Every slot starts with the operands' signature, so the option counts only the values.
  return { workers, inAxes, outAxes, slotBytes: collectiveBytes + SIGNATURE_BYTES, timeoutMs, keep, donate };
};

/** Checks a list of distinct indices below `count` (when known). */
const checkIndices = (arg: string, list: unknown, count: number | undefined, what: string): void => {
  const ok = everyEntry(
    list,
    (i, k) =>
      typeof i === "number" &&
      Number.isSafeInteger(i) &&
      i >= 0 &&
      (count === undefined || i < count) &&
      (list as unknown[]).indexOf(i) === k,
  );
  if (!ok)
    refuse(
      arg,
      `expected distinct ${what} indices${count === undefined ? "" : ` below ${count}`}, got ${JSON.stringify(list)}`,
      `pass e.g. [0, 1]`,
    );
};
