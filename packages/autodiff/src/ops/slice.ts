/**
 * @file Slicing values with Python semantics (`slice`), its resolved strided window
 * (`sliceWindow`) and that window's transpose (`unslice`), with the bounds checks the primitives
 * rely on (they read without checking).
 */
import * as T from "@rewind/tensor";
import { optionsProblem } from "@rewind/tensor/internal/check";
import { bind, type Value } from "../core.js";
import * as S from "../primitives/shape.js";
import type { WindowParams } from "../primitives/shape.js";
import { expectValue } from "./lift.js";
import { expectArray } from "../check.js";

/** One axis of a slice, Python-style: start, stop, step (negative counts from the end). */
export interface SliceSpec {
  /** First index taken (default: the first element in the step's direction). */
  readonly start?: number;
  /** Index where the slice stops, excluded (default: past the last element in the step's direction). */
  readonly stop?: number;
  /** Distance between taken indices, non-zero; negative walks the axis backwards (default 1). */
  readonly step?: number;
}

const SLICE_KEYS: readonly string[] = ["start", "stop", "step"];

/**
 * Checks a resolved window against a shape: one integer start, nonzero step and non-negative size
 * per axis, every index it reads inside the axis (the primitives read without bounds checks).
 */
const checkWindow = (op: string, shape: readonly number[], w: WindowParams): void => {
  const bad = (detail: string): never =>
    T.fail({
      _tag: "ValueError",
      op,
      arg: "w",
      detail,
      fix: "pass { start, step, size } with one entry per axis, as slice resolves them",
    });
  if (typeof w !== "object" || w === null) bad("expected a window { start, step, size }");
  const { start, step, size } = w;
  if (
    ![start, step, size].every(
      (a) => Array.isArray(a) && a.length === shape.length && a.every((n) => Number.isSafeInteger(n)),
    )
  ) {
    bad(`start, step and size must be integer arrays of length ${shape.length}`);
  }
  shape.forEach((d, i) => {
    const [s0, st, n] = [start[i]!, step[i]!, size[i]!];
    if (st === 0 || n < 0) bad(`axis ${i}: step must be nonzero and size non-negative`);
    if (n > 0 && !(s0 >= 0 && s0 < d && s0 + st * (n - 1) >= 0 && s0 + st * (n - 1) < d))
      bad(`axis ${i}: the window reads outside [0, ${d})`);
  });
};

/** Python's slice.indices: the first index, step and count of `spec` on an axis of size `dim`. */
const resolveSpec = (axis: number, dim: number, spec: SliceSpec | null): [number, number, number] => {
  if (spec !== null && spec !== undefined) {
    const problem = optionsProblem("slice", `specs[${axis}]`, spec, SLICE_KEYS, true);
    if (problem !== undefined)
      T.fail({
        _tag: "ValueError",
        op: "slice",
        arg: problem.arg,
        detail: problem.detail,
        fix: `${problem.fix}; use null (or {}) for a whole axis`,
      });
  }
  const step = spec?.step ?? 1;
  if (!Number.isInteger(step) || step === 0) {
    T.fail({
      _tag: "ValueError",
      op: "slice",
      arg: `specs[${axis}].step`,
      detail: `step must be a nonzero integer, got ${step}`,
      fix: "use 1, 2, -1, ...",
    });
  }
  const [lo, hi] = step > 0 ? [0, dim] : [-1, dim - 1];
  const clamp = (i: number | undefined, dflt: number): number => {
    if (i === undefined) return dflt;
    if (!Number.isInteger(i)) {
      return T.fail({
        _tag: "ValueError",
        op: "slice",
        arg: `specs[${axis}]`,
        detail: `indices must be integers, got ${i}`,
        fix: "pass integer start/stop",
      });
    }
    const j = i < 0 ? i + dim : i;
    return Math.min(Math.max(j, lo), hi);
  };
  const start = clamp(spec?.start, step > 0 ? lo : hi);
  const stop = clamp(spec?.stop, step > 0 ? hi : lo);
  const size = Math.max(0, Math.ceil((stop - start) / step));
  return [size === 0 ? 0 : start, step, size];
};

/**
 * Python-style slicing: one spec per leading axis (`null` or `{}` keeps the axis whole).
 * @example slice(arange(10), [{ start: -3 }]) // [7, 8, 9]
 */
export const slice = (x: Value, specs: ReadonlyArray<SliceSpec | null>): Value => {
  const v = expectValue("slice", "x", x);
  expectArray("slice", "specs", specs);
  if (specs.length > v.shape.length) {
    T.fail({
      _tag: "ShapeError",
      op: "slice",
      arg: "specs",
      shapes: [v.shape],
      detail: `${specs.length} slice specs for a rank-${v.shape.length} tensor`,
      fix: "give at most one spec per axis",
    });
  }
  const resolved = v.shape.map((d, i) => resolveSpec(i, d, specs[i] ?? null));
  return sliceWindow(v, {
    start: resolved.map((r) => r[0]),
    step: resolved.map((r) => r[1]),
    size: resolved.map((r) => r[2]),
  });
};

/**
 * A resolved strided window (first index, step, count per axis); `slice` resolves into this.
 * @example sliceWindow(arange(6), { start: [1], step: [2], size: [2] }) // [1, 3]
 */
export const sliceWindow = (x: Value, w: WindowParams): Value => {
  checkWindow("sliceWindow", expectValue("sliceWindow", "x", x).shape, w);
  const whole = x.shape.every((d, i) => w.start[i] === 0 && w.step[i] === 1 && w.size[i] === d);
  return whole
    ? x
    : bind(
        S.slice,
        [x],
        Object.freeze({
          start: Object.freeze([...w.start]),
          step: Object.freeze([...w.step]),
          size: Object.freeze([...w.size]),
        }),
      )[0]!;
};

/**
 * The transpose of `sliceWindow`: zeros of `inShape` with `x` written into the window.
 * @example unslice(tensor([1, 3]), [4], { start: [1], step: [2], size: [2] }) // [0, 1, 0, 3]
 */
export const unslice = (x: Value, inShape: readonly number[], w: WindowParams): Value => {
  const v = expectValue("unslice", "x", x);
  checkWindow("unslice", T.validateShape("unslice", "inShape", inShape), w);
  if (!T.shapesEqual(v.shape, w.size)) {
    T.fail({
      _tag: "ShapeError",
      op: "unslice",
      arg: "x",
      shapes: [v.shape, w.size],
      detail: "x must have the window's size",
      fix: "pass the values that fill the window",
    });
  }
  return unsliceChecked(v, inShape, w);
};

const unsliceChecked = (x: Value, inShape: readonly number[], w: WindowParams): Value =>
  bind(
    S.unslice,
    [x],
    Object.freeze({ inShape: Object.freeze([...inShape]), start: w.start, step: w.step, size: w.size }),
  )[0]!;
