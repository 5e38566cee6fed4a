/**
 * @file Specs of `place`, `isPlaced`, `Placed` and `WorkerFailure` (no worker runs here; the pmap
 * spec passes placed values to real workers).
 *
 * Decisions pinned here: `place` takes axis 0 or null only (anything else used to mean null); a
 * sharded leaf needs a multiple of the workers' rows, at least one each; numbers in the tree are
 * static data and come back from `value()` as they were. `new Placed(…)` of parts that do not fit
 * is refused when made (it used to fail later inside `value()` with a TypeError). `WorkerFailure`
 * never throws while it is made, whatever it is given: it is built while reporting another failure.
 */
import fc from "fast-check";
import { expect } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import * as W from "@rewind/workers";
import { BAD_SIZES, prop, rejectEach, rejectPool } from "../apiKit.js";
import { callClean, isLibraryError, rethrow } from "../contract.js";
import { leafArb, sameBits } from "./collectives.js";

type Spec = () => number;

/** A tensor with `rows · workers` rows of a random dtype (bool included: placing is a copy). */
const shardable = (workers: number): fc.Arbitrary<T.Tensor> =>
  fc
    .record({
      dtype: fc.constantFrom("float32", "float64", "int32", "bool"),
      rows: fc.integer({ min: 1, max: 3 }),
      cols: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }),
      seed: fc.nat(),
    })
    .map(({ dtype, rows, cols, seed }) => {
      const shape = [rows * workers, ...cols];
      const size = shape.reduce((a, b) => a * b, 1);
      const data = Array.from({ length: size }, (_, i) =>
        dtype === "bool" ? (seed + i) % 2 : ((seed + i * 7) % 23) - 11,
      );
      return T.fromDataOrThrow(data, shape, dtype);
    });

export const placeSpec: Spec = () => {
  let n = prop(
    fc.record({
      workers: fc.integer({ min: 1, max: 4 }),
      leaves: fc.array(leafArb(["float32", "int32", "bool"]), { maxLength: 3 }),
    }),
    ({ workers, leaves }) => {
      const tree = { leaves, lr: 0.5, name: "w" };
      const handle = W.place(tree, workers);
      expect([W.isPlaced(handle), handle.workers]).toEqual([true, workers]);
      const back = handle.value();
      expect([back.lr, back.name, back.leaves.length]).toEqual([0.5, "w", leaves.length]);
      leaves.forEach((l, i) => expect(sameBits(back.leaves[i], l), `replicated leaf ${i}`).toBe(true));
    },
    25,
  );
  n += prop(
    fc
      .integer({ min: 1, max: 4 })
      .chain((w) => fc.tuple(fc.constant(w), fc.array(shardable(w), { minLength: 1, maxLength: 3 }))),
    ([workers, leaves]) => {
      const back = W.place(leaves, workers, 0).value();
      leaves.forEach((l, i) => expect(sameBits(back[i], l), `sharded leaf ${i}`).toBe(true));
    },
    25,
  );
  // A copy: changing the source afterwards does not change the placed value.
  const src = T.tensor([1, 2]);
  const h = W.place(src, 1);
  (src.data as Float32Array)[0] = 9;
  expect(Array.from(h.value().data)).toEqual([1, 2]);
  n += 1;
  const x = T.ones([4, 2]);
  n += rejectPool(["place"], BAD_SIZES, (w) => W.place(x, w as number));
  // Regression: an axis other than 0 or null was taken for null (replicated) without a word.
  n += rejectPool(["place"], [1, -1, "0", "null", NaN, true, {}, [0]], (axis) => W.place(x, 2, axis as 0));
  n += rejectEach(["place", "treeFlatten"], {
    "3 rows over 2 workers": () => W.place(T.ones([3, 2]), 2, 0),
    "1 row over 2 workers": () => W.place(T.ones([1]), 2, 0),
    "0 rows over 2 workers": () => W.place(T.zeros([0, 2]), 2, 0),
    "a scalar sharded": () => W.place(T.scalar(1), 2, 0),
    "one leaf of a tree that does not split": () => W.place({ a: T.ones([4]), b: T.ones([3]) }, 2, 0),
    "a traced value (inside jit)": () =>
      A.jit((v: A.Value) => {
        W.place(v, 2);
        return v;
      })(T.ones([2])),
    "a tree that contains itself": () => {
      const c: Record<string, unknown> = { x: T.ones([2]) };
      c["c"] = c;
      return W.place(c, 2);
    },
  });
  return n;
};

export const isPlacedSpec: Spec = () => {
  const real = W.place({ a: T.ones([2]) }, 2);
  const values: unknown[] = [
    null,
    undefined,
    0,
    "Placed",
    {},
    T.ones([2]),
    Object.create(W.Placed.prototype as object),
  ];
  // A plain object dressed as a handle is not one; an object made from the prototype passes instanceof.
  expect(values.map((v) => W.isPlaced(v))).toEqual([false, false, false, false, false, false, true]);
  expect(W.isPlaced(real)).toBe(true);
  return values.length + 1;
};

