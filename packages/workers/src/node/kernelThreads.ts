/// <reference types="node" />
/**
 * @file Kernel threads: large float32 products of compiled (jit) runners split by rows across the
 * main thread and `threads − 1` worker threads over the runner's shared WebAssembly memory; while
 * small products split, large fused elementwise loops split too (their first rows here, the rest on
 * the first kernel thread, which runs the runner's own loop kernels on the same memory).
 *
 * Each output element is one sum in k order computed by the same kernel whichever thread computes
 * its row, so a split product has the same bits as the whole one (see `arenaKernels`). Each
 * thread's rows go to whichever thread claims them first (kernelProtocol.ts): the main thread
 * computes a kernel thread's rows itself when that thread has not started them by the time its own
 * are done, so a thread without a core of its own delays nothing it has not begun.
 *
 * Which products split (`minMacs`): a hand-off through `Atomics.wait` costs tens of microseconds,
 * which only large products repay; smaller ones pay when the kernel thread spins between products
 * (`THREAD_SPIN_MS`), but only while it has a core of its own (beside a busy process, spinning made
 * the LSTM step 1.5–1.8× one thread). So by default (`"auto"`) products of 250 k and more split
 * while other processes leave enough cores free (cpuLoad.ts, read every quarter second), and only
 * those of 4 M and more otherwise; a number fixes the threshold (under 4 M: always spinning).
 * Measurements: packages/workers/README.md. Products under it, and every product of runners
 * compiled before `useKernelThreads`, stay on the main thread. The main thread blocks while a
 * kernel thread computes (Atomics.wait, allowed on Node's main thread), bounded by `timeoutMs`: a
 * thread that died or hangs is a `WorkerFailure`, never a hang.
 */
import { receiveMessageOnPort, MessageChannel, Worker, type MessagePort } from "node:worker_threads";
import { optionsProblem } from "@rewind/tensor/internal/check";
import * as T from "@rewind/tensor";
import {
  setArenaThreads,
  shareMemoryImport,
  sharedArenaKernels,
  wasmApi,
  type ArenaKernels,
  type ArenaProduct,
  type LoopKernel,
  type LoopSplit,
  type SecondProduct,
  type ThreadedArena,
} from "@rewind/tensor/internal/codegen";
import { WorkerFailure } from "../errors.js";
import {
  claim,
  CTL,
  CTL_BYTES,
  FINE_MACS,
  MAIN_SPIN_MS,
  MAX_LOOP_ARGS,
  publish,
  SMALL_MACS,
  waitWhile,
  writeLoop,
  writePair,
  writeProduct,
  type ArenaMessage,
} from "./kernelProtocol.js";
import { smallWorkGauge } from "./cpuLoad.js";
import { tsxApi } from "./pmap.js";

/** Options of `useKernelThreads`. */
export interface KernelThreadsOptions {
  /**
   * Products with fewer multiply-adds (m·k·n) stay on one thread. `"auto"` (the default): 250 000
   * while other processes leave a core free for each thread, 4 000 000 while they do not (read
   * every quarter second). A number fixes it; under 4 M the kernel threads always spin between
   * products: faster on a machine whose other cores are free (the per-step products of a scan
   * split too), slower on a busy one.
   */
  readonly minMacs?: number | "auto";
  /** How long the main thread waits for a kernel thread's rows before failing (default 10 000 ms). */
  readonly timeoutMs?: number;
}

/** Kernel threads in use (see `useKernelThreads`). */
export interface KernelThreads {
  /** Threads that compute a split product, the main thread included. */
  readonly threads: number;
  /** Products split so far. */
  readonly splits: number;
  /**
   * Rows of split products that the main thread computed itself because their kernel thread had
   * not started them by the time the main thread's own rows were done (its core was busy).
   */
  readonly stolen: number;
  /**
   * Fused elementwise loops split so far: while small products split, a loop of a runner worth it
   * (an LSTM cell's forward gates at B 32: 32 × 128, five polynomials) runs its first rows here and
   * the rest on a kernel thread.
   */
  readonly loopSplits: number;
  /** Whether products of fewer than 4 M multiply-adds split now (always so with a fixed `minMacs` under 4 M). */
  readonly splitsSmall: boolean;
  /**
   * Stops the kernel threads; runners compiled from now on run single-threaded, and runners that
   * used them compute their products on the main thread alone (same bits).
   */
  close(): Promise<void>;
}

