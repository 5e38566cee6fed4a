/**
 * @file jit's `donate` option over random programs: a loop that feeds each call's results back as
 * the next call's donated arguments, where the program reads its inputs after it has computed
 * some results (so a runner that wrote a result into a donated buffer before its last read of
 * that input would change bits), gives the bits of the same loop without donation, compiled or
 * interpreted; every donated argument is unusable afterwards and every other one unchanged.
 * jit-donation.test.ts has the examples.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";

type Op = "add" | "mul" | "sub" | "tanh" | "matmul" | "transpose" | "rowsum" | "neg";

/** One step of a program: an op on two earlier values (by index, taken modulo their count). */
interface Step {
  readonly op: Op;
  readonly i: number;
  readonly j: number;
}

const arbStep: fc.Arbitrary<Step> = fc.record({
  op: fc.constantFrom<Op>("add", "mul", "sub", "tanh", "matmul", "transpose", "rowsum", "neg"),
  i: fc.nat(50),
  j: fc.nat(50),
});

/**
 * The program: values start as the two n × n inputs (an n-vector `v` is read by some steps); each
 * step appends one n × n value; the results are two of the values, each combined with an input
 * read last, after everything else, and the sum of both inputs: a runner that wrote a result into
 * an input's buffer before that last read would change the result.
 */
const program =
  (steps: readonly Step[], late: readonly [number, number]) =>
  (a: Value, b: Value, v: Value): Value[] => {
    const vals: Value[] = [a, b];
    const at = (k: number): Value => vals[k % vals.length]!;
    for (const s of steps) {
      const [x, y] = [at(s.i), at(s.j)];
      // Squash what grows (products of products), so that every value stays finite.
      const next =
        s.op === "add"
          ? A.add(x, y)
          : s.op === "mul"
            ? A.mul(A.tanh(x), y)
            : s.op === "sub"
              ? A.sub(x, A.mul(y, v))
              : s.op === "tanh"
                ? A.tanh(x)
                : s.op === "matmul"
                  ? A.tanh(A.matmul(x, y))
                  : s.op === "transpose"
                    ? A.transpose(x)
                    : s.op === "rowsum"
                      ? A.add(x, A.expandDims(A.tanh(A.sum(y, { axis: 1 })), 1))
                      : A.neg(x);
      vals.push(next);
    }
    // Results: two values from anywhere in the program, then uses of a and b after all of them.
    const r0 = at(late[0]);
    const r1 = at(late[1]);
    return [A.add(r0, A.mul(a, 0.5)), A.sub(r1, A.mul(b, 0.25)), A.sum(A.add(a, b))];
  };

const bitsOf = (t: T.Tensor): number[] => Array.from(new Uint8Array(t.data.slice().buffer));

describe("jit donate on random programs", () => {
  it("a loop feeding results back as donated arguments gives the bits of the loop without donation", () => {
    fc.assert(
      fc.property(
        fc.array(arbStep, { minLength: 1, maxLength: 8 }),
        fc.tuple(fc.nat(50), fc.nat(50)),
        // Small matrices, and ones whose products run on the WebAssembly kernels' memory.
        fc.constantFrom(1, 3, 9),
        fc.subarray([0, 1], { minLength: 1 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 1_000_000 }),
        (steps, late, n, donate, compile, seed) => {
          const f = program(steps, late);
          const k = T.random.split(T.random.key(seed), 3) as unknown as T.Key[];
          const init = [T.random.normal(k[0]!, [n, n]), T.random.normal(k[1]!, [n, n])] as const;
          const v = T.random.normal(k[2]!, [n]);
          const vBits = bitsOf(v);
          const plain = A.jit(f, { compile, warnRetraces: false });
          const donating = A.jit(f, { compile, donate, warnRetraces: false });
          // Each loop starts from its own copies: the donating one gives them up.
          const copy = (t: T.Tensor): T.Tensor => T.fromDataOrThrow(t.data.slice(), t.shape, t.dtype);
          let [pa, pb] = [copy(init[0]), copy(init[1])];
          let [da, db] = [copy(init[0]), copy(init[1])];
          for (let call = 0; call < 3; call++) {
            const want = plain(pa, pb, v);
            const [given, kept] = [
              [da, db].filter((_, i) => donate.includes(i)),
              [da, db].filter((_, i) => !donate.includes(i)),
            ];
            const keptBits = kept.map(bitsOf);
            const got = donating(da, db, v);
            expect(got.map(bitsOf)).toEqual(want.map(bitsOf));
            for (const t of given) expect(() => T.add(t, 1)).toThrow(/donated/);
            expect(kept.map(bitsOf)).toEqual(keptBits);
            [pa, pb] = [want[0]!, want[1]!];
            [da, db] = [got[0]!, got[1]!];
          }
          expect(bitsOf(v)).toEqual(vBits);
        },
      ),
      { numRuns: 120 },
    );
  });
});
