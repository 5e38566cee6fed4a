/**
 * @file Numerical closeness of tensors and pytrees, with a report that says where they differ.
 */
import * as T from "@rewind/tensor";
import { isTracer, treeFlatten, treeDefKey } from "@rewind/autodiff";
import { keysOf } from "@rewind/tensor/internal/check";
import { checkBoolean, checkFinite, checkOptions } from "./args.js";

/**
 * Checks tolerances: non-negative finite rtol and atol, a boolean equalNan. A NaN or string
 * tolerance would otherwise make every comparison fail (or pass) for the wrong reason.
 * @example checkCloseOptions("allClose", { rtol: 1e-9 })
 */
export const checkCloseOptions = (fn: string, opts: unknown): CloseOptions => {
  checkOptions(fn, "opts", opts, CLOSE_KEYS);
  const o = (opts ?? {}) as Record<string, unknown>;
  checkFinite(fn, "opts.rtol", o["rtol"], 0);
  checkFinite(fn, "opts.atol", o["atol"], 0);
  checkBoolean(fn, "opts.equalNan", o["equalNan"]);
  return o;
};

/** Tolerances: |a − b| ≤ atol + rtol·|b| elementwise (NumPy's `allclose`). */
export interface CloseOptions {
  /** Relative tolerance, a finite number ≥ 0 (default 1e-5). */
  readonly rtol?: number;
  /** Absolute tolerance, a finite number ≥ 0 (default 1e-8). */
  readonly atol?: number;
  /** NaN equals NaN (default true). */
  readonly equalNan?: boolean;
}

const CLOSE_KEYS = keysOf<CloseOptions>({ rtol: true, atol: true, equalNan: true });

/** The verdict of a closeness check, with a human-readable reason when it fails. */
export interface CloseResult {
  /** True when the structures and shapes match and every element is within tolerance. */
  readonly pass: boolean;
  /** What was compared and, on failure, how many elements differ and the worst one with its index. */
  readonly message: string;
}

const asTensor = (x: unknown): T.Tensor | undefined => {
  if (T.isTensor(x)) return x;
  if (typeof x === "number" || typeof x === "boolean") return T.fromArrayOrThrow(x, "float64");
  if (Array.isArray(x) && !x.some((e) => T.isTensor(e) || isTracer(e))) {
    const parsed = T.fromArray(x as T.NestedArray, "float64");
    return parsed._tag === "Right" ? parsed.right : undefined;
  }
  return undefined;
};

const compareTensors = (path: string, a: T.Tensor, b: T.Tensor, opts: CloseOptions): CloseResult => {
  const rtol = opts.rtol ?? 1e-5;
  const atol = opts.atol ?? 1e-8;
  const equalNan = opts.equalNan ?? true;
  if (!T.shapesEqual(a.shape, b.shape)) {
    return { pass: false, message: `${path}: shapes differ: ${T.formatShape(a.shape)} vs ${T.formatShape(b.shape)}` };
  }
  let worst = -1;
  let worstExcess = 0;
  let bad = 0;
  for (let i = 0; i < a.data.length; i++) {
    const x = a.data[i]!;
    const y = b.data[i]!;
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (!(equalNan && Number.isNaN(x) && Number.isNaN(y))) {
        bad++;
        if (worst < 0) worst = i;
      }
      continue;
    }
    if (x === y) continue;
    const excess = Math.abs(x - y) - (atol + rtol * Math.abs(y));
    if (!(excess <= 0)) {
      bad++;
      if (worst < 0 || excess > worstExcess) {
        worst = i;
        worstExcess = excess;
      }
    }
  }
  if (bad === 0)
    return { pass: true, message: `${path}: all ${a.data.length} elements close (rtol ${rtol}, atol ${atol})` };
  const index = unravel(worst, a.shape);
  return {
    pass: false,
    message:
      `${path}: ${bad} of ${a.data.length} elements differ (rtol ${rtol}, atol ${atol}); ` +
      `worst at ${T.formatShape(index)}: ${a.data[worst]} vs ${b.data[worst]}`,
  };
};

const unravel = (flat: number, shape: T.Shape): number[] => {
  const out = new Array<number>(shape.length);
  let r = flat;
  for (let i = shape.length - 1; i >= 0; i--) {
    out[i] = r % shape[i]!;
    r = Math.floor(r / shape[i]!);
  }
  return out;
};

/**
 * Compares two tensors, numbers, nested arrays or pytrees of tensors elementwise.
 * @example allClose(tensor([1, 2]), [1, 2.0000001]).pass // true
 */
export const allClose = (actual: unknown, expected: unknown, opts: CloseOptions = {}): CloseResult => {
  checkCloseOptions("allClose", opts);
  const a = asTensor(actual);
  const b = asTensor(expected);
  if (a !== undefined && b !== undefined) return compareTensors("value", a, b, opts);
  const [la, da] = treeFlatten(actual);
  const [lb, db] = treeFlatten(expected);
  if (treeDefKey(da) !== treeDefKey(db)) {
    return { pass: false, message: `pytree structures differ: ${treeDefKey(da)} vs ${treeDefKey(db)}` };
  }
  for (let i = 0; i < la.length; i++) {
    const x = la[i]!;
    const y = lb[i]!;
    if (!T.isTensor(x) || !T.isTensor(y)) return { pass: false, message: `leaf ${i} is a traced value, not a tensor` };
    const r = compareTensors(`leaf ${i}`, x, y, opts);
    if (!r.pass) return r;
  }
  return { pass: true, message: `all ${la.length} leaves close` };
};
