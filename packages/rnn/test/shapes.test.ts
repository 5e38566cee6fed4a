import { describe, expect, it } from "vitest";
import { fc, test } from "@fast-check/vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { feedOnce, manyToMany, manyToOne, repeatInput } from "../src/shapes.js";
import { topKLogits } from "../src/decode.js";
import { generate } from "../src/generate.js";
import { encoderDecoder, teacherForcingMask } from "../src/seq2seq.js";
import { rnn } from "../src/rnn.js";
import { mapInput } from "../src/combinators.js";
import { embedding } from "../src/layers.js";
import { gru } from "../src/cells/gru.js";
import { lstm } from "../src/cells/lstm.js";
import type { TorchCellParams } from "../src/cells/common.js";
import {
  asT,
  expectClose,
  expectGradMatchesFd,
  expectThrows,
  key,
  normal64,
  nums,
  rowOf,
  sampleAlone,
} from "./shapes-helpers.js";

const F = 3;
const H = 5;
const V = 6;
const B = 3;

interface Model {
  readonly cell: TorchCellParams;
  readonly E: A.Value; // [V, F]
  readonly W: A.Value; // [H, V]
  readonly b: A.Value; // [V]
}
const model = (seed: number): Model => ({
  cell: gru.init(key(seed), { inputSize: F, hiddenSize: H }, { dtype: "float64" }),
  E: A.mul(normal64(seed + 1, [V, F]), 3),
  W: A.mul(normal64(seed + 2, [H, V]), 2),
  b: normal64(seed + 3, [V]),
});
const embedOf =
  (m: Model) =>
  (ids: A.Value): A.Value =>
    A.take(m.E, ids, 0);
const readoutOf =
  (m: Model) =>
  (y: A.Value): A.Value =>
    A.add(A.matmul(y, m.W), m.b);

/** Time step t of `[B, T, ...]` as `[B, ...]`. */
const stepOf = (x: A.Value, t: number): A.Value => A.squeeze(A.slice(x, [null, { start: t, stop: t + 1 }]), 1);

describe("manyToOne", () => {
  const p = lstm.init(key(1), { inputSize: F, hiddenSize: H }, { dtype: "float64" });
  const xs = normal64(2, [4, 6, F]);
  const lengths = [6, 3, 1, 0];

  it("picks each sample's output at its last valid step (against each sample alone)", () => {
    const { output, finalCarry } = manyToOne(lstm, p, xs, { lengths });
    expect(output.shape).toEqual([4, H]);
    lengths.forEach((len, b) => {
      const row = A.slice(output, [{ start: b, stop: b + 1 }]);
      if (len === 0) {
        // Documented: a sample of length 0 gives zeros and keeps its initial carry.
        expect(nums(row).every((v) => v === 0)).toBe(true);
        expectClose(rowOf(finalCarry, b), lstm.initialCarry(1, p));
        return;
      }
      const alone = rnn(lstm, p, sampleAlone(xs, b, len));
      expectClose(row, stepOf(alone.outputs, len - 1));
      expectClose(row, alone.finalCarry.h);
    });
  });

  it("without lengths takes the last step; with reverse the last step read (step 0); time-major works", () => {
    const all = rnn(lstm, p, xs);
    expectClose(manyToOne(lstm, p, xs).output, stepOf(all.outputs, 5));
    const rev = rnn(lstm, p, xs, { reverse: true, lengths });
    expectClose(manyToOne(lstm, p, xs, { reverse: true, lengths }).output, stepOf(rev.outputs, 0));
    expectClose(
      manyToOne(lstm, p, A.transpose(xs, [1, 0, 2]), { lengths, timeMajor: true }).output,
      manyToOne(lstm, p, xs, { lengths }).output,
    );
  });

  it("gradients match finite differences and ignore padding", () => {
    const w = normal64(3, [4, H]);
    const loss = (q: typeof p, x: A.Value) => A.sum(A.mul(manyToOne(lstm, q, x, { lengths }).output, w));
    expectGradMatchesFd((q: typeof p) => loss(q, xs), p, 4);
    const gx = asT(A.grad(loss, { argnums: 1 })(p, xs));
    lengths.forEach((len, b) =>
      expect(
        nums(
          A.slice(gx, [
            { start: b, stop: b + 1 },
            { start: len, stop: 6 },
          ]),
        ).every((v) => v === 0),
      ).toBe(true),
    );
  });

  it("rejects bad lengths", () => {
    expectThrows(() => manyToOne(lstm, p, xs, { lengths: [1, 2, 3, 7] }), "lengths[3] = 7");
    expectThrows(() => manyToOne(lstm, p, xs, { lengths: [1, 2, 3, 1.5] }), "not an integer");
    expectThrows(() => manyToOne(lstm, p, xs, { lengths: T.tensor([1, 2, 3, 4], "float32") }), "int32");
  });
});

