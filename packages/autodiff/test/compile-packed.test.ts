/**
 * @file Float32 products whose b is packed once and reused (`mmp`, then `mmq`): a scan's constant
 * weight packed before the loop, and a weight broadcast over a batch of products packed before
 * the batch, also for products of a few rows (which read b in place when alone). The packed bytes
 * are those the kernel packs on every call, and a product sums each element in the same order
 * from packed panels as in place, so the bits are the interpreter's and the JavaScript kernels';
 * each test checks that the packed path was taken.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { compileBothWays, type GraphFn } from "./compileSupport.js";

/** Uniform values in [-1, 1) from a fixed seed (fast-check would shrink these large arrays for ages). */
const f32 = (seed: number, shape: readonly number[]): T.Tensor =>
  T.random.uniform(T.random.key(seed), shape, { min: -1, max: 1 });

/** Compiles `f` both ways (`compileBothWays`); the JS runner calls no packed product. Returns the SIMD source. */
const expectPacked = (label: string, f: GraphFn, args: readonly T.Tensor[]): string => {
  const { simd, js } = compileBothWays(label, f, args);
  expect(js.source).not.toContain("mmq(");
  return simd.source;
};

/** A tanh RNN over `xs` with the constant weight `w` (a scan's constant matmul operand) and a loss of its states. */
const scanLoss = (w: Value, xs: Value, h0: Value): Value => {
  const step = (h: Value, x: Value): [Value, Value] => {
    const hn = A.tanh(A.add(A.matmul(h, w), x));
    return [hn, hn];
  };
  const [h, ys] = A.scan<Value, Value, Value>(step, h0, xs);
  return A.add(A.sum(A.mul(h, h)), A.sum(ys));
};

/** The arguments of `scanLoss` from `seed`: a weight [h, h], inputs [t, b, h] and an initial state [b, h]. */
const rnnArgs = (seed: number, h: number, t: number, b: number): T.Tensor[] => [
  f32(seed, [h, h]),
  f32(seed + 10, [t, b, h]),
  f32(seed + 20, [b, h]),
];

/** `scanLoss` with the step's product by the weight's transpose, `h · wᵀ` (as the RNN cells compute it). */
const scanLossT = (w: Value, xs: Value, h0: Value): Value => scanLoss(A.transpose(w, [1, 0]), xs, h0);

/**
 * For seeds 1 and 2: the value and gradient of `loss` over 24 sequences of 3 steps of width `h`
 * (`rnnArgs`), its arguments, and its generated source (`expectPacked`: bits checked).
 */
const bpttCases = (
  label: string,
  loss: (w: Value, xs: Value, h0: Value) => Value,
  h: number,
): Array<{ f: GraphFn; args: T.Tensor[]; source: string }> =>
  [1, 2].map((seed) => {
    const args = rnnArgs(seed, h, 3, 24);
    const f = A.valueAndGrad(loss, { argnums: [0, 1, 2] }) as GraphFn;
    return { f, args, source: expectPacked(`${label}, seed ${seed}`, f, args) };
  });

/** The lines of `source` that pack a weight (`mmp(slot, buffer, offset, k, n, transB)`). */
const packLines = (source: string): string[] => source.split("\n").filter((l) => l.includes("mmp("));

