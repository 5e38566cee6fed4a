/**
 * @file The movement, reduction, matmul and indexing lowerings against the CPU jit on generated
 * shapes: movement and indexing exactly, sums and products within the float32 tolerance scaled by
 * the number of terms. Gradients bring in the transposes the backward pass uses (unslice, addAt,
 * addAlongAxis, matmul with a transposed operand).
 */
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import { fromDataOrThrow } from "@rewind/tensor";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { STRUCTURE_COVERED } from "./coverage.js";
import { compare, floats, ints, RUNS, seen, shapeArb } from "./helpers.js";

/** A fixed [2, 3, 4] tensor. */
const cube = fromDataOrThrow(
  Array.from({ length: 24 }, (_, i) => i - 11.5),
  [2, 3, 4],
  "float32",
);

/** A shape of rank 1–3 and a valid axis of it. */
const withAxis = shapeArb(3)
  .filter((s) => s.length > 0)
  .chain((s) => fc.tuple(fc.constant(s), fc.nat(s.length - 1)));

describe("movement lowerings (exact)", () => {
  it("broadcastTo, reshape, transpose and flip", async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb().chain((s) => fc.tuple(floats(s), fc.constant(s))),
        async ([x, s]) => {
          const perm = s.map((_, i) => s.length - 1 - i);
          const f = (v: Value) => [
            A.broadcastTo(v, [2, ...s]),
            A.broadcastTo(A.reshape(v, [...s, 1]), [...s, 3]),
            A.reshape(v, [s.reduce((a, d) => a * d, 1)]),
            A.transpose(v, perm),
            A.flip(v),
            A.stopGradient(v),
          ];
          await compare(f, [x], { exact: true });
        },
      ),
      // A fixed rank-3 case besides the generated ones, so every primitive of the list below is run.
      { ...RUNS, examples: [[[cube, [2, 3, 4]]]] },
    );
  });

  it("slice (with steps, negative too), pad and concat, and unslice through their gradients", async () => {
    await fc.assert(
      fc.asyncProperty(
        withAxis.chain(([s, a]) => fc.tuple(floats(s), fc.constant(s), fc.constant(a), fc.integer({ min: 1, max: 2 }))),
        async ([x, s, axis, step]) => {
          const spec = s.map((_, i) => (i === axis ? { start: 0, step } : null));
          const back = s.map((_, i) => (i === axis ? { step: -step } : null));
          const widths = s.map((_, i) => (i === axis ? ([1, 2] as const) : ([0, 1] as const)));
          const f = (v: Value) => [
            A.slice(v, spec),
            A.slice(v, back),
            A.pad(v, widths, 1.5),
            A.concat([v, A.neg(v), v], axis),
          ];
          await compare(f, [x], { exact: true });
          // grad of a slice is unslice; of pad a slice; of concat slices.
          const g = A.grad((v: Value) =>
            A.add(
              A.add(A.sum(A.mul(A.slice(v, spec), 2)), A.sum(A.mul(A.pad(v, widths), 3))),
              A.sum(A.mul(A.concat([v, A.neg(v)], axis), 5)),
            ),
          );
          await compare(g, [x], { exact: true });
        },
      ),
      { ...RUNS, examples: [[[cube, [2, 3, 4], 1, 2]]] },
    );
  });
});

describe("empty tensors and large launches", () => {
  it("empty shapes flow through movement, reductions and elementwise kernels", async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb(3, 0).chain((s) => fc.tuple(floats(s), fc.constant(s))),
        async ([x, s]) => {
          const f = (v: Value) => [
            A.exp(v),
            A.transpose(
              v,
              s.map((_, i) => s.length - 1 - i),
            ),
            A.sum(v),
            A.max(
              A.pad(
                v,
                s.map(() => [1, 0] as const),
              ),
            ),
          ];
          await compare(f, [x], { terms: 125, scale: 60 });
        },
      ),
      RUNS,
    );
  });

  it("a kernel over more than 65535 workgroups folds its grid into a second dimension", async () => {
    const n = 64 * 65535 + 1000;
    const x = fromDataOrThrow(
      Float32Array.from({ length: n }, (_, i) => (i % 1000) - 500),
      [n],
      "float32",
    );
    await compare((v: Value) => A.add(A.neg(v), 0.5), [x], { exact: true });
  });
});

