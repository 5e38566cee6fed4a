/**
 * @file Random cases for the vmap law: small compositions of elementwise ops, a shared matmul, a
 * reduction broadcast back, slicing and a scan, drawn with their batched arguments, so
 * `lawProperties.vmap` exercises several batching rules meeting in one program.
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { keysOf } from "@rewind/tensor/internal/check";
import { checkBoolean, checkInt, checkOptions, invalid } from "./args.js";
import type { FunctionCase } from "./lawOptions.js";

/**
 * Options of `arbVmapCase`.
 * @example arbVmapCase({ dtype: "float32", maxBatch: 2 } satisfies VmapCaseOptions)
 */
export interface VmapCaseOptions {
  /** The float dtype of the arguments (default float64). */
  readonly dtype?: "float32" | "float64";
  /** At most this many examples (default 3; at least 1). */
  readonly maxBatch?: number;
  /**
   * Pass the weight matrix (the second argument) unbatched, for `inAxes: [0, null]` (default
   * false: both arguments are batched on axis 0).
   */
  readonly shared?: boolean;
}

const VMAP_CASE_KEYS = keysOf<VmapCaseOptions>({ dtype: true, maxBatch: true, shared: true });

/** One step of a composition: the running value v `[a, b]`, the example x `[a, b]` and w `[b, b]`. */
type Op = readonly [name: string, step: (v: A.Value, x: A.Value, w: A.Value) => A.Value];

const OPS: readonly Op[] = [
  ["tanh", (v) => A.tanh(v)],
  ["sin", (v) => A.sin(v)],
  ["sigmoid", (v) => A.sigmoid(v)],
  ["square", (v) => A.mul(v, v)],
  ["add x", (v, x) => A.add(v, x)],
  ["mul x", (v, x) => A.mul(v, x)],
  ["matmul w", (v, _x, w) => A.matmul(v, w)],
  ["add row sums", (v) => A.add(v, A.expandDims(A.sum(v, { axis: 1 }), 1))],
  ["flip rows", (v) => A.flip(v, 0)],
  ["shift columns", (v) => A.slice(A.concat([v, v], 1), [null, { start: 1, stop: 1 + v.shape[1]! }])],
  [
    "scan over rows",
    (v) =>
      A.scan(
        (c: A.Value, r: A.Value) => [A.tanh(A.add(A.mul(c, 0.5), r)), c] as const,
        T.zeros([v.shape[1]!], v.dtype),
        v,
      )[1],
  ],
];

/**
 * An arbitrary `FunctionCase` for `laws.vmap`: `f(x, w)` a random composition of 1–4 ops (tanh,
 * sin, sigmoid, square, products with x, `matmul` with w, row sums broadcast back, flips, slices
 * of a concat, a scan over the rows), returning `{ y, total }`; args a batch of x `[n, a, b]` and
 * w `[n, b, b]` (w `[b, b]` with `shared`, to check with `inAxes: [0, null]`).
 * @example fc.assert(lawProperties.vmap(arbVmapCase({ dtype: "float32" })), { numRuns: 10 })
 */
export const arbVmapCase = (o: VmapCaseOptions = {}): fc.Arbitrary<FunctionCase> => {
  checkOptions("arbVmapCase", "o", o, VMAP_CASE_KEYS);
  checkInt("arbVmapCase", "o.maxBatch", o.maxBatch, 1);
  checkBoolean("arbVmapCase", "o.shared", o.shared);
  const dtype = o.dtype ?? "float64";
  if (dtype !== "float32" && dtype !== "float64")
    invalid("arbVmapCase", "o.dtype", `must be "float32" or "float64", got ${String(dtype)}`);
  const shared = o.shared ?? false;
  return fc
    .record({
      n: fc.integer({ min: 1, max: o.maxBatch ?? 3 }),
      a: fc.integer({ min: 1, max: 3 }),
      b: fc.integer({ min: 1, max: 3 }),
      ops: fc.array(fc.constantFrom(...OPS), { minLength: 1, maxLength: 4 }),
      seed: fc.nat(),
    })
    .map(({ n, a, b, ops, seed }): FunctionCase => {
      const [kx, kw] = T.random.split(T.random.key(seed), 2) as [T.Key, T.Key];
      const f = (x: A.Value, w: A.Value) => {
        const y = ops.reduce((v, [, step]) => step(v, x, w), x);
        return { y, total: A.sum(y) };
      };
      return {
        f,
        args: [
          T.random.normal(kx, [n, a, b], dtype),
          T.mul(T.random.normal(kw, shared ? [b, b] : [n, b, b], dtype), 0.5),
        ],
        name:
          `${ops.map(([name]) => name).join(" then ")} ` +
          `(${n} examples of [${a}, ${b}], ${dtype}${shared ? ", w shared" : ""})`,
      };
    });
};
