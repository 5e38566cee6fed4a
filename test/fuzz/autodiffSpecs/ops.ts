/**
 * @file Specs of the autodiff ops without a tensor-kernel twin: astype, zerosLike, onesLike,
 * stopGradient, sliceWindow and unslice (the resolved-window pair behind slice and its VJP).
 */
import fc from "fast-check";
import * as A from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import {
  arbDType,
  arbShape,
  arbTensor,
  expectTensor,
  notDType,
  notTensor,
  omitted,
  ravel,
  returned,
  size,
  store,
  unravel,
  type Hostile,
  type Spec,
} from "../common.js";
import { checkAgainst } from "../tensorSpecs/elementwise.js";

const h = (label: string, value: unknown): Hostile => ({ label, value });

interface Window {
  start: number[];
  step: number[];
  size: number[];
}

/** A window inside `shape`: per axis a start, a nonzero step and a count that stays in range. */
const arbWindow = (shape: readonly number[]): fc.Arbitrary<Window> =>
  fc
    .tuple(
      ...shape.map((d) =>
        d === 0
          ? fc.constant([0, 1, 0] as const)
          : fc
              .tuple(fc.integer({ min: 0, max: d - 1 }), fc.constantFrom(1, 2, -1))
              .chain(([s, st]) =>
                fc.tuple(
                  fc.constant(s),
                  fc.constant(st),
                  fc.integer({ min: 0, max: st > 0 ? Math.floor((d - 1 - s) / st) + 1 : Math.floor(s / -st) + 1 }),
                ),
              ),
      ),
    )
    .map((axes) => ({ start: axes.map((a) => a[0]), step: axes.map((a) => a[1]), size: axes.map((a) => a[2]) }));

const badWindows = (rank: number): Hostile[] => [
  h("null", null),
  h("{}", {}),
  h("a window of the wrong rank", { start: [0, 0, 0, 0], step: [1, 1, 1, 1], size: [1, 1, 1, 1] }),
  h("a window reading past the end", {
    start: Array(rank).fill(0),
    step: Array(rank).fill(1),
    size: Array(rank).fill(9),
  }),
  h("step 0", { start: Array(rank).fill(0), step: Array(rank).fill(0), size: Array(rank).fill(1) }),
  h("fractional start", { start: Array(rank).fill(0.5), step: Array(rank).fill(1), size: Array(rank).fill(1) }),
];

/** The element a window's position `idx` reads in a tensor of `shape`. */
const windowSource = (w: Window, idx: readonly number[]): number[] => idx.map((v, a) => w.start[a]! + v * w.step[a]!);

/** Specs of the autodiff-only ops. */
export const autodiffOpSpecs: Record<string, Spec> = {
  astype: {
    valid: fc.tuple(arbTensor(), arbDType),
    check: (args, out) => {
      const [x, d] = args as [T.Tensor, T.DType];
      expectTensor(
        returned(out, "astype"),
        { dtype: d, shape: x.shape, values: Array.from(x.data, (v) => store(d, v)) },
        {},
        "astype",
      );
    },
    slots: [{ reject: notTensor }, { reject: [...notDType, h("undefined", undefined)] }],
  },
  zerosLike: {
    valid: fc.tuple(arbTensor(), fc.option(arbDType, { nil: undefined })),
    check: (args, out) => {
      const [x, d] = args as [T.Tensor, T.DType | undefined];
      expectTensor(
        returned(out, "zerosLike"),
        { dtype: d ?? x.dtype, shape: x.shape, values: new Array<number>(size(x.shape)).fill(0) },
        {},
        "zerosLike",
      );
    },
    slots: [{ reject: notTensor }, { reject: notDType, tolerate: [omitted] }],
  },
  onesLike: {
    valid: fc.tuple(arbTensor(), fc.option(arbDType, { nil: undefined })),
    check: (args, out) => {
      const [x, d] = args as [T.Tensor, T.DType | undefined];
      expectTensor(
        returned(out, "onesLike"),
        { dtype: d ?? x.dtype, shape: x.shape, values: new Array<number>(size(x.shape)).fill(1) },
        {},
        "onesLike",
      );
    },
    slots: [{ reject: notTensor }, { reject: notDType, tolerate: [omitted] }],
  },
  stopGradient: {
    valid: arbTensor().map((x) => [x]),
    check: (args, out) => {
      const x = args[0] as T.Tensor;
      expectTensor(
        returned(out, "stopGradient"),
        { dtype: x.dtype, shape: x.shape, values: Array.from(x.data) },
        {},
        "stopGradient",
      );
      if (T.isFloating(x.dtype)) {
        const g = A.grad((y: T.Tensor) => A.sum(A.stopGradient(A.mul(y, y))))(x);
        expectTensor(
          g,
          { dtype: x.dtype, shape: x.shape, values: new Array<number>(size(x.shape)).fill(0) },
          {},
          "grad through stopGradient",
        );
      }
    },
    slots: [{ reject: notTensor }],
  },
  sliceWindow: {
    valid: arbTensor({ shape: arbShape(3, 3) }).chain((x) => fc.tuple(fc.constant(x), arbWindow(x.shape))),
    check: (args, out) => {
      const [x, w] = args as [T.Tensor, Window];
      checkAgainst(
        "autodiff",
        "sliceWindow",
        {
          dtype: x.dtype,
          shape: w.size,
          values: Array.from(
            { length: size(w.size) },
            (_, i) => x.data[ravel(windowSource(w, unravel(i, w.size)), x.shape)]!,
          ),
        },
        out,
      );
    },
    slots: [{ reject: notTensor }, { reject: badWindows(2) }],
  },
  unslice: {
    valid: arbShape(3, 3).chain((s) =>
      fc
        .tuple(arbWindow(s), arbDType)
        .chain(([w, d]) =>
          fc.tuple(arbTensor({ shape: fc.constant(w.size), dtype: fc.constant(d) }), fc.constant(s), fc.constant(w)),
        ),
    ),
    check: (args, out) => {
      const [x, s, w] = args as [T.Tensor, number[], Window];
      const values = new Array<number>(size(s)).fill(0);
      for (let i = 0; i < size(w.size); i++) values[ravel(windowSource(w, unravel(i, w.size)), s)] = x.data[i]!;
      checkAgainst("autodiff", "unslice", { dtype: x.dtype, shape: s, values }, out);
    },
    slots: [
      { reject: notTensor },
      { reject: [h("null", null), h("[1.5]", [1.5]), h('"x"', "x")] },
      { reject: badWindows(2) },
    ],
  },
};