interface Thread {
  readonly worker: Worker;
  readonly ctl: Int32Array;
  /** The same words as float32 (a loop's scalar arguments). */
  readonly floats: Float32Array;
  readonly port: MessagePort;
  seq: number;
  /** Why it cannot compute any more, once it cannot. */
  dead: string | undefined;
}

/** What to do once a kernel thread failed: its runners keep failing, new ones would be unthreaded. */
const AFRESH = "call useKernelThreads again, then jit the function again (its runner uses the failed threads)";
const KEYS = ["minMacs", "timeoutMs"];
const refuse = (arg: string, detail: string, fix: string): never =>
  T.fail({ _tag: "ValueError", op: "useKernelThreads", arg, detail, fix });
const align64 = (bytes: number): number => Math.ceil(bytes / 64) * 64;

/** Starts one kernel thread and resolves when it waits for products. */
const startThread = async (index: number): Promise<Thread> => {
  const ctl = new Int32Array(new SharedArrayBuffer(CTL_BYTES));
  const { port1, port2 } = new MessageChannel();
  const ts = import.meta.url.endsWith(".ts");
  const entry = new URL(ts ? "./kernelThread.ts" : "./kernelThread.js", import.meta.url).href;
  const workerData = { entry, ctl: ctl.buffer, port: port2, ...(ts ? { tsxApi: tsxApi() } : {}) };
  const worker = new Worker(new URL("../../boot.mjs", import.meta.url), { workerData, transferList: [port2] });
  const floats = new Float32Array(ctl.buffer);
  const thread: Thread = { worker, ctl, floats, port: port1, seq: 0, dead: undefined };
  worker.on("error", (e) => (thread.dead ??= `threw: ${e.message}`));
  worker.on("exit", (code) => (thread.dead ??= `exited (code ${code})`));
  await new Promise<void>((resolve, reject) => {
    worker.once("message", () => resolve());
    worker.once("exit", (code) =>
      reject(new WorkerFailure("useKernelThreads", index, `exited (code ${code}) while starting`)),
    );
  });
  worker.unref();
  return thread;
};

const threadsOf = new WeakMap<KernelThreads, readonly Thread[]>();

/**
 * @internal The worker threads behind `useKernelThreads`' handle (the tests stop one to see the failure).
 * @example await kernelWorkers(threads)[0]!.terminate()
 */
export const kernelWorkers = (threads: KernelThreads): readonly Worker[] =>
  (threadsOf.get(threads) ?? []).map((t) => t.worker);

/** The active kernel threads (one set per process, as the compiler's hook is one). */
let active: { close(): Promise<void> } | undefined;

/**
 * Gives jit-compiled runners `threads` threads for their large float32 products (the main thread
 * and `threads − 1` worker threads; 1 turns kernel threads off). Runners compiled from then on keep
 * their buffers in shared WebAssembly memory and split each product of at least `minMacs`
 * multiply-adds by rows across the threads: the same bits as one thread, faster where the product
 * is large. Resolves once the threads are running; replaces (and closes) earlier kernel threads.
 * @example
 * import { useKernelThreads } from "@rewind/workers/node";
 * const threads = await useKernelThreads(2);
 * const step = jit(trainStep); // its large products now run on two threads
 * await threads.close();
 */
