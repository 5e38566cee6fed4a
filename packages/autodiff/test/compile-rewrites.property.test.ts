/**
 * @file Properties of the compiler's graph rewrites (pushWindows.ts, tableProducts.ts) over random
 * programs: whatever windows of an elementwise value its readers take (disjoint or overlapping,
 * along either axis, transposed, read whole too), and whatever views lie between a gather and a
 * product (reordered rows, half rows, column windows), the compiled program gives the
 * interpreter's bits. The example tests beside them check that the rewrites are taken.
 */
import { describe, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { expectInvariant } from "./compileSupport.js";

const normal = (seed: number, shape: readonly number[]): T.Tensor => T.random.normal(T.random.key(seed), shape);

/** A window of a [R, C] value: rows and columns from..to, optionally transposed. */
const arbWindow = (R: number, C: number) =>
  fc.record({
    r0: fc.integer({ min: 0, max: R - 1 }),
    rn: fc.integer({ min: 1, max: R }),
    c0: fc.integer({ min: 0, max: C - 1 }),
    cn: fc.integer({ min: 1, max: C }),
    transposed: fc.boolean(),
    op: fc.constantFrom("tanh", "sigmoid", "exp", "neg"),
  });

describe("compile: rewrites keep the interpreter's bits on random programs", () => {
  it("windows of an elementwise chain, read by elementwise ops", () => {
    const [R, C] = [5, 8];
    fc.assert(
      fc.property(
        fc.array(arbWindow(R, C), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 1000 }),
        (windows, wholeToo, seed) => {
          const f = (x: Value, y: Value, b: Value): Value[] => {
            const pre = A.mul(A.add(A.add(x, y), b), 0.5);
            const outs = windows.map((w) => {
              const r1 = Math.min(R, w.r0 + w.rn);
              const c1 = Math.min(C, w.c0 + w.cn);
              const win = A.slice(pre, [
                { start: w.r0, stop: r1 },
                { start: w.c0, stop: c1 },
              ]);
              const read = w.transposed ? A.transpose(win) : win;
              return w.op === "tanh"
                ? A.tanh(read)
                : w.op === "sigmoid"
                  ? A.sigmoid(read)
                  : w.op === "exp"
                    ? A.exp(read)
                    : A.neg(read);
            });
            return wholeToo ? [...outs, A.sum(pre)] : outs;
          };
          expectInvariant("windows", f, [normal(seed, [R, C]), normal(seed + 1, [R, C]), normal(seed + 2, [C])]);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("products of gathered rows through reorderings, reshapes and column windows", () => {
    const [V, D, B, TT, N] = [6, 4, 3, 5, 7];
    fc.assert(
      fc.property(
        fc.constantFrom("rows", "time-major", "half rows", "columns"),
        fc.boolean(),
        fc.array(fc.integer({ min: 0, max: V - 1 }), { minLength: B * TT, maxLength: B * TT }),
        fc.integer({ min: 0, max: 1000 }),
        (layout, keepRows, idList, seed) => {
          const ids = T.fromDataOrThrow(idList, [B, TT], "int32");
          const f = (e: Value, w: Value): Value[] => {
            const taken = A.take(e, ids, 0);
            let rows: Value;
            let wk: Value = w;
            if (layout === "rows") rows = A.reshape(taken, [-1, D]);
            else if (layout === "time-major") rows = A.reshape(A.transpose(taken, [1, 0, 2]), [-1, D]);
            else if (layout === "half rows") {
              rows = A.reshape(taken, [-1, D / 2]);
              wk = A.slice(w, [{ stop: D / 2 }]);
            } else {
              rows = A.slice(A.reshape(taken, [-1, D]), [null, { start: 1, stop: 3 }]);
              wk = A.slice(w, [{ stop: 2 }]);
            }
            const product = A.matmul(rows, wk);
            return keepRows ? [product, A.mul(taken, 2)] : [product];
          };
          expectInvariant(layout, f, [normal(seed, [V, D]), normal(seed + 1, [D, N])]);
        },
      ),
      { numRuns: 60 },
    );
  });
});
