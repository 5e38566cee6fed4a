/**
 * @file Specs of the movement and joining ops (reshape, transpose, permute, expandDims, squeeze,
 * broadcastTo, flip, slice, concat, stack, split, pad), shared by the tensor and autodiff suites.
 * Every reference computes each output element's source index directly from the op's definition.
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Outcome } from "../contract.js";
import {
  arbDType,
  arbShape,
  arbTensor,
  arbTensorOf,
  notAxis,
  notAxisOrList,
  notShape,
  notTensor,
  omitted,
  ravel,
  size,
  store,
  unravel,
  type Expected,
  type Hostile,
  type Spec,
} from "../common.js";
import { misspeltCases } from "../options.js";
import { checkAgainst, type Lib } from "./elementwise.js";

const h = (label: string, value: unknown): Hostile => ({ label, value });

/** An output of `shape` whose element at multi-index `idx` is `x`'s element at `source(idx)`. */
const gathered = (
  x: T.Tensor,
  shape: readonly number[],
  source: (idx: number[]) => number[],
  dtype: T.DType = x.dtype,
): Expected => ({
  dtype,
  shape,
  values: Array.from({ length: size(shape) }, (_, i) =>
    store(dtype, x.data[ravel(source(unravel(i, shape)), x.shape)]!),
  ),
});

const normAxis = (a: unknown, rank: number): number | undefined =>
  typeof a === "number" && Number.isInteger(a) && a >= -rank && a < rank ? (a < 0 ? a + rank : a) : undefined;

const normAxisList = (axis: unknown, rank: number): number[] | undefined => {
  const list = axis === undefined ? [...Array(rank).keys()] : typeof axis === "number" ? [axis] : (axis as unknown[]);
  const out = list.map((a) => normAxis(a, rank));
  if (out.some((a) => a === undefined) || new Set(out).size !== out.length) return undefined;
  return out as number[];
};

const reshapeExpected = (x: T.Tensor, shape: readonly number[]): Expected | string => {
  if (shape.filter((d) => d === -1).length > 1 || shape.some((d) => !Number.isInteger(d) || d < -1)) return "bad shape";
  const n = size(x.shape);
  const known = shape.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const target = shape.includes(-1)
    ? known === 0 || n % known !== 0
      ? undefined
      : shape.map((d) => (d === -1 ? n / known : d))
    : shape;
  if (target === undefined || size(target) !== n) return "size mismatch";
  return { dtype: x.dtype, shape: target, values: Array.from(x.data) };
};

const arbReshapeTarget = (shape: readonly number[]): fc.Arbitrary<number[]> => {
  const n = size(shape);
  return fc.oneof(
    fc.constantFrom([n], [-1], [1, ...shape], [...shape].reverse(), [...shape, 1]),
    fc.nat(Math.max(0, shape.length - 1)).map((i) => shape.map((d, j) => (j === i ? -1 : d))),
    arbShape(3),
    fc.constant<number[]>([-1, -1]),
  );
};

const permExpected = (x: T.Tensor, perm: unknown): Expected | string => {
  const rank = x.shape.length;
  const p =
    perm === undefined
      ? [...Array(rank).keys()].reverse()
      : Array.isArray(perm) && perm.length === rank
        ? normAxisList(perm, rank)
        : undefined;
  if (p === undefined) return "not a permutation";
  return gathered(
    x,
    p.map((a) => x.shape[a]!),
    (idx) => {
      const src = new Array<number>(rank);
      p.forEach((a, i) => (src[a] = idx[i]!));
      return src;
    },
  );
};

const arbPerm = (rank: number): fc.Arbitrary<number[]> =>
  fc
    .oneof(
      {
        weight: 4,
        arbitrary: fc
          .shuffledSubarray([...Array(rank).keys()], { minLength: rank, maxLength: rank })
          .chain((p) => fc.tuple(...p.map((a) => fc.constantFrom(a, a - rank)))),
      },
      { weight: 1, arbitrary: fc.array(fc.integer({ min: -rank - 1, max: rank }), { maxLength: rank + 1 }) },
    )
    .map((p) => [...p]);

