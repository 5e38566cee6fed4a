/**
 * @file A cell's per-sequence context is threaded, as a scan constant, by every entry point that
 * runs cells: each one given `context` equals the same entry point run on the cell with that
 * context bound by hand (the closure users had to write before), bit for bit; `encoderDecoder`
 * feeds an attention decoder the encoder's outputs, batch-major in either layout.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import * as R from "@rewind/rnn";
import { assertAllClose } from "@rewind/testing";

const [B, Tn, S, F, H] = [2, 4, 5, 3, 3];
const dtype = "float64";
const key = (n: number): T.Key => T.random.key(n);
const memory = T.random.normal(key(1), [B, S, H], dtype);
const xs = T.random.normal(key(2), [B, Tn, F], dtype);
const ctx: R.AttentionContext = { memory, lengths: [5, 2] };

/** The cell with `context` bound by hand: a context-free cell. */
const bind = <P, C>(cell: R.Cell<P, C, R.AttentionContext>, context: R.AttentionContext): R.Cell<P, C> => {
  const { checkContext: _drop, ...rest } = cell;
  return { ...rest, step: (p: P) => cell.step(p, context) };
};

const leaves = (v: unknown): number[][] => A.treeLeaves(v).map((l) => Array.from((l as T.Tensor).data));
const same = (a: unknown, b: unknown): void => expect(leaves(a)).toEqual(leaves(b));

const attn = R.additiveAttention(R.gru);
const p = attn.init(key(0), { inputSize: F, hiddenSize: H }, { dtype });
const bound = bind(attn, ctx);

describe("context is threaded by every entry point (equal to the hand-bound cell, bit for bit)", () => {
  it("rnn, with lengths, reverse and time-major", () => {
    same(R.rnn(attn, p, xs, { context: ctx, lengths: [4, 2] }), R.rnn(bound, p, xs, { lengths: [4, 2] }));
    same(R.rnn(attn, p, xs, { context: ctx, reverse: true }), R.rnn(bound, p, xs, { reverse: true }));
    const tm = A.transpose(xs, [1, 0, 2]);
    same(R.rnn(attn, p, tm, { context: ctx, timeMajor: true }), R.rnn(bound, p, tm, { timeMajor: true }));
    same(R.rnn(attn, p, xs, { context: ctx, outputs: false }), R.rnn(bound, p, xs, { outputs: false }));
  });
  it("manyToOne, manyToMany, repeatInput, feedOnce", () => {
    same(R.manyToOne(attn, p, xs, { context: ctx, lengths: [3, 1] }), R.manyToOne(bound, p, xs, { lengths: [3, 1] }));
    const readout = (y: A.Value): A.Value => A.mul(y, 2);
    same(R.manyToMany(attn, p, xs, { context: ctx, readout }), R.manyToMany(bound, p, xs, { readout }));
    const v = T.random.normal(key(3), [B, F], dtype);
    same(R.repeatInput(attn, p, v, 3, { context: ctx }), R.repeatInput(bound, p, v, 3));
    same(R.feedOnce(attn, p, v, 3, { context: ctx }), R.feedOnce(bound, p, v, 3));
  });
  it("stack (with withSizes), mapInput, mapOutput, residual, dropout", () => {
    const deep = R.stack([R.gru, R.withSizes(attn, { memorySize: H })]);
    const dp = deep.init(key(4), { inputSize: F, hiddenSize: H }, { dtype });
    const deepBound = R.stack([R.gru, bind(R.withSizes(attn, { memorySize: H }), ctx)]);
    same(R.rnn(deep, dp, xs, { context: ctx }), R.rnn(deepBound, dp, xs));
    const front = R.mapInput(attn, R.linear(F));
    const fp = front.init(key(5), { inputSize: F, hiddenSize: H }, { dtype });
    same(R.rnn(front, fp, xs, { context: ctx }), R.rnn(bind(front, ctx), fp, xs));
    const back = R.mapOutput(attn, R.linear(2));
    const bp = back.init(key(6), { inputSize: F, hiddenSize: H }, { dtype });
    same(R.rnn(back, bp, xs, { context: ctx }), R.rnn(bind(back, ctx), bp, xs));
    const res = R.residual(attn);
    same(R.rnn(res, p, xs, { context: ctx }), R.rnn(bind(res, ctx), p, xs));
    const drop = R.dropout(attn, 0.3);
    same(R.rnn(drop, p, xs, { context: ctx, key: key(7) }), R.rnn(bind(drop, ctx), p, xs, { key: key(7) }));
  });
  it("a stack refuses a context when no layer reads one, and requires it when one does", () => {
    const plain = R.stack([R.gru, R.gru]);
    const pp = plain.init(key(4), { inputSize: F, hiddenSize: H }, { dtype });
    expect(() => R.rnn(plain, pp, xs, { context: ctx as never })).toThrow(/reads no context/);
    const deep = R.stack([R.gru, R.withSizes(attn, { memorySize: H })]);
    const dp = deep.init(key(4), { inputSize: F, hiddenSize: H }, { dtype });
    expect(() => R.rnn(deep, dp, xs)).toThrow(/reads a per-sequence context, but none was given/);
  });
  it("bidirectional: each direction that reads a context gets it", () => {
    const bi = R.bidirectional(attn, attn);
    const bp = bi.init(key(8), { inputSize: F, hiddenSize: H }, { dtype });
    same(
      bi.apply(bp, xs, { context: ctx, lengths: [4, 3] }),
      R.bidirectional(bound, bound).apply(bp, xs, { lengths: [4, 3] }),
    );
  });
  it("generate (greedy and teacher-forced)", () => {
    const gen = {
      startToken: 0,
      batch: B,
      embed: (ids: A.Value) => A.oneHot(ids, F, dtype),
      readout: (y: A.Value) => y,
      maxLength: 4,
    };
    same(R.generate(attn, p, { ...gen, context: ctx }), R.generate(bound, p, gen));
    const teacherTokens = T.reshape(T.tensor([0, 1, 2, 1, 2, 2, 0, 1], "int32"), [B, 4]);
    same(R.generate(attn, p, { ...gen, teacherTokens, context: ctx }), R.generate(bound, p, { ...gen, teacherTokens }));
  });
  it("the context's gradient flows back through the scan (it is a constant of the loop, not a stop)", () => {
    const g = A.grad((m: A.Value) => A.sum(R.rnn(attn, p, xs, { context: { memory: m, lengths: [5, 2] } }).outputs))(
      memory,
    );
    // Sample 1 attends to its first 2 positions only: those rows get gradient, the padded ones none.
    const row = (b: number, j: number): number[] => Array.from(g.data.slice((b * S + j) * H, (b * S + j + 1) * H));
    expect(row(1, 0).some((v) => v !== 0)).toBe(true);
    expect(row(1, 3).every((v) => v === 0)).toBe(true);
    expect(row(0, 4).some((v) => v !== 0)).toBe(true);
  });
});

