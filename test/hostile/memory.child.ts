/**
 * @file Child process of memory.test.ts: reads one file, decodes it once with
 * `safetensors.decode` or `restoreCheckpoint`, and prints one JSON line (`MemoryReport`) with how
 * far the decode raised the process's resident memory (RSS).
 *
 *     node --expose-gc --import tsx test/hostile/memory.child.ts safetensors|checkpoint <path>
 *
 * How it measures (Linux). Before the decode: the library is loaded, a small valid file of the
 * same kind is decoded a few times (so the decode's code is compiled and V8's one-time structures
 * exist), the file is read, two full collections run, and the kernel's high-water mark of the
 * process's resident pages is reset to the current RSS (`5` written to /proc/self/clear_refs).
 * After the decode, the high-water mark (`VmHWM` in /proc/self/status) is the most memory the
 * process ever had resident during the decode — everything counted: V8's heap, typed arrays,
 * strings, code, malloc — and `growth` is how far that is above the RSS before. The kernel keeps
 * the mark on every page fault, so no peak between samples can be missed. The same measurement
 * of one more decode of the small file, just before, gives the method's floor (`baselineGrowth`).
 */
import { readFileSync, writeFileSync } from "node:fs";

/** What one child run prints. */
export interface MemoryReport {
  readonly kind: "safetensors" | "checkpoint";
  readonly fileBytes: number;
  /** RSS just before the decode (bytes). */
  readonly before: number;
  /** The highest RSS during the decode (bytes). */
  readonly peak: number;
  /** `peak − before`: how far above its resting size the decode took the process. */
  readonly growth: number;
  /** The same for one more decode of the small warm-up file, measured just before: the floor of the method. */
  readonly baselineGrowth: number;
  readonly ms: number;
  readonly outcome: "left" | "right";
  /** The error message, cut to 300 characters. */
  readonly message: string;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("memory.child: run node with --expose-gc");
const collect = gc;

const [kind, path] = process.argv.slice(2);
if ((kind !== "safetensors" && kind !== "checkpoint") || path === undefined)
  throw new Error("usage: memory.child.ts safetensors|checkpoint <path>");

/** A field of /proc/self/status in bytes (it is given in kB). */
const status = (field: "VmRSS" | "VmHWM"): number => {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(readFileSync("/proc/self/status", "utf8"));
  if (m === null) throw new Error(`memory.child: no ${field} in /proc/self/status`);
  return Number(m[1]) * 1024;
};

const T = await import("@rewind/tensor");
// The checkpoint reader only when needed: @rewind/optim loads @rewind/autodiff, which takes a while.
const O = kind === "checkpoint" ? await import("@rewind/optim") : undefined;

const decode = (bytes: Uint8Array): { readonly left: boolean; readonly message: string } => {
  const r = O === undefined ? T.safetensors.decode(bytes) : O.restoreCheckpoint(bytes);
  return r._tag === "Left" ? { left: true, message: T.formatTensorError(r.left) } : { left: false, message: "" };
};

// Warm up on a small valid file of the same kind.
const params = { w: T.ones([4, 4]), b: T.zeros([4]) };
const small =
  O === undefined
    ? T.safetensors.encode(params, { note: "warm-up" })
    : O.encodeCheckpoint({
        params,
        optState: O.adam({ learningRate: 0.1 }).init(params),
        step: 3,
        config: { lr: 0.1 },
      });
for (let i = 0; i < 20; i++) if (decode(small).left) throw new Error("memory.child: the warm-up file does not decode");

/** Decodes `input` once between two collections and a reset of the high-water mark. */
const measured = async (input: Uint8Array) => {
  collect();
  collect();
  // V8's helper threads finish sweeping and release pages after a collection; let them, so the
  // decode's peak is not offset by memory freed while it runs.
  await new Promise((resolve) => setTimeout(resolve, 100));
  writeFileSync("/proc/self/clear_refs", "5");
  const before = status("VmRSS");
  const t0 = performance.now();
  const outcome = decode(input);
  const ms = performance.now() - t0;
  return { before, peak: status("VmHWM"), ms, outcome };
};

const bytes = readFileSync(path);
const floor = await measured(small);
const { before, peak, ms, outcome } = await measured(bytes);

const report: MemoryReport = {
  kind,
  fileBytes: bytes.length,
  before,
  peak,
  growth: peak - before,
  baselineGrowth: floor.peak - floor.before,
  ms: Math.round(ms),
  outcome: outcome.left ? "left" : "right",
  message: outcome.message.slice(0, 300),
};
process.stdout.write(`${JSON.stringify(report)}\n`);
