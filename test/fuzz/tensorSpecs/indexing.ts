/**
 * @file Specs of integer indexing (take, gather, addAt, addAlongAxis, oneHot) and matmul, shared
 * by the tensor and autodiff suites. Where the packages document different semantics, the
 * reference follows each: autodiff's scatter-adds keep `x`'s dtype (JAX's `.at[].add`) where the
 * kernels promote, and autodiff's `oneHot` gives a zero row for an index outside [0, depth).
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";
import type { Outcome } from "../contract.js";
import {
  arbDType,
  arbShape,
  arbTensor,
  arbTensorOf,
  broadcastOf,
  expectTensor,
  returned,
  notAxis,
  notDType,
  notTensor,
  omitted,
  ravel,
  size,
  store,
  unravel,
  type Expected,
  type Hostile,
  type Spec,
  type Tol,
} from "../common.js";
import { checkAgainst, type Lib } from "./elementwise.js";

const h = (label: string, value: unknown): Hostile => ({ label, value });

type Indices = T.Tensor | number[];
const indexData = (ind: Indices): { shape: number[]; data: number[] } =>
  Array.isArray(ind) ? { shape: [ind.length], data: ind } : { shape: [...ind.shape], data: Array.from(ind.data) };

const arbIndices = (bound: number, shape: fc.Arbitrary<number[]> = arbShape(2)): fc.Arbitrary<Indices> => {
  const value = fc.integer({ min: -bound - 1, max: bound });
  return fc.oneof(
    shape.chain((s) => arbTensorOf(s, "int32", value)),
    fc.array(value, { maxLength: 3 }),
  );
};

const normAxis = (a: unknown, rank: number): number | undefined =>
  typeof a === "number" && Number.isInteger(a) && a >= -rank && a < rank ? (a < 0 ? a + rank : a) : undefined;

/** Where `take(x, ind, axis)` reads each output element from (flat offsets into x), or a reason to reject. */
const takePlan = (x: T.Tensor, ind: Indices, axis: number | undefined): { shape: number[]; src: number[] } | string => {
  const shape = axis === undefined ? [size(x.shape)] : [...x.shape];
  const a = axis === undefined ? 0 : normAxis(axis, shape.length);
  if (a === undefined) return "bad axis";
  const { shape: is, data } = indexData(ind);
  const n = shape[a]!;
  if (data.some((i) => i < -n || i >= n)) return "index out of range";
  const out = [...shape.slice(0, a), ...is, ...shape.slice(a + 1)];
  const src = Array.from({ length: size(out) }, (_, o) => {
    const idx = unravel(o, out);
    const j = data[ravel(idx.slice(a, a + is.length), is)]!;
    return ravel([...idx.slice(0, a), j < 0 ? j + n : j, ...idx.slice(a + is.length)], shape);
  });
  return { shape: out, src };
};

/** Where `gather(x, ind, axis)` reads each output element from, or a reason to reject. */
const gatherPlan = (x: T.Tensor, ind: Indices, axis: number): { shape: number[]; src: number[] } | string => {
  const { shape: is, data } = indexData(ind);
  const rank = x.shape.length;
  const a = normAxis(axis, rank);
  if (a === undefined || is.length !== rank) return "bad axis or rank";
  const off = broadcastOf(
    x.shape.map((d, i) => (i === a ? 1 : d)),
    is.map((d, i) => (i === a ? 1 : d)),
  );
  if (off === undefined) return "does not broadcast";
  const n = x.shape[a]!;
  const out = off.map((d, i) => (i === a ? is[a]! : d));
  if (size(out) > 0 && data.some((i) => i < -n || i >= n)) return "index out of range";
  const src = Array.from({ length: size(out) }, (_, o) => {
    const idx = unravel(o, out);
    const j =
      data[
        ravel(
          idx.map((v, i) => (is[i] === 1 ? 0 : v)),
          is,
        )
      ]!;
    return ravel(
      idx.map((v, i) => (i === a ? (j < 0 ? j + n : j) : x.shape[i] === 1 ? 0 : v)),
      x.shape,
    );
  });
  return { shape: out, src };
};

const scatterExpected = (
  lib: Lib,
  x: T.Tensor,
  plan: { shape: number[]; src: number[] } | string,
  values: T.Tensor,
): Expected | string => {
  if (typeof plan === "string") return plan;
  if (!T.shapesEqual(values.shape, plan.shape)) return "values shape mismatch";
  const dtype = lib === "tensor" ? T.promoteTypes(x.dtype, values.dtype) : x.dtype;
  const acc = Array.from(x.data, (v) => store(dtype, v));
  // The kernel stores after every addition (float32 rounds each time); autodiff casts values to x's dtype first.
  plan.src.forEach((p, i) => {
    const v = values.data[i]!;
    acc[p] = store(dtype, acc[p]! + (lib === "autodiff" ? store(dtype, v) : v));
  });
  return { dtype, shape: x.shape, values: acc };
};

