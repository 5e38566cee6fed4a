/**
 * @file `loopParts`: a fused loop cut in two along its outermost axis for kernel threads. The two
 * parts, run by the JavaScript loop generator over their own rows, write exactly what the whole
 * loop writes there (so the SIMD kernels emitted from them do too: each lane computes its element
 * as the JavaScript loop does); loops of too little work, of one row, or reading through a window
 * stay whole.
 */
import { describe, expect, it } from "vitest";
import { genLoop, type LoopMember, type LoopOperand, type LoopSpec } from "../src/compile/loopgen.js";
import { loopParts, MIN_SPLIT_WORK, workUnits } from "../src/compile/loopSplit.js";

/** A float32 member `op(a, b)`. */
const binary = (op: "add" | "mul", a: LoopOperand, b: LoopOperand): LoopMember => ({
  op,
  param: undefined,
  dtype: "float32",
  ins: [a, b],
  inDtypes: ["float32", "float32"],
});

/** `out = tanh(x) · b + s` over [rows, cols]: x read whole, b a row broadcast (stride 0 down the rows), s a scalar. */
const specOf = (rows: number, cols: number, xOffset = 0): LoopSpec => ({
  shape: [rows, cols],
  reads: [
    { dtype: "float32", view: { shape: [rows, cols], strides: [cols, 1], offset: xOffset } },
    { dtype: "float32", view: { shape: [rows, cols], strides: [0, 1], offset: 0 } },
  ],
  members: [
    { op: "tanh", param: undefined, dtype: "float32", ins: [{ kind: "read", index: 0 }], inDtypes: ["float32"] },
    binary("mul", { kind: "member", index: 0 }, { kind: "read", index: 1 }),
    binary("add", { kind: "member", index: 1 }, { kind: "scalar", index: 0 }),
  ],
  stores: [{ member: 2, dtype: "float32" }],
  scalars: 1,
});

/** Runs the generated JavaScript loop of `spec`, writing from `out[oo]`. */
const runLoop = (spec: LoopSpec, out: Float32Array, oo: number, x: Float32Array, b: Float32Array): void => {
  const text = genLoop(spec);
  const prelude = "const fr = Math.fround; const tanhf = (v) => fr(Math.tanh(v));";
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- a generated test kernel
  const f = new Function(...text.params, `${prelude}\n${text.body}`) as (...a: unknown[]) => void;
  f(out, oo, x, 0, b, 0, 0.37);
};

describe("loopParts", () => {
  it("cuts at the middle row: the parts write the whole loop's bits, odd row counts included", () => {
    for (const [rows, cols, xOffset] of [
      [64, 128, 0],
      [81, 96, 5],
      [2, 4096, 0],
    ] as const) {
      const spec = specOf(rows, cols, xOffset);
      const parts = loopParts(spec)!;
      const h = Math.floor(rows / 2);
      expect(parts.shift).toBe(h * cols);
      expect(parts.first.shape).toEqual([h, cols]);
      expect(parts.second.shape).toEqual([rows - h, cols]);
      const x = Float32Array.from({ length: xOffset + rows * cols }, (_, i) => Math.sin(i));
      const b = Float32Array.from({ length: cols }, (_, i) => Math.cos(i));
      const whole = new Float32Array(rows * cols);
      runLoop(spec, whole, 0, x, b);
      const split = new Float32Array(rows * cols);
      runLoop(parts.first, split, 0, x, b);
      runLoop(parts.second, split, parts.shift, x, b);
      expect(Array.from(split)).toEqual(Array.from(whole));
    }
  });

  it("counts a polynomial as 30 units of work an element, other members, reads and stores as 1", () => {
    expect(workUnits(specOf(2, 2))).toBe(30 + 1 + 1 + 2 + 1);
  });

  it("leaves whole a loop under the minimum work, of one row, or with a windowed read", () => {
    const units = workUnits(specOf(2, 2));
    const cols = Math.ceil(MIN_SPLIT_WORK / units / 2);
    expect(loopParts(specOf(2, cols - 1))).toBeUndefined();
    expect(loopParts(specOf(2, cols))).toBeDefined();
    expect(loopParts(specOf(1, 8192))).toBeUndefined();
    const spec = specOf(32, 128);
    const windowed: LoopSpec = {
      ...spec,
      reads: [{ ...spec.reads[0]!, guard: { start: [0, 0], step: [1, 1], fill: 0 } }, spec.reads[1]!],
    };
    expect(loopParts(windowed)).toBeUndefined();
  });
});
