/**
 * @file Specs of the elementwise ops (unary, binary, comparisons, logic, where), shared by the
 * tensor and autodiff suites: the same generators and the same naive float64 references, with
 * each library's dtype rules (`Lib`) — the kernels reject a number an int32 tensor cannot hold,
 * while autodiff's weak typing promotes int32 next to a fractional number to float32.
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";
import type { Outcome } from "../contract.js";
import {
  arbBroadcastShapes,
  arbElement,
  arbTensor,
  arbTensorOf,
  arbDType,
  broadcastOf,
  broadcastRead,
  expectTensor,
  notOperand,
  notTensor,
  rejected,
  returned,
  size,
  store,
  unravel,
  type Expected,
  type Spec,
  type Tol,
} from "../common.js";

/** Which library's dtype rules a reference follows. */
export type Lib = "tensor" | "autodiff";

/**
 * Tolerance for a library: the kernels compute in float64 and round once, so they match the
 * references exactly; autodiff composes some ops (rsqrt = 1 / sqrt, logSumExp from max, exp, sum
 * and log), rounding in between.
 */
export const tolFor = (lib: Lib, dtype: T.DType): Tol =>
  lib === "tensor" ? {} : dtype === "float32" ? { rtol: 2e-6, atol: 2e-6 } : { rtol: 1e-14, atol: 1e-14 };

type UFamily = "float" | "sign" | "round" | "pred";
const roundHalfEven = (v: number): number => {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
};
const sigmoidRef = (v: number): number => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));
const softplusRef = (v: number): number => (v > 0 ? v : 0) + Math.log1p(Math.exp(-Math.abs(v)));

/** Unary ops: dtype family, per-element function, and its int32 form where doubles would not wrap. */
const unaryTable: Readonly<Record<string, readonly [UFamily, (v: number) => number, ((v: number) => number)?]>> = {
  neg: ["sign", (v) => -v],
  abs: ["sign", Math.abs],
  sign: ["sign", (v) => (v > 0 ? 1 : v < 0 ? -1 : v === 0 ? 0 : NaN)],
  exp: ["float", Math.exp],
  expm1: ["float", Math.expm1],
  log: ["float", Math.log],
  log1p: ["float", Math.log1p],
  sqrt: ["float", Math.sqrt],
  rsqrt: ["float", (v) => 1 / Math.sqrt(v)],
  square: ["sign", (v) => v * v, (v) => Math.imul(v, v)],
  reciprocal: ["float", (v) => 1 / v],
  sin: ["float", Math.sin],
  cos: ["float", Math.cos],
  tanh: ["float", Math.tanh],
  sigmoid: ["float", sigmoidRef],
  softplus: ["float", softplusRef],
  relu: ["sign", (v) => (v > 0 || Number.isNaN(v) ? v : 0)],
  floor: ["round", Math.floor],
  ceil: ["round", Math.ceil],
  round: ["round", roundHalfEven],
  isNaN: ["pred", (v) => (Number.isNaN(v) ? 1 : 0)],
  isFinite: ["pred", (v) => (Number.isFinite(v) ? 1 : 0)],
  logicalNot: ["pred", (v) => (v === 0 ? 1 : 0)],
};

/** The unary ops both packages export. */
export const unaryNames: readonly string[] = Object.keys(unaryTable);

const unaryExpected = (lib: Lib, op: string, x: T.Tensor): Expected => {
  const [family, f, fInt] = unaryTable[op]!;
  const dtype: T.DType =
    family === "pred"
      ? "bool"
      : family === "float"
        ? T.floatResultType(x.dtype)
        : x.dtype === "bool"
          ? "int32"
          : x.dtype;
  // Autodiff converts integers to float32 before a transcendental; the kernels read them exactly.
  const read = (v: number): number =>
    family === "float" && lib === "autodiff" && !T.isFloating(x.dtype) ? Math.fround(v) : v;
  const values = Array.from(x.data, (v) => {
    if (family === "round" && dtype === "int32") return v;
    return store(dtype, dtype === "int32" && fInt !== undefined ? fInt(v) : f(read(v)));
  });
  return { dtype, shape: x.shape, values };
};

/** Specs of the unary ops of `M` (the tensor package or the autodiff package). */
export const unarySpecs = (lib: Lib): Record<string, Spec> =>
  Object.fromEntries(
    unaryNames.map((op) => [
      op,
      {
        valid: arbTensor().map((x) => [x]),
        check: (args: readonly unknown[], out: Outcome<unknown>) => {
          const want = unaryExpected(lib, op, args[0] as T.Tensor);
          expectTensor(returned(out, op), want, tolFor(lib, want.dtype), op);
        },
        slots: [{ reject: notTensor }],
      } satisfies Spec,
    ]),
  );