/** The parts of a valid replicated handle of `data` (float32), built by hand. */
const parts = (data: readonly number[]) => {
  const buffer = new SharedArrayBuffer(data.length * 4);
  new Float32Array(buffer).set(data);
  const leaf: W.PlacedLeaf = {
    dtype: "float32",
    shape: [data.length],
    sharded: false,
    buffers: [buffer],
    reused: false,
  };
  return { def: A.treeStructure({ w: T.zeros([data.length]) }), leaf };
};

export const PlacedSpec: Spec = () => {
  const { def, leaf } = parts([1, 2, 3]);
  const handle = new W.Placed<{ w: T.Tensor }>(def, [leaf], 2);
  expect(Array.from(handle.value().w.data)).toEqual([1, 2, 3]);
  expect([handle.workers, W.isPlaced(handle)]).toEqual([2, true]);
  // A donated handle refuses to be read: its memory may hold a later result.
  const given = new W.Placed<{ w: T.Tensor }>(def, [leaf], 2);
  given.donate("a test");
  let n = 2;
  n += rejectEach(["Placed.value"], { "value() of a donated handle": () => given.value() });
  const unshared = { ...leaf, buffers: [new ArrayBuffer(12)] } as unknown as W.PlacedLeaf;
  // Regression: each used to be accepted and to throw a TypeError later, in value() or a call.
  n += rejectEach(["Placed", "treeLeafCount"], {
    nothing: () => new (W.Placed as unknown as new () => unknown)(),
    "def null": () => new W.Placed(null as never, [leaf], 2),
    "def of another kind": () => new W.Placed({ kind: "tensor" } as never, [leaf], 2),
    "leaves null": () => new W.Placed(def, null as never, 2),
    "no leaves for one": () => new W.Placed(def, [], 2),
    "two leaves for one": () => new W.Placed(def, [leaf, leaf], 2),
    "workers 0": () => new W.Placed(def, [leaf], 0),
    "workers 1.5": () => new W.Placed(def, [leaf], 1.5),
    "a leaf that is a tensor": () => new W.Placed(def, [T.zeros([3]) as never], 2),
    "a leaf of dtype int64": () => new W.Placed(def, [{ ...leaf, dtype: "int64" as never }], 2),
    "a negative dimension": () => new W.Placed(def, [{ ...leaf, shape: [-3] }], 2),
    "an ArrayBuffer, not shared": () => new W.Placed(def, [unshared], 2),
    "a buffer too small": () => new W.Placed(def, [{ ...leaf, buffers: [new SharedArrayBuffer(8)] }], 2),
    "two buffers for a replicated leaf": () =>
      new W.Placed(def, [{ ...leaf, buffers: [...leaf.buffers, ...leaf.buffers] }], 2),
    "sharded, one buffer for two workers": () => new W.Placed(def, [{ ...leaf, shape: [2], sharded: true }], 2),
    "sharded, 3 rows over 2 workers": () =>
      new W.Placed(def, [{ ...leaf, sharded: true, buffers: [...leaf.buffers, ...leaf.buffers] }], 2),
  });
  return n;
};

export const WorkerFailureSpec: Spec = () => {
  let n = prop(
    fc.record({
      op: fc.string(),
      worker: fc.nat(64),
      detail: fc.string(),
      fix: fc.string(),
      cause: fc.option(fc.string()),
    }),
    ({ op, worker, detail, fix, cause }) => {
      const e = new W.WorkerFailure(op, worker, detail, fix, cause ?? undefined);
      expect(e.message).toBe(`${op}: worker ${worker} ${detail}${fix === "" ? "" : `; ${fix}`}`);
      expect(e.error).toEqual({ _tag: "WorkerError", op, arg: `worker ${worker}`, worker, detail, fix });
      expect([e.name, e instanceof T.RewindError, e instanceof Error, e.cause]).toEqual([
        "WorkerFailure",
        true,
        true,
        cause ?? undefined,
      ]);
    },
    30,
  );
  // Thrown, it is one of the library's errors, as the contract of every suite reads them.
  const thrown = new W.WorkerFailure("pmap", 1, "died (exit code 7)");
  expect(isLibraryError(thrown)).toBe(true);
  expect(callClean(["pmap"], () => rethrow(thrown)).ok).toBe(false);
  expect(thrown.message).toBe("pmap: worker 1 died (exit code 7)");
  n += 3;
  // Made while reporting something else: never throws, whatever it gets (a symbol used to throw a TypeError).
  const hostile: unknown[][] = [
    [],
    [null, NaN, undefined, null],
    [Symbol("op"), 1, Symbol("d"), Symbol("f")],
    [{}, -1, [], 5],
  ];
  for (const args of hostile) {
    const e = new (W.WorkerFailure as unknown as new (...a: unknown[]) => W.WorkerFailure)(...args);
    expect(typeof e.message).toBe("string");
  }
  return n + hostile.length;
};