export const useKernelThreads = async (threads: number, options: KernelThreadsOptions = {}): Promise<KernelThreads> => {
  const problem = optionsProblem("useKernelThreads", "options", options, KEYS, false);
  if (problem !== undefined) refuse(problem.arg, problem.detail, problem.fix);
  if (!(Number.isSafeInteger(threads) && threads >= 1 && threads <= 64))
    refuse("threads", `expected an integer from 1 to 64, got ${String(threads)}`, "pass e.g. 2");
  const { minMacs = "auto", timeoutMs = 10_000 } = options;
  if (!(minMacs === "auto" || (typeof minMacs === "number" && minMacs >= 0)))
    refuse("options.minMacs", `expected "auto" or a number ≥ 0, got ${String(minMacs)}`, 'pass "auto" or e.g. 4e6');
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0))
    refuse("options.timeoutMs", `expected a positive number of milliseconds, got ${String(timeoutMs)}`, "pass 10000");
  await active?.close();
  if (threads === 1)
    return { threads: 1, splits: 0, loopSplits: 0, stolen: 0, splitsSmall: false, close: () => Promise.resolve() };
  const pool = await Promise.all(Array.from({ length: threads - 1 }, (_, i) => startThread(i + 1)));
  let closed = false;
  // Whether products under FINE_MACS split, and the kernel threads spin between products.
  let small = false;
  const setSmall = (on: boolean): void => {
    small = on;
    for (const t of pool) Atomics.store(t.ctl, CTL.spin, on ? 1 : 0);
  };
  setSmall(minMacs !== "auto" && minMacs < FINE_MACS);
  const gauge = minMacs === "auto" ? smallWorkGauge(threads) : undefined;
  /** Whether small work splits now: under "auto", the gauge's decision (read every quarter second). */
  const smallNow = (): boolean => {
    const now = gauge?.() ?? small;
    if (now !== small) setSmall(now);
    return small;
  };
  /** The threshold for a product now. */
  const threshold = (): number => (gauge === undefined ? (minMacs as number) : smallNow() ? SMALL_MACS : FINE_MACS);
  let splits = 0;
  let loopSplits = 0;
  let stolen = 0;
  let nextId = 0;
  // A runner's memory is forgotten by the kernel threads once everything of it a runner may hold
  // (its splitting product, its loop splitter) is collected: `holders` counts what is left per memory.
  const holders = new Map<number, number>();
  const forget = new FinalizationRegistry<number>((id) => {
    const left = holders.get(id)! - 1;
    if (left > 0) return void holders.set(id, left);
    holders.delete(id);
    if (!closed) for (const t of pool) t.port.postMessage({ id } satisfies ArenaMessage);
  });
  const holdUntilCollected = (token: object, id: number): void => {
    holders.set(id, (holders.get(id) ?? 0) + 1);
    forget.register(token, id);
  };

  /**
   * Finishes the kernel threads' parts of a split product or loop (thread i's is `steal(i)`, `what`
   * describes it, only on failure: this runs for every split of every step): parts a thread has
   * not started the main thread claims, and computes when `compute` (after its own part failed it
   * only keeps them from starting); parts a thread claimed it waits for. Throws the
   * first failure once every thread's rows are settled: a WorkerFailure for a thread that failed or
   * timed out, or the main thread's own error.
   */
  const collect = (
    workers: readonly Thread[],
    what: () => string,
    steal: (i: number) => void,
    compute: boolean,
  ): void => {
    const deadline = performance.now() + timeoutMs;
    let failure: Error | undefined;
    workers.forEach((t, i) => {
      if (claim(t.ctl, t.seq)) {
        if (!compute) return;
        stolen++;
        try {
          steal(i);
        } catch (e) {
          failure ??= e instanceof Error ? e : new Error(String(e));
        }
        return;
      }
      for (let done = Atomics.load(t.ctl, CTL.done); done !== t.seq; done = Atomics.load(t.ctl, CTL.done)) {
        const left = deadline - performance.now();
        if (left <= 0 || t.dead !== undefined) {
          t.dead ??= `did not finish ${what()} within ${timeoutMs} ms`;
          void t.worker.terminate();
          failure ??= new WorkerFailure("useKernelThreads", i + 1, t.dead, AFRESH);
          return;
        }
        waitWhile(t.ctl, CTL.done, done, MAIN_SPIN_MS, left);
      }
      if (t.ctl[CTL.status] === 1) {
        const cause = receiveMessageOnPort(t.port)?.message as string | undefined;
        failure ??= new WorkerFailure("useKernelThreads", i + 1, `threw in ${what()}: ${cause ?? "(no message)"}`);
      }
    });
    if (failure !== undefined) throw failure;
  };

  /**
   * Computes `at` (and `second`, a pair's other product: its rows are a's rows too) with its rows
   * split across the threads when the work is large: `run` computes a part here, `write` tells a
   * thread of its part.
   */
  const splitRows = <S extends SecondProduct | undefined>(
    at: ArenaProduct,
    second: S,
    run: (part: ArenaProduct, second: S) => void,
    write: (ctl: Int32Array, part: ArenaProduct, second: S) => void,
    spare: number,
    scratchBytes: number,
  ): void => {
    const { m, k, n } = at;
    if (closed || m * k * (n + (second?.n ?? 0)) < threshold() || m < 2 * threads) return run(at, second);
    const dead = pool.findIndex((t) => t.dead !== undefined);
    if (dead >= 0) throw new WorkerFailure("useKernelThreads", dead + 1, pool[dead]!.dead!, AFRESH);
    const rows = (r0: number, r1: number, scratch: number): [ArenaProduct, S] => [
      {
        ...at,
        aAt: at.aAt + 4 * r0 * (at.transA ? 1 : k),
        cAt: at.cAt + 4 * r0 * n,
        scratch,
        m: r1 - r0,
        aStride: at.transA ? (at.aStride ?? m) : undefined,
      },
      (second === undefined ? undefined : { ...second, cAt: second.cAt + 4 * r0 * second.n }) as S,
    ];
    const cut = (i: number): number => Math.floor((i * m) / threads);
    const parts = pool.map((_, i) => rows(cut(i + 1), cut(i + 2), spare + i * scratchBytes));
    pool.forEach((t, i) => {
      write(t.ctl, ...parts[i]!);
      publish(t.ctl, ++t.seq);
    });
    let ran = false;
    try {
      run(...rows(0, cut(1), at.scratch));
      ran = true;
    } finally {
      const what = (): string =>
        `its rows of a ${m}×${k}×${n} product` + (second === undefined ? "" : ` and of its pair's ×${second.n}`);
      collect(pool, what, (i) => run(...parts[i]!), ran);
    }
    splits++;
  };

  /**
   * A runner's loop splitter (`LoopSplit`) for the memory `id`, `local` its kernels in this
   * thread: while small work splits, the second part goes to the first kernel thread.
   */
  const loopSplitter =
    (id: number, local: readonly LoopKernel[]): LoopSplit =>
    (kernel, ints, args, own) => {
      if (closed || !smallNow() || args.length > MAX_LOOP_ARGS) return false;
      const t = pool[0]!;
      if (t.dead !== undefined) throw new WorkerFailure("useKernelThreads", 1, t.dead, AFRESH);
      writeLoop(t.ctl, t.floats, id, kernel, ints, args);
      publish(t.ctl, ++t.seq);
      let ran = false;
      try {
        own();
        ran = true;
      } finally {
        collect(
          [t],
          () => `its part of a loop (kernel ${kernel})`,
          () => local[kernel]!(...args),
          ran,
        );
      }
      loopSplits++;
      return true;
    };

  const arena = (bytes: number, scratchBytes: number): ThreadedArena | undefined => {
    if (closed || pool.some((t) => t.dead !== undefined)) return undefined;
    const spare = align64(bytes);
    const each = align64(scratchBytes);
    const pages = Math.max(1, Math.ceil((spare + (threads - 1) * each) / 65536));
    const api = wasmApi();
    if (api === undefined) return undefined;
    const memory = new api.Memory({ initial: pages, maximum: pages, shared: true });
    const base = sharedArenaKernels(memory);
    if (base === null) return undefined;
    const id = nextId++;
    for (const t of pool) t.port.postMessage({ id, memory } satisfies ArenaMessage);
    const { product, productPacked, productPair } = base;
    const kernels: ArenaKernels = {
      product: (at) => splitRows(at, undefined, product, (ctl, p) => writeProduct(ctl, id, false, p), spare, each),
      productPacked: (at) =>
        splitRows(at, undefined, productPacked, (ctl, p) => writeProduct(ctl, id, true, p), spare, each),
      packB: base.packB,
      productPair: (at, second) =>
        splitRows(at, second, productPair, (ctl, p, s) => writePair(ctl, id, p, s), spare, each),
    };
    // Keyed to the splitting product itself: the runner's helpers keep it (but not `kernels`,
    // which they destructure), so the kernel thread forgets the memory only with the runner.
    holdUntilCollected(kernels.product, id);
    const loops = (code: Uint8Array, names: readonly string[], local: readonly LoopKernel[]): LoopSplit => {
      pool[0]!.port.postMessage({ id, code, names } satisfies ArenaMessage);
      const split = loopSplitter(id, local);
      // A runner of loops and no products holds only this (its unused product is soon collected).
      holdUntilCollected(split, id);
      return split;
    };
    return { memory, share: shareMemoryImport, kernels, loops };
  };

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    setArenaThreads(undefined);
    if (active === handle) active = undefined;
    for (const t of pool) publish(t.ctl, -1);
    await Promise.all(pool.map((t) => t.worker.terminate()));
  };
  const handle = {
    threads,
    get splits() {
      return splits;
    },
    get stolen() {
      return stolen;
    },
    get loopSplits() {
      return loopSplits;
    },
    get splitsSmall() {
      return small;
    },
    close,
  };
  active = handle;
  threadsOf.set(handle, pool);
  setArenaThreads(arena);
  return handle;
};
