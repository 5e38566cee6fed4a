/**
 * @file defineCell: a user's cell from plain functions runs through rnn and grad like a built-in
 * one; malformed specs and steps that return the wrong thing fail with errors naming the cell.
 * The worked example, the Minimal Gated Unit, against a plain-loop reference and finite differences.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import { rnn } from "../src/rnn.js";
import { lstm } from "../src/cells/lstm.js";
import { checkCell, defineCell, mgu, type CellSpec, type MguParams } from "../src/custom.js";
import type { ParamsOf } from "../src/Cell.js";
import { checkGradFd, expectClose, nums, randn, randomize, rowDot, rows, sig, vec } from "./extra-helpers.js";

const B = 3;
const TIME = 5;
const IN = 2;
const H = 4;

/** MGU (Zhou et al. 2016) over numbers, sample by sample. */
const mguRef = (p: MguParams, xs: T.Tensor): { ys: number[]; h: number[] } => {
  const [wif, whf, bf, win, whn, bn] = [
    rows(p.weight_if),
    rows(p.weight_hf),
    vec(p.bias_f),
    rows(p.weight_in),
    rows(p.weight_hn),
    vec(p.bias_n),
  ];
  const data = nums(xs);
  const ys: number[] = [];
  const finals: number[] = [];
  for (let b = 0; b < B; b++) {
    let h = new Array<number>(H).fill(0);
    for (let t = 0; t < TIME; t++) {
      const x = data.slice((b * TIME + t) * IN, (b * TIME + t + 1) * IN);
      const f = h.map((_, j) => sig(rowDot(wif, j, x) + rowDot(whf, j, h) + bf[j]!));
      const fh = h.map((hj, j) => f[j]! * hj);
      const n = h.map((_, j) => Math.tanh(rowDot(win, j, x) + rowDot(whn, j, fh) + bn[j]!));
      h = h.map((hj, j) => (1 - f[j]!) * hj + f[j]! * n[j]!);
      ys.push(...h);
    }
    finals.push(...h);
  }
  return { ys, h: finals };
};

/** An IndRNN-style cell (Li et al. 2018), h' = relu(W x + u ⊙ h + b), written as users would. */
const indRnnSpec: CellSpec<{ w: Value; u: Value; b: Value }, Value> = {
  name: "indRnn",
  init: (key, { inputSize, hiddenSize }, { dtype = "float32" }) => {
    const [k1, k2] = T.random.split(key, 2) as [T.Key, T.Key];
    return {
      w: T.random.uniform(k1, [inputSize, hiddenSize], { min: -0.5, max: 0.5, dtype }),
      u: T.random.uniform(k2, [hiddenSize], { min: 0, max: 1, dtype }),
      b: T.zeros([hiddenSize], dtype),
    };
  },
  initialCarry: (batch, p) => T.zeros([batch, p.u.shape[0]!], p.u.dtype),
  step: (p, h, x) => {
    const hNext = A.relu(A.add(A.add(A.matmul(x, p.w), A.mul(p.u, h)), p.b));
    return [hNext, hNext];
  },
  outputSize: (p) => p.u.shape[0]!,
};

describe("mgu, the worked custom cell", () => {
  it("matches the Minimal Gated Unit equations computed by plain loops (float64)", () => {
    const p = randomize(mgu.init(T.random.key(0), { inputSize: IN, hiddenSize: H }, { dtype: "float64" }), 31, 0.8);
    const xs = randn(1, [B, TIME, IN]);
    const { outputs, finalCarry } = rnn(mgu, p, xs);
    const ref = mguRef(p, xs);
    expect(outputs.shape).toEqual([B, TIME, H]);
    expectClose(nums(outputs), ref.ys);
    expectClose(nums(finalCarry), ref.h);
    expect(mgu.outputSize(p)).toBe(H);
    expect(mgu.inputSize?.(p)).toBe(IN);
  });

  it("gradients through rnn match finite differences (float64)", () => {
    const p = randomize(mgu.init(T.random.key(1), { inputSize: IN, hiddenSize: H }, { dtype: "float64" }), 32, 0.8);
    const xs = randn(2, [B, TIME, IN]);
    checkGradFd((q: MguParams) => A.sum(A.square(rnn(mgu, q, xs, { lengths: [5, 1, 3] }).outputs)), p);
  });

  it("initialises uniform ±1/√H in the requested dtype", () => {
    const p = mgu.init(T.random.key(2), { inputSize: IN, hiddenSize: H }, { dtype: "float64" });
    for (const leaf of A.treeLeaves(p)) {
      expect(leaf.dtype).toBe("float64");
      expect(nums(leaf).every((v) => Math.abs(v) <= 0.5)).toBe(true);
    }
    expect(() => mgu.init(T.random.key(2), { inputSize: IN, hiddenSize: -1 })).toThrow(/mgu\.init.*hiddenSize/);
  });
});