describe("manyToMany, repeatInput, feedOnce", () => {
  const m = model(10);
  const xs = normal64(11, [B, 4, F]);

  it("manyToMany applies the readout at every step and zeros padded steps", () => {
    const r = manyToMany(gru, m.cell, xs, { lengths: [4, 2, 0], readout: readoutOf(m) });
    const plain = rnn(gru, m.cell, xs, { lengths: [4, 2, 0] });
    expect(r.outputs.shape).toEqual([B, 4, V]);
    for (const [b, len] of [
      [0, 4],
      [1, 2],
      [2, 0],
    ] as const) {
      for (let t = 0; t < 4; t++) {
        const got = A.slice(r.outputs, [
          { start: b, stop: b + 1 },
          { start: t, stop: t + 1 },
        ]);
        if (t < len)
          expectClose(
            A.reshape(got, [1, V]),
            readoutOf(m)(
              A.reshape(
                A.slice(plain.outputs, [
                  { start: b, stop: b + 1 },
                  { start: t, stop: t + 1 },
                ]),
                [1, H],
              ),
            ),
          );
        else expect(nums(got).every((v) => v === 0)).toBe(true);
      }
    }
    expectClose(manyToMany(gru, m.cell, xs).outputs, rnn(gru, m.cell, xs).outputs);
  });

  it("repeatInput equals rnn on the tiled input; feedOnce on the vector then zeros", () => {
    const v = normal64(12, [B, F]);
    const tiled = A.stack([v, v, v, v, v], 1);
    expectClose(repeatInput(gru, m.cell, v, 5).outputs, rnn(gru, m.cell, tiled).outputs);
    expectClose(
      repeatInput(gru, m.cell, v, 5, { lengths: [5, 1, 3] }).finalCarry,
      rnn(gru, m.cell, tiled, { lengths: [5, 1, 3] }).finalCarry,
    );
    expectClose(
      repeatInput(gru, m.cell, v, 5, { timeMajor: true }).outputs,
      A.transpose(rnn(gru, m.cell, tiled).outputs, [1, 0, 2]),
    );
    const once = A.stack([v, T.zeros([B, F], "float64"), T.zeros([B, F], "float64")], 1);
    expectClose(feedOnce(gru, m.cell, v, 3).outputs, rnn(gru, m.cell, once).outputs);
    expectGradMatchesFd((q: Model) => A.sum(A.sin(repeatInput(gru, q.cell, v, 4).outputs)), m, 13);
  });

  it("reject a non-vector input and bad step counts", () => {
    expectThrows(() => repeatInput(gru, m.cell, xs, 3), "repeatInput", "[batch, features]");
    expectThrows(() => repeatInput(gru, m.cell, normal64(1, [B, F]), -1), "steps", "≥ 0");
    expectThrows(() => feedOnce(gru, m.cell, normal64(1, [B, F]), 0), "feedOnce", "steps");
  });
});

