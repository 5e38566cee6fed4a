/**
 * @file Strided-view algebra: what each movement primitive does to (shape, strides, offset), and
 * when a view is plain contiguous storage. Mirrors the tensor kernels (broadcastStrides, slice
 * windows, flip, numpy's no-copy reshape), so reading through a view yields exactly the elements
 * the kernel would have copied.
 */
import { allocate, coerce, fromBuffer, type DType, type Tensor } from "@rewind/tensor";
import { sizeOfShape, valOf, type Guard, type Program, type StridedView, type VId } from "./ir.js";

/**
 * Row-major strides of a shape.
 * @example rowMajor([2, 3]) // [3, 1]
 */
export const rowMajor = (shape: readonly number[]): number[] => {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
};

/**
 * The view of a whole contiguous value.
 * @example identityView([2, 3]).strides // [3, 1]
 */
export const identityView = (shape: readonly number[], offset = 0): StridedView => ({
  shape,
  strides: rowMajor(shape),
  offset,
});

/**
 * True when the view is the run `[offset, offset + size)` in row-major order (size-1 axes ignored).
 * @example isContiguous({ shape: [2, 1], strides: [1, 7], offset: 4 }) // true
 */
export const isContiguous = (v: StridedView): boolean => {
  if (sizeOfShape(v.shape) === 0) return true;
  const rm = rowMajor(v.shape);
  return v.shape.every((d, i) => d === 1 || v.strides[i] === rm[i]);
};

/**
 * NumPy broadcasting of a view to `shape` (aligned right; size-1 or missing axes get stride 0).
 * @example broadcastView(identityView([3]), [2, 3]).strides // [0, 1]
 */
export const broadcastView = (v: StridedView, shape: readonly number[]): StridedView => {
  const lead = shape.length - v.shape.length;
  return {
    shape,
    strides: shape.map((d, j) => {
      const i = j - lead;
      return i < 0 || v.shape[i] !== d ? 0 : v.strides[i]!;
    }),
    offset: v.offset,
  };
};

/**
 * Axis i of the result is axis perm[i] of the view.
 * @example transposeView(identityView([2, 3]), [1, 0]).strides // [1, 3]
 */
export const transposeView = (v: StridedView, perm: readonly number[]): StridedView => ({
  shape: perm.map((p) => v.shape[p]!),
  strides: perm.map((p) => v.strides[p]!),
  offset: v.offset,
});

/**
 * A resolved strided window: per axis, first index, step and count.
 * @example sliceView(identityView([4]), [3], [-1], [4]) // { strides: [-1], offset: 3 }
 */
export const sliceView = (
  v: StridedView,
  start: readonly number[],
  step: readonly number[],
  size: readonly number[],
): StridedView => ({
  shape: size,
  strides: v.strides.map((s, i) => s * step[i]!),
  offset: v.offset + v.strides.reduce((acc, s, i) => acc + s * start[i]!, 0),
});

/**
 * Reverses the listed axes (as the flip kernel: start at the last element, negate the stride).
 * @example flipView(identityView([4]), [0]).offset // 3
 */
export const flipView = (v: StridedView, axes: readonly number[]): StridedView => {
  if (axes.every((a) => v.shape[a]! <= 1)) return v;
  const strides = [...v.strides];
  let offset = v.offset;
  for (const a of axes) {
    offset += (v.shape[a]! - 1) * strides[a]!;
    strides[a] = -strides[a]!;
  }
  return { shape: v.shape, strides, offset };
};

/**
 * The view of `v` reshaped to `shape` without copying, or undefined when the elements are not
 * evenly strided in the new shape (NumPy's `_attempt_nocopy_reshape`).
 * @example reshapeView(broadcastView(identityView([3]), [2, 3]), [6]) // undefined
 */
