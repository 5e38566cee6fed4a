/**
 * @file Specs of @rewind/webgpu on a real device (the Dawn run: webgpu.dawn.ts). Random small
 * functions (models.ts) — elementwise chains with broadcasting, reductions, products, comparisons,
 * selects, movement, slices and joins, cumulative sums, conversions, special values, a gradient —
 * of every dtype WebGPU computes in, over random shapes with scalars and size-0 axes, run through
 * `gpu.jit` and compared with Rewind's eager CPU result (within the float32 tolerance models.ts
 * justifies; exact for int32, bool, movement and rounding), or refused as the CPU refuses; uploads
 * and reads are copies, bit for bit; device arrays of another, a disposed or a destroyed device
 * are refused naming the op and the argument.
 */
import fc from "fast-check";
import { expect } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import * as G from "@rewind/webgpu";
import { isLibraryError } from "../contract.js";
import { expectRejectedAsync } from "../workersSpecs/asyncKit.js";
import { EVERY, expectClose, size, values, type Model } from "./models.js";

type V = A.Value;

let shared: Promise<G.WebGpu> | undefined;
/** The device of this run (registered as "webgpu"); its absence fails the spec that asks. */
export const device = (): Promise<G.WebGpu> => (shared ??= G.webgpu());

/** Runs `model` on the device (the arguments as tensors, or uploaded first) and on the CPU, eagerly. */
const runModel = async (gpu: G.WebGpu, m: Model, shape: number[], dtype: T.DType, seed: number, up: boolean) => {
  const args = m.args(shape, dtype, seed);
  const given = up ? args.map((a) => gpu.upload(a)) : args;
  const g = gpu.jit(m.f as (...a: unknown[]) => unknown) as (...a: unknown[]) => Promise<unknown>;
  let eager: unknown;
  try {
    eager = (m.f as (...a: unknown[]) => unknown)(...args);
  } catch (refused) {
    // The CPU refuses (a max over nothing): the device call must reject with the same library error.
    if (!isLibraryError(refused)) throw refused;
    const e = await expectRejectedAsync([refused.error.op], () => g(...given));
    expect(e.message).toBe(refused.message);
    return;
  }
  const want = A.treeLeaves(eager) as T.Tensor[];
  const out = await g(...given);
  const got = A.treeLeaves(await G.readTree(out)) as T.Tensor[];
  const what = `${m.name} on ${dtype}${T.formatShape(shape)} (seed ${seed}${up ? ", uploaded" : ""})`;
  expect(got.length, what).toBe(want.length);
  want.forEach((w, i) => expectClose(got[i]!, w, m.terms(shape), m.scale, `${what} leaf ${i}`));
  G.disposeTree(out);
};

/** Random functions against the eager CPU; a result passed back in; hostile uses of real arrays. */
export const jitOnDevice = async (): Promise<number> => {
  const gpu = await device();
  let n = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        model: fc.nat(EVERY.length - 1),
        shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
        pick: fc.nat(2),
        seed: fc.nat(1000),
        up: fc.boolean(),
      }),
      async ({ model, shape, pick, seed, up }) => {
        const m = EVERY[model]!;
        await runModel(gpu, m, shape, m.dtypes[pick % m.dtypes.length]!, seed, up);
        n++;
      },
    ),
    { numRuns: 120 },
  );
  // Every model, every dtype, once on a fixed shape (so none is left to chance).
  for (const m of EVERY) {
    for (const d of m.dtypes) {
      await runModel(gpu, m, [2, 3], d, 5, false);
      n++;
    }
  }
  // A result passed back in stays on the device and gives the CPU's iterate.
  const step = (h: V) => A.tanh(A.add(A.mul(h, 0.5), 0.25));
  const g = gpu.jit(step);
  let h: unknown = values([3, 2], "float32", 9);
  let c = values([3, 2], "float32", 9) as V;
  for (let i = 0; i < 4; i++) [h, c] = [await g(h as never), step(c)];
  expectClose(await (h as G.GpuArray).read(), c as T.Tensor, 4, 1, "four steps chained on the device");
  return n + 1;
};

