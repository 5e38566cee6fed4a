/**
 * @file Specs of the cumulative ops (cumsum, cumprod, cummax, cummin, logcumsumexp), shared by
 * the tensor and autodiff suites. The reference folds each output's prefix afresh, naively, in the
 * kernels' order (from the start of the axis, or from its end with `reverse`), so sums, products
 * and extremes must match exactly; logcumsumexp is compared with a shifted log Σ exp per prefix.
 * linearScan (h_t = a_t · h_{t−1} + b_t) is checked against the recurrence run per output.
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";
import { GraphException } from "@rewind/autodiff";
import type { Outcome } from "../contract.js";
import {
  arbTensor,
  badOption,
  expectTensor,
  misspelt,
  notAxis,
  notBoolean,
  notOptionsObject,
  notTensor,
  omitted,
  ravel,
  rejected,
  returned,
  store,
  unknownOption,
  unravel,
  type Expected,
  type Spec,
} from "../common.js";
import type { Lib } from "./elementwise.js";

type Fold = (prefix: readonly number[], dtype: T.DType) => number;

const extreme =
  (better: (v: number, b: number) => boolean): Fold =>
  (p) =>
    p.reduce((b, v) => (b !== b || v !== v || better(v, b) ? (b !== b ? b : v) : b));

const folds: Readonly<Record<string, Fold>> = {
  cumsum: (p, dtype) => p.reduce((a, v) => (dtype === "int32" ? (a + v) | 0 : a + v), 0),
  cumprod: (p, dtype) => p.reduce((a, v) => (dtype === "int32" ? Math.imul(a, v) : a * v), 1),
  cummax: extreme((v, b) => v > b),
  cummin: extreme((v, b) => v < b),
  logcumsumexp: (p) => {
    const m = p.reduce((a, v) => (v > a ? v : a), -Infinity);
    const s = Number.isFinite(m) ? m : 0;
    return s + Math.log(p.reduce((a, v) => a + Math.exp(v - s), 0));
  },
};

/** The cumulative ops' names. */
export const cumulativeNames: readonly string[] = Object.keys(folds);

const resultDType = (op: string, dtype: T.DType): T.DType =>
  op === "logcumsumexp"
    ? T.floatResultType(dtype)
    : (op === "cumsum" || op === "cumprod") && dtype === "bool"
      ? "int32"
      : dtype;

const cumulativeExpected = (lib: Lib, op: string, x: T.Tensor, opts: unknown): Expected | string => {
  const rank = x.shape.length;
  const o = (opts ?? {}) as { axis?: number; reverse?: boolean };
  if (rank === 0) return "a scalar has no axis";
  const a = o.axis ?? -1;
  if (a < -rank || a >= rank) return `axis ${a} out of range for rank ${rank}`;
  const axis = a < 0 ? a + rank : a;
  const dtype = resultDType(op, x.dtype);
  // Autodiff converts ints to float32 before logcumsumexp; the kernel reads them exactly.
  const data =
    lib === "autodiff" && op === "logcumsumexp" && !T.isFloating(x.dtype) ? Array.from(x.data, Math.fround) : x.data;
  const n = x.shape[axis]!;
  const values = Array.from({ length: data.length }, (_, i) => {
    const idx = unravel(i, x.shape);
    const j = idx[axis]!;
    const at = (k: number) =>
      data[
        ravel(
          idx.map((v, d) => (d === axis ? k : v)),
          x.shape,
        )
      ]!;
    const order =
      o.reverse === true
        ? Array.from({ length: n - j }, (_, q) => n - 1 - q)
        : Array.from({ length: j + 1 }, (_, q) => q);
    return store(dtype, folds[op]!(order.map(at), dtype));
  });
  return { dtype, shape: x.shape, values };
};

/** Sums, products and extremes are exact; logcumsumexp is within rounding of the naive form. */
const tolerance = (op: string, dtype: T.DType) =>
  op !== "logcumsumexp" ? {} : dtype === "float32" ? { rtol: 2.4e-7, atol: 2.4e-7 } : { rtol: 1e-13, atol: 1e-13 };

