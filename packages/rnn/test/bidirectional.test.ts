import { describe, expect, it } from "vitest";
import { fc, test } from "@fast-check/vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { bidirectional } from "../src/bidirectional.js";
import { rnn } from "../src/rnn.js";
import { lstm } from "../src/cells/lstm.js";
import { gru } from "../src/cells/gru.js";
import { elmanTanh } from "../src/cells/elman.js";
import type { Cell } from "../src/Cell.js";
import {
  asT,
  expectClose,
  expectGradMatchesFd,
  expectThrows,
  key,
  normal64,
  rowOf,
  sampleAlone,
  weighted,
} from "./shapes-helpers.js";

const F = 3;
const H = 4;

/** The backward direction by hand: step through each sample's valid prefix from its end. */
const handBackward = <P, C>(cell: Cell<P, C>, p: P, xs: T.Tensor, len: number): { ys: T.Tensor[]; carry: C } => {
  let carry = cell.initialCarry(1, p);
  const ys: T.Tensor[] = new Array<T.Tensor>(len);
  for (let t = len - 1; t >= 0; t--) {
    const x = asT(A.reshape(A.slice(xs, [null, { start: t, stop: t + 1 }]), [1, F]));
    const [c, y] = cell.step(p)(carry, x);
    carry = c;
    ys[t] = asT(y);
  }
  return { ys, carry };
};