type BKind = "arith" | "div" | "cmp" | "logic";
const powFloat = (x: number, y: number): number =>
  x === 1 || (x === -1 && !Number.isFinite(y) && !Number.isNaN(y)) ? 1 : Math.pow(x, y);
const powInt = (x: number, y: number): number => {
  let r = 1;
  for (let i = 0; i < y; i++) r = Math.imul(r, x);
  return r;
};
const binaryTable: Readonly<
  Record<string, readonly [BKind, (x: number, y: number) => number, ((x: number, y: number) => number)?]>
> = {
  add: ["arith", (x, y) => x + y],
  sub: ["arith", (x, y) => x - y],
  mul: ["arith", (x, y) => x * y, Math.imul],
  div: ["div", (x, y) => x / y],
  pow: ["arith", powFloat, powInt],
  maximum: ["arith", (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.max(x, y))],
  minimum: ["arith", (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.min(x, y))],
  equal: ["cmp", (x, y) => (x === y ? 1 : 0)],
  notEqual: ["cmp", (x, y) => (x !== y ? 1 : 0)],
  less: ["cmp", (x, y) => (x < y ? 1 : 0)],
  lessEqual: ["cmp", (x, y) => (x <= y ? 1 : 0)],
  greater: ["cmp", (x, y) => (x > y ? 1 : 0)],
  greaterEqual: ["cmp", (x, y) => (x >= y ? 1 : 0)],
  logicalAnd: ["logic", (x, y) => (x !== 0 && y !== 0 ? 1 : 0)],
  logicalOr: ["logic", (x, y) => (x !== 0 || y !== 0 ? 1 : 0)],
};

/** The binary ops both packages export. */
export const binaryNames: readonly string[] = Object.keys(binaryTable);

type Operand = T.Tensor | number;
const shapeOf = (x: Operand): readonly number[] => (typeof x === "number" ? [] : x.shape);
const dataOf = (x: Operand): ArrayLike<number> => (typeof x === "number" ? [x] : x.data);
const inInt32 = (v: number): boolean => Number.isInteger(v) && v >= -2147483648 && v <= 2147483647;

/** Autodiff's weak typing of a number next to `dtype` (JAX's rule). */
const weak = (n: number, dtype: T.DType): T.DType =>
  T.isFloating(dtype) ? dtype : Number.isInteger(n) ? (dtype === "bool" ? "int32" : dtype) : "float32";

/**
 * The dtype a library computes `operands` in, and each operand's values converted to it; a string
 * when the library must reject them (both numbers, or a number int32 cannot hold).
 */
const unifyRef = (
  lib: Lib,
  operands: readonly Operand[],
  minDType: T.DType | undefined,
  exact: boolean,
): { dtype: T.DType; data: number[][] } | string => {
  const tensors = operands.filter((x): x is T.Tensor => typeof x !== "number");
  if (tensors.length === 0) return "all operands are numbers";
  if (lib === "tensor") {
    const common = tensors.map((t) => t.dtype).reduce(T.promoteTypes);
    const base = tensors.length < operands.length && common === "bool" ? "int32" : common;
    const dtype =
      minDType === "float32" ? T.floatResultType(base) : minDType === "int32" && base === "bool" ? "int32" : base;
    const data: number[][] = [];
    for (const x of operands) {
      if (typeof x !== "number") data.push(Array.from(x.data));
      else if (dtype === "float32") data.push([Math.fround(x)]);
      else if (dtype === "float64" || exact) data.push([x]);
      else if (!inInt32(x)) return `number ${x} does not fit ${dtype}`;
      else data.push([x]);
    }
    return { dtype, data };
  }
  let dtype = tensors.map((t) => t.dtype).reduce(T.promoteTypes);
  for (const x of operands) if (typeof x === "number") dtype = T.promoteTypes(dtype, weak(x, dtype));
  if (minDType !== undefined) dtype = T.promoteTypes(dtype, minDType);
  const data: number[][] = [];
  for (const x of operands) {
    if (typeof x === "number" && !T.isFloating(dtype) && !inInt32(x)) return `number ${x} does not fit ${dtype}`;
    data.push(Array.from(dataOf(x), (v) => store(dtype, v)));
  }
  return { dtype, data };
};

