/**
 * The kernel threads' claim on a product's rows (src/node/kernelProtocol.ts): of the main thread and
 * the kernel thread, exactly one computes each request's rows, whichever comes first, and a kernel
 * thread that comes late to a request the main thread took moves on to the next one.
 */
import { describe, expect, it } from "vitest";
import {
  claim,
  CTL,
  CTL_BYTES,
  loopArgs,
  readProduct,
  readSecond,
  waitWhile,
  writeLoop,
  writePair,
  writeProduct,
} from "../src/node/kernelProtocol.js";

const control = (): Int32Array => new Int32Array(new SharedArrayBuffer(CTL_BYTES));

describe("claim", () => {
  it("gives each request to exactly one of the two threads, the first to ask", () => {
    const ctl = control();
    expect(claim(ctl, 1)).toBe(true); // the kernel thread, at once
    expect(claim(ctl, 1)).toBe(false); // the main thread, after its own rows: wait for it
    expect(claim(ctl, 2)).toBe(true); // the main thread first this time: it computes the rows
    expect(claim(ctl, 2)).toBe(false); // the kernel thread, late: it moves on
  });

  it("lets a kernel thread that slept through a taken request claim the next one, not the old one", () => {
    const ctl = control();
    claim(ctl, 1);
    claim(ctl, 2);
    expect(claim(ctl, 2)).toBe(false);
    expect(claim(ctl, 3)).toBe(true);
    // A request two ahead is not claimable: the main thread publishes one only after the last is done.
    expect(claim(ctl, 5)).toBe(false);
    expect(Atomics.load(ctl, CTL.taken)).toBe(3);
  });
});

describe("waitWhile", () => {
  it("returns at once when the word already differs, and after the timeout when it never changes", () => {
    const ctl = control();
    Atomics.store(ctl, CTL.done, 4);
    waitWhile(ctl, CTL.done, 3, 0.05, 10_000); // no wait: the word is not 3
    const started = performance.now();
    waitWhile(ctl, CTL.done, 4, 0.05, 20); // spins 0.05 ms, then sleeps 20 ms: nobody changes it
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
    expect(Atomics.load(ctl, CTL.done)).toBe(4);
  });
});

describe("request fields", () => {
  it("a product's rows read back as written, a transposed a with its stride, addresses past 2³¹ included", () => {
    const ctl = control();
    const at = { aAt: 2 ** 31 + 64, bAt: 128, cAt: 4096, scratch: 8192, m: 16, k: 64, n: 96, transA: true };
    writeProduct(ctl, 3, true, { ...at, transB: false, aStride: 32 });
    expect(readProduct(ctl)).toEqual({ ...at, transB: false, aStride: 32 });
    expect([ctl[CTL.kind], ctl[CTL.arena], ctl[CTL.packed]]).toEqual([0, 3, 1]);
    writeProduct(ctl, 0, false, { ...at, transA: false, transB: true });
    expect(readProduct(ctl)).toEqual({ ...at, transA: false, transB: true, aStride: undefined });
  });

  it("a pair's two products read back as written: the first's fields, then the second's b, c and width", () => {
    const ctl = control();
    const at = { aAt: 64, bAt: 2 ** 31 + 128, cAt: 4096, scratch: 8192, m: 40, k: 300, n: 24, transA: true };
    const second = { bAt: 2 ** 31 + 1024, cAt: 65536, n: 8, transB: true };
    writePair(ctl, 5, { ...at, transB: false, aStride: 80 }, second);
    expect([ctl[CTL.kind], ctl[CTL.arena], ctl[CTL.packed]]).toEqual([2, 5, 0]);
    expect(readProduct(ctl)).toEqual({ ...at, transB: false, aStride: 80 });
    expect(readSecond(ctl)).toEqual(second);
  });

  it("a loop's addresses and float32 scalars read back as written (scalars rounded to float32)", () => {
    const ctl = control();
    const floats = new Float32Array(ctl.buffer);
    writeLoop(ctl, floats, 2, 7, 3, [64, 2 ** 31 + 16, 4096, 0.1, -2.5]);
    expect([ctl[CTL.kind], ctl[CTL.arena], ctl[CTL.fn]]).toEqual([1, 2, 7]);
    // Addresses as the int32 a WebAssembly i32 parameter takes; 0.1 as float32.
    expect(loopArgs(ctl, floats)).toEqual([64, (2 ** 31 + 16) | 0, 4096, Math.fround(0.1), -2.5]);
  });
});
