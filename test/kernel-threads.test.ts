/**
 * @file Kernel threads (`useKernelThreads` of @rewind/workers/node): jit runners compiled with
 * them split their large float32 products by rows across the main thread and a worker thread,
 * with the same bits as one thread, for every product layout the compiler emits (a or b stored
 * transposed, batched, b packed once for a scan); a kernel thread that throws or dies is a
 * `WorkerFailure` naming it, never a hang; a runner whose shared arena cannot be built runs alone
 * with SIMD. The products here are small, with `minMacs` lowered
 * so that they split anyway (the split does not depend on the size).
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import {
  add,
  compileGraph,
  greater,
  jit,
  makeGraph,
  matmul,
  mean,
  mul,
  sigmoid,
  where,
  square,
  sub,
  sum,
  tanh,
  transpose,
  treeFlatten,
  valueAndGrad,
  type Value,
} from "@rewind/autodiff";
import { lstm, rnn, type TorchCellParams } from "@rewind/rnn";
import { useKernelThreads, WorkerFailure, type KernelThreads } from "@rewind/workers/node";
import { arenaThreads, setArenaThreads, wasmApi, type ArenaThreads } from "@rewind/tensor/internal/codegen";
import { kernelWorkers } from "../packages/workers/src/node/kernelThreads.js";
import { setCpuReader } from "../packages/workers/src/node/cpuLoad.js";

const [B, TT, IN, H] = [8, 6, 8, 16];
const keys = T.random.split(T.random.key(7), 4) as unknown as T.Key[];
const cell = lstm.init(keys[0]!, { inputSize: IN, hiddenSize: H }, { dtype: "float32" }) as TorchCellParams;
const xs = T.random.normal(keys[1]!, [B, TT, IN]);
const ys = T.random.normal(keys[2]!, [B, H]);
const lstmLoss = (p: TorchCellParams): Value => mean(square(sub(rnn(lstm, p, xs).finalCarry.h, ys)));

/** Every leaf's bytes, in tree order. */
const bitsOf = (tree: unknown): number[][] =>
  treeFlatten(tree)[0].map((l) => Array.from(new Uint8Array((l as T.Tensor).data.slice().buffer)));

let threads: KernelThreads | undefined;
afterAll(async () => threads?.close());