/** Uploads and reads are copies: the same bits (NaN, ±Inf, −0 and subnormals included), shape and dtype. */
export const uploadOnDevice = async (): Promise<number> => {
  const gpu = await device();
  const f32 = fc.float({ noDefaultInfinity: false });
  let n = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        dtype: fc.constantFrom<T.DType>("float32", "int32", "bool"),
        shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
        seed: fc.nat(),
      }),
      async ({ dtype, shape, seed }) => {
        const k = size(shape);
        const data =
          dtype === "float32"
            ? fc.sample(fc.array(f32, { minLength: k, maxLength: k }), { numRuns: 1, seed })[0]!
            : fc
                .sample(fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: k, maxLength: k }), {
                  numRuns: 1,
                  seed,
                })[0]!
                .map((v) => (dtype === "bool" ? v & 1 : v));
        const t = T.fromDataOrThrow(data, shape, dtype);
        const a = gpu.upload(t);
        expect([a.dtype, a.shape, a.onHost]).toEqual([dtype, shape, false]);
        const back = await a.read();
        expect([back.dtype, back.shape]).toEqual([dtype, shape]);
        for (let i = 0; i < k; i++)
          if (!Object.is(back.data[i], t.data[i]) && !(Number.isNaN(back.data[i]) && Number.isNaN(t.data[i])))
            expect.fail(`element ${i}: read ${back.data[i]}, uploaded ${t.data[i]}`);
        a.dispose();
        n++;
      },
    ),
    { numRuns: 100 },
  );
  return n;
};

/** Real device arrays: read twice, disposed, of another device. */
export const GpuArrayOnDevice = async (): Promise<number> => {
  const gpu = await device();
  const x = values([2, 3], "float32", 3);
  const a = gpu.upload(x);
  const first = await a.read();
  expect(Array.from((await a.read()).data), "read twice").toEqual(Array.from(first.data));
  a.dispose();
  const other = await G.webgpu({ register: false });
  const foreign = other.upload(x);
  const f = gpu.jit((v: V) => A.exp(v));
  const cases: Record<string, [() => unknown, RegExp]> = {
    "read of a disposed array": [() => a.read(), /\[2, 3\] float32 array was disposed/],
    "a disposed array in a call": [() => f(a), /was disposed/],
    "an array of another device": [() => f(foreign), /another device.*leaf 0/s],
  };
  for (const [label, [call, message]] of Object.entries(cases))
    expect((await expectRejectedAsync(["read", "call"], call)).message, label).toMatch(message);
  other.destroy();
  // An argument disposed while its call compiles (or waits for its compiled program) is refused,
  // never read after its buffer was freed.
  for (const g of [gpu.jit((v: V) => A.sin(v)), f]) {
    const b = gpu.upload(x);
    const pending = g(b);
    b.dispose();
    expect((await expectRejectedAsync(["call"], () => pending)).message).toMatch(/\[2, 3\] float32 array was disposed/);
  }
  // Regression: an argument disposed between two submissions of its call (here while a float64
  // scalar computed from it is read back) surfaced as "WebGPU reported an error … report this as a bug".
  const h = gpu.jit((v: V) =>
    A.mul(v, A.astype(A.sub(1, A.pow(T.scalar(0.9, "float64"), A.astype(A.sum(v), "float64"))), "float32")),
  );
  await h(x);
  const c = gpu.upload(x);
  const queue = gpu.device.queue as { submit: (...a: unknown[]) => void };
  const submit = queue.submit.bind(queue);
  queue.submit = (...a: unknown[]) => {
    submit(...a);
    c.dispose();
  };
  try {
    const e = await expectRejectedAsync(["call"], () => h(c));
    expect(e.message).toMatch(/disposed while the call that reads it ran.*leaf 0/s);
  } finally {
    delete (queue as { submit?: unknown }).submit;
  }
  return Object.keys(cases).length + 4;
};

