import { describe, expect, it } from "vitest";
import { fc, test } from "@fast-check/vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { chunkLengths, chunkSequence, tbpttGrads, tbpttStep } from "../src/tbptt.js";
import { rnn } from "../src/rnn.js";
import { lstm, type LstmCarry } from "../src/cells/lstm.js";
import { elmanTanh } from "../src/cells/elman.js";
import type { TorchCellParams } from "../src/cells/common.js";
import { asT, expectClose, expectThrows, key, maxGap, normal64, nums } from "./shapes-helpers.js";

const F = 3;
const H = 4;

describe("chunkSequence", () => {
  it("splits along time into chunks of k, the last one shorter, and concatenates back", () => {
    const xs = normal64(1, [2, 7, F]);
    const chunks = chunkSequence(xs, 3);
    expect(chunks.map((c) => c.shape)).toEqual([
      [2, 3, F],
      [2, 3, F],
      [2, 1, F],
    ]);
    expectClose(A.concat(chunks, 1), xs);
    const tm = chunkSequence(A.transpose(xs, [1, 0, 2]), 3, { timeMajor: true });
    expect(tm.map((c) => c.shape)).toEqual([
      [3, 2, F],
      [3, 2, F],
      [1, 2, F],
    ]);
    expect(chunkSequence(xs, 7)).toHaveLength(1);
    expect(chunkSequence(xs, 100)[0]!.shape).toEqual([2, 7, F]);
  });

  it("splits pytrees (inputs and targets together)", () => {
    const seq = { x: normal64(1, [2, 5, F]), y: T.zeros([2, 5], "int32") };
    const chunks = chunkSequence(seq, 2);
    expect(chunks.map((c) => [c.x.shape, c.y.shape])).toEqual([
      [
        [2, 2, F],
        [2, 2],
      ],
      [
        [2, 2, F],
        [2, 2],
      ],
      [
        [2, 1, F],
        [2, 1],
      ],
    ]);
  });

  it("chunkLengths clamps each sample's length into each chunk", () => {
    expect(chunkLengths([7, 4, 0, 3], 7, 3).map(nums)).toEqual([
      [3, 3, 0, 3],
      [3, 1, 0, 0],
      [1, 0, 0, 0],
    ]);
    expectThrows(() => chunkLengths([8], 7, 3), "chunkLengths", "lengths[0] = 8");
  });

  it("fails clearly for bad k and inconsistent leaves", () => {
    const xs = normal64(1, [2, 7, F]);
    expectThrows(() => chunkSequence(xs, 0), "chunkSequence", "k", "≥ 1");
    expectThrows(() => chunkSequence(xs, 2.5), "2.5");
    expectThrows(() => chunkSequence({ x: xs, y: T.zeros([2, 6]) }, 2), "chunkSequence", "one common length");
    expectThrows(() => chunkSequence(T.zeros([3]), 2), "time axis 1");
  });
});

