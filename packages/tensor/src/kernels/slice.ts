/**
 * @file Basic slicing with Python's `start:stop:step` semantics, one spec per leading axis.
 *
 * A slice is a strided view: the step scales an axis's stride and the start moves the offset.
 * When the view happens to be one contiguous run of the buffer (leading-axis ranges, unit steps on
 * the inner axes) the result shares the input's buffer through `subarray`, which is safe because
 * tensors are never written; otherwise `gatherView` copies the view.
 */
import { checkTensor } from "../check.js";
import { fail, formatShape } from "../errors.js";
import { showValue } from "../internal.js";
import { optionsProblem } from "../optionKeys.js";
import { sizeOf, stridesOf } from "../Shape.js";
import { fromBuffer, type Tensor } from "../Tensor.js";
import { gatherView } from "./strided.js";

/** `Array.isArray` that keeps a readonly array's element type (the built-in narrows it to `any[]`). */
const isList = (x: unknown): x is readonly unknown[] => Array.isArray(x);

/**
 * One axis of a slice, as Python's `start:stop:step`. Omitted fields take Python's defaults (the
 * whole axis, in order for a positive step and reversed for a negative one); negative `start` and
 * `stop` count from the end, and out-of-range bounds are clamped.
 */
export interface SliceSpec {
  /** First index taken (default: the first element in the step's direction). */
  readonly start?: number;
  /** Index where the slice stops, excluded (default: past the last element in the step's direction). */
  readonly stop?: number;
  /** Distance between taken indices, non-zero; negative walks the axis backwards (default 1). */
  readonly step?: number;
}

interface Resolved {
  readonly start: number;
  readonly step: number;
  readonly length: number;
}

const checkField = (axis: number, name: string, v: unknown): number | undefined => {
  if (v === undefined) return undefined;
  if (typeof v === "number" && Number.isInteger(v)) return v;
  return fail({
    _tag: "ValueError",
    op: "slice",
    arg: `specs[${axis}].${name}`,
    detail: `${name} must be an integer, got ${showValue(v)}`,
    fix: `pass an integer ${name}, or omit it for Python's default`,
  });
};

const SPEC_KEYS: readonly string[] = ["start", "stop", "step"];

/** Python's `slice(start, stop, step).indices(len)`, reduced to a first index, step and count. */
const resolve = (spec: SliceSpec | null | undefined, axis: number, len: number): Resolved => {
  if (spec === null || spec === undefined) return { start: 0, step: 1, length: len };
  const problem = optionsProblem("slice", `specs[${axis}]`, spec, SPEC_KEYS, true);
  if (problem !== undefined) {
    return fail({
      _tag: "ValueError",
      op: "slice",
      arg: problem.arg,
      detail: problem.detail,
      fix: `${problem.fix}; use null (or {}) for a whole axis`,
    });
  }
  const step = checkField(axis, "step", spec.step) ?? 1;
  if (step === 0) {
    return fail({
      _tag: "ValueError",
      op: "slice",
      arg: `specs[${axis}].step`,
      detail: "slice step cannot be zero",
      fix: "use a positive step to go forwards or a negative one to go backwards",
    });
  }
  // The clamping bounds: [0, len] going forwards, [-1, len - 1] going backwards (-1 = "before 0").
  const [lower, upper] = step > 0 ? [0, len] : [-1, len - 1];
  const bound = (v: number | undefined, dflt: number): number => {
    if (v === undefined) return dflt;
    const w = v < 0 ? v + len : v;
    return w < lower ? lower : w > upper ? upper : w;
  };
  const start = bound(checkField(axis, "start", spec.start), step > 0 ? lower : upper);
  const stop = bound(checkField(axis, "stop", spec.stop), step > 0 ? upper : lower);
  const length = step > 0 ? Math.ceil((stop - start) / step) : Math.ceil((start - stop) / -step);
  return { start, step, length: Math.max(0, length) };
};

/**
 * Python/NumPy basic slicing: `slice(x, [a, b])` is `x[a, b]` where each spec is
 * `{ start?, stop?, step? }`, `null` or `{}` keeps the whole axis, and axes without a spec are kept
 * whole. Negative bounds count from the end, out-of-range bounds clamp, negative steps reverse.
 * The rank never changes (a spec selecting one element leaves a size-1 axis).
 * @throws TensorException when a step is 0, a bound is not an integer, or there are more specs
 * than axes.
 * @example slice(arange(10), [{ start: -3 }]).data // Int32Array [7, 8, 9]
 * @example slice(tensor([[1, 2, 3], [4, 5, 6]]), [null, { step: -2 }]).data // Float32Array [3, 1, 6, 4]
 */
export const slice = (x: Tensor, specs: ReadonlyArray<SliceSpec | null>): Tensor => {
  const rank = checkTensor("slice", "x", x).shape.length;
  if (!isList(specs) || specs.length > rank) {
    return fail({
      _tag: "ShapeError",
      op: "slice",
      arg: "specs",
      shapes: [x.shape],
      detail: isList(specs)
        ? `${specs.length} slice specs given for a rank-${rank} tensor of shape ${formatShape(x.shape)}`
        : "specs must be an array with one entry per leading axis",
      fix: `pass at most ${rank} specs (one per leading axis; missing trailing axes are kept whole)`,
    });
  }
  const resolved = x.shape.map((len, axis) => resolve(specs[axis], axis, len));
  if (resolved.every((r, axis) => r.step === 1 && r.length === x.shape[axis])) return x;

  const inStrides = stridesOf(x.shape);
  const shape = resolved.map((r) => r.length);
  const strides = resolved.map((r, axis) => r.step * inStrides[axis]!);
  const offset = resolved.reduce((o, r, axis) => o + r.start * inStrides[axis]!, 0);
  const n = sizeOf(shape);
  // Contiguous when, ignoring size-1 axes (whose stride is never used), the view's strides are the
  // row-major strides of its own shape: then it is the run [offset, offset + n) of the buffer.
  const dense = stridesOf(shape);
  if (n > 0 && shape.every((d, axis) => d === 1 || strides[axis] === dense[axis])) {
    return fromBuffer(x.dtype, shape, x.data.subarray(offset, offset + n));
  }
  return fromBuffer(x.dtype, shape, gatherView(x.dtype, x.data, shape, strides, offset));
};