/** Greedy (or teacher-forced) generation by hand: cell.step and argmax outside any scan. */
const handGenerate = (m: Model, x0: A.Value, steps: number, stop?: number, teacher?: A.Value) => {
  let h = gru.initialCarry(B, m.cell);
  let x = x0;
  let done = Array<boolean>(B).fill(false);
  const tokens: number[][] = [];
  const logits: A.Value[] = [];
  const carries: A.Value[] = [];
  for (let t = 0; t < steps; t++) {
    const [hNext, y] = gru.step(m.cell)(h, x);
    const l = readoutOf(m)(y);
    const chosen = nums(T.argmax(asT(l), { axis: -1 }));
    const fed = teacher === undefined ? chosen : nums(A.slice(teacher, [null, { start: t, stop: t + 1 }]));
    tokens.push(chosen.map((c, b) => (done[b] ? stop! : c)));
    logits.push(
      A.mul(
        l,
        T.fromDataOrThrow(
          done.map((d) => (d ? 0 : 1)),
          [B, 1],
          "float64",
        ),
      ),
    );
    const live = T.fromDataOrThrow(
      done.map((d) => (d ? 0 : 1)),
      [B, 1],
      "bool",
    );
    h = A.where(live, hNext, h);
    x = A.where(live, embedOf(m)(T.fromDataOrThrow(fed, [B], "int32")), x);
    carries.push(h);
    done = done.map((d, b) => d || (stop !== undefined && chosen[b] === stop));
  }
  return { tokens, logits: A.stack(logits, 1), carry: h };
};