describe("useKernelThreads(2)", () => {
  it("an LSTM's jitted value and gradient equals one thread's bit for bit, its products split", async () => {
    const want = bitsOf(jit(valueAndGrad(lstmLoss))(cell));
    threads = await useKernelThreads(2, { minMacs: 1000 });
    const got = bitsOf(jit(valueAndGrad(lstmLoss))(cell));
    expect(got).toEqual(want);
    // Per step, the forward product and the backward ones split; then the weight gradients.
    expect(threads.splits).toBeGreaterThanOrEqual(2 * TT + 2);
  });

  it("large fused loops split by rows with the bits of one thread: broadcast, scalar and mask reads, many outputs", async () => {
    threads = await useKernelThreads(2, { minMacs: 1000 });
    const [k1, k2, k3] = T.random.split(T.random.key(21), 3) as unknown as T.Key[];
    const x = T.random.normal(k1!, [65, 96]); // an odd number of rows: parts of 32 and 33
    const y = T.random.normal(k2!, [65, 96]);
    const bias = T.random.normal(k3!, [96]);
    const loops = (a: Value, b: Value, c: Value): Value[] => {
      const gate = sigmoid(add(a, c)); // a row-broadcast read
      const h = mul(gate, tanh(mul(b, 0.37))); // a scalar
      return [h, where(greater(a, 0), h, gate), add(h, 1.5)]; // a mask; three outputs of one loop
    };
    const before = threads.loopSplits;
    const run = jit(loops);
    const want = bitsOf(loops(x, y, bias));
    expect(bitsOf(run(x, y, bias))).toEqual(want);
    expect(threads.loopSplits - before, "the loop was split").toBeGreaterThan(0);
    // A runner of loops alone (no product) keeps its memory on the kernel thread while it lives.
    setFlagsFromString("--expose-gc");
    (runInNewContext("gc") as () => void)();
    await new Promise((resolve) => setTimeout(resolve, 50)); // finalization callbacks run as tasks
    const split = threads.loopSplits;
    expect(bitsOf(run(x, y, bias))).toEqual(want);
    expect(threads.loopSplits).toBeGreaterThan(split);
    // Once the threads are closed, the runner runs its loops whole, with the same bits.
    await threads.close();
    const closed = threads.loopSplits;
    expect(bitsOf(run(x, y, bias))).toEqual(want);
    expect(threads.loopSplits).toBe(closed);
  });

  it("a large sum over leading axes (a bias gradient) splits its columns with the bits of one thread", async () => {
    threads = await useKernelThreads(2, { minMacs: 1000 });
    // 108 columns: 52 here (three chunks of 16 and one of 4), 56 there; 2400 rows.
    const x = T.random.normal(T.random.key(31), [600, 4, 108]);
    // The sum of a value computed in the runner's memory, into its memory (a sum of an argument, or
    // into a returned buffer, runs in JavaScript).
    const biasGrad = (v: Value): Value => mul(sum(mul(v, 0.5), { axis: [0, 1] }), 2);
    const run = jit(biasGrad);
    const want = bitsOf(biasGrad(x));
    const before = threads.loopSplits;
    expect(bitsOf(run(x))).toEqual(want);
    expect(threads.loopSplits - before, "the halving loop and the sum were split").toBe(2);
    await threads.close();
    expect(bitsOf(run(x))).toEqual(want);
  });

  it("an LSTM at B 32, H 128 (its cell's loops split) equals one thread bit for bit", async () => {
    const keysBig = T.random.split(T.random.key(23), 3) as unknown as T.Key[];
    const big = lstm.init(keysBig[0]!, { inputSize: 16, hiddenSize: 128 }, { dtype: "float32" }) as TorchCellParams;
    const bxs = T.random.normal(keysBig[1]!, [32, 4, 16]);
    const bys = T.random.normal(keysBig[2]!, [32, 128]);
    const loss = (p: TorchCellParams): Value => mean(square(sub(rnn(lstm, p, bxs).finalCarry.h, bys)));
    const want = bitsOf(jit(valueAndGrad(loss))(big));
    threads = await useKernelThreads(2, { minMacs: 1000 });
    const got = bitsOf(jit(valueAndGrad(loss))(big));
    expect(got).toEqual(want);
    expect(threads.loopSplits, "the forward gates of every step").toBeGreaterThanOrEqual(4);
  });

  it("every product layout splits with the bits of the eager products", async () => {
    threads = await useKernelThreads(2, { minMacs: 1000 });
    const [k1, k2, k3] = T.random.split(T.random.key(3), 3) as unknown as T.Key[];
    const a = T.random.normal(k1!, [24, 16]);
    const b = T.random.normal(k2!, [16, 20]);
    const batch = T.random.normal(k3!, [3, 24, 16]);
    const products = (x: Value, y: Value, xt: Value, yt: Value, xb: Value): Value[] => [
      matmul(x, y),
      matmul(transpose(xt), y),
      matmul(x, transpose(yt)),
      matmul(transpose(xt), transpose(yt)),
      matmul(xb, y), // b shared by the batch: packed once
    ];
    const args = [a, b, T.transpose(a), T.transpose(b), batch] as const;
    const before = threads.splits;
    const got = jit(products)(...args);
    expect(bitsOf(got)).toEqual(bitsOf(products(...args)));
    expect(threads.splits - before).toBeGreaterThanOrEqual(5);
  });

  it("two products of one a (a cell's weight gradients) split as a pair, with the bits of one thread", async () => {
    const [k1, k2, k3] = T.random.split(T.random.key(5), 3) as unknown as T.Key[];
    const [g, x, h] = [
      T.random.normal(k1!, [300, 40]),
      T.random.normal(k2!, [300, 6]),
      T.random.normal(k3!, [300, 12]),
    ];
    // gᵀ·x and gᵀ·h: one op(a), k over two blocks; widths that are not whole panels.
    const grads = (gv: Value, xv: Value, hv: Value): Value[] => [matmul(transpose(gv), xv), matmul(transpose(gv), hv)];
    const source = compileGraph(makeGraph(grads)(g, x, h).graph).source;
    expect(source).toMatch(/\bmm2\(/);
    const want = bitsOf(jit(grads)(g, x, h));
    threads = await useKernelThreads(2, { minMacs: 1000 });
    const before = threads.splits;
    expect(bitsOf(jit(grads)(g, x, h))).toEqual(want);
    expect(bitsOf(grads(g, x, h))).toEqual(want);
    expect(threads.splits - before, "one split of the pair").toBe(1);
  });

  it("a runner keeps its kernel threads' memory through garbage collections", async () => {
    threads = await useKernelThreads(2, { minMacs: 1000 });
    const step = jit(valueAndGrad(lstmLoss));
    const want = bitsOf(step(cell));
    // The kernel thread forgets a memory once its runner is collected: never while the runner lives.
    setFlagsFromString("--expose-gc");
    (runInNewContext("gc") as () => void)();
    await new Promise((resolve) => setTimeout(resolve, 50)); // finalization callbacks run as tasks
    expect(bitsOf(step(cell))).toEqual(want);
  });

  it("products under minMacs stay on the main thread", async () => {
    threads = await useKernelThreads(2, { minMacs: 4_000_000 });
    jit(valueAndGrad(lstmLoss))(cell);
    expect(threads.splits).toBe(0);
  });

  it('by default ("auto") products of 250 k to 4 M multiply-adds split only while other processes leave the cores free', async () => {
    // A machine of 2 cores whose other processes keep `load` cores busy (this process's own time counted apart).
    let load = 2;
    setCpuReader(() => {
      const at = performance.now();
      const own = process.cpuUsage();
      const ownMs = (own.user + own.system) / 1000;
      return { at, busyMs: ownMs + load * at, ownMs, cores: 2 };
    });
    try {
      threads = await useKernelThreads(2);
      const [k1, k2] = T.random.split(T.random.key(11), 2) as unknown as T.Key[];
      const [a, b] = [T.random.normal(k1!, [64, 64]), T.random.normal(k2!, [64, 128])]; // 524 288 multiply-adds
      const product = jit((x: Value, y: Value) => matmul(x, y));
      const want = bitsOf(T.matmul(a, b));
      const runOnce = async (): Promise<void> => {
        expect(bitsOf(product(a, b))).toEqual(want);
        await new Promise((resolve) => setTimeout(resolve, 5));
      };
      // Products until the decision (read every quarter second) is `small`, for at most 3 s.
      const runUntil = async (small: boolean): Promise<void> => {
        for (const end = performance.now() + 3000; threads!.splitsSmall !== small && performance.now() < end;)
          await runOnce();
      };
      for (const end = performance.now() + 600; performance.now() < end;) await runOnce();
      expect([threads.splitsSmall, threads.splits], "a busy machine: nothing under 4 M splits").toEqual([false, 0]);
      load = 0;
      await runUntil(true);
      expect(threads.splitsSmall, "the cores are free: small products split").toBe(true);
      const before = threads.splits;
      await runOnce();
      expect(threads.splits).toBe(before + 1);
      load = 1;
      await runUntil(false);
      expect(threads.splitsSmall, "one core taken again").toBe(false);
      const after = threads.splits;
      for (let i = 0; i < 5; i++) await runOnce();
      expect(threads.splits).toBe(after);
    } finally {
      setCpuReader();
    }
  });

  it("a kernel thread that throws is a WorkerFailure naming it and the cause", async () => {
    threads = await useKernelThreads(2, { minMacs: 1000 });
    const arena = arenaThreads()!(65536, 65536)!;
    const end = arena.memory.buffer.byteLength;
    // a's first 32 rows (the main thread's) end at the memory's end; the kernel thread's lie beyond it.
    const at = { aAt: end - 4 * 32 * 64, bAt: 0, cAt: 16384, scratch: 32768, m: 64, k: 64, n: 64 };
    const bad = (): void => arena.kernels.product({ ...at, transA: false, transB: false });
    // A large valid product just before (in another memory) keeps the kernel thread busy, then
    // spinning, so that it claims the bad rows; when it had no core and the main thread computed
    // them instead, the main thread's own out-of-bounds error came back: the attempt is repeated
    // (up to 40 times: on a loaded 2-core host, 10 attempts once all went to the main thread).
    const big = arenaThreads()!(4 << 20, 1 << 20)!;
    const mb = 1 << 20;
    const valid = (): void =>
      big.kernels.product({
        aAt: 0,
        bAt: mb,
        cAt: 2 * mb,
        scratch: 3 * mb,
        m: 512,
        k: 512,
        n: 512,
        transA: false,
        transB: false,
      });
    const stolenBad: number[] = [];
    let failure: unknown;
    for (let attempt = 0; attempt < 40 && !(failure instanceof WorkerFailure); attempt++) {
      valid();
      const stolen = threads.stolen;
      try {
        bad();
      } catch (e) {
        failure = e;
      }
      if (!(failure instanceof WorkerFailure)) {
        stolenBad.push(threads.stolen - stolen);
        expect(String(failure)).toMatch(/RuntimeError: .*out of bounds/);
      }
    }
    expect(stolenBad.every((n) => n === 1)).toBe(true);
    expect(failure).toBeInstanceOf(WorkerFailure);
    expect(String(failure)).toMatch(/worker 1 threw in its rows of a 64×64×64 product: RuntimeError: .*out of bounds/);
  });

  it("a kernel thread that died: its rows come from the main thread or fail within timeoutMs, then at once", async () => {
    threads = await useKernelThreads(2, { minMacs: 1000, timeoutMs: 300 });
    const step = jit(valueAndGrad(lstmLoss));
    const want = bitsOf(step(cell));
    // Stopped while the main thread runs on: rows it never claimed, the main thread computes (the
    // same bits); rows it claimed and never finished are a WorkerFailure after timeoutMs, not a hang.
    const worker = kernelWorkers(threads)[0]!;
    // Registered after the pool's own exit listener, so it runs once the pool knows.
    const exited = new Promise((resolve) => worker.once("exit", resolve));
    void worker.terminate();
    const started = performance.now();
    let outcome: unknown;
    try {
      outcome = bitsOf(step(cell));
    } catch (e) {
      outcome = e;
    }
    if (outcome instanceof Error) expect(outcome.message).toMatch(/worker 1 did not finish its rows .* within 300 ms/);
    else expect(outcome).toEqual(want);
    expect(performance.now() - started).toBeLessThan(5000);
    // Once its exit is known, the next product fails at once, naming it. (A fixed 50 ms wait for
    // the exit was once too short on a loaded host.)
    await exited;
    expect(() => step(cell)).toThrow(/useKernelThreads: worker 1 (exited|did not finish)/);
  });

  it("after close, runners that had kernel threads compute alone, with the same bits", async () => {
    threads = await useKernelThreads(2, { minMacs: 1000 });
    const step = jit(valueAndGrad(lstmLoss));
    const want = bitsOf(step(cell));
    const splits = threads.splits;
    await threads.close();
    expect(bitsOf(step(cell))).toEqual(want);
    expect(threads.splits).toBe(splits);
  });

  it("refuses bad arguments with the argument's name", async () => {
    await expect(useKernelThreads(0)).rejects.toThrow(/useKernelThreads: .*threads/);
    await expect(useKernelThreads(2.5)).rejects.toThrow(/threads/);
    await expect(useKernelThreads(2, { minMac: 1 } as never)).rejects.toThrow(/minMac/);
    await expect(useKernelThreads(2, { timeoutMs: 0 })).rejects.toThrow(/timeoutMs/);
  });
});

describe("a runner the kernel threads cannot take", () => {
  it("gets an arena of its own: SIMD kernels, the WebAssembly product and the same bits", () => {
    const installed = arenaThreads();
    const [k1, k2] = T.random.split(T.random.key(9), 2) as unknown as T.Key[];
    const [a, b] = [T.random.normal(k1!, [32, 64]), T.random.normal(k2!, [64, 64])];
    // A product (the arena's `mma`) and an elementwise loop (a SIMD kernel in the runner's module).
    const graph = makeGraph((x: Value, y: Value) => tanh(matmul(x, y)))(a, b).graph;
    const moduleRefused: ArenaThreads = (bytes) => ({
      memory: new (wasmApi()!.Memory)({ initial: Math.ceil(bytes / 65536) }),
      share: () => {
        throw new Error("this engine refuses the shared module");
      },
      kernels: undefined as never,
    });
    const failures: ReadonlyArray<readonly [string, ArenaThreads]> = [
      [
        "no shared memory",
        () => {
          throw new Error("SharedArrayBuffer is not available");
        },
      ],
      ["a module the engine refuses shared", moduleRefused],
    ];
    try {
      setArenaThreads(undefined);
      const alone = compileGraph(graph);
      const want = bitsOf(alone([a, b]));
      expect(alone.simdKernels).toBeGreaterThanOrEqual(1);
      for (const [label, hook] of failures) {
        setArenaThreads(hook);
        const run = compileGraph(graph);
        // Before: any failure of the shared arena compiled the runner without SIMD (~3× slower).
        expect(run.simdKernels, label).toBe(alone.simdKernels);
        expect(run.source, label).toMatch(/\bmma\(/);
        expect(bitsOf(run([a, b])), label).toEqual(want);
      }
    } finally {
      setArenaThreads(installed);
    }
  });
});