/** A second device destroyed: its arrays and calls refuse; the registered device still answers. */
export const destroyOnDevice = async (): Promise<number> => {
  const gpu = await device();
  const x = values([2, 3], "float32", 4);
  const other = await G.webgpu({ register: false });
  const foreign = other.upload(x);
  const g = other.jit((v: V) => A.exp(v));
  const out = await g(foreign);
  expectClose(await (out as G.GpuArray).read(), A.exp(x) as T.Tensor, 1, 2, "exp on a second device");
  // Regression: a read in flight when its device was destroyed rejected with a bare DOMException.
  const inFlight = other.upload(x).read();
  other.destroy();
  other.destroy();
  expect((await expectRejectedAsync(["read"], () => inFlight)).message).toMatch(/device was lost/);
  await other.device.lost;
  const calls = [() => out.read(), () => g(x), () => other.upload(x), () => foreign.read()];
  for (const call of calls)
    expect((await expectRejectedAsync(["read", "call", "upload"], call)).message).toMatch(/device was lost/);
  // The registered device was not the destroyed one: it still answers by name.
  const byName = A.jit((v: V) => A.exp(v), { backend: "webgpu" });
  expectClose(await ((await byName(x)) as G.GpuArray).read(), A.exp(x) as T.Tensor, 1, 2, "by name");
  expect(gpu.lost).toBe(undefined);
  return calls.length + 4;
};

/** disposeTree frees real arrays and results: later reads and calls refuse them. */
export const disposeTreeOnDevice = async (): Promise<number> => {
  const gpu = await device();
  const f = gpu.jit((v: V) => A.neg(v));
  let n = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.nat(100), { minLength: 1, maxLength: 4 }), async (seeds) => {
      const arrays = seeds.map((k) => gpu.upload(values([k % 4], "float32", k)));
      const tree = { arrays, out: [await f(arrays[0]!)], again: arrays[0] };
      G.disposeTree(tree);
      G.disposeTree(tree);
      expect([...arrays, tree.out[0] as G.GpuArray].every((a) => a.disposed)).toBe(true);
      await expectRejectedAsync(["call"], () => f(arrays[0]!));
      n++;
    }),
    { numRuns: 20 },
  );
  return n;
};

/** readTree over random trees of real device arrays, results and static data. */
export const treesOnDevice = async (): Promise<number> => {
  const gpu = await device();
  const twice = gpu.jit((v: V) => ({ y: A.mul(v, 2), k: "static" }));
  let n = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.constantFrom<T.DType>("float32", "int32", "bool"), fc.nat(100), fc.boolean()), {
        maxLength: 4,
      }),
      async (items) => {
        const tensors = items.map(([d, k]) => values([2, (k % 3) + 1], d, k));
        const tree = {
          xs: tensors.map((t) => gpu.upload(t)),
          meta: [1, null],
          out: await twice(tensors[0] ?? T.ones([1])),
        };
        const read = await G.readTree(tree);
        tensors.forEach((t, i) => expectClose(read.xs[i]!, t, 1, 1, `leaf ${i}`));
        expectClose(read.out.y, A.mul(tensors[0] ?? T.ones([1]), 2) as T.Tensor, 1, 4, "a call's result");
        expect([read.meta, read.out.k]).toEqual([[1, null], "static"]);
        G.disposeTree(tree);
        expect(tree.xs.every((a) => a.disposed) && tree.out.y.disposed).toBe(true);
        if (tree.xs.length > 0)
          expect((await expectRejectedAsync(["readTree", "read"], () => G.readTree(tree))).message).toMatch(/disposed/);
        n++;
      },
    ),
    { numRuns: 30 },
  );
  return n;
};

/** The device and its registration: "webgpu" names it, results match by every way of asking. */
export const webgpuOnDevice = async (): Promise<number> => {
  const gpu = await device();
  expect(typeof gpu.adapterInfo.vendor).toBe("string");
  expect([gpu.name, gpu.lost]).toEqual(["webgpu", undefined]);
  const f = (v: V) => A.tanh(A.matmul(v, A.transpose(v)));
  const x = values([3, 4], "float32", 1);
  const want = f(x) as T.Tensor;
  for (const g of [gpu.jit(f), A.jit(f, { backend: gpu }), A.jit(f, { backend: "webgpu" })])
    expectClose(await ((await g(x)) as G.GpuArray).read(), want, 4, 4, "three ways to jit");
  return 4;
};
