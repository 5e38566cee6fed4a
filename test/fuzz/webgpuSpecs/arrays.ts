/**
 * @file Device-free specs of `GpuArray`, `readTree`, `disposeTree`, `isDeviceArray` and
 * `loweredPrimitives` (root `pnpm test`): device arrays that hold host values (as a call's scalar
 * results do) are made, read, disposed and walked in random pytrees without a device; hostile
 * parts and trees are refused naming the op and the argument. Reading device buffers is in the
 * Dawn suite.
 *
 * Decisions pinned here: `new GpuArray(…)` of parts that do not fit is refused when made (it used
 * to be taken, and `read` to throw a TypeError later); anything in a tree that is not a device
 * array of this package — a tensor, a number, a look-alike object — comes back from `readTree` as
 * it was; an object made from `GpuArray.prototype` passes `isDeviceArray` (it is `instanceof`).
 */
import fc from "fast-check";
import { expect } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import * as G from "@rewind/webgpu";
import { prop, rejectEach } from "../apiKit.js";
import { expectRejectedAsync } from "../workersSpecs/asyncKit.js";
import { hostArray, stubBackend } from "./backend.js";

/** A small host value of a dtype a device array may hold on the host (float64 included). */
const hostValue = fc
  .record({
    dtype: fc.constantFrom<T.DType>("float32", "int32", "bool", "float64"),
    shape: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }),
    seed: fc.nat(1000),
  })
  .map(({ dtype, shape, seed }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = Array.from({ length: size }, (_, i) =>
      dtype === "bool" ? (seed + i) % 2 : (((seed + 7 * i) % 19) - 9) / (dtype === "int32" ? 1 : 4),
    );
    return T.fromDataOrThrow(data, shape, dtype);
  });

/** The same bits, dtype and shape. */
const same = (a: unknown, b: T.Tensor): boolean =>
  T.isTensor(a) &&
  a.dtype === b.dtype &&
  T.shapesEqual(a.shape, b.shape) &&
  Array.from(a.data).every((v, i) => Object.is(v, b.data[i]));

export const GpuArraySpec = async (): Promise<number> => {
  const gpu = await stubBackend();
  const holder = gpu as unknown as G.Holder;
  const x = T.tensor([1, 2, 3]);
  const holes = new Array<number>(2);
  // Regression: each was taken, and failed later (read threw a TypeError, or gave another shape).
  let n = rejectEach(["GpuArray"], {
    "holder null": () => new G.GpuArray(null as never, x, "float32", [3]),
    "holder {}": () => new G.GpuArray({} as never, x, "float32", [3]),
    "buffer null": () => new G.GpuArray(holder, null as never, "float32", [3]),
    "buffer a number": () => new G.GpuArray(holder, 3 as never, "float32", [3]),
    "buffer an array": () => new G.GpuArray(holder, [1, 2, 3] as never, "float32", [3]),
    "dtype int64": () => new G.GpuArray(holder, x, "int64" as never, [3]),
    "dtype float64 for a buffer": () => new G.GpuArray(holder, { destroy: () => undefined } as never, "float64", [3]),
    "shape null": () => new G.GpuArray(holder, x, "float32", null as never),
    "shape [-3]": () => new G.GpuArray(holder, x, "float32", [-3]),
    "shape [1.5]": () => new G.GpuArray(holder, x, "float32", [1.5]),
    "shape with holes": () => new G.GpuArray(holder, T.ones([2, 1]), "float32", holes),
    "a host value of another shape": () => new G.GpuArray(holder, x, "float32", [4]),
    "a host value of another dtype": () => new G.GpuArray(holder, x, "int32", [3]),
  });
  n += prop(
    hostValue,
    (t) => {
      const a = hostArray(gpu, t);
      expect([a.dtype, a.shape, a.disposed, a.onHost, G.isDeviceArray(a)]).toEqual([
        t.dtype,
        t.shape,
        false,
        true,
        true,
      ]);
      expect(a.value("op")).toBe(t);
      a.dispose();
      a.dispose();
      expect(a.disposed).toBe(true);
      expect(() => a.value("someOp")).toThrow(/^someOp: .*was disposed.*`device array`/s);
    },
    30,
  );
  // read resolves to the host value; a disposed array's read rejects (never throws at once).
  const a = hostArray(gpu, x);
  expect(same(await a.read(), x)).toBe(true);
  a.dispose();
  const pending = a.read();
  expect((await expectRejectedAsync(["read"], () => pending)).message).toMatch(/\[3\] float32 array was disposed/);
  // buffer() uploads a host value (here: the stub refuses, so float64 is refused before it).
  expect(() => hostArray(gpu, T.scalar(0.5, "float64")).buffer("call")).toThrow(/float64 host value/);
  return n + 3;
};