export const reshapeView = (v: StridedView, shape: readonly number[]): StridedView | undefined => {
  if (sizeOfShape(shape) === 0 || isContiguous(v)) return identityView(shape, v.offset);
  const od: number[] = [];
  const os: number[] = [];
  v.shape.forEach((d, i) => {
    if (d !== 1) {
      od.push(d);
      os.push(v.strides[i]!);
    }
  });
  const ns = new Array<number>(shape.length).fill(0);
  let oi = 0;
  let oj = 1;
  let ni = 0;
  let nj = 1;
  while (ni < shape.length && oi < od.length) {
    let np = shape[ni]!;
    let op = od[oi]!;
    while (np !== op) {
      if (np < op) np *= shape[nj++]!;
      else op *= od[oj++]!;
    }
    for (let ok = oi; ok < oj - 1; ok++) if (os[ok] !== od[ok + 1]! * os[ok + 1]!) return undefined;
    ns[nj - 1] = os[oj - 1]!;
    for (let nk = nj - 1; nk > ni; nk--) ns[nk - 1] = ns[nk]! * shape[nk]!;
    ni = nj++;
    oi = oj++;
  }
  // Trailing size-1 axes of the new shape keep stride 0 (never used).
  return { shape, strides: ns, offset: v.offset };
};

/**
 * The value a constant fill takes once stored in `dtype` (int32 truncates, float32 rounds).
 * @example storedFill("int32", -2.7) // -2
 */
export const storedFill = (dtype: DType, value: number): number => {
  const cell = allocate(dtype, 1);
  cell[0] = coerce(dtype, value);
  return cell[0];
};

/**
 * Guard of `unslice`: the inner view lands in the window (start, step) of `outShape`, zeros elsewhere.
 * @example windowGuard([1], [1], 0).fill // 0
 */
export const windowGuard = (start: readonly number[], step: readonly number[], fill: number): Guard => ({
  start,
  step,
  fill,
});

/**
 * Index q of the window along one axis that outer index i hits, or -1 when i is outside it.
 * @example windowIndex(5, 1, 2, 3) // 2
 */
export const windowIndex = (i: number, start: number, step: number, size: number): number => {
  const d = i - start;
  if (d % step !== 0) return -1;
  const q = d / step;
  return q >= 0 && q < size ? q : -1;
};

/**
 * Evaluates a view of a constant at compile time into a fresh contiguous tensor of `outShape`.
 * @example evalView(t, identityView([2]), undefined, [2], "float32") // a copy of t
 */
export const evalView = (
  root: Tensor,
  v: StridedView,
  guard: Guard | undefined,
  outShape: readonly number[],
  dtype: DType,
): Tensor => {
  const n = sizeOfShape(outShape);
  const out = allocate(dtype, n);
  const rank = outShape.length;
  const idx = new Array<number>(rank).fill(0);
  for (let p = 0; p < n; p++) {
    let off = v.offset;
    let inside = true;
    for (let a = 0; a < rank; a++) {
      const q = guard === undefined ? idx[a]! : windowIndex(idx[a]!, guard.start[a]!, guard.step[a]!, v.shape[a]!);
      if (q < 0) inside = false;
      off += q * v.strides[a]!;
    }
    out[p] = inside ? root.data[off]! : guard!.fill;
    for (let a = rank - 1; a >= 0; a--) {
      if (++idx[a]! < outShape[a]!) break;
      idx[a] = 0;
    }
  }
  return fromBuffer(dtype, outShape, out);
};

/** What any value reads: its storage (a root or constant) and how. Roots read themselves whole. */
export interface Parts {
  readonly root: VId;
  readonly view: StridedView;
  readonly guard: Guard | undefined;
}

/**
 * The parts of a value.
 * @example partsOf(prog, id).root
 */
export const partsOf = (prog: Program, id: VId): Parts => {
  const v = valOf(prog, id);
  return v.def.kind === "view"
    ? { root: v.def.root, view: v.def.view, guard: v.def.guard }
    : { root: id, view: identityView(v.shape), guard: undefined };
};