const sliceSpec = fc.oneof(
  fc.constant(null),
  fc.record(
    {
      start: fc.integer({ min: -5, max: 5 }),
      stop: fc.integer({ min: -5, max: 5 }),
      step: fc.integer({ min: -3, max: 3 }),
    },
    { requiredKeys: [] },
  ),
);

/** Python's `slice(start, stop, step)` on an axis of `len`: the source indices, or undefined for step 0. */
const pySlice = (
  spec: { start?: number; stop?: number; step?: number } | null | undefined,
  len: number,
): number[] | undefined => {
  const step = spec?.step ?? 1;
  if (step === 0) return undefined;
  const norm = (v: number | undefined): number | undefined => (v === undefined ? undefined : v < 0 ? v + len : v);
  const start = norm(spec?.start);
  const stop = norm(spec?.stop);
  // The definition by enumeration: walk every index in the step's direction, keep those inside.
  const all = step > 0 ? [...Array(len).keys()] : [...Array(len).keys()].reverse();
  const first = all.findIndex((i) => (start === undefined ? true : step > 0 ? i >= start : i <= start));
  if (first < 0) return [];
  const out: number[] = [];
  for (let k = first; k < all.length; k += Math.abs(step)) {
    const i = all[k]!;
    if (stop !== undefined && (step > 0 ? i >= stop : i <= stop)) break;
    out.push(i);
  }
  return out;
};

const sliceExpected = (
  x: T.Tensor,
  specs: ReadonlyArray<{ start?: number; stop?: number; step?: number } | null>,
): Expected | string => {
  if (specs.length > x.shape.length) return "too many specs";
  const picks = x.shape.map((d, a) => pySlice(specs[a], d));
  if (picks.some((p) => p === undefined)) return "step 0";
  return gathered(
    x,
    picks.map((p) => p!.length),
    (idx) => idx.map((v, a) => picks[a]![v]!),
  );
};

const concatExpected = (xs: readonly T.Tensor[], axis: number): Expected | string => {
  const first = xs[0]!;
  const rank = first.shape.length;
  const a = normAxis(axis, rank);
  if (
    a === undefined ||
    xs.some((x) => x.shape.length !== rank || x.shape.some((d, i) => i !== a && d !== first.shape[i]))
  )
    return "shapes do not join";
  const dtype = xs.map((x) => x.dtype).reduce(T.promoteTypes);
  const shape = first.shape.map((d, i) => (i === a ? xs.reduce((n, x) => n + x.shape[a]!, 0) : d));
  const values = Array.from({ length: size(shape) }, (_, i) => {
    const idx = unravel(i, shape);
    let j = idx[a]!;
    const x = xs.find((t) => (j < t.shape[a]! ? true : ((j -= t.shape[a]!), false)))!;
    return store(
      dtype,
      x.data[
        ravel(
          idx.map((v, k) => (k === a ? j : v)),
          x.shape,
        )
      ]!,
    );
  });
  return { dtype, shape, values };
};

const arbJoinable = (stackable: boolean): fc.Arbitrary<T.Tensor[]> =>
  fc.tuple(arbShape(3, 3, stackable ? 0 : 1), fc.integer({ min: 1, max: 3 }), fc.nat(2)).chain(([shape, n, axis]) =>
    fc.array(
      fc.tuple(arbDType, fc.integer({ min: 0, max: 3 }), fc.nat(5)).chain(([d, len, roll]) => {
        // Mostly the shared shape (with the join axis resized for concat), sometimes off by one axis.
        const s = shape.map((v, i) => (!stackable && i === axis % Math.max(1, shape.length) ? len : v));
        return arbTensorOf(roll === 0 && s.length > 0 ? s.map((v, i) => (i === 0 ? v + 1 : v)) : s, d);
      }),
      { minLength: n, maxLength: n },
    ),
  );