describe("encoderDecoder with an attention decoder", () => {
  const enc = R.gru;
  const pe = enc.init(key(10), { inputSize: F, hiddenSize: H }, { dtype });
  const V = 4;
  const E = T.random.normal(key(11), [V, F], dtype);
  const W = T.random.normal(key(12), [H, V], dtype);
  const embedTarget = (ids: A.Value): A.Value => A.take(E, ids, 0);
  const readout = (y: A.Value): A.Value => A.matmul(y, W);
  const src = T.random.normal(key(13), [B, S, F], dtype);
  const srcLengths = [5, 3];
  const tgtIn = T.reshape(T.tensor([0, 1, 3, 2, 0, 2, 2, 1], "int32"), [B, 4]);

  for (const [name, dec] of [
    ["additive", R.additiveAttention(R.gru)],
    ["dot", R.dotAttention(R.gru)],
    ["general", R.generalAttention(R.gru)],
  ] as const) {
    it(`${name}: the decoder attends over the encoder's outputs with srcLengths as the mask`, () => {
      const pd = (dec as R.AttentionCell<unknown, A.Value>).init(key(14), { inputSize: F, hiddenSize: H }, { dtype });
      const params = { encoder: pe, decoder: pd };
      const got = R.encoderDecoder(enc, dec as R.AttentionCell<unknown, A.Value>, params, src, tgtIn, {
        srcLengths,
        embedTarget,
        readout,
      });
      // By hand: run the encoder, bind its outputs as the decoder's context, teacher-force the targets.
      const e = R.rnn(enc, pe, src, { lengths: srcLengths });
      const manual = R.manyToMany(
        bind(dec as R.AttentionCell<unknown, A.Value>, { memory: e.outputs, lengths: srcLengths }),
        pd,
        embedTarget(tgtIn),
        { initialCarry: e.finalCarry, readout },
      );
      assertAllClose(`${name} logits`, got.logits, manual.outputs, { rtol: 1e-12, atol: 1e-12 });
      // Time-major gives the same logits (the memory is passed batch-major either way).
      const tm = R.encoderDecoder(
        enc,
        dec as R.AttentionCell<unknown, A.Value>,
        params,
        A.transpose(src, [1, 0, 2]),
        A.transpose(tgtIn),
        {
          srcLengths,
          embedTarget,
          readout,
          timeMajor: true,
        },
      );
      assertAllClose(`${name} time-major logits`, A.transpose(tm.logits, [1, 0, 2]), got.logits, {
        rtol: 1e-12,
        atol: 1e-12,
      });
    });
  }

  it("an attention decoder initialised for another memory width is refused, naming encoderDecoder and the fix", () => {
    const dec = R.additiveAttention(R.gru);
    const pd = dec.init(key(14), { inputSize: F, hiddenSize: H, memorySize: 5 }, { dtype });
    expect(() =>
      R.encoderDecoder(enc, dec, { encoder: pe, decoder: pd }, src, tgtIn, { srcLengths, embedTarget, readout }),
    ).toThrow(/encoderDecoder.*memory must be \[batch 2, S ≥ 1, D 5\].*got \[2, 5, 3\].*memorySize: 3/s);
  });
});
