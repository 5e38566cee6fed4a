/**
 * @file Joining and cutting: concat, stack, split and constant pad.
 *
 * Along an axis a row-major tensor is `outer × size × inner` (the products of the axes before and
 * after it), so concatenation copies, for each outer index, one contiguous chunk per input.
 * `split` is slicing along one axis and `pad` writes the input into a strided window of the output.
 */
import { checkCount, checkNumber, checkTensor } from "../check.js";
import { allocate, coerce, promoteTypes } from "../DType.js";
import { fail, formatShape } from "../errors.js";
import { showValue } from "../internal.js";
import { normalizeAxis, shapesEqual, sizeOf, stridesOf } from "../Shape.js";
import { fromBuffer, type Tensor } from "../Tensor.js";
import { expandDims } from "./movement.js";
import { slice, type SliceSpec } from "./slice.js";
import { viewOffsets } from "./strided.js";

/** `Array.isArray` that keeps a readonly array's element type (the built-in narrows it to `any[]`). */
const isList = (x: unknown): x is readonly unknown[] => Array.isArray(x);

const checkNonEmpty = (op: string, xs: readonly Tensor[]): void => {
  if (!isList(xs) || xs.length === 0) {
    fail({
      _tag: "ValueError",
      op,
      arg: "xs",
      detail: "needs at least one tensor, got an empty list",
      fix: "pass a non-empty array of tensors (to build an empty result, use zeros with a 0-size axis)",
    });
  }
  xs.forEach((x, i) => checkTensor(op, `xs[${i}]`, x));
};

/**
 * Joins tensors along an existing axis. All shapes must match except on `axis`; dtypes promote
 * (`bool < int32 < float32 < float64`). Inputs with a 0-size axis are fine.
 * @throws TensorException for an empty list, scalars, mismatched ranks or shapes.
 * @example concat([zeros([2, 3]), ones([1, 3])]).shape // [3, 3]
 */
export const concat = (xs: readonly Tensor[], axis = 0): Tensor => {
  checkNonEmpty("concat", xs);
  const first = xs[0]!;
  const rank = first.shape.length;
  if (rank === 0) {
    return fail({
      _tag: "ShapeError",
      op: "concat",
      arg: "xs",
      shapes: xs.map((x) => x.shape),
      detail: "scalars have no axis to concatenate along",
      fix: "use stack to join scalars into a vector, or reshape them to [1] first",
    });
  }
  const a = normalizeAxis("concat", "axis", axis, rank);
  const bad = xs.findIndex((x) => x.shape.length !== rank || x.shape.some((d, i) => i !== a && d !== first.shape[i]));
  if (bad >= 0) {
    return fail({
      _tag: "ShapeError",
      op: "concat",
      arg: `xs[${bad}]`,
      shapes: xs.map((x) => x.shape),
      detail:
        `shape ${formatShape(xs[bad]!.shape)} does not match ${formatShape(first.shape)} ` +
        `on the axes other than ${a}`,
      fix: `make every input the same rank with equal sizes on every axis except axis ${a}`,
    });
  }
  const dtype = xs.reduce((dt, x) => promoteTypes(dt, x.dtype), first.dtype);
  if (xs.length === 1 && first.dtype === dtype) return first;
  const outer = sizeOf(first.shape.slice(0, a));
  const inner = sizeOf(first.shape.slice(a + 1));
  const total = xs.reduce((s, x) => s + x.shape[a]!, 0);
  const shape = first.shape.map((d, i) => (i === a ? total : d));
  const out = allocate(dtype, sizeOf(shape));
  let pos = 0;
  for (let o = 0; o < outer; o++) {
    for (const x of xs) {
      // Promotion only widens (bool 0/1 → int → float), so plain stores convert exactly enough.
      const chunk = x.shape[a]! * inner;
      const src = x.data;
      const base = o * chunk;
      if (x.dtype === dtype) {
        // Same class: one block copy instead of an element loop.
        (out as Float64Array).set((src as Float64Array).subarray(base, base + chunk), pos);
        pos += chunk;
      } else for (let k = 0; k < chunk; k++) out[pos++] = src[base + k]!;
    }
  }
  return fromBuffer(dtype, shape, out);
};

/**
 * Joins equal-shape tensors along a new axis, which becomes axis `axis` of the result
 * (`axis` in `[-(rank + 1), rank]`). Dtypes promote as in `concat`.
 * @throws TensorException for an empty list or unequal shapes.
 * @example stack([zeros([3]), ones([3])], 1).shape // [3, 2]
 */
export const stack = (xs: readonly Tensor[], axis = 0): Tensor => {
  checkNonEmpty("stack", xs);
  const first = xs[0]!;
  const bad = xs.findIndex((x) => !shapesEqual(x.shape, first.shape));
  if (bad >= 0) {
    return fail({
      _tag: "ShapeError",
      op: "stack",
      arg: `xs[${bad}]`,
      shapes: xs.map((x) => x.shape),
      detail: `shape ${formatShape(xs[bad]!.shape)} differs from ${formatShape(first.shape)}`,
      fix: "stack needs every input to have the same shape (pad or slice them first)",
    });
  }
  const a = normalizeAxis("stack", "axis", axis, first.shape.length + 1);
  return concat(
    xs.map((x) => expandDims(x, a)),
    a,
  );
};