const binaryExpected = (lib: Lib, op: string, a: Operand, b: Operand): Expected | string => {
  const [kind, f, fInt] = binaryTable[op]!;
  const minDType = kind === "arith" ? "int32" : kind === "div" ? "float32" : undefined;
  const u = unifyRef(lib, [a, b], minDType, kind === "cmp" || kind === "logic");
  if (typeof u === "string") return u;
  const shape = broadcastOf(shapeOf(a), shapeOf(b));
  if (shape === undefined) return "shapes do not broadcast";
  const dtype: T.DType = kind === "cmp" || kind === "logic" ? "bool" : u.dtype;
  if (op === "pow" && dtype === "int32" && size(shape) > 0 && u.data[1]!.some((v) => v < 0))
    return "negative integer exponent";
  const g = dtype === "int32" && fInt !== undefined ? fInt : f;
  const values = Array.from({ length: size(shape) }, (_, i) => {
    const idx = unravel(i, shape);
    return store(dtype, g(broadcastRead(u.data[0]!, shapeOf(a), idx), broadcastRead(u.data[1]!, shapeOf(b), idx)));
  });
  return { dtype, shape, values };
};

const arbNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.double({ min: -8, max: 8, noNaN: true }),
  fc.constantFrom(NaN, Infinity, -Infinity, 2.5, 2 ** 31, -(2 ** 31) - 1),
);

/** A tensor of `shape` (random dtype), or sometimes a plain number. */
const arbOperand = (shape: readonly number[]): fc.Arbitrary<Operand> =>
  fc.oneof({ weight: 4, arbitrary: arbDType.chain((d) => arbTensorOf(shape, d)) }, { weight: 1, arbitrary: arbNumber });

/** Checks an outcome against a reference that is either an expected tensor or a reason to reject. */
export const checkAgainst = (lib: Lib, op: string, want: Expected | string, out: Outcome<unknown>): void => {
  if (typeof want === "string") rejected(out, `${op} (${want})`);
  else expectTensor(returned(out, op), want, tolFor(lib, want.dtype), op);
};

/** Specs of the binary ops. */
export const binarySpecs = (lib: Lib): Record<string, Spec> =>
  Object.fromEntries(
    binaryNames.map((op) => [
      op,
      {
        valid: arbBroadcastShapes(2).chain(([sa, sb]) => fc.tuple(arbOperand(sa!), arbOperand(sb!))),
        check: (args: readonly unknown[], out: Outcome<unknown>) =>
          checkAgainst(lib, op, binaryExpected(lib, op, args[0] as Operand, args[1] as Operand), out),
        slots: [{ reject: notOperand }, { reject: notOperand }],
        runs: 60,
      } satisfies Spec,
    ]),
  );

const whereExpected = (lib: Lib, cond: Operand, a: Operand, b: Operand): Expected | string => {
  if (typeof cond === "number" && lib === "tensor") return "cond must be a tensor";
  const both = typeof a === "number" && typeof b === "number";
  const u = both
    ? { dtype: "float32" as const, data: [[Math.fround(a)], [Math.fround(b)]] }
    : unifyRef(lib, [a, b], undefined, false);
  if (typeof u === "string") return u;
  const shape = broadcastOf(shapeOf(cond), shapeOf(a), shapeOf(b));
  if (shape === undefined) return "shapes do not broadcast";
  const values = Array.from({ length: size(shape) }, (_, i) => {
    const idx = unravel(i, shape);
    const c = broadcastRead(dataOf(cond), shapeOf(cond), idx);
    return store(
      u.dtype,
      c !== 0 ? broadcastRead(u.data[0]!, shapeOf(a), idx) : broadcastRead(u.data[1]!, shapeOf(b), idx),
    );
  });
  return { dtype: u.dtype, shape, values };
};

/** The spec of `where`. */
export const whereSpec = (lib: Lib): Spec => ({
  valid: arbBroadcastShapes(3).chain(([sc, sa, sb]) =>
    fc.tuple(
      lib === "tensor" ? arbDType.chain((d) => arbTensorOf(sc!, d)) : arbOperand(sc!),
      arbOperand(sa!),
      arbOperand(sb!),
    ),
  ),
  check: (args, out) =>
    checkAgainst(lib, "where", whereExpected(lib, args[0] as Operand, args[1] as Operand, args[2] as Operand), out),
  slots: [{ reject: lib === "tensor" ? notTensor : notOperand }, { reject: notOperand }, { reject: notOperand }],
  runs: 60,
});

/** Elementwise element generator re-exported for the autodiff gradient checks. */
export { arbElement };
