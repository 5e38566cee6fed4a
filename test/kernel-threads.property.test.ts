/**
 * @file Kernel threads over random product shapes: whatever the rows (odd, few, a multiple of the
 * micro-tile or not), the inner length (across the kernel's 256-deep k blocks or not), the columns
 * (whole 8-wide panels or ragged) and the layout (a or b stored transposed, two products of one a
 * computed as a pair, b shared by a batch, b packed once for a scan's steps), a jitted function
 * whose products split by rows across the main thread and a kernel thread gives the bits of its
 * eager products on one thread; and a large fused elementwise loop of random members and reads
 * (row and column broadcasts, literals, masks; several outputs), split by rows over the two
 * threads, gives its eager bits too. kernel-threads.test.ts has the examples (faults, the LSTM,
 * the thresholds); this file looks for a shape whose row split is off.
 */
import { afterAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import {
  add,
  exp,
  greater,
  jit,
  matmul,
  mul,
  scan,
  sigmoid,
  sub,
  tanh,
  transpose,
  treeFlatten,
  where,
  type Value,
} from "@rewind/autodiff";
import { useKernelThreads, type KernelThreads } from "@rewind/workers/node";
import { WASM_MIN_MACS } from "@rewind/tensor/internal/codegen";

/** Every leaf's bytes, in tree order. */
const bitsOf = (tree: unknown): number[][] =>
  treeFlatten(tree)[0].map((l) => Array.from(new Uint8Array((l as T.Tensor).data.slice().buffer)));

type Layout = "single" | "pair" | "batched" | "scan";

const arbCase = fc.record({
  layout: fc.constantFrom<Layout>("single", "pair", "batched", "scan"),
  // Rows from 4 (the fewest that split over two threads) past several 5-row micro-tiles.
  m: fc.integer({ min: 4, max: 45 }),
  // Inner lengths below, at and across the kernel's k block of 256.
  k: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 250, max: 300 })),
  n: fc.integer({ min: 1, max: 27 }),
  n2: fc.integer({ min: 1, max: 19 }),
  transA: fc.boolean(),
  transB: fc.boolean(),
  steps: fc.integer({ min: 1, max: 3 }),
  seed: fc.integer({ min: 0, max: 1_000_000 }),
});

type Case = typeof arbCase extends fc.Arbitrary<infer C> ? C : never;

/** The function of a case and its arguments (operands stored transposed where the case says). */
const build = (c: Case): { f: (...xs: Value[]) => Value[]; args: T.Tensor[] } => {
  const keys = T.random.split(T.random.key(c.seed), 4) as unknown as T.Key[];
  const normal = (i: number, shape: number[]): T.Tensor => T.random.normal(keys[i]!, shape);
  // op(a) is m × k and op(b) k × n; a stored-transposed operand is passed transposed and undone in f.
  const opA = (x: Value): Value => (c.transA ? transpose(x) : x);
  const opB = (x: Value): Value => (c.transB ? transpose(x) : x);
  const a = normal(0, c.transA ? [c.k, c.m] : [c.m, c.k]);
  const b = normal(1, c.transB ? [c.n, c.k] : [c.k, c.n]);
  switch (c.layout) {
    case "single":
      return { f: (x, y) => [matmul(opA(x), opB(y))], args: [a, b] };
    case "pair": {
      const b2 = normal(2, c.transB ? [c.n2, c.k] : [c.k, c.n2]);
      return { f: (x, y, z) => [matmul(opA(x), opB(y)), matmul(opA(x), opB(z))], args: [a, b, b2] };
    }
    case "batched":
      // A batch of a's times one b: b is packed once for the batch.
      return { f: (xs, y) => [matmul(xs, opB(y))], args: [normal(2, [c.steps, c.m, c.k]), b] };
    case "scan": {
      // A recurrence whose step multiplies its input by one weight: packed once for all steps.
      const f = (xs: Value, w: Value): Value[] => {
        const [last, ys] = scan(
          (carry: Value, x: Value) => {
            const y = tanh(add(matmul(x, opB(w)), carry));
            return [y, y] as const;
          },
          T.zeros([c.m, c.n]),
          xs,
        ) as unknown as readonly [Value, Value];
        return [last, ys];
      };
      return { f, args: [normal(2, [c.steps, c.m, c.k]), b] };
    }
  }
};

