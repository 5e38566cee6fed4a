/**
 * @file `padSequences` and `unpadSequences` (issue 22): ragged token ids, feature vectors and
 * tensors to one padded batch with lengths and a mask, both padding sides, explicit truncation,
 * and the inverse — also on traced values.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { lstm, padSequences, rnn, unpadSequences } from "@rewind/rnn";

const flat = (v: A.Value): number[] => Array.from((v as T.Tensor).data);

describe("padSequences", () => {
  it("token ids: int32 [B, T] padded after the valid steps, lengths and mask", () => {
    const { xs, lengths, mask } = padSequences([[5, 3, 8], [2], [7, 7]]);
    expect([xs.dtype, xs.shape]).toEqual(["int32", [3, 3]]);
    expect(flat(xs)).toEqual([5, 3, 8, 2, 0, 0, 7, 7, 0]);
    expect([lengths.dtype, flat(lengths)]).toEqual(["int32", [3, 1, 2]]);
    expect([mask.dtype, mask.shape, flat(mask)]).toEqual(["bool", [3, 3], [1, 1, 1, 1, 0, 0, 1, 1, 0]]);
  });

  it("feature vectors: float32 [B, T, F]; typed arrays of ids read like arrays", () => {
    const v = padSequences([
      [[1, 2]],
      [
        [3, 4],
        [5, 6],
      ],
    ]);
    expect([v.xs.dtype, v.xs.shape, flat(v.xs)]).toEqual(["float32", [2, 2, 2], [1, 2, 0, 0, 3, 4, 5, 6]]);
    const ids = padSequences([Int32Array.from([4, 1]), Float64Array.from([9])]);
    expect(flat(ids.xs)).toEqual([4, 1, 9, 0]);
  });

  it("tensors [T_i, ...features] keep their dtype; rank-1 tensors give [B, T]", () => {
    const a = T.fromDataOrThrow([1, 2, 3, 4, 5, 6], [3, 2], "float64");
    const b = T.fromDataOrThrow([7, 8], [1, 2], "float64");
    const p = padSequences([a, b], { padValue: -1 });
    expect([p.xs.dtype, p.xs.shape]).toEqual(["float64", [2, 3, 2]]);
    expect(flat(p.xs)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, -1, -1, -1, -1]);
    const r = padSequences([T.arange(3, undefined, 1, "int32"), T.arange(1, undefined, 1, "int32")]);
    expect([r.xs.shape, flat(r.xs)]).toEqual([
      [2, 3],
      [0, 1, 2, 0, 0, 0],
    ]);
  });

  it("padding 'pre' puts the valid steps last; the mask marks them and lengths count them", () => {
    const { xs, lengths, mask } = padSequences([[5, 3, 8], [2]], { padding: "pre", maxLength: 4, padValue: -1 });
    expect(flat(xs)).toEqual([-1, 5, 3, 8, -1, -1, -1, 2]);
    expect(flat(lengths)).toEqual([3, 1]);
    expect(flat(mask)).toEqual([0, 1, 1, 1, 0, 0, 0, 1]);
  });

  it("maxLength sets T exactly (a fixed shape for jit), longer than the longest sequence too", () => {
    const { xs, mask } = padSequences([[1], [2, 3]], { maxLength: 4 });
    expect(xs.shape).toEqual([2, 4]);
    expect(flat(mask)).toEqual([1, 0, 0, 0, 1, 1, 0, 0]);
  });

  it("truncates only when asked: 'post' keeps the first steps, 'pre' the last", () => {
    const seqs = [[1, 2, 3, 4], [5]];
    expect(flat(padSequences(seqs, { maxLength: 2, truncating: "post" }).xs)).toEqual([1, 2, 5, 0]);
    const pre = padSequences(seqs, { maxLength: 2, truncating: "pre" });
    expect(flat(pre.xs)).toEqual([3, 4, 5, 0]);
    expect(flat(pre.lengths)).toEqual([2, 1]);
    expect(() => padSequences(seqs, { maxLength: 2 })).toThrow(/sample 0 has 4 steps, more than maxLength 2/);
  });

  it("dtype converts: ids as float64, float tensors with integer values as int32", () => {
    expect(padSequences([[1, 2]], { dtype: "float64" }).xs.dtype).toBe("float64");
    const ids = padSequences([T.fromDataOrThrow([3, 1], [2], "float32")], { dtype: "int32" });
    expect([ids.xs.dtype, flat(ids.xs)]).toEqual(["int32", [3, 1]]);
  });

  it("allowEmpty accepts sequences of 0 steps: length 0, mask all false, rnn keeps the initial carry", () => {
    const { xs, lengths, mask } = padSequences([[[0.5, 1]], []], { allowEmpty: true, dtype: "float64" });
    expect([xs.shape, flat(lengths), flat(mask)]).toEqual([
      [2, 1, 2],
      [1, 0],
      [1, 0],
    ]);
    const p = lstm.init(T.random.key(0), { inputSize: 2, hiddenSize: 3 }, { dtype: "float64" });
    const { finalCarry } = rnn(lstm, p, xs, { lengths });
    expect(flat(finalCarry.h).slice(3)).toEqual([0, 0, 0]);
  });
});

describe("unpadSequences", () => {
  it("gives back each sequence as a tensor (ids, vectors, tensors; both padding sides)", () => {
    const ids = [[5, 3, 8], [2], [1, 1]];
    for (const padding of ["post", "pre"] as const) {
      const { xs, lengths } = padSequences(ids, { padding, maxLength: 5, padValue: 9 });
      expect(unpadSequences(xs, lengths, { padding }).map(flat)).toEqual(ids);
    }
    const vecs = [
      [[1, 2]],
      [
        [3, 4],
        [5, 6],
      ],
    ];
    const v = padSequences(vecs);
    const back = unpadSequences(v.xs, v.lengths);
    expect(back.map((t) => t.shape)).toEqual([
      [1, 2],
      [2, 2],
    ]);
    expect(back.map(flat)).toEqual([
      [1, 2],
      [3, 4, 5, 6],
    ]);
  });

  it("works on traced values (rnn outputs inside grad): each piece's gradient reaches its own steps only", () => {
    const xs = T.fromDataOrThrow([1, 2, 3, 4, 5, 6], [2, 3], "float64");
    const g = A.grad((y: A.Value) => A.sum(A.square(unpadSequences(y, [2, 1])[1]!)))(xs);
    expect(flat(g)).toEqual([0, 0, 0, 8, 0, 0]);
  });
});