describe.runIf(T.getKernelBackend().large === "wasm")("compile: products with b packed once", () => {
  it("a scan's transposed constant weight is packed transposing from the weight itself, with no copy", () => {
    for (const { f, args, source } of bpttCases("BPTT by wᵀ", scanLossT, 40)) {
      const packs = packLines(source);
      // Forward (h · wᵀ) packs the weight argument (input 0) transposing; backward (g · w) packs it as it is.
      expect(packs.map((l) => /mmp\(\d+, I0, 0, 40, 40, (true|false)\)/.exec(l)?.[1])).toEqual(["true", "false"]);
      // float64 products (JavaScript kernels, no packing) read the transposed weight in place too.
      compileBothWays(
        "BPTT by wᵀ, float64",
        f,
        args.map((a) => T.astype(a, "float64")),
      );
    }
  });

  it("a transposed constant the step also reads elementwise is copied before the loop, same bits", () => {
    const f = A.valueAndGrad(
      (w: Value, xs: Value, h0: Value): Value => {
        const wt = A.transpose(w, [1, 0]);
        const step = (h: Value, x: Value): [Value, Value] => {
          // wᵀ scaled by a value of this step: an elementwise read no hoisting takes out of the loop.
          const hn = A.tanh(A.add(A.add(A.matmul(h, wt), x), A.sum(A.mul(wt, A.mean(h)), { axis: 0 })));
          return [hn, hn];
        };
        return A.sum(A.scan<Value, Value, Value>(step, h0, xs)[1]);
      },
      { argnums: [0, 1, 2] },
    ) as GraphFn;
    const packs = packLines(
      expectPacked("wᵀ read elementwise", f, [f32(3, [40, 40]), f32(4, [3, 24, 40]), f32(5, [24, 40])]),
    );
    // The forward loop's weight is the copy (a buffer of the runner), packed as it is.
    expect(packs[0]).toMatch(/mmp\(\d+, B\d+, 0, 40, 40, false\)/);
  });

  it("a scan's constant weight is packed before the loop, forward and backward (k across blocks)", () => {
    // B 24 rows (more than the kernel reads b in place for), H 300: k crosses the 256 block.
    for (const { source } of bpttCases("BPTT", scanLoss, 300)) {
      // Each loop's weight packed right before it (once per call), used inside it (every step).
      const lines = source.split("\n");
      const at = (test: (l: string) => boolean): number[] => lines.flatMap((l, i) => (test(l) ? [i] : []));
      const loops = at((l) => /^\s*for \(let w\d+ = 0; w\d+ < 3;/.test(l));
      const packs = at((l) => l.includes("mmp("));
      const uses = at((l) => l.includes("mmq("));
      expect([loops.length, packs.length, uses.length]).toEqual([2, 2, 2]);
      expect(packs[0]! < loops[0]! && loops[0]! < uses[0]! && uses[0]! < packs[1]!).toBe(true);
      expect(packs[1]! < loops[1]! && loops[1]! < uses[1]!).toBe(true);
    }
  });

  it("a weight broadcast over a batch of products is packed once before the batch (plain and transposed)", () => {
    const f = (a: Value, b: Value, bt: Value): Value[] => [A.matmul(a, b), A.matmul(a, A.transpose(bt, [1, 0]))];
    for (const [m, k, n] of [
      [21, 300, 9],
      [40, 256, 40],
      [33, 5, 17],
      [24, 513, 8],
    ] as const) {
      const source = expectPacked("batch", f, [f32(m, [3, m, k]), f32(k, [k, n]), f32(n, [n, k])]);
      expect(source.split("\n").filter((l) => l.includes("mmp(")).length, `${m}×${k}×${n}`).toBe(2);
    }
  });

  it("a weight shared by products of a few rows (which read b in place when alone) is packed once too", () => {
    const f = (a: Value, b: Value): Value => A.matmul(a, b);
    // A weight from outside the arena (an argument) for three products of 8 rows.
    const source = expectPacked("in place", f, [f32(3, [3, 8, 64]), f32(4, [64, 64])]);
    expect(source.split("\n").filter((l) => l.includes("mmp(")).length).toBe(1);
    expect(source).toContain("mmq(");
    expect(source).not.toContain("mma(");
  });

  it("a scan's constant weight for products of a few rows (B 1 and B 8) is packed before the loop", () => {
    for (const B of [1, 8]) {
      const args = [f32(5, [40, 40]), f32(6, [4, B, 40]), f32(7, [B, 40])];
      const f = A.valueAndGrad(scanLoss, { argnums: [0, 1, 2] }) as GraphFn;
      const lines = expectPacked(`BPTT, B ${B}`, f, args).split("\n");
      const loops = lines.flatMap((l, i) => (/^\s*for \(let w\d+ = 0; w\d+ < 4;/.test(l) ? [i] : []));
      const packs = lines.flatMap((l, i) => (l.includes("mmp(") ? [i] : []));
      expect(loops.length).toBe(2);
      // The forward loop's weight and the backward loop's: each packed right before its loop.
      expect(packs.length).toBe(2);
      expect(packs[0]! < loops[0]! && packs[1]! < loops[1]! && packs[1]! > loops[0]!).toBe(true);
    }
  });
});
