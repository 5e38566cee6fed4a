/**
 * @file `matmulInto` and `matmulKernel` take one descriptor object (`MatmulIntoArgs`,
 * `MatmulKernelArgs`; `matmulInto`'s transposes stay in its options); the positional forms stay as
 * deprecated aliases computing the same bits.
 */
import { describe, expect, it } from "vitest";
import { TRANSPOSES } from "./seededFloats.js";
import { matmulInto, matmulKernel, TensorException } from "../src/index.js";

const values = (n: number, seed: number, Ctor: Float32ArrayConstructor | Float64ArrayConstructor) =>
  new Ctor(Array.from({ length: n }, (_, i) => Math.sin(seed + i * 0.7) * 3));

const caught = (f: () => void): TensorException => {
  try {
    f();
  } catch (e) {
    if (e instanceof TensorException) return e;
    throw e;
  }
  throw new Error("expected a TensorException");
};

describe("matmulInto with a descriptor", () => {
  for (const Ctor of [Float32Array, Float64Array]) {
    it(`equals the positional form bit for bit (${Ctor.name}, every transpose)`, () => {
      const [m, k, n] = [5, 7, 3];
      for (const [transA, transB] of TRANSPOSES) {
        const a = values(2 + m * k, 1, Ctor);
        const b = values(3 + k * n, 2, Ctor);
        const viaArgs = new Ctor(1 + m * n).fill(NaN);
        const viaPositional = new Ctor(1 + m * n).fill(NaN);
        matmulInto({ out: viaArgs, outOffset: 1, a, aOffset: 2, b, bOffset: 3, m, k, n }, { transA, transB });
        matmulInto(viaPositional, 1, a, 2, b, 3, m, k, n, { transA, transB });
        expect(new Uint8Array(viaArgs.buffer)).toEqual(new Uint8Array(viaPositional.buffer));
        expect(Number.isNaN(viaArgs[0])).toBe(true);
      }
    });
  }

  it("refuses a misspelt option and a missing (misspelt) field, naming them", () => {
    const x = Float32Array.of(1, 2, 3, 4);
    const args = { out: new Float32Array(4), outOffset: 0, a: x, aOffset: 0, b: x, bOffset: 0, m: 2, k: 2, n: 2 };
    const typo = caught(() => matmulInto(args, { tranB: true } as never));
    expect(typo.error).toMatchObject({ op: "matmulInto", arg: "options.tranB" });
    expect(typo.message).toContain("transB");
    const { aOffset: _, ...withoutOffset } = args;
    const missing = caught(() => matmulInto({ ...withoutOffset, aOfset: 0 } as never));
    expect(missing.error).toMatchObject({ op: "matmulInto", arg: "a" });
    expect(caught(() => matmulInto(null as never)).error).toMatchObject({ op: "matmulInto", arg: "args" });
  });

  it("checks the flags and ranges of a descriptor as of the positional form", () => {
    const x = Float64Array.of(1, 2, 3, 4);
    const args = { out: new Float64Array(4), outOffset: 0, a: x, aOffset: 0, b: x, bOffset: 0, m: 2, k: 2, n: 2 };
    expect(caught(() => matmulInto(args, { transA: 1 as never })).error).toMatchObject({ arg: "options.transA" });
    expect(caught(() => matmulInto({ ...args, aOffset: 1 })).error).toMatchObject({ op: "matmulInto", arg: "a" });
  });
});

describe("matmulKernel with a descriptor", () => {
  it("equals the positional form, with or without a stray transpose flag it never reads", () => {
    const a = Int32Array.of(1, 2, 3, 4, 5, 6);
    const b = Int32Array.of(7, 8, 9, 10, 11, 12);
    const viaArgs = new Int32Array(4);
    const viaPositional = new Int32Array(4);
    matmulKernel({ out: viaArgs, outOffset: 0, a, aOffset: 0, b, bOffset: 0, m: 2, k: 3, n: 2 });
    matmulKernel(viaPositional, 0, a, 0, b, 0, 2, 3, 2);
    expect([...viaArgs]).toEqual([58, 64, 139, 154]);
    expect(viaArgs).toEqual(viaPositional);
    const stray = new Int32Array(4);
    const withFlag = { out: stray, outOffset: 0, a, aOffset: 0, b, bOffset: 0, m: 2, k: 3, n: 2, transB: true };
    matmulKernel(withFlag as never);
    expect(stray).toEqual(viaArgs);
    expect(caught(() => matmulKernel(7 as never)).error).toMatchObject({ op: "matmulKernel", arg: "args" });
  });
});
