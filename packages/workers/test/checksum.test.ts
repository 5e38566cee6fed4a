/**
 * @file The checksum that compares the workers' copies of a replicated value: copies that differ
 * in any one word or byte, at any position and any length (whole four-word groups, the leftover
 * words, the leftover bytes), always get different checksums, and so do runs of zeros of
 * different lengths; equal bytes give equal checksums wherever they sit in their buffers.
 */
import { describe, expect, it } from "vitest";
import { fc, test } from "@fast-check/vitest";
import { checksum } from "../src/placed.js";

const same = (a: readonly [number, number], b: readonly [number, number]): boolean => a[0] === b[0] && a[1] === b[1];

describe("checksum", () => {
  test.prop([
    fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: 1, maxLength: 40 }),
    fc.nat(),
    fc.integer({ min: 1, max: 2 ** 32 - 1 }),
  ])("changes when any one word changes", (words, at, flip) => {
    const a = Int32Array.from(words);
    const b = a.slice();
    const i = at % a.length;
    b[i] = b[i]! ^ flip;
    expect(same(checksum(a), checksum(b))).toBe(false);
  });

  test.prop([fc.uint8Array({ minLength: 1, maxLength: 43 }), fc.nat(), fc.integer({ min: 1, max: 255 })])(
    "changes when any one byte changes, lengths not a multiple of 4 included",
    (bytes, at, flip) => {
      const b = bytes.slice();
      const i = at % b.length;
      b[i] = b[i]! ^ flip;
      expect(same(checksum(bytes), checksum(b))).toBe(false);
    },
  );

  it("tells runs of zeros of different lengths apart", () => {
    const sums = Array.from({ length: 33 }, (_, n) => checksum(new Uint8Array(n)).join(","));
    expect(new Set(sums).size).toBe(sums.length);
  });

  test.prop([fc.uint8Array({ maxLength: 40 }), fc.integer({ min: 0, max: 8 })])(
    "depends on the bytes only, not on where the view starts in its buffer",
    (bytes, offset) => {
      const buffer = new ArrayBuffer(offset + bytes.length);
      const view = new Uint8Array(buffer, offset, bytes.length);
      view.set(bytes);
      expect(checksum(view)).toEqual(checksum(bytes));
    },
  );
});
