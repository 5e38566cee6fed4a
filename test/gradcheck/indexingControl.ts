/**
 * @file Gradient specs of the indexing primitives (int32 indices are closed-over constants, with
 * negatives and repeats), matmul (batch broadcasting, 1-D operands) and the primitives that shape
 * differentiation: stopGradient, remat, customVjp and scan (a small tanh RNN).
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import type { GradCase, GradSpec } from "./harness.js";
import { arbBroadcastShapes, arbShape, arbTensor, intTensorOf, real, shapes, tensorOf } from "./generators.js";
import { squared } from "./structural.js";

const reals = real(-2, 2);

/** x (rank ≥ 1), an axis of it, and int32 indices in [−d, d) for that axis (repeats likely). */
const takeProblem = (flattened: boolean) =>
  arbShape({ minRank: 1 }).chain((s) =>
    fc.integer({ min: 0, max: s.length - 1 }).chain((axis) => {
      const d = flattened ? T.sizeOf(s) : s[axis]!;
      return fc.tuple(
        tensorOf(s, reals),
        fc.constant(axis),
        arbShape({ maxRank: 2 }).chain((is) => intTensorOf(is, -d, d - 1)),
      );
    }),
  );

/** x, an axis, and take_along_axis indices: x's rank, other axes equal to x's or 1. */
const gatherProblem = arbShape({ minRank: 1 }).chain((s) =>
  fc
    .integer({ min: 0, max: s.length - 1 })
    .chain((axis) =>
      fc
        .tuple(...s.map((d, i) => (i === axis ? fc.integer({ min: 1, max: 3 }) : fc.constantFrom(d, 1))))
        .chain((is) => fc.tuple(tensorOf(s, reals), fc.constant(axis), intTensorOf(is, -s[axis]!, s[axis]! - 1))),
    ),
);

/** Operand shapes for NumPy matmul: broadcast batch axes, and 1-D operands on either side. */
const matmulShapes = fc
  .record({
    m: fc.integer({ min: 1, max: 3 }),
    k: fc.integer({ min: 1, max: 3 }),
    n: fc.integer({ min: 1, max: 3 }),
    batch: arbBroadcastShapes({ maxRank: 2 }),
    vecA: fc.boolean(),
    vecB: fc.boolean(),
  })
  .map(({ m, k, n, batch, vecA, vecB }) => ({
    a: vecA ? [k] : [...batch.a, m, k],
    b: vecB ? [k] : [...batch.b, k, n],
  }));

/** The body of a one-layer tanh RNN: h' = tanh(h W + x U + b), y = h'². */
interface RnnParams {
  readonly W: Value;
  readonly U: Value;
  readonly b: Value;
}
const rnnStep =
  (p: RnnParams) =>
  (h: Value, x: Value): readonly [Value, Value] => {
    const next = A.tanh(A.add(A.add(A.matmul(h, p.W), A.matmul(x, p.U)), p.b));
    return [next, A.mul(next, next)];
  };

const scanProblem = fc
  .record({
    h: fc.integer({ min: 1, max: 3 }),
    d: fc.integer({ min: 1, max: 2 }),
    steps: fc.integer({ min: 1, max: 4 }),
    reverse: fc.boolean(),
    remat: fc.constantFrom<"all" | "carries">("all", "carries"),
  })
  .chain((o) =>
    fc.tuple(
      fc.constant(o),
      fc.record({
        W: tensorOf([o.h, o.h], real(-1, 1)),
        U: tensorOf([o.d, o.h], real(-1, 1)),
        b: tensorOf([o.h], real(-1, 1)),
      }),
      tensorOf([o.h], real(-1, 1)),
      tensorOf([o.steps, o.d], real(-1, 1)),
    ),
  )
  .map(([o, params, h0, xs]): GradCase => ({
    label: `scan rnn h=${o.h} d=${o.d} T=${o.steps} reverse=${o.reverse} remat=${o.remat}`,
    f: (p: RnnParams, init: Value, seq: Value) => A.scan(rnnStep(p), init, seq, { reverse: o.reverse, remat: o.remat }),
    args: [params, h0, xs],
  }));

