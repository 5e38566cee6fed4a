/**
 * @file Specs of the reductions (sum, mean, prod, max, min, argmax, argmin, logSumExp), the
 * softmax pair and sumTo, shared by the tensor and autodiff suites. References walk every group
 * of a reduction naively, in row-major order of the reduced axes.
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";
import { GraphException } from "@rewind/autodiff";
import type { Outcome } from "../contract.js";
import {
  arbShape,
  arbTensor,
  badOption,
  notAxis,
  notAxisOrList,
  misspelt,
  notBoolean,
  notOptionsObject,
  notShape,
  notTensor,
  omitted,
  ravel,
  size,
  store,
  unknownOption,
  unravel,
  type Expected,
  type Slot,
  type Spec,
} from "../common.js";
import { checkAgainst, type Lib } from "./elementwise.js";

/** Normalised, sorted axes, or a reason the library must reject them. */
const normAxes = (axis: unknown, rank: number): number[] | string => {
  if (axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axis === "number" ? [axis] : (axis as number[]);
  const out: number[] = [];
  for (const a of list) {
    if (!Number.isInteger(a) || a < -rank || a >= rank) return `axis ${a} out of range for rank ${rank}`;
    out.push(a < 0 ? a + rank : a);
  }
  if (new Set(out).size !== out.length) return "repeated axis";
  return out.sort((p, q) => p - q);
};

/** The groups of a reduction over `axes`: one list of values per output element, and the kept shape. */
const groupsOf = (
  shape: readonly number[],
  data: ArrayLike<number>,
  axes: readonly number[],
): { kept: number[]; groups: number[][] } => {
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const reduced = shape.map((d, i) => (axes.includes(i) ? d : 1));
  const groups = Array.from({ length: size(kept) }, (_, o) => {
    const oi = unravel(o, kept);
    return Array.from({ length: size(reduced) }, (_, r) => {
      const ri = unravel(r, reduced);
      return data[
        ravel(
          oi.map((v, i) => (axes.includes(i) ? ri[i]! : v)),
          shape,
        )
      ]!;
    });
  });
  return { kept, groups };
};

const maxIgnoringNaN = (g: readonly number[]): number => g.reduce((m, v) => (v > m ? v : m), -Infinity);
const shiftOf = (g: readonly number[]): number => {
  const m = maxIgnoringNaN(g);
  return Number.isFinite(m) ? m : 0;
};
const firstExtreme = (g: readonly number[], better: (v: number, best: number) => boolean): number => {
  let at = 0;
  for (let j = 1; j < g.length && !Number.isNaN(g[at]!); j++) if (Number.isNaN(g[j]!) || better(g[j]!, g[at]!)) at = j;
  return at;
};

type Fold = (g: readonly number[], dtype: T.DType) => number;
const folds: Readonly<Record<string, Fold>> = {
  sum: (g) => g.reduce((a, v) => a + v, 0),
  mean: (g) => g.reduce((a, v) => a + v, 0) / g.length,
  prod: (g, dtype) => (dtype === "int32" ? g.reduce((a, v) => Math.imul(a, v), 1) : g.reduce((a, v) => a * v, 1)),
  max: (g) => (g.some(Number.isNaN) ? NaN : Math.max(...g)),
  min: (g) => (g.some(Number.isNaN) ? NaN : Math.min(...g)),
  argmax: (g) => firstExtreme(g, (v, b) => v > b),
  argmin: (g) => firstExtreme(g, (v, b) => v < b),
  logSumExp: (g) => {
    const s = shiftOf(g);
    return s + Math.log(g.reduce((a, v) => a + Math.exp(v - s), 0));
  },
};

const resultDType = (op: string, dtype: T.DType): T.DType =>
  op === "argmax" || op === "argmin"
    ? "int32"
    : op === "mean" || op === "logSumExp"
      ? T.floatResultType(dtype)
      : op === "max" || op === "min"
        ? dtype
        : dtype === "bool"
          ? "int32"
          : dtype;

/** Autodiff converts integers to float32 before mean and logSumExp; the kernels read them exactly. */
const readAs = (lib: Lib, op: string, x: T.Tensor): ArrayLike<number> =>
  lib === "autodiff" && !T.isFloating(x.dtype) && (op === "mean" || op === "logSumExp")
    ? Array.from(x.data, Math.fround)
    : x.data;

const reduceExpected = (
  lib: Lib,
  op: string,
  x: T.Tensor,
  opts: { axis?: unknown; keepDims?: boolean } | undefined,
): Expected | string => {
  const single = op === "argmax" || op === "argmin";
  const axis = opts?.axis;
  if (single && axis !== undefined && typeof axis !== "number") return "argmax takes one axis";
  const axes = normAxes(axis, x.shape.length);
  if (typeof axes === "string") return axes;
  const keepDims = opts?.keepDims ?? false;
  const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
  if (count === 0 && ["max", "min", "argmax", "argmin"].includes(op)) return "empty reduction without identity";
  const dtype = resultDType(op, x.dtype);
  const { kept, groups } = groupsOf(x.shape, readAs(lib, op, x), axes);
  const shape = keepDims ? kept : x.shape.filter((_, i) => !axes.includes(i));
  return { dtype, shape, values: groups.map((g) => store(dtype, folds[op]!(g, dtype))) };
};

const arbReduceOptions = (
  rank: number,
  single: boolean,
): fc.Arbitrary<{ axis?: number | number[]; keepDims?: boolean } | undefined> => {
  const axis = fc.integer({ min: -rank - 1, max: rank });
  const axes = single
    ? axis
    : fc.oneof(axis, fc.array(fc.integer({ min: -rank, max: Math.max(0, rank - 1) }), { maxLength: 3 }));
  return fc.oneof(fc.constant(undefined), fc.record({ axis: axes, keepDims: fc.boolean() }, { requiredKeys: [] }));
};

const reduceSlots = (lib: Lib, op: string, single: boolean): readonly Slot[] => [
  { reject: notTensor },
  {
    reject: [
      ...notOptionsObject,
      ...badOption("axis", single ? [...notAxis, { label: "[0]", value: [0] }] : notAxisOrList),
      ...badOption("keepDims", notBoolean),
      unknownOption,
      // @rewind/autodiff reports options errors of its ops as GraphExceptions, @rewind/tensor as TensorExceptions.
      ...misspelt(["axis", "keepDims"], {
        error: lib === "tensor" ? T.TensorException : GraphException,
        names: [op],
        base: { axis: 0, keepDims: true },
      }),
    ],
    tolerate: [omitted, { label: "{}", value: {} }, { label: "{ axis: undefined }", value: { axis: undefined } }],
  },
];

/** The reductions' op names. */
export const reduceNames: readonly string[] = ["sum", "mean", "prod", "max", "min", "argmax", "argmin", "logSumExp"];

/** Specs of the reductions. */
export const reduceSpecs = (lib: Lib): Record<string, Spec> =>
  Object.fromEntries(
    reduceNames.map((op) => {
      const single = op === "argmax" || op === "argmin";
      const spec: Spec = {
        valid: arbTensor().chain((x) => fc.tuple(fc.constant(x), arbReduceOptions(x.shape.length, single))),
        check: (args: readonly unknown[], out: Outcome<unknown>) =>
          checkAgainst(
            lib,
            op,
            reduceExpected(lib, op, args[0] as T.Tensor, args[1] as { axis?: unknown; keepDims?: boolean } | undefined),
            out,
          ),
        slots: reduceSlots(lib, op, single),
      };
      return [op, spec];
    }),
  );

const softmaxExpected = (lib: Lib, op: "softmax" | "logSoftmax", x: T.Tensor, axis: unknown): Expected | string => {
  const rank = x.shape.length;
  const a = axis === undefined ? -1 : axis;
  if (typeof a !== "number" || !Number.isInteger(a) || a < -rank || a >= rank) return "axis out of range";
  const ax = a < 0 ? a + rank : a;
  const dtype = T.floatResultType(x.dtype);
  const data = lib === "autodiff" && !T.isFloating(x.dtype) ? Array.from(x.data, Math.fround) : Array.from(x.data);
  const values = new Array<number>(data.length);
  const { groups } = groupsOf(x.shape, data, [ax]);
  // Scatter each slice's results back to the positions the slice was read from.
  const kept = x.shape.map((d, i) => (i === ax ? 1 : d));
  groups.forEach((g, o) => {
    const s = shiftOf(g);
    const total = g.reduce((acc, v) => acc + Math.exp(v - s), 0);
    const oi = unravel(o, kept);
    g.forEach((v, j) => {
      const idx = oi.map((w, i) => (i === ax ? j : w));
      values[ravel(idx, x.shape)] = store(dtype, op === "softmax" ? Math.exp(v - s) / total : v - s - Math.log(total));
    });
  });
  return { dtype, shape: x.shape, values };
};

/** Specs of softmax and logSoftmax (one axis, default the last). */
export const softmaxSpecs = (lib: Lib): Record<string, Spec> =>
  Object.fromEntries(
    (["softmax", "logSoftmax"] as const).map((op) => [
      op,
      {
        valid: arbTensor().chain((x) =>
          fc.tuple(
            fc.constant(x),
            fc.option(fc.integer({ min: -x.shape.length - 1, max: x.shape.length }), { nil: undefined }),
          ),
        ),
        check: (args: readonly unknown[], out: Outcome<unknown>) =>
          checkAgainst(lib, op, softmaxExpected(lib, op, args[0] as T.Tensor, args[1]), out),
        slots: [{ reject: notTensor }, { reject: notAxis, tolerate: [omitted] }],
      } satisfies Spec,
    ]),
  );

const sumToExpected = (x: T.Tensor, target: readonly number[]): Expected | string => {
  const lead = x.shape.length - target.length;
  if (lead < 0) return "target rank exceeds input rank";
  const axes: number[] = [];
  for (let i = 0; i < lead; i++) axes.push(i);
  for (let i = 0; i < target.length; i++) {
    const have = x.shape[lead + i]!;
    if (target[i] !== have && target[i] !== 1) return "target does not broadcast to input";
    if (target[i] === 1 && have !== 1) axes.push(lead + i);
  }
  const dtype = x.dtype === "bool" ? "int32" : x.dtype;
  const { groups } = groupsOf(x.shape, x.data, axes);
  return {
    dtype,
    shape: target,
    values: groups.map((g) =>
      store(
        dtype,
        g.reduce((a, v) => a + v, 0),
      ),
    ),
  };
};

/** Targets for sumTo: suffixes of x's shape with some axes set to 1, sometimes wrong. */
const arbSumToTarget = (shape: readonly number[]): fc.Arbitrary<number[]> =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .tuple(
          fc.integer({ min: 0, max: shape.length }),
          fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
        )
        .map(([r, ones]) => shape.slice(shape.length - r).map((d, i) => (ones[i]! ? 1 : d))),
    },
    { weight: 1, arbitrary: arbShape(4) },
  );

/** The spec of sumTo. */
export const sumToSpec = (lib: Lib): Spec => ({
  valid: arbTensor().chain((x) => fc.tuple(fc.constant(x), arbSumToTarget(x.shape))),
  check: (args, out) => checkAgainst(lib, "sumTo", sumToExpected(args[0] as T.Tensor, args[1] as number[]), out),
  slots: [{ reject: notTensor }, { reject: notShape }],
});