const notIndices: readonly Hostile[] = [
  h("null", null),
  h('"x"', "x"),
  h("[1.5]", [1.5]),
  h('["0"]', ["0"]),
  h("[NaN]", [NaN]),
  h("a float32 tensor", T.tensor([0])),
  h("{}", {}),
  h("[[0]] (nested)", [[0]]),
];

const matmulExpected = (a: T.Tensor, b: T.Tensor): Expected | string => {
  if (a.shape.length === 0 || b.shape.length === 0) return "scalar operand";
  const as = a.shape.length === 1 ? [1, a.shape[0]!] : [...a.shape];
  const bs = b.shape.length === 1 ? [b.shape[0]!, 1] : [...b.shape];
  const [m, k] = as.slice(-2) as [number, number];
  const [k2, n] = bs.slice(-2) as [number, number];
  if (k !== k2) return "inner sizes differ";
  const batch = broadcastOf(as.slice(0, -2), bs.slice(0, -2));
  if (batch === undefined) return "batch axes do not broadcast";
  const promoted = T.promoteTypes(a.dtype, b.dtype);
  const full = [...batch, m, n];
  const values = Array.from({ length: size(full) }, (_, o) => {
    const idx = unravel(o, full);
    const bi = idx.slice(0, -2);
    const [i, j] = idx.slice(-2) as [number, number];
    const read = (t: T.Tensor, ts: number[], r: number, c: number): number => {
      const lead = bi.length - (ts.length - 2);
      return t.data[ravel([...ts.slice(0, -2).map((d, q) => (d === 1 ? 0 : bi[lead + q]!)), r, c], ts)]!;
    };
    let s = 0;
    for (let p = 0; p < k; p++) {
      const x = read(a, as, i, p);
      const y = read(b, bs, p, j);
      s = promoted === "int32" || promoted === "bool" ? (s + Math.imul(x, y)) | 0 : s + x * y;
    }
    return store(promoted, s);
  });
  const shape = [...batch, ...(a.shape.length === 1 ? [] : [m]), ...(b.shape.length === 1 ? [] : [n])];
  return { dtype: promoted, shape, values };
};

const arbMatmulPair: fc.Arbitrary<[T.Tensor, T.Tensor]> = fc
  .tuple(
    fc.integer({ min: 0, max: 3 }),
    fc.integer({ min: 0, max: 3 }),
    fc.integer({ min: 0, max: 3 }),
    fc.integer({ min: 1, max: 3 }),
    fc.integer({ min: 1, max: 3 }),
    arbShape(2, 2),
    fc.boolean(),
    fc.nat(6),
  )
  .chain(([m, k, n, ra, rb, batch, dropLead, roll]) => {
    const aShape = ra === 1 ? [k] : [...(ra === 3 ? batch : []), m, k];
    const bShape = rb === 1 ? [k] : [...(rb === 3 ? (dropLead ? batch.slice(1) : batch) : []), k, n];
    // One draw in seven breaks the inner size, and scalars appear as operands too.
    const b2 =
      roll === 0 ? [...bShape.slice(0, -1), bShape[bShape.length - 1]! + (rb === 1 ? 1 : 0)] : roll === 1 ? [] : bShape;
    const a2 = roll === 0 && rb !== 1 ? [...aShape.slice(0, -1), k + 1] : aShape;
    return fc.tuple(
      arbDType.chain((d) => arbTensorOf(a2, d)),
      arbDType.chain((d) => arbTensorOf(b2, d)),
    );
  });

/** Tolerance of matmul: float32 accumulates in float32, so compare with the float64 sum loosely. */
export const matmulTol = (dtype: T.DType): Tol =>
  dtype === "float32" ? { rtol: 1e-5, atol: 1e-4 } : { rtol: 1e-13, atol: 1e-13 };

const checkPlan = (
  lib: Lib,
  op: string,
  x: T.Tensor,
  plan: { shape: number[]; src: number[] } | string,
  out: Outcome<unknown>,
): void =>
  checkAgainst(
    lib,
    op,
    typeof plan === "string" ? plan : { dtype: x.dtype, shape: plan.shape, values: plan.src.map((p) => x.data[p]!) },
    out,
  );