/** x·sin(y) with its hand-written (correct) VJP, the rule written with ops so it differentiates again. */
const xSinY = A.customVjp(
  (x: Value, y: Value) => A.mul(x, A.sin(y)),
  (x: Value, y: Value) => [A.mul(x, A.sin(y)), [x, y]] as const,
  ([x, y]: readonly [Value, Value], g: Value) => [A.mul(g, A.sin(y)), A.mul(g, A.mul(x, A.cos(y)))],
);

export const indexingSpecs = {
  take: {
    kind: "fd",
    order: 2,
    cases: fc.oneof(
      takeProblem(false).map(([x, axis, idx]): GradCase => ({
        label: `take ${shapes(x, idx)} axis=${axis}`,
        f: squared((v) => A.take(v, idx, axis)),
        args: [x],
      })),
      takeProblem(true).map(([x, , idx]): GradCase => ({
        label: `take ${shapes(x, idx)} flattened`,
        f: squared((v) => A.take(v, idx)),
        args: [x],
      })),
    ),
  },
  addAt: {
    kind: "fd",
    order: 2,
    cases: takeProblem(false).chain(([x, axis, idx]) =>
      tensorOf([...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)], reals).map(
        (values): GradCase => ({
          label: `addAt ${shapes(x, idx, values)} axis=${axis}`,
          f: squared((v, w) => A.addAt(v, idx, w, axis)),
          args: [x, values],
        }),
      ),
    ),
  },
  gather: {
    kind: "fd",
    order: 2,
    cases: gatherProblem.map(([x, axis, idx]): GradCase => ({
      label: `gather ${shapes(x, idx)} axis=${axis}`,
      f: squared((v) => A.gather(v, idx, axis)),
      args: [x],
    })),
  },
  addAlongAxis: {
    kind: "fd",
    order: 2,
    cases: gatherProblem.chain(([x, axis, idx]) =>
      tensorOf(
        x.shape.map((d, i) => (i === axis ? idx.shape[i]! : d)),
        reals,
      ).map((values): GradCase => ({
        label: `addAlongAxis ${shapes(x, idx, values)} axis=${axis}`,
        f: squared((v, w) => A.addAlongAxis(v, idx, w, axis)),
        args: [x, values],
      })),
    ),
  },
  // Bilinear, so order 2 checks the cross terms of both operands' rules.
  matmul: {
    kind: "fd",
    order: 2,
    cases: matmulShapes.chain(({ a, b }) =>
      fc
        .tuple(tensorOf(a, reals), tensorOf(b, reals))
        .map(([x, y]): GradCase => ({ label: `matmul ${shapes(x, y)}`, f: A.matmul, args: [x, y] })),
    ),
  },
} as const satisfies Record<string, GradSpec>;

export const controlSpecs = {
  stopGradient: {
    kind: "zeroGradient",
    cases: arbTensor(reals).map((x): GradCase => ({
      label: `stopGradient ${shapes(x)}`,
      f: A.stopGradient,
      args: [x],
    })),
  },
  remat: {
    kind: "fd",
    order: 2,
    cases: fc
      .tuple(arbShape({ minRank: 1, maxRank: 2 }), fc.integer({ min: 1, max: 3 }))
      .chain(([s, n]) => fc.tuple(tensorOf(s, reals), tensorOf([s[s.length - 1]!, n], reals), tensorOf([n], reals)))
      .map(([x, w, c]): GradCase => ({
        label: `remat ${shapes(x, w)}`,
        // The body closes over a constant c, which becomes a const input of the remat body.
        f: A.remat((v: Value, u: Value) => A.mul(A.tanh(A.matmul(v, u)), c)),
        args: [x, w],
      })),
  },
  customVjp: {
    kind: "fd",
    order: 2,
    cases: arbBroadcastShapes().chain(({ out }) =>
      fc
        .tuple(tensorOf(out, reals), tensorOf(out, real(-3, 3)))
        .map(([x, y]): GradCase => ({ label: `customVjp x·sin(y) ${shapes(x, y)}`, f: xSinY, args: [x, y] })),
    ),
  },
  scan: { kind: "fd", order: 2, cases: scanProblem },
} as const satisfies Record<string, GradSpec>;