describe("bidirectional", () => {
  const bi = bidirectional(lstm, lstm, { merge: "concat" });
  const params = bi.init(key(1), { inputSize: F, hiddenSize: H }, { dtype: "float64" });
  const xs = normal64(2, [3, 5, F]);
  const lengths = [5, 2, 0];

  it("gives each direction its own parameters and the merged output size", () => {
    expect(asT(params.forward.weight_ih).data).not.toEqual(asT(params.reverse.weight_ih).data);
    expect(bi.outputSize(params)).toBe(2 * H);
    expect(
      bidirectional(gru, gru, { merge: "sum" }).outputSize(
        bidirectional(gru, gru).init(key(0), { inputSize: F, hiddenSize: H }),
      ),
    ).toBe(H);
  });

  it("on a padded batch equals each unpadded sequence run alone (outputs, final carries)", () => {
    const padded = bi.apply(params, xs, { lengths });
    expect(padded.outputs.shape).toEqual([3, 5, 2 * H]);
    lengths.forEach((len, b) => {
      const row = asT(A.slice(padded.outputs, [{ start: b, stop: b + 1 }]));
      if (len > 0) {
        const alone = bi.apply(params, sampleAlone(xs, b, len));
        expectClose(A.slice(row, [null, { start: 0, stop: len }]), alone.outputs);
        expectClose(rowOf(padded.finalCarry, b), alone.finalCarry);
      } else {
        expectClose(rowOf(padded.finalCarry, b), {
          forward: lstm.initialCarry(1, params.forward),
          reverse: lstm.initialCarry(1, params.reverse),
        });
      }
      // Past its length a sample's outputs are zero in both directions.
      expect(Array.from(asT(A.slice(row, [null, { start: len, stop: 5 }])).data).every((v) => v === 0)).toBe(true);
    });
  });

  it("the backward half reads each valid prefix from its end (against a hand-written loop)", () => {
    const { outputs, finalCarry } = bi.apply(params, xs, { lengths });
    const b = 1;
    const len = lengths[b]!;
    const hand = handBackward(lstm, params.reverse, sampleAlone(xs, b, len), len);
    for (let t = 0; t < len; t++) {
      expectClose(
        A.reshape(
          A.slice(outputs, [
            { start: b, stop: b + 1 },
            { start: t, stop: t + 1 },
            { start: H, stop: 2 * H },
          ]),
          [1, H],
        ),
        hand.ys[t]!,
      );
    }
    expectClose(rowOf(finalCarry.reverse, b), hand.carry);
  });

  it("on a padded batch has the gradients of the unpadded sequences, and none into padding", () => {
    const w = normal64(9, [3, 5, 2 * H]);
    const loss = (p: typeof params, x: A.Value) => {
      const r = bi.apply(p, x, { lengths });
      return A.add(A.sum(A.mul(r.outputs, w)), weighted(r.finalCarry, 20));
    };
    const [gp, gx] = A.grad(loss, { argnums: [0, 1] })(params, xs) as [typeof params, T.Tensor];
    let sum: unknown;
    lengths.forEach((len, b) => {
      if (len === 0) return;
      const wb = asT(
        A.slice(w, [
          { start: b, stop: b + 1 },
          { start: 0, stop: len },
        ]),
      );
      const gb = A.grad((p: typeof params) => {
        const r = bi.apply(p, sampleAlone(xs, b, len));
        // The padded loss weighs sample b's carry leaves by row b of each weight.
        const carryW = A.treeLeaves(r.finalCarry).map((l, i) =>
          A.sum(A.mul(l, A.slice(normal64(20 + i, [3, H]), [{ start: b, stop: b + 1 }]))),
        );
        return A.add(
          A.sum(A.mul(r.outputs, wb)),
          carryW.reduce((a, c) => A.add(a, c)),
        );
      })(params);
      sum = sum === undefined ? gb : A.treeMap((a, c) => A.add(a, c), sum, gb);
    });
    expectClose(gp, sum, { atol: 1e-10, rtol: 1e-8 });
    // d loss / d xs is zero at padded positions and not elsewhere.
    lengths.forEach((len, b) => {
      const pad = asT(
        A.slice(gx, [
          { start: b, stop: b + 1 },
          { start: len, stop: 5 },
        ]),
      );
      expect(Array.from(pad.data).every((v) => v === 0)).toBe(true);
      if (len > 0)
        expect(
          Array.from(
            asT(
              A.slice(gx, [
                { start: b, stop: b + 1 },
                { start: 0, stop: len },
              ]),
            ).data,
          ).some((v) => v !== 0),
        ).toBe(true);
    });
  });

  test.prop(
    [fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 3 }), fc.integer({ min: 0, max: 1000 })],
    { numRuns: 8 },
  )("padding law for random lengths (gru, time-major)", (lens, seed) => {
    const bg = bidirectional(gru, elmanTanh, { merge: "concat" });
    const p = bg.init(key(seed), { inputSize: F, hiddenSize: H }, { dtype: "float64" });
    const x = normal64(seed + 1, [4, lens.length, F]);
    const r = bg.apply(p, x, { lengths: lens, timeMajor: true });
    lens.forEach((len, b) => {
      if (len === 0) return;
      const alone = bg.apply(
        p,
        A.slice(x, [
          { start: 0, stop: len },
          { start: b, stop: b + 1 },
        ]),
        { timeMajor: true },
      );
      expectClose(
        A.slice(r.outputs, [
          { start: 0, stop: len },
          { start: b, stop: b + 1 },
        ]),
        alone.outputs,
      );
    });
  });

  it("sum merge adds the two halves of the concat merge", () => {
    const cat = bi.apply(params, xs, { lengths }).outputs;
    const sum = bidirectional(lstm, lstm, { merge: "sum" }).apply(params, xs, { lengths }).outputs;
    expect(sum.shape).toEqual([3, 5, H]);
    expectClose(
      sum,
      A.add(A.slice(cat, [null, null, { start: 0, stop: H }]), A.slice(cat, [null, null, { start: H, stop: 2 * H }])),
    );
  });

  it("takes initial carries per direction", () => {
    const h = normal64(30, [3, H]);
    const c = normal64(31, [3, H]);
    const r = bi.apply(params, xs, { initialCarry: { reverse: { h, c } } });
    const fwd = rnn(lstm, params.forward, xs);
    const bwd = rnn(lstm, params.reverse, xs, { reverse: true, initialCarry: { h, c } });
    expectClose(r.outputs, A.concat([fwd.outputs, bwd.outputs], 2));
  });

  it("gradients match float64 finite differences", () => {
    const bg = bidirectional(gru, gru, { merge: "sum" });
    const p = bg.init(key(3), { inputSize: F, hiddenSize: H }, { dtype: "float64" });
    const w = normal64(4, [3, 5, H]);
    expectGradMatchesFd(
      (q: typeof p) => A.sum(A.mul(A.tanh(bg.apply(q, xs, { lengths: [4, 5, 1] }).outputs), w)),
      p,
      5,
    );
  });

  it("fails clearly on a bad merge, sum over different widths and bad lengths", () => {
    expectThrows(() => bidirectional(lstm, lstm, { merge: "mean" as never }), "bidirectional", "merge", '"concat"');
    const mixed = bidirectional(gru, gru, { merge: "sum" });
    const pf = gru.init(key(0), { inputSize: F, hiddenSize: H });
    const pb = gru.init(key(1), { inputSize: F, hiddenSize: H + 1 });
    expectThrows(
      () => mixed.apply({ forward: pf, reverse: pb }, T.zeros([2, 3, F])),
      "bidirectional.apply",
      "same features",
      "concat",
    );
    expectThrows(() => bi.apply(params, xs, { lengths: [5, 6, 1] }), "lengths[1] = 6", "[0, 5]");
    expectThrows(() => bi.apply(params, xs, { lengths: [1, 2] }), "lengths", "2 entries for a batch of 3");
  });
});