describe("defineCell", () => {
  const indRnn = defineCell(indRnnSpec);

  it("builds a cell whose rnn equals the step applied by hand, with gradients", () => {
    const p = indRnn.init(T.random.key(3), { inputSize: IN, hiddenSize: H }, { dtype: "float64" });
    const xs = randn(3, [B, TIME, IN]);
    const { outputs } = rnn(indRnn, p, xs);
    let h: Value = indRnn.initialCarry(B, p);
    const ys: number[][] = [];
    for (let t = 0; t < TIME; t++) {
      [h] = indRnnSpec.step(p, h, A.reshape(A.slice(xs, [{}, { start: t, stop: t + 1 }]), [B, IN]));
      ys.push(nums(h));
    }
    const byBatch = Array.from({ length: B }, (_, b) => ys.flatMap((row) => row.slice(b * H, (b + 1) * H)));
    expectClose(nums(outputs), byBatch.flat());
    checkGradFd((q: typeof p) => A.sum(A.mul(rnn(indRnn, q, xs).outputs, 0.3)), p);
  });

  it("accepts outputSize as a number and passes inputSize and noise through", () => {
    const noise = (_k: T.Key, batch: number): Value => T.ones([batch, 1]);
    const cell = defineCell({ ...indRnnSpec, name: "fixed", outputSize: H, inputSize: () => IN, noise });
    const p = cell.init(T.random.key(0), { inputSize: IN, hiddenSize: H });
    expect(cell.outputSize(p)).toBe(H);
    expect(cell.inputSize?.(p)).toBe(IN);
    expect(cell.noise).toBe(noise);
    expect(cell.name).toBe("fixed");
  });

  it("hands the step its noise (drawn by rnn from the key)", () => {
    const seen: unknown[] = [];
    const cell = defineCell<null, Value>({
      name: "noisy",
      init: () => null,
      initialCarry: (batch) => T.zeros([batch, 1]),
      step: (_p, c, x, n) => {
        seen.push(n);
        return [c, A.mul(x, n as Value)];
      },
      outputSize: 1,
      noise: (k, batch) => T.random.uniform(k, [batch, 1]),
    });
    const xs = T.ones([2, 3, 1]);
    expect(() => cell.init(T.random.key(0), { inputSize: 1, hiddenSize: 1 })).toThrow(
      /defineCell\(noisy\).*init returned null/,
    );
    const out = rnn(cell, {} as unknown as null, xs, { key: T.random.key(5) }).outputs;
    expect(nums(out).every((v) => v > 0 && v < 1)).toBe(true);
    expect(seen.some((n) => n !== undefined)).toBe(true);
  });

  it("rejects malformed specs, naming the cell and the field", () => {
    const bad =
      (spec: unknown): (() => unknown) =>
      () =>
        defineCell(spec as CellSpec<unknown, unknown>);
    expect(bad(null)).toThrow(/defineCell.*expected an object/);
    expect(bad({ ...indRnnSpec, name: "" })).toThrow(/name must be a non-empty string/);
    expect(bad({ ...indRnnSpec, name: "c1", step: undefined })).toThrow(/defineCell\(c1\).*step must be a function/);
    expect(bad({ ...indRnnSpec, name: "c2", init: 3 })).toThrow(/defineCell\(c2\).*init must be a function/);
    expect(bad({ ...indRnnSpec, name: "c3", outputSize: 0 })).toThrow(
      /defineCell\(c3\).*outputSize must be a positive integer/,
    );
    expect(bad({ ...indRnnSpec, name: "c4", outputSize: "4" })).toThrow(
      /defineCell\(c4\).*outputSize must be a number or a function/,
    );
    expect(bad({ ...indRnnSpec, name: "c5", noise: 1 })).toThrow(/defineCell\(c5\).*noise must be a function/);
    const zeroOut = defineCell({ ...indRnnSpec, name: "c6", outputSize: () => 0 });
    expect(() => zeroOut.outputSize(zeroOut.init(T.random.key(0), { inputSize: 1, hiddenSize: 1 }))).toThrow(
      /defineCell\(c6\).*returned 0/,
    );
  });

  const p = indRnn.init(T.random.key(0), { inputSize: IN, hiddenSize: H });
  const x = T.ones([B, IN]);
  const withStep = (name: string, step: CellSpec<ParamsOf<typeof indRnn>, Value>["step"]) =>
    defineCell({ ...indRnnSpec, name, step });

  it("names the cell when step does not return [carry, y]", () => {
    const c = withStep("noPair", (_p, h) => h as unknown as readonly [Value, Value]);
    expect(() => c.step(p)(c.initialCarry(B, p), x)).toThrow(/noPair\.step.*must return \[carry, y\]/);
  });

  it("names the cell and the y shape when y is wrong", () => {
    const c = withStep("wideY", (_p, h) => [h, A.concat([h, h], 1)]);
    expect(() => c.step(p)(c.initialCarry(B, p), x)).toThrow(/wideY\.step.*y must be \[3, 4\].*float32\[3, 8\]/);
    const c2 = withStep("noY", (_p, h) => [h, null as unknown as Value]);
    expect(() => c2.step(p)(c2.initialCarry(B, p), x)).toThrow(/noY\.step.*y must be/);
  });

  it("names the cell and the carry leaf when the carry changes shape, dtype or structure", () => {
    const c = withStep("grows", (_p, h) => [A.concat([h, h], 1), h]);
    expect(() => c.step(p)(c.initialCarry(B, p), x)).toThrow(/grows\.step.*float32\[3, 4\] to float32\[3, 8\]/);
    const d = withStep("casts", (_p, h) => [A.astype(h, "float64"), h]);
    expect(() => d.step(p)(d.initialCarry(B, p), x)).toThrow(/casts\.step.*float32\[3, 4\] to float64\[3, 4\]/);
    const e = withStep("wraps", (_p, h) => [{ h } as unknown as Value, h]);
    expect(() => e.step(p)(e.initialCarry(B, p), x)).toThrow(/wraps\.step.*carry has structure/);
    // Inside rnn the same message surfaces (before scan's own check).
    expect(() => rnn(c, p, T.ones([B, 2, IN]))).toThrow(/grows\.step/);
  });

  it("names the cell when x_t is not [batch, features]", () => {
    expect(() => indRnn.step(p)(indRnn.initialCarry(B, p), T.ones([IN]))).toThrow(/indRnn\.step.*\[batch, features\]/);
    expect(() => indRnn.initialCarry(-1, p)).toThrow(/indRnn\.initialCarry/);
  });
});

describe("checkCell", () => {
  it("accepts cells and names what a non-cell lacks", () => {
    expect(checkCell("op", "cell", lstm)).toBe(lstm);
    expect(() => checkCell("stack", "cells[1]", { name: "x", init: () => 0 } as never)).toThrow(
      /stack.*lacking initialCarry, step, outputSize.*cells\[1\]/,
    );
    expect(() => checkCell("residual", "cell", undefined as never)).toThrow(/residual.*got undefined/);
  });
});

describe("the finite-difference helper", () => {
  it("fails on a wrong gradient (x · stopGradient(x) has true derivative 2x, autodiff gives x)", () => {
    const x = randn(1, [4]);
    expect(() => checkGradFd((v: Value) => A.sum(A.mul(v, A.stopGradient(v))), x)).toThrow(/gradient check failed/);
    expect(checkGradFd((v: Value) => A.sum(A.mul(v, v)), x).analytic).not.toBe(0);
  });
});