/** Specs of the indexing ops and matmul. */
export const indexingSpecs = (lib: Lib): Record<string, Spec> => ({
  take: {
    valid: arbTensor().chain((x) =>
      fc.tuple(
        fc.constant(x),
        arbIndices(Math.max(1, ...x.shape)),
        fc.option(fc.integer({ min: -x.shape.length - 1, max: x.shape.length }), { nil: undefined }),
      ),
    ),
    check: (args, out) =>
      checkPlan(
        lib,
        "take",
        args[0] as T.Tensor,
        takePlan(args[0] as T.Tensor, args[1] as Indices, args[2] as number | undefined),
        out,
      ),
    slots: [{ reject: notTensor }, { reject: notIndices }, { reject: notAxis, tolerate: [omitted] }],
  },
  gather: {
    valid: arbTensor({ shape: arbShape(3, 3, 1) }).chain((x) =>
      fc.tuple(
        fc.constant(x),
        arbIndices(
          Math.max(1, ...x.shape),
          fc.constantFrom(
            x.shape.map((d) => Math.min(d, 2)),
            x.shape.map(() => 1),
            [...x.shape],
          ),
        ),
        fc.integer({ min: -x.shape.length, max: x.shape.length - 1 }),
      ),
    ),
    check: (args, out) =>
      checkPlan(
        lib,
        "gather",
        args[0] as T.Tensor,
        gatherPlan(args[0] as T.Tensor, args[1] as Indices, args[2] as number),
        out,
      ),
    slots: [{ reject: notTensor }, { reject: notIndices }, { reject: [...notAxis, h("undefined", undefined)] }],
  },
  addAt: {
    valid: arbTensor({ shape: arbShape(2, 3, 1) }).chain((x) =>
      fc
        .tuple(
          fc.constant(x),
          arbIndices(Math.max(1, ...x.shape), fc.constant([2])),
          fc.option(fc.integer({ min: -1, max: x.shape.length - 1 }), { nil: undefined }),
          arbDType,
        )
        .chain(([x2, ind, axis, d]) => {
          const plan = takePlan(x2, ind, axis);
          return arbTensorOf(typeof plan === "string" ? [1] : plan.shape, lib === "tensor" ? d : x2.dtype).map((v) => [
            x2,
            ind,
            v,
            axis,
          ]);
        }),
    ),
    check: (args, out) => {
      const [x, ind, v, axis] = args as [T.Tensor, Indices, T.Tensor, number | undefined];
      checkAgainst(lib, "addAt", scatterExpected(lib, x, takePlan(x, ind, axis), v), out);
    },
    slots: [
      { reject: notTensor },
      { reject: notIndices },
      { reject: notTensor },
      { reject: notAxis, tolerate: [omitted] },
    ],
  },
  addAlongAxis: {
    valid: arbTensor({ shape: arbShape(2, 3, 1) }).chain((x) =>
      fc
        .tuple(
          fc.constant(x),
          arbIndices(Math.max(1, ...x.shape), fc.constant(x.shape.map((d) => Math.min(d, 2)))),
          fc.integer({ min: -x.shape.length, max: x.shape.length - 1 }),
          arbDType,
        )
        .chain(([x2, ind, axis, d]) => {
          const plan = gatherPlan(x2, ind, axis);
          return arbTensorOf(typeof plan === "string" ? [1] : plan.shape, lib === "tensor" ? d : x2.dtype).map((v) => [
            x2,
            ind,
            v,
            axis,
          ]);
        }),
    ),
    check: (args, out) => {
      const [x, ind, v, axis] = args as [T.Tensor, Indices, T.Tensor, number];
      checkAgainst(lib, "addAlongAxis", scatterExpected(lib, x, gatherPlan(x, ind, axis), v), out);
    },
    slots: [
      { reject: notTensor },
      { reject: notIndices },
      { reject: notTensor },
      { reject: [...notAxis, h("undefined", undefined)] },
    ],
  },
  oneHot: {
    valid: fc.tuple(arbIndices(3), fc.integer({ min: 0, max: 4 }), fc.option(arbDType, { nil: undefined })),
    check: (args, out) => {
      const [ind, depth, dtype = "float32"] = args as [Indices, number, T.DType | undefined];
      const { shape, data } = indexData(ind);
      const bad = data.some((i) => i < 0 || i >= depth);
      const want: Expected | string =
        bad && lib === "tensor"
          ? "index out of range"
          : {
              dtype,
              shape: [...shape, depth],
              values: Array.from({ length: size(shape) * depth }, (_, p) =>
                store(dtype, data[Math.floor(p / depth)] === p % depth ? 1 : 0),
              ),
            };
      checkAgainst(lib, "oneHot", want, out);
    },
    slots: [
      { reject: notIndices },
      { reject: [h("-1", -1), h("1.5", 1.5), h("NaN", NaN), h('"3"', "3"), h("null", null), h("2**40", 2 ** 40)] },
      { reject: notDType, tolerate: [omitted] },
    ],
  },
  matmul: {
    valid: arbMatmulPair.map(([a, b]) => [a, b]),
    check: (args, out) => {
      const want = matmulExpected(args[0] as T.Tensor, args[1] as T.Tensor);
      if (typeof want === "string") return checkAgainst(lib, "matmul", want, out);
      expectTensor(returned(out, "matmul"), want, matmulTol(want.dtype), "matmul");
    },
    slots: [{ reject: notTensor }, { reject: notTensor }],
    runs: 60,
  },
});
