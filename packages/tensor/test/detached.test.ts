/**
 * @file Tensors whose buffer was detached (donated to a jitted call, or transferred): every use
 * says so, instead of "a record of shape [2] whose data holds 0".
 */
import { describe, expect, it } from "vitest";
import * as T from "../src/index.js";
import { isDetached } from "../src/detached.js";

/** Detaches the tensor's buffer the way jit's `donate` does (without copying), and returns the tensor. */
const detach = (t: T.Tensor): T.Tensor => {
  structuredClone(t.data.buffer, { transfer: [t.data.buffer as ArrayBuffer] });
  return t;
};

const GONE = /whose buffer was donated to a jitted call \(jit's `donate` option\) or transferred/;
const FIX = /use the value the jitted call returned in its place/;

describe("detached tensors", () => {
  it("isDetached tells a detached buffer from an empty one", () => {
    const gone = new ArrayBuffer(8);
    structuredClone(gone, { transfer: [gone] });
    expect(isDetached(gone)).toBe(true);
    expect(isDetached(new ArrayBuffer(0))).toBe(false);
    expect(isDetached(new ArrayBuffer(4))).toBe(false);
  });

  it("eager ops, item, toArray and toString name the donation and the fix", () => {
    const x = detach(T.tensor([1, 2, 3]));
    for (const use of [() => T.exp(x), () => T.add(x, 1), () => T.toArray(x), () => T.toString(x)]) {
      expect(use).toThrow(GONE);
      expect(use).toThrow(FIX);
    }
    const s = detach(T.scalar(2));
    expect(() => T.item(s)).toThrow(GONE);
    // A donated scalar used as a number says it was donated, not that it has 0 elements.
    expect(() => +s).toThrow(GONE);
    expect(() => +s).toThrow(FIX);
  });

  it("`${x}` stays printable and says the tensor was donated", () => {
    expect(`${detach(T.tensor([1, 2]))}`).toBe("Tensor<float32[2], donated or transferred>");
  });

  it("an empty buffer under a non-empty shape is not called donated", () => {
    const make = (): T.Tensor => T.fromBuffer("float32", [2], new Float32Array(0));
    expect(make).toThrow(/a record of shape \[2\] \(2 elements\) whose data holds 0/);
    expect(make).not.toThrow(/donated/);
  });

  it("a detached empty tensor is still a tensor (nothing was lost)", () => {
    expect(T.isTensor(detach(T.zeros([0, 3])))).toBe(true);
  });
});