let threads: KernelThreads | undefined;
afterAll(async () => threads?.close());

describe("useKernelThreads(2) on random products", () => {
  it("split products give the bits of the eager products on one thread", async () => {
    // Split every product, however small (the split does not depend on the size).
    threads = await useKernelThreads(2, { minMacs: 1 });
    const kt = threads;
    let split = 0;
    const runs = 150;
    fc.assert(
      fc.property(arbCase, (c) => {
        const { f, args } = build(c);
        const want = bitsOf(f(...args));
        const before = kt.splits;
        const got = bitsOf(jit(f)(...args));
        expect(got).toEqual(want);
        // Products under WASM_MIN_MACS multiply-adds run as JavaScript loops, which never split.
        const macs = c.m * c.k * (c.layout === "pair" ? Math.min(c.n, c.n2) : c.n);
        if (macs >= WASM_MIN_MACS) expect(kt.splits, "the products split").toBeGreaterThan(before);
        if (kt.splits > before) split++;
      }),
      { numRuns: runs },
    );
    // Most cases reached the split (the property would hold vacuously on unsplit products).
    expect(split).toBeGreaterThan(runs / 2);
  });
});

type Member = "tanh" | "sigmoid" | "exp" | "affine" | "mask" | "product";

/** One member of a random loop: an op on two earlier values (indices modulo their count). */
const arbMember = fc.record({
  op: fc.constantFrom<Member>("tanh", "sigmoid", "exp", "affine", "mask", "product"),
  i: fc.nat(20),
  j: fc.nat(20),
  literal: fc.double({ min: -2, max: 2, noNaN: true }),
});

describe("useKernelThreads(2) on random large loops", () => {
  it("a fused loop split by rows gives the eager bits", async () => {
    threads ??= await useKernelThreads(2, { minMacs: 1 });
    const kt = threads;
    let split = 0;
    const runs = 40;
    fc.assert(
      fc.property(
        fc.array(arbMember, { minLength: 1, maxLength: 6 }),
        // Rows (odd ones too) and columns with enough elements (≥ 8 k) for a loop worth splitting.
        fc.integer({ min: 2, max: 70 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        (members, rows, outputs, seed) => {
          const cols = Math.ceil(9000 / rows);
          const keys = T.random.split(T.random.key(seed), 4) as unknown as T.Key[];
          const args = [
            T.random.normal(keys[0]!, [rows, cols]),
            T.random.normal(keys[1]!, [rows, cols]),
            T.random.normal(keys[2]!, [cols]), // a row broadcast
            T.random.normal(keys[3]!, [rows, 1]), // a column broadcast
          ] as const;
          const f = (x: Value, y: Value, row: Value, col: Value): Value[] => {
            // Every value starts from a polynomial, so that the loop is worth splitting.
            const vals: Value[] = [tanh(add(x, row)), sigmoid(sub(y, col))];
            const at = (k: number): Value => vals[k % vals.length]!;
            for (const m of members) {
              const [a, b] = [at(m.i), at(m.j)];
              vals.push(
                m.op === "tanh"
                  ? tanh(add(a, m.literal))
                  : m.op === "sigmoid"
                    ? sigmoid(mul(a, b))
                    : m.op === "exp"
                      ? exp(mul(tanh(a), 0.5))
                      : m.op === "affine"
                        ? add(mul(a, m.literal), col)
                        : m.op === "mask"
                          ? where(greater(a, m.literal), b, row)
                          : mul(a, b),
              );
            }
            return vals.slice(-outputs);
          };
          const before = kt.loopSplits;
          expect(bitsOf(jit(f)(...args))).toEqual(bitsOf(f(...args)));
          if (kt.loopSplits > before) split++;
        },
      ),
      { numRuns: runs },
    );
    // Not vacuous: most programs' loops were split.
    expect(split).toBeGreaterThan(runs / 2);
  });
});