/** A random pytree of host-valued device arrays, tensors and static data; and its expected read. */
const treeArb = (gpu: G.WebGpu) =>
  fc.array(fc.tuple(hostValue, fc.constantFrom("device", "tensor", "static")), { maxLength: 5 }).map((items) => {
    const tree: Record<string, unknown> = { meta: { lr: 0.5, tag: "t", none: null } };
    const want: Record<string, unknown> = { meta: { lr: 0.5, tag: "t", none: null } };
    items.forEach(([t, kind], i) => {
      const key = `k${i}`;
      tree[key] = kind === "device" ? [hostArray(gpu, t)] : kind === "tensor" ? [t] : [i];
      want[key] = kind === "static" ? [i] : [t];
    });
    return { tree, want };
  });

/** Every tensor leaf of `got` equals the one of `want` bit for bit, and the rest is equal. */
const sameTree = (got: unknown, want: unknown): void => {
  const [gl, gd] = A.treeFlatten(got);
  const [wl, wd] = A.treeFlatten(want);
  expect(A.treeDefKey(gd)).toBe(A.treeDefKey(wd));
  expect(gl.length).toBe(wl.length);
  wl.forEach((w, i) => expect(same(gl[i], w as T.Tensor), `leaf ${i}`).toBe(true));
};

export const readTreeSpec = async (): Promise<number> => {
  const gpu = await stubBackend();
  const trees = fc.sample(treeArb(gpu), { numRuns: 30, seed: 7 });
  for (const { tree, want } of trees) sameTree(await G.readTree(tree), want);
  // Not trees of device arrays: they come back as they were.
  const lookalike = { shape: [2], dtype: "float32", read: () => Promise.resolve(T.ones([2])) };
  for (const v of [3, "x", null, undefined, lookalike, [T.ones([2])]]) expect(await G.readTree(v)).toEqual(v);
  const cyclic: Record<string, unknown> = { a: hostArray(gpu, T.ones([1])) };
  cyclic["self"] = cyclic;
  const gone = hostArray(gpu, T.ones([2]));
  gone.dispose();
  const cases: Record<string, [() => unknown, RegExp]> = {
    "a tree that contains itself": [() => G.readTree(cyclic), /contains itself/],
    "a disposed array in the tree": [() => G.readTree({ ok: hostArray(gpu, T.ones([1])), gone }), /was disposed/],
  };
  for (const [label, [call, message]] of Object.entries(cases))
    expect((await expectRejectedAsync(["readTree", "treeFlatten", "read"], call)).message, label).toMatch(message);
  return trees.length + 6 + 2;
};

export const disposeTreeSpec = async (): Promise<number> => {
  const gpu = await stubBackend();
  const trees = fc.sample(treeArb(gpu), { numRuns: 30, seed: 11 });
  for (const { tree } of trees) {
    const arrays = A.treeFlatten(tree)[1];
    G.disposeTree(tree);
    G.disposeTree(tree);
    const left = JSON.stringify(arrays, (_k, v: unknown) => (G.isDeviceArray(v) ? v.disposed : v));
    expect(left, "every device array disposed").not.toContain("false");
  }
  const shared = hostArray(gpu, T.ones([2]));
  G.disposeTree([shared, { again: shared }]);
  expect(shared.disposed).toBe(true);
  for (const v of [3, "x", null, undefined, T.ones([2])]) expect(() => G.disposeTree(v)).not.toThrow();
  const cyclic: Record<string, unknown> = { a: hostArray(gpu, T.ones([1])) };
  cyclic["self"] = cyclic;
  const n = rejectEach(["disposeTree", "treeFlatten"], { "a tree that contains itself": () => G.disposeTree(cyclic) });
  return trees.length + 1 + 5 + n;
};

export const isDeviceArraySpec = async (): Promise<number> => {
  const gpu = await stubBackend();
  const values: unknown[] = [
    null,
    undefined,
    0,
    "GpuArray",
    {},
    T.ones([2]),
    { shape: [2], dtype: "float32", disposed: false, read: () => undefined, dispose: () => undefined },
    Object.create(G.GpuArray.prototype),
  ];
  expect(values.map((v) => G.isDeviceArray(v))).toEqual([false, false, false, false, false, false, false, true]);
  const a = hostArray(gpu, T.ones([2]));
  expect(G.isDeviceArray(a)).toBe(true);
  a.dispose();
  expect(G.isDeviceArray(a), "a disposed array is still one").toBe(true);
  return values.length + 2;
};

export const loweredPrimitivesSpec = (): number => {
  const { lowered, cpu } = G.loweredPrimitives();
  expect([...lowered, ...cpu].sort()).toEqual(Object.keys(A.registry).sort());
  expect(lowered.filter((p) => cpu.includes(p))).toEqual([]);
  expect(cpu.sort()).toEqual(["keyFoldIn", "keySplit"]);
  // Fresh lists each call: a caller that edits one changes nothing.
  lowered.push("edited");
  cpu.length = 0;
  expect(G.loweredPrimitives().lowered).not.toContain("edited");
  expect(G.loweredPrimitives().cpu).toHaveLength(2);
  // Arguments are ignored.
  const withArgs: (...a: unknown[]) => G.LoweredPrimitives = G.loweredPrimitives;
  expect(withArgs(1, "x")).toEqual(G.loweredPrimitives());
  return 6;
};