/**
 * Cuts `x` along `axis` like NumPy's `split`: a number `n` gives `n` equal parts (the axis size must
 * be divisible by `n`); an array of indices cuts before each index, with Python slice semantics
 * (negative indices count from the end, out-of-range ones clamp, a decreasing index gives an empty
 * part). Parts are slices, so they may share `x`'s buffer.
 * @throws TensorException when the sections do not divide the axis or an index is not an integer.
 * @example split(arange(6), [2, 5]).map((t) => t.shape[0]) // [2, 3, 1]
 */
export const split = (x: Tensor, indicesOrSections: number | readonly number[], axis = 0): Tensor[] => {
  const a = normalizeAxis("split", "axis", axis, checkTensor("split", "x", x).shape.length);
  const size = x.shape[a]!;
  let cuts: readonly number[];
  if (typeof indicesOrSections === "number") {
    const n = indicesOrSections;
    if (!Number.isSafeInteger(n) || n <= 0 || size % n !== 0) {
      return fail({
        _tag: "ShapeError",
        op: "split",
        arg: "indicesOrSections",
        shapes: [x.shape],
        detail:
          Number.isSafeInteger(n) && n > 0
            ? `axis ${a} of size ${size} does not divide into ${n} equal sections`
            : `the number of sections must be a positive integer, got ${n}`,
        fix: "pass a section count that divides the axis size, or an array of split indices",
      });
    }
    cuts = Array.from({ length: n - 1 }, (_, i) => ((i + 1) * size) / n);
  } else {
    if (!isList(indicesOrSections) || !indicesOrSections.every((i) => Number.isSafeInteger(i))) {
      return fail({
        _tag: "ValueError",
        op: "split",
        arg: "indicesOrSections",
        detail: `split indices must be integers, got ${showValue(indicesOrSections)}`,
        fix: "pass integer positions such as [2, 5], or a number of equal sections",
      });
    }
    cuts = indicesOrSections;
  }
  const lead: null[] = new Array<null>(a).fill(null);
  const parts: Tensor[] = [];
  for (let i = 0; i <= cuts.length; i++) {
    // NumPy cuts x[cuts[i-1]:cuts[i]] with Python slicing; the first part starts at 0 and the last
    // runs to the end, which omitting start/stop expresses.
    const spec: SliceSpec = {
      ...(i > 0 ? { start: cuts[i - 1]! } : {}),
      ...(i < cuts.length ? { stop: cuts[i]! } : {}),
    };
    parts.push(slice(x, [...lead, spec]));
  }
  return parts;
};

/**
 * Pads with a constant: `widths[i] = [before, after]` adds that many elements of `value` on each
 * side of axis `i` (NumPy's `pad` with `mode="constant"`). `value` is converted to `x`'s dtype.
 * @throws TensorException when `widths` does not have one non-negative integer pair per axis.
 * @example pad(tensor([1, 2]), [[1, 2]]).data // Float32Array [0, 1, 2, 0, 0]
 */
export const pad = (x: Tensor, widths: ReadonlyArray<readonly [number, number]>, value = 0): Tensor => {
  const rank = checkTensor("pad", "x", x).shape.length;
  checkNumber("pad", "value", value);
  const isPair = (w: unknown): boolean =>
    isList(w) && w.length === 2 && w.every((v) => Number.isSafeInteger(v) && (v as number) >= 0);
  if (!isList(widths) || widths.length !== rank || !widths.every(isPair)) {
    return fail({
      _tag: "ShapeError",
      op: "pad",
      arg: "widths",
      shapes: [x.shape],
      detail:
        `widths ${showValue(widths)} must hold one [before, after] pair of non-negative integers ` +
        `per axis of shape ${formatShape(x.shape)}`,
      fix: `pass ${rank} pairs such as ${JSON.stringify(x.shape.map(() => [0, 0]))}`,
    });
  }
  if (widths.every(([lo, hi]) => lo === 0 && hi === 0)) return x;
  const shape = x.shape.map((d, i) => d + widths[i]![0] + widths[i]![1]);
  const out = allocate(
    x.dtype,
    checkCount(
      "pad",
      "widths",
      shape.reduce((p, d) => p * d, 1),
    ),
  );
  out.fill(coerce(x.dtype, value));
  // x's elements land in the window of `out` that starts at the "before" corner; walking that
  // window with out's strides lists the destinations in x's row-major order.
  const strides = stridesOf(shape);
  const offset = widths.reduce((o, [lo], i) => o + lo * strides[i]!, 0);
  const dest = viewOffsets(x.shape, strides, offset);
  for (let i = 0; i < dest.length; i++) out[dest[i]!] = x.data[i]!;
  return fromBuffer(x.dtype, shape, out);
};