const splitExpected = (x: T.Tensor, sections: unknown, axis: number): Expected[] | string => {
  const a = normAxis(axis, x.shape.length);
  if (a === undefined) return "bad axis";
  const dim = x.shape[a]!;
  let cuts: number[];
  if (typeof sections === "number") {
    if (!Number.isInteger(sections) || sections <= 0 || dim % sections !== 0) return "bad sections";
    cuts = Array.from({ length: sections - 1 }, (_, i) => ((i + 1) * dim) / sections);
  } else cuts = sections as number[];
  const bounds = [undefined, ...cuts, undefined];
  return bounds.slice(0, -1).map((lo, i) => {
    const hi = bounds[i + 1];
    const pick = pySlice(
      { ...(lo === undefined ? {} : { start: lo }), ...(hi === undefined ? {} : { stop: hi }) },
      dim,
    )!;
    return gathered(
      x,
      x.shape.map((d, k) => (k === a ? pick.length : d)),
      (idx) => idx.map((v, k) => (k === a ? pick[v]! : v)),
    );
  });
};

const padExpected = (
  x: T.Tensor,
  widths: ReadonlyArray<readonly [number, number]>,
  value: number,
): Expected | string => {
  if (widths.length !== x.shape.length) return "one pair per axis";
  const shape = x.shape.map((d, i) => d + widths[i]![0] + widths[i]![1]);
  const values = Array.from({ length: size(shape) }, (_, i) => {
    const src = unravel(i, shape).map((v, k) => v - widths[k]![0]);
    return store(x.dtype, src.every((v, k) => v >= 0 && v < x.shape[k]!) ? x.data[ravel(src, x.shape)]! : value);
  });
  return { dtype: x.dtype, shape, values };
};

const withX = <A>(arb: (x: T.Tensor) => fc.Arbitrary<A>): fc.Arbitrary<[T.Tensor, A]> =>
  arbTensor().chain((x) => fc.tuple(fc.constant(x), arb(x)));
const check1 =
  (lib: Lib, op: string, ref: (args: readonly unknown[]) => Expected | string) =>
  (args: readonly unknown[], out: Outcome<unknown>) =>
    checkAgainst(lib, op, ref(args), out);
const notSpecs: readonly Hostile[] = [
  h('"x"', "x"),
  h("5", 5),
  h("null", null),
  h("{}", {}),
  h("[1.5]", [1.5]),
  h('[{ start: "1" }]', [{ start: "1" }]),
  h("[{ start: 0.5 }]", [{ start: 0.5 }]),
  h("[{ begin: 1 }]", [{ begin: 1 }]),
  h("[[0, 1]]", [[0, 1]]),
];
const notWidths: readonly Hostile[] = [
  h("null", null),
  h('"x"', "x"),
  h("5", 5),
  h("[[1]]", [[1]]),
  h("[[-1, 0]]", [[-1, 0]]),
  h("[[0.5, 0]]", [[0.5, 0]]),
  h('[["1", 0]]', [["1", 0]]),
  h("[[2**40, 2**40]] (too big)", [[2 ** 40, 2 ** 40]]),
  h("[null]", [null]),
];
const notSections: readonly Hostile[] = [
  h("0", 0),
  h("-1", -1),
  h("1.5", 1.5),
  h("NaN", NaN),
  h('"2"', "2"),
  h("null", null),
  h("{}", {}),
  h("[1.5]", [1.5]),
  h('["1"]', ["1"]),
  h("[NaN]", [NaN]),
];
const notTensorList: readonly Hostile[] = [
  h("[]", []),
  h("null", null),
  h("a tensor (not a list)", T.zeros([2])),
  h("[null]", [null]),
  h("[[1, 2]]", [[1, 2]]),
  h('"x"', "x"),
];