describe("reduction lowerings", () => {
  it("sum, max, min and prod over axes", async () => {
    await fc.assert(
      fc.asyncProperty(
        withAxis.chain(([s, a]) => fc.tuple(floats(s, -2, 2), fc.constant(s), fc.constant(a))),
        async ([x, s, axis]) => {
          const n = s.reduce((a, d) => a * d, 1);
          const f = (v: Value) => [A.sum(v), A.sum(v, { axis }), A.max(v, { axis }), A.min(v), A.max(v)];
          await compare(f, [x], { terms: n, scale: 2 });
          await compare((v: Value) => A.prod(v, { axis }), [x], { terms: s[axis]!, scale: 2 ** s[axis]! });
        },
      ),
      RUNS,
    );
  });

  it("long reductions into few outputs run in two passes (partial results, then their reduction)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1025, max: 5000 }).chain((n) => fc.tuple(floats([2, n], -2, 2), ints([n], -3, 3))),
        async ([x, i]) => {
          const n = x.shape[1]!;
          await compare((v: Value) => [A.sum(v), A.sum(v, { axis: 1 }), A.max(v, { axis: 1 }), A.min(v)], [x], {
            terms: 2 * n,
            scale: 2,
          });
          await compare((v: Value) => [A.sum(v), A.max(v)], [i]);
        },
      ),
      { numRuns: 3 },
    );
  });

  it("int32 sums, extremes and products are exact", async () => {
    await fc.assert(
      fc.asyncProperty(
        withAxis.chain(([s, a]) => fc.tuple(ints(s), fc.constant(a))),
        async ([x, axis]) => {
          const f = (v: Value) => [A.sum(v, { axis }), A.max(v), A.min(v, { axis }), A.prod(v, { axis })];
          await compare(f, [x]);
        },
      ),
      RUNS,
    );
  });

  it("argmax and argmin: first of ties, NaN wins", async () => {
    await fc.assert(
      fc.asyncProperty(
        withAxis.chain(([s, a]) => fc.tuple(ints(s, -2, 2), fc.constant(a))),
        async ([x, axis]) => {
          const f = (v: Value) => [A.argmax(v, { axis }), A.argmin(A.astype(v, "float32"), { axis })];
          await compare(f, [x]);
        },
      ),
      RUNS,
    );
    const special = fromDataOrThrow([1, NaN, 3, NaN, -Infinity, 2], [2, 3], "float32");
    await compare((v: Value) => [A.argmax(v, { axis: 1 }), A.argmin(v, { axis: 0 }), A.max(v, { axis: 1 })], [special]);
  });
});

describe("matmul lowering", () => {
  const dims = fc.tuple(
    fc.integer({ min: 1, max: 20 }),
    fc.integer({ min: 1, max: 40 }),
    fc.integer({ min: 1, max: 20 }),
  );
  // Each new shape compiles new kernels (shapes are written into the WGSL): fewer runs here.
  const runs = { numRuns: 3 };
  it("batched products and both gradients (operands read transposed in place)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .tuple(dims, fc.integer({ min: 1, max: 3 }))
          .chain(([[m, k, n], b]) => fc.tuple(floats([b, m, k], -1, 1), floats([b, k, n], -1, 1), fc.constant(k))),
        async ([x, y, k]) => {
          await compare((a: Value, c: Value) => A.matmul(a, c), [x, y], { terms: k });
          const loss = (a: Value, c: Value) => A.sum(A.tanh(A.matmul(a, c)));
          // ∂a = g·bᵀ reads b transposed, ∂b = aᵀ·g reads a transposed.
          await compare(A.grad(loss, { argnums: [0, 1] }), [x, y], { terms: 40 });
        },
      ),
      runs,
    );
  });

  it("int32 matmul is exact", async () => {
    await compare(
      (a: Value, c: Value) => A.matmul(a, c),
      [fromDataOrThrow([1, 2, 3, 4, 5, 6], [2, 3], "int32"), fromDataOrThrow([7, 8, 9, 10, 11, 12], [3, 2], "int32")],
    );
  });
});

describe("indexing lowerings", () => {
  it("take and gather, with negative indices, and their scatter-add gradients", async () => {
    await fc.assert(
      fc.asyncProperty(
        withAxis.chain(([s, a]) =>
          fc.tuple(
            floats(s),
            fc.constant(a),
            fc.array(fc.integer({ min: -s[a]!, max: s[a]! - 1 }), { minLength: 1, maxLength: 6 }),
            ints(
              s.map((d, i) => (i === a ? 3 : d)),
              -s[a]!,
              s[a]! - 1,
            ),
          ),
        ),
        async ([x, axis, rows, along]) => {
          const idx = fromDataOrThrow(rows, [rows.length], "int32");
          await compare((v: Value, i: Value, j: Value) => [A.take(v, i, axis), A.gather(v, j, axis)], [x, idx, along], {
            exact: true,
          });
          // Repeated indices accumulate: the sums are in index order, as on the CPU.
          await compare(
            A.grad((v: Value) => A.add(A.sum(A.take(v, idx, axis)), A.sum(A.gather(v, along, axis)))),
            [x],
            {
              terms: 9,
            },
          );
          await compare(
            (v: Value, i: Value, w: Value) => [
              A.addAt(v, i, A.take(w, i, axis), axis),
              A.addAlongAxis(v, along, A.gather(w, along, axis), axis),
            ],
            [x, idx, x],
            { terms: 9, scale: 4 },
          );
        },
      ),
      RUNS,
    );
  });
});

afterAll(() => {
  for (const p of STRUCTURE_COVERED) expect(seen, p).toContain(p);
});