describe("generate", () => {
  // Seed chosen so that greedy decoding is not degenerate (several distinct tokens per row).
  const m = model(29);
  const start = T.tensor([0, 1, 2], "int32");
  const base = { startToken: start, embed: embedOf(m), readout: readoutOf(m), maxLength: 7 };

  it("greedy equals a hand-written loop feeding back argmax tokens, and is deterministic", () => {
    const r = generate(gru, m.cell, base);
    const hand = handGenerate(m, embedOf(m)(start), 7);
    expect(r.tokens.dtype).toBe("int32");
    expect(r.tokens.shape).toEqual([B, 7]);
    expect(T.toArray(asT(A.transpose(r.tokens)))).toEqual(hand.tokens);
    expectClose(r.logits, hand.logits);
    expectClose(r.finalCarry, hand.carry);
    expect(nums(r.lengths)).toEqual([7, 7, 7]);
    expect(new Set(nums(r.tokens)).size).toBeGreaterThanOrEqual(3);
    expect(nums(generate(gru, m.cell, base).tokens)).toEqual(nums(r.tokens));
  });

  it("same key gives the same tokens, different keys differ, temperature → 0 approaches greedy", () => {
    const s = { ...base, maxLength: 12, sampling: { kind: "temperature", temperature: 1.5 } as const };
    const a = generate(gru, m.cell, { ...s, key: key(1) });
    expect(nums(generate(gru, m.cell, { ...s, key: key(1) }).tokens)).toEqual(nums(a.tokens));
    expect(nums(generate(gru, m.cell, { ...s, key: key(2) }).tokens)).not.toEqual(nums(a.tokens));
    const greedy = generate(gru, m.cell, { ...base, maxLength: 12 });
    expect(nums(a.tokens)).not.toEqual(nums(greedy.tokens));
    const cold = generate(gru, m.cell, { ...s, sampling: { kind: "temperature", temperature: 1e-4 }, key: key(1) });
    expect(nums(cold.tokens)).toEqual(nums(greedy.tokens));
  });

  it("temperature sampling draws from softmax(logits / T) (Gumbel-max)", () => {
    const fixed = T.tensor([[1, 0, -1, 0.5]], "float64");
    const n = 4000;
    const r = generate(gru, m.cell, {
      batch: n,
      startToken: 0,
      embed: embedOf(m),
      maxLength: 1,
      sampling: { kind: "temperature", temperature: 2 },
      key: key(5),
      // Logits independent of y (but still computed from it), the same for every sample.
      readout: (y) => A.add(A.mul(A.sum(y, { axis: -1, keepDims: true }), 0), fixed),
    });
    const counts = [0, 0, 0, 0];
    for (const tok of nums(r.tokens)) counts[tok]!++;
    const probs = nums(T.softmax(T.div(fixed, 2), -1));
    counts.forEach((c, i) =>
      expect(Math.abs(c / n - probs[i]!)).toBeLessThan(4 * Math.sqrt((probs[i]! * (1 - probs[i]!)) / n)),
    );
  });

  test.prop([fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 10_000 })], { numRuns: 10 })(
    "topK never emits a token outside the top k of its step",
    (k, seed) => {
      const r = generate(gru, m.cell, {
        ...base,
        maxLength: 8,
        sampling: { kind: "topK", k, temperature: 5 },
        key: key(seed),
      });
      const logits = asT(r.logits);
      const toks = nums(r.tokens);
      toks.forEach((tok, i) => {
        const row = Array.from(logits.data.slice(i * V, (i + 1) * V));
        const kth = [...row].sort((a, b) => b - a)[k - 1]!;
        expect(row[tok]!).toBeGreaterThanOrEqual(kth);
      });
      if (k === 1) expect(toks).toEqual(nums(generate(gru, m.cell, { ...base, maxLength: 8 }).tokens));
    },
  );

  it("topKLogits masks all but the k largest per row", () => {
    const l = T.tensor(
      [
        [1, 5, 3, 4],
        [0, -1, 2, 2.5],
      ],
      "float64",
    );
    expect(T.toArray(asT(topKLogits(l, 2)))).toEqual([
      [-Infinity, 5, -Infinity, 4],
      [-Infinity, -Infinity, 2, 2.5],
    ]);
    expect(T.toArray(asT(topKLogits(l, 4)))).toEqual(T.toArray(l));
  });

  it("stops each sample at the stop token: later tokens repeat it, lengths count it, carry freezes", () => {
    const free = generate(gru, m.cell, { ...base, maxLength: 10 });
    const rows = [0, 1, 2].map((b) => nums(A.slice(free.tokens, [{ start: b, stop: b + 1 }])));
    // A stop token that ends some sample after step 0 and leaves another running longer.
    const firstAt = (row: number[], s: number) => (row.indexOf(s) < 0 ? 10 : row.indexOf(s) + 1);
    const stop = [...Array(V).keys()].find(
      (s) =>
        new Set(rows.map((r) => firstAt(r, s))).size > 1 && rows.some((r) => firstAt(r, s) > 1 && firstAt(r, s) < 10),
    );
    expect(stop, `no usable stop token in ${JSON.stringify(rows)}`).toBeDefined();
    const r = generate(gru, m.cell, { ...base, maxLength: 10, stopToken: stop! });
    const lengths = rows.map((row) => firstAt(row, stop!));
    expect(nums(r.lengths)).toEqual(lengths);
    rows.forEach((row, b) => {
      expect(nums(A.slice(r.tokens, [{ start: b, stop: b + 1 }]))).toEqual(
        row.map((tok, t) => (t < lengths[b]! ? tok : stop)),
      );
    });
    const hand = handGenerate(m, embedOf(m)(start), 10, stop);
    expectClose(r.logits, hand.logits);
    expectClose(r.finalCarry, hand.carry);
  });

  test.prop([fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: V - 1 })], { numRuns: 10 })(
    "sampled runs are consistent with their lengths",
    (seed, stop) => {
      const r = generate(gru, m.cell, {
        ...base,
        maxLength: 9,
        stopToken: stop,
        sampling: { kind: "temperature", temperature: 2 },
        key: key(seed),
      });
      const lens = nums(r.lengths);
      lens.forEach((len, b) => {
        const row = nums(A.slice(r.tokens, [{ start: b, stop: b + 1 }]));
        expect(row.slice(0, len - 1)).not.toContain(stop);
        if (len < 9) expect(row.slice(len - 1)).toEqual(Array(9 - len + 1).fill(stop));
        expect(
          nums(
            A.slice(r.logits, [
              { start: b, stop: b + 1 },
              { start: len, stop: 9 },
            ]),
          ).every((v) => v === 0),
        ).toBe(true);
      });
    },
  );

  it("firstInput, initialCarry and time-major layouts", () => {
    const x0 = normal64(40, [B, F]);
    const h0 = normal64(41, [B, H]);
    const r = generate(gru, m.cell, {
      ...base,
      startToken: undefined,
      firstInput: x0,
      initialCarry: h0,
    } as never) as ReturnType<typeof generate>;
    const [h1, y] = gru.step(m.cell)(h0, x0);
    void h1;
    expect(nums(A.slice(r.tokens, [null, { start: 0, stop: 1 }]))).toEqual(
      nums(T.argmax(asT(readoutOf(m)(y)), { axis: -1 })),
    );
    const tm = generate(gru, m.cell, { ...base, timeMajor: true });
    expect(tm.tokens.shape).toEqual([7, B]);
    expectClose(A.transpose(tm.logits, [1, 0, 2]), generate(gru, m.cell, base).logits);
  });

  it("teacher forcing follows the given tokens; its gradients match finite differences", () => {
    const teacher = T.tensor(
      [
        [1, 2, 3, 4, 5, 0, 1],
        [5, 5, 4, 0, 2, 3, 1],
        [0, 0, 1, 1, 2, 2, 3],
      ],
      "int32",
    );
    const r = generate(gru, m.cell, { ...base, teacherTokens: teacher });
    const hand = handGenerate(m, embedOf(m)(start), 7, undefined, teacher);
    expectClose(r.logits, hand.logits);
    expect(T.toArray(asT(A.transpose(r.tokens)))).toEqual(hand.tokens);
    const nll = (q: Model) => {
      const out = generate(gru, q.cell, { ...base, embed: embedOf(q), readout: readoutOf(q), teacherTokens: teacher });
      return A.neg(A.sum(A.mul(A.logSoftmax(out.logits, -1), A.oneHot(teacher, V, "float64"))));
    };
    expectGradMatchesFd(nll, m, 42);
  });

  it("rejects bad sampling, keys, lengths and inputs with clear errors", () => {
    const t = (o: object, ...frag: string[]) =>
      expectThrows(() => generate(gru, m.cell, { ...base, ...o }), "generate", ...frag);
    t({ sampling: { kind: "temperature", temperature: 0 }, key: key(0) }, "temperature", "> 0");
    t({ sampling: { kind: "temperature", temperature: Number.NaN }, key: key(0) }, "temperature");
    t({ sampling: { kind: "topK", k: 0 }, key: key(0) }, "k must be an integer ≥ 1");
    t({ sampling: { kind: "topK", k: 1.5 }, key: key(0) }, "sampling.k");
    t({ sampling: { kind: "nucleus" } }, "unknown sampling");
    t({ sampling: { kind: "topK", k: 3 } }, "no key");
    t({ maxLength: 0 }, "maxLength");
    t({ firstInput: normal64(1, [B, F]) }, "exactly one of firstInput and startToken", "both");
    t({ startToken: undefined }, "neither");
    t({ startToken: 0 }, "batch size is unknown");
    t({ startToken: T.tensor([0, 1, 2], "float32") }, "startToken", "int32");
    t(
      { startToken: T.tensor([0, 1], "int32"), initialCarry: normal64(0, [B, H]) },
      "batch",
      "startToken: 2",
      "initialCarry: 3",
    );
    t({ stopToken: V }, "stopToken", `[0, ${V})`);
    const wide = (ids: A.Value) => A.take(normal64(0, [V, F + 1]), ids, 0);
    t(
      { startToken: undefined, firstInput: normal64(1, [B, F]), embed: wide },
      "embed",
      "[batch, inputSize]",
      "[3, 4], [3, 3]",
    );
    expectThrows(() => generate(gru, m.cell, { ...base, embed: wide }), "gru.step", "x_t must be [batch, 3]");
    t({ readout: (y: A.Value) => A.sum(y, { axis: -1 }) }, "readout", "logits");
    t({ teacherTokens: T.zeros([B, 6], "int32") }, "teacherTokens", `[${B}, 7]`);
  });
});