/** Specs of the movement and joining ops. */
export const movementSpecs = (lib: Lib): Record<string, Spec> => ({
  reshape: {
    valid: withX((x) => arbReshapeTarget(x.shape)),
    check: check1(lib, "reshape", ([x, s]) => reshapeExpected(x as T.Tensor, s as number[])),
    slots: [{ reject: notTensor }, { reject: notShape }],
  },
  transpose: {
    valid: withX((x) => fc.option(arbPerm(x.shape.length), { nil: undefined })),
    check: check1(lib, "transpose", ([x, p]) => permExpected(x as T.Tensor, p)),
    slots: [
      { reject: notTensor },
      {
        reject: [h("null", null), h('"x"', "x"), h("5", 5), h("[1.5]", [1.5]), h('["0"]', ["0"]), h("[0, 0]", [0, 0])],
        tolerate: [omitted],
      },
    ],
  },
  permute: {
    valid: withX((x) => arbPerm(x.shape.length)),
    check: check1(lib, "permute", ([x, p]) => permExpected(x as T.Tensor, p)),
    slots: [
      { reject: notTensor },
      { reject: [h("undefined", undefined), h("null", null), h('"x"', "x"), h("[1.5]", [1.5]), h("[0, 0]", [0, 0])] },
    ],
    names: ["permute", "transpose"],
  },
  expandDims: {
    valid: withX((x) => fc.integer({ min: -x.shape.length - 2, max: x.shape.length + 1 })),
    check: check1(lib, "expandDims", ([x, a]) => {
      const t = x as T.Tensor;
      const ax = normAxis(a, t.shape.length + 1);
      return ax === undefined
        ? "bad axis"
        : { dtype: t.dtype, shape: [...t.shape.slice(0, ax), 1, ...t.shape.slice(ax)], values: Array.from(t.data) };
    }),
    slots: [{ reject: notTensor }, { reject: [...notAxis, h("undefined", undefined)] }],
  },
  squeeze: {
    valid: arbTensor({ shape: fc.array(fc.constantFrom(0, 1, 1, 2), { maxLength: 3 }) }).chain((x) =>
      fc.tuple(
        fc.constant(x),
        fc.option(
          fc.oneof(
            fc.integer({ min: -x.shape.length - 1, max: x.shape.length }),
            fc.array(fc.integer({ min: -x.shape.length, max: x.shape.length }), { maxLength: 2 }),
          ),
          { nil: undefined },
        ),
      ),
    ),
    check: check1(lib, "squeeze", ([x, a]) => {
      const t = x as T.Tensor;
      const axes = a === undefined ? t.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : normAxisList(a, t.shape.length);
      if (axes === undefined || axes.some((i) => t.shape[i] !== 1)) return "bad axis";
      return { dtype: t.dtype, shape: t.shape.filter((_, i) => !axes.includes(i)), values: Array.from(t.data) };
    }),
    slots: [{ reject: notTensor }, { reject: notAxisOrList, tolerate: [omitted] }],
  },
  broadcastTo: {
    valid: withX((x) =>
      fc.oneof(
        fc
          .tuple(arbShape(2), fc.array(fc.boolean(), { minLength: x.shape.length, maxLength: x.shape.length }))
          .map(([lead, grow]) => [...lead, ...x.shape.map((d, i) => (d === 1 && grow[i]! ? 3 : d))]),
        arbShape(4),
      ),
    ),
    check: check1(lib, "broadcastTo", ([x, s]) => {
      const t = x as T.Tensor;
      const target = s as number[];
      const lead = target.length - t.shape.length;
      if (lead < 0 || t.shape.some((d, i) => d !== 1 && d !== target[lead + i])) return "does not broadcast";
      return gathered(t, target, (idx) => t.shape.map((d, i) => (d === 1 ? 0 : idx[lead + i]!)));
    }),
    slots: [{ reject: notTensor }, { reject: notShape }],
  },
  flip: {
    valid: withX((x) =>
      fc.option(
        fc.oneof(
          fc.integer({ min: -x.shape.length - 1, max: x.shape.length }),
          fc.array(fc.integer({ min: -x.shape.length, max: Math.max(0, x.shape.length - 1) }), { maxLength: 2 }),
        ),
        { nil: undefined },
      ),
    ),
    check: check1(lib, "flip", ([x, a]) => {
      const t = x as T.Tensor;
      const axes = normAxisList(a, t.shape.length);
      return axes === undefined
        ? "bad axis"
        : gathered(t, t.shape, (idx) => idx.map((v, i) => (axes.includes(i) ? t.shape[i]! - 1 - v : v)));
    }),
    slots: [{ reject: notTensor }, { reject: notAxisOrList, tolerate: [omitted] }],
  },
  slice: {
    valid: withX((x) => fc.array(sliceSpec, { maxLength: x.shape.length + 1 })),
    check: check1(lib, "slice", ([x, s]) => sliceExpected(x as T.Tensor, s as [])),
    slots: [{ reject: notTensor }, { reject: notSpecs }],
    // Each slice spec is an options object too: a misspelt key on axis 1 of a matrix, in both libraries' slice.
    cases: () =>
      misspeltCases({
        names: ["slice"],
        error: T.TensorException,
        known: ["start", "stop", "step"],
        base: { start: 0, stop: 1, step: 1 },
        call: (o) => (lib === "tensor" ? T.slice(T.zeros([2, 3]), [null, o]) : A.slice(T.zeros([2, 3]), [null, o])),
      }),
  },
  concat: {
    valid: fc.tuple(arbJoinable(false), fc.integer({ min: -2, max: 2 })),
    check: check1(lib, "concat", ([xs, a]) => concatExpected(xs as T.Tensor[], (a as number | undefined) ?? 0)),
    slots: [{ reject: notTensorList }, { reject: notAxis, tolerate: [omitted] }],
  },
  stack: {
    valid: fc.tuple(arbJoinable(true), fc.integer({ min: -3, max: 3 })),
    check: check1(lib, "stack", ([xs, a]) => {
      const ts = xs as T.Tensor[];
      const ax = normAxis(a ?? 0, ts[0]!.shape.length + 1);
      if (ax === undefined || ts.some((t) => !T.shapesEqual(t.shape, ts[0]!.shape))) return "bad stack";
      return concatExpected(
        ts.map((t) => ({ ...t, shape: [...t.shape.slice(0, ax), 1, ...t.shape.slice(ax)] })),
        ax,
      );
    }),
    slots: [{ reject: notTensorList }, { reject: notAxis, tolerate: [omitted] }],
  },
  split: {
    valid: arbTensor({ shape: arbShape(3, 4, 1) }).chain((x) =>
      fc.tuple(
        fc.constant(x),
        fc.oneof(fc.integer({ min: 1, max: 4 }), fc.array(fc.integer({ min: -6, max: 6 }), { maxLength: 3 })),
        fc.integer({ min: -x.shape.length - 1, max: x.shape.length }),
      ),
    ),
    check: (args, out) => {
      const want = splitExpected(args[0] as T.Tensor, args[1], (args[2] as number | undefined) ?? 0);
      if (typeof want === "string") return checkAgainst(lib, "split", want, out);
      if (!out.ok) throw new Error(`split: expected ${want.length} parts, got ${out.error.message}`);
      const parts = out.value as unknown[];
      if (!Array.isArray(parts) || parts.length !== want.length)
        throw new Error(`split: expected ${want.length} parts`);
      want.forEach((w, i) => checkAgainst(lib, "split", w, { ok: true, value: parts[i] }));
    },
    slots: [{ reject: notTensor }, { reject: notSections }, { reject: notAxis, tolerate: [omitted] }],
  },
  pad: {
    valid: withX((x) =>
      fc.tuple(
        fc.array(fc.tuple(fc.nat(2), fc.nat(2)), {
          minLength: x.shape.length,
          maxLength: x.shape.length + (x.shape.length === 0 ? 1 : 0),
        }),
        fc.option(fc.constantFrom(0, 1.5, -2, NaN), { nil: undefined }),
      ),
    ).map(([x, [w, v]]) => [x, w, v]),
    check: check1(lib, "pad", ([x, w, v]) =>
      padExpected(x as T.Tensor, w as [number, number][], (v as number | undefined) ?? 0),
    ),
    slots: [
      { reject: notTensor },
      { reject: notWidths },
      { reject: [h('"x"', "x"), h("null", null), h("{}", {}), h("a tensor", T.scalar(1))], tolerate: [omitted] },
    ],
  },
});