const check = (op: string, want: Expected | string, out: Outcome<unknown>): void => {
  if (typeof want === "string") rejected(out, `${op} (${want})`);
  else expectTensor(returned(out, op), want, tolerance(op, want.dtype), op);
};

const arbOptions = (rank: number): fc.Arbitrary<{ axis?: number; reverse?: boolean } | undefined> =>
  fc.oneof(
    fc.constant(undefined),
    fc.record({ axis: fc.integer({ min: -rank - 1, max: rank }), reverse: fc.boolean() }, { requiredKeys: [] }),
  );

/** Specs of the cumulative ops. */
export const cumulativeSpecs = (lib: Lib): Record<string, Spec> =>
  Object.fromEntries(
    cumulativeNames.map((op) => {
      const spec: Spec = {
        valid: arbTensor().chain((x) => fc.tuple(fc.constant(x), arbOptions(x.shape.length))),
        check: (args, out) => check(op, cumulativeExpected(lib, op, args[0] as T.Tensor, args[1]), out),
        slots: [
          { reject: notTensor },
          {
            reject: [
              ...notOptionsObject,
              ...badOption("axis", notAxis),
              ...badOption("reverse", notBoolean),
              unknownOption,
              ...misspelt(["axis", "reverse"], {
                error: lib === "tensor" ? T.TensorException : GraphException,
                names: [op],
                base: { axis: 0, reverse: true },
              }),
            ],
            tolerate: [
              omitted,
              { label: "{}", value: {} },
              { label: "{ axis: undefined }", value: { axis: undefined } },
            ],
          },
        ],
      };
      return [op, spec];
    }),
  );

const linearScanExpected = (lib: Lib, a: T.Tensor, b: T.Tensor, opts: unknown): Expected | string => {
  if (lib === "tensor" && !T.isFloating(a.dtype)) return "linearScan takes float tensors";
  const rank = a.shape.length;
  const o = (opts ?? {}) as { axis?: number; reverse?: boolean };
  if (rank === 0) return "a scalar has no axis";
  const ax = o.axis ?? -1;
  if (ax < -rank || ax >= rank) return `axis ${ax} out of range for rank ${rank}`;
  const axis = ax < 0 ? ax + rank : ax;
  // Autodiff computes ints and bools as float32.
  const dtype = T.floatResultType(a.dtype);
  const read = (t: T.Tensor) => (T.isFloating(t.dtype) ? Array.from(t.data) : Array.from(t.data, Math.fround));
  const [ad, bd] = [read(a), read(b)];
  const n = a.shape[axis]!;
  const values = Array.from({ length: ad.length }, (_, i) => {
    const idx = unravel(i, a.shape);
    const j = idx[axis]!;
    const at = (k: number) =>
      ravel(
        idx.map((v, d) => (d === axis ? k : v)),
        a.shape,
      );
    let h = 0;
    if (o.reverse === true) for (let k = n - 1; k >= j; k--) h = ad[at(k)]! * h + bd[at(k)]!;
    else for (let k = 0; k <= j; k++) h = ad[at(k)]! * h + bd[at(k)]!;
    return store(dtype, h);
  });
  return { dtype, shape: a.shape, values };
};

/** The spec of linearScan: a and b of one shape and dtype (every dtype; the tensor kernel takes floats). */
export const linearScanSpec = (lib: Lib): Spec => ({
  valid: arbTensor().chain((a) =>
    fc.tuple(
      fc.constant(a),
      arbTensor({ shape: fc.constant([...a.shape]), dtype: fc.constant(a.dtype) }),
      arbOptions(a.shape.length),
    ),
  ),
  check: (args, out) =>
    check("linearScan", linearScanExpected(lib, args[0] as T.Tensor, args[1] as T.Tensor, args[2]), out),
  slots: [
    { reject: notTensor },
    { reject: notTensor },
    {
      reject: [
        ...notOptionsObject,
        ...badOption("axis", notAxis),
        ...badOption("reverse", notBoolean),
        unknownOption,
        ...misspelt(["axis", "reverse"], {
          error: lib === "tensor" ? T.TensorException : GraphException,
          names: ["linearScan"],
          base: { axis: 0, reverse: true },
        }),
      ],
      tolerate: [omitted, { label: "{}", value: {} }],
    },
  ],
});