describe("encoderDecoder", () => {
  const enc = gru.init(key(50), { inputSize: 2, hiddenSize: H }, { dtype: "float64" });
  const m = model(51);
  const params = { encoder: enc, decoder: m.cell };
  const src = normal64(52, [B, 5, 2]);
  const tgtIn = T.tensor(
    [
      [0, 3, 1, 4, 2, 5],
      [0, 1, 1, 2, 5, 5],
      [0, 4, 3, 2, 1, 0],
    ],
    "int32",
  );
  const opts = { embedTarget: embedOf(m), readout: readoutOf(m), srcLengths: [5, 3, 1] };
  const encoderCarry = rnn(gru, enc, src, { lengths: [5, 3, 1] }).finalCarry;

  /** Decoding by hand: step t's input is tgtIn[t] where forced (step 0 always), else the previous argmax. */
  const handDecode = (q: Model, carry: A.Value, forced: (t: number, b: number) => boolean): A.Value => {
    let h = carry;
    let prev: number[] = [];
    const logits: A.Value[] = [];
    for (let t = 0; t < 6; t++) {
      const ids = [0, 1, 2].map((b) => (t === 0 || forced(t, b) ? nums(tgtIn)[b * 6 + t]! : prev[b]!));
      const [hn, y] = gru.step(q.cell)(h, embedOf(q)(T.fromDataOrThrow(ids, [B], "int32")));
      const l = readoutOf(q)(y);
      logits.push(l);
      prev = nums(T.argmax(asT(l), { axis: -1 }));
      h = hn;
    }
    return A.stack(logits, 1);
  };

  it("the encoder's final carry (per sample, at its last valid step) starts the decoder", () => {
    [5, 3, 1].forEach((len, b) =>
      expectClose(rowOf(encoderCarry, b), rnn(gru, enc, sampleAlone(src, b, len)).finalCarry),
    );
  });

  it("ratio 1 equals running the decoder on tgtIn (teacher forcing)", () => {
    const r = encoderDecoder(gru, gru, params, src, tgtIn, { ...opts, teacherForcing: 1 });
    expect(r.logits.shape).toEqual([B, 6, V]);
    const direct = rnn(gru, m.cell, A.reshape(A.take(m.E, A.reshape(tgtIn, [18]), 0), [B, 6, F]), {
      initialCarry: encoderCarry,
    });
    expectClose(r.logits, A.add(A.matmul(direct.outputs, m.W), m.b));
    expect(nums(r.forced).every((f) => f === 1)).toBe(true);
    // Pre-embedded targets take the same path.
    const emb = A.reshape(A.take(m.E, A.reshape(tgtIn, [18]), 0), [B, 6, F]);
    expectClose(
      encoderDecoder(gru, gru, params, src, emb, { readout: readoutOf(m), srcLengths: [5, 3, 1] }).logits,
      r.logits,
    );
  });

  it("takes a source of token ids when the encoder embeds them (mapInput(cell, embedding))", () => {
    const embed = embedding(7, 2);
    const table = normal64(53, [7, 2]);
    const ids = T.tensor(
      [
        [1, 6, 0, 3, 2],
        [4, 4, 5, 0, 0],
        [2, 0, 0, 0, 0],
      ],
      "int32",
    );
    const encIds = mapInput(gru, embed);
    const viaIds = encoderDecoder(
      encIds,
      gru,
      { encoder: { input: { weight: table }, cell: enc }, decoder: m.cell },
      ids,
      tgtIn,
      opts,
    );
    const embedded = A.reshape(A.take(table, A.reshape(ids, [15]), 0), [B, 5, 2]);
    expectClose(viaIds.logits, encoderDecoder(gru, gru, params, embedded, tgtIn, opts).logits);
    expectThrows(
      () =>
        encoderDecoder(
          encIds,
          gru,
          { encoder: { input: { weight: table }, cell: enc }, decoder: m.cell },
          T.tensor([1, 2], "int32"),
          tgtIn,
          opts,
        ),
      "encoderDecoder",
      "src",
      "batch and time axes",
    );
  });

  it("ratio 0 equals free-running greedy decoding", () => {
    const r = encoderDecoder(gru, gru, params, src, tgtIn, { ...opts, teacherForcing: 0 });
    expectClose(
      r.logits,
      handDecode(m, encoderCarry, () => false),
    );
    const free = generate(gru, m.cell, {
      initialCarry: encoderCarry,
      startToken: T.tensor([0, 0, 0], "int32"),
      embed: embedOf(m),
      readout: readoutOf(m),
      maxLength: 6,
    });
    expectClose(r.logits, free.logits);
    expect(nums(A.slice(r.forced, [null, { start: 1, stop: 6 }])).every((f) => f === 0)).toBe(true);
    // Step 0 has no previous prediction: its input is always the ground truth.
    expect(nums(A.slice(r.forced, [null, { start: 0, stop: 1 }]))).toEqual([1, 1, 1]);
  });

  it("intermediate ratios follow the key's coin flips", () => {
    const r = encoderDecoder(gru, gru, params, src, tgtIn, { ...opts, teacherForcing: 0.5, key: key(7) });
    const mask = asT(teacherForcingMask(key(7), 0.5, 6, B)); // [T, B]
    expect(T.toArray(asT(r.forced))).toEqual(T.toArray(T.transpose(mask)));
    const flips = nums(A.slice(mask, [{ start: 1, stop: 6 }]));
    expect(flips).toContain(0);
    expect(flips).toContain(1);
    expectClose(
      r.logits,
      handDecode(m, encoderCarry, (t, b) => mask.data[t * B + b] === 1),
    );
    const other = encoderDecoder(gru, gru, params, src, tgtIn, { ...opts, teacherForcing: 0.5, key: key(8) });
    expect(nums(other.forced)).not.toEqual(nums(r.forced));
    expectClose(
      encoderDecoder(gru, gru, params, src, tgtIn, { ...opts, teacherForcing: 0.5, key: key(7) }).logits,
      r.logits,
    );
  });

  it("gradients (encoder, decoder, embedding, readout) match finite differences", () => {
    const loss = (q: { enc: typeof enc; m: Model }) => {
      const r = encoderDecoder(gru, gru, { encoder: q.enc, decoder: q.m.cell }, src, tgtIn, {
        embedTarget: embedOf(q.m),
        readout: readoutOf(q.m),
        srcLengths: [5, 3, 1],
        teacherForcing: 0.5,
        key: key(7),
      });
      return A.neg(A.sum(A.mul(A.logSoftmax(r.logits, -1), A.oneHot(tgtIn, V, "float64"))));
    };
    expectGradMatchesFd(loss, { enc, m }, 60);
  });

  it("bridges different carries, and fails clearly when carries differ or options are bad", () => {
    const lenc = lstm.init(key(70), { inputSize: 2, hiddenSize: H }, { dtype: "float64" });
    expectThrows(
      () => encoderDecoder(lstm, gru, { encoder: lenc, decoder: m.cell }, src, tgtIn, opts),
      "encoderDecoder",
      "encoder final carry",
      ".h float64",
      "bridge",
    );
    const small = gru.init(key(71), { inputSize: 2, hiddenSize: H - 1 }, { dtype: "float64" });
    expectThrows(
      () => encoderDecoder(gru, gru, { encoder: small, decoder: m.cell }, src, tgtIn, opts),
      "float64[3, 4]",
      "float64[3, 5]",
    );
    const bridged = encoderDecoder(lstm, gru, { encoder: lenc, decoder: m.cell }, src, tgtIn, {
      ...opts,
      bridge: (c) => c.h,
    });
    expectClose(
      bridged.logits,
      handDecode(m, rnn(lstm, lenc, src, { lengths: [5, 3, 1] }).finalCarry.h, () => true),
    );
    const e = (o: object, ...frag: string[]) =>
      expectThrows(() => encoderDecoder(gru, gru, params, src, tgtIn, { ...opts, ...o }), "encoderDecoder", ...frag);
    e({ teacherForcing: 1.5 }, "teacherForcing", "[0, 1]");
    e({ teacherForcing: -0.1 }, "[0, 1]");
    e({ teacherForcing: Number.NaN }, "[0, 1]");
    expectThrows(() => encoderDecoder(gru, gru, params, src, tgtIn, { ...opts, teacherForcing: 0.3 }), "key");
    e({ embedTarget: undefined }, "embedTarget");
    e({ srcLengths: [5, 6, 1] }, "lengths[1] = 6");
    expectThrows(() => encoderDecoder(gru, gru, params, src, T.zeros([2, 6], "int32"), opts), "tgtIn", "batch of 3");
    expectThrows(
      () =>
        encoderDecoder(gru, gru, params, src, T.zeros([B, 6, F], "float64"), {
          ...opts,
          teacherForcing: 0.5,
          key: key(0),
        }),
      "cannot be fed back",
    );
  });
});