describe("truncated BPTT", () => {
  const p = lstm.init(key(2), { inputSize: F, hiddenSize: H }, { dtype: "float64" });
  const B = 2;
  const TT = 11;
  const xs = normal64(3, [B, TT, F]);
  const w = normal64(4, [B, TT, H]);
  type Chunk = { x: A.Value; w: A.Value; len?: A.Value };
  /** A loss summed over steps, returning the final carry for the next chunk. */
  const loss = (q: TorchCellParams, c: LstmCarry, chunk: Chunk): readonly [A.Value, LstmCarry] => {
    const r = rnn(lstm, q, chunk.x, { initialCarry: c, ...(chunk.len === undefined ? {} : { lengths: chunk.len }) });
    return [A.sum(A.mul(A.tanh(r.outputs), chunk.w)), r.finalCarry];
  };
  const c0 = lstm.initialCarry(B, p);
  const fullLoss = (k: number | undefined, lengths?: readonly number[]) => (q: TorchCellParams) =>
    A.sum(
      A.mul(
        A.tanh(
          rnn(lstm, q, xs, {
            ...(k === undefined ? {} : { truncate: k }),
            ...(lengths === undefined ? {} : { lengths }),
          }).outputs,
        ),
        w,
      ),
    );

  test.prop([fc.integer({ min: 1, max: 12 })], { numRuns: 6 })(
    "chunked gradients with stopped carries equal rnn's truncate option",
    (k) => {
      const chunks = chunkSequence({ x: xs, w }, k);
      const r = tbpttGrads(loss, p, c0, chunks);
      const [value, g] = A.valueAndGrad(fullLoss(k))(p);
      expectClose(r.grads, g, { atol: 1e-12, rtol: 1e-9 });
      expectClose(r.loss, value, { atol: 1e-12, rtol: 1e-9 });
      expectClose(r.carry, rnn(lstm, p, xs).finalCarry);
      // Truncation changes the gradient (unless k covers the sequence): the test can fail.
      const full = A.grad(fullLoss(undefined))(p);
      if (k < TT) expect(maxGap(g, full)).toBeGreaterThan(1e-6);
      else expect(maxGap(g, full)).toBeLessThan(1e-12);
    },
  );

  it("with per-sample lengths: chunk lengths reproduce truncate on the padded batch", () => {
    const lengths = [11, 5];
    const chunks = chunkSequence({ x: xs, w }, 4).map((c, j) => ({ ...c, len: chunkLengths(lengths, TT, 4)[j]! }));
    const r = tbpttGrads(loss, p, c0, chunks);
    expectClose(r.grads, A.grad(fullLoss(4, lengths))(p), { atol: 1e-12, rtol: 1e-9 });
    expectClose(r.carry, rnn(lstm, p, xs, { lengths }).finalCarry);
  });

  it("tbpttStep returns the chunk's loss, gradient and final carry", () => {
    const chunk = chunkSequence({ x: xs, w }, 5)[0]!;
    const s = tbpttStep(loss, p, c0, chunk);
    const [[l, c], g] = A.valueAndGrad((q: TorchCellParams) => loss(q, c0, chunk), { hasAux: true })(p) as [
      [A.Value, LstmCarry],
      TorchCellParams,
    ];
    expectClose(s.loss, l);
    expectClose(s.grads, g);
    expectClose(s.carry, c);
  });

  it("the returned carry has its gradient stopped (checked under an outer grad)", () => {
    const simple = (q: TorchCellParams, h: A.Value, x: A.Value): readonly [A.Value, A.Value] => {
      const r = rnn(elmanTanh, q, x, { initialCarry: h });
      return [A.sum(A.tanh(r.outputs)), r.finalCarry];
    };
    const pe = elmanTanh.init(key(5), { inputSize: F, hiddenSize: H }, { dtype: "float64" });
    const [x1, x2] = chunkSequence(xs, 6) as [A.Value, A.Value];
    const h0 = elmanTanh.initialCarry(B, pe);
    // d/dq of the second chunk's loss through tbpttStep's carry: only the second chunk counts.
    const viaStep = A.grad((q: TorchCellParams) => simple(q, tbpttStep(simple, q, h0, x1).carry, x2)[0])(pe);
    const h1 = simple(pe, h0, x1)[1];
    const direct = A.grad((q: TorchCellParams) => simple(q, h1, x2)[0])(pe);
    expectClose(viaStep, direct, { atol: 1e-12, rtol: 1e-9 });
    const unstopped = A.grad((q: TorchCellParams) => simple(q, simple(q, h0, x1)[1], x2)[0])(pe);
    expect(maxGap(unstopped, direct)).toBeGreaterThan(1e-6);
  });

  it("stateful training walks a long sequence chunk by chunk with updates in between", () => {
    let q: TorchCellParams = p;
    const losses: number[] = [];
    for (let epoch = 0; epoch < 3; epoch++) {
      let carry = c0;
      let total = 0;
      for (const chunk of chunkSequence({ x: xs, w }, 4)) {
        const r = tbpttStep(loss, q, carry, chunk);
        q = A.treeMap<TorchCellParams>((a, g) => A.sub(a, A.mul(g, 0.05)), q, r.grads);
        carry = r.carry;
        total += T.item(asT(r.loss));
      }
      losses.push(total);
    }
    expect(losses[2]!).toBeLessThan(losses[0]!);
  });

  it("tbpttGrads needs at least one chunk", () => {
    expectThrows(() => tbpttGrads(loss, p, c0, []), "tbpttGrads", "no chunks");
  });
});
