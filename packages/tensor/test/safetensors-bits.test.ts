/**
 * @file Bits kept: every float32 and float64 bit pattern — NaNs with payloads, signalling and
 * quiet, of either sign, infinities, −0, subnormals — survives `decode` and `encode` byte for
 * byte. Reading an element into a JavaScript number quiets a signalling float32 NaN (0x7fa00001
 * became 0x7fe00001), so the codec copies bytes and never goes through numbers.
 */
import { fc, test } from "@fast-check/vitest";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { decode, encode } from "../src/safetensors.js";
import { fromBuffer } from "../src/Tensor.js";

const F32_BITS = [
  0x7fa00001,
  0x7f800001,
  0x7fbfffff,
  0xffa00001,
  0xff800001, // signalling NaNs, both signs
  0x7fc00000,
  0xffc00000,
  0x7fc12345,
  0x7fffffff,
  0xffffffff, // quiet NaNs, with and without payloads
  0x7f800000,
  0xff800000,
  0x80000000,
  0x00000001,
  0x807fffff,
  0x3f800000,
];
const F64_BITS = [
  0x7ff0000000000001n,
  0x7ff4000000000000n,
  0x7ff7ffffffffffffn,
  0xfff0000000000001n, // signalling
  0x7ff8000000000000n,
  0xfff8000000000000n,
  0x7ff8000000000001n,
  0x7ffc0000deadbeefn,
  0xffffffffffffffffn, // quiet
  0x7ff0000000000000n,
  0x8000000000000000n,
  0x0000000000000001n,
  0x3ff0000000000000n,
];

/** A file holding the patterns as `f32` and `f64`, its bytes written by hand (little-endian). */
const fileOf = (f32: readonly number[], f64: readonly bigint[]): Uint8Array => {
  const [a, b] = [f64.length * 8, f32.length * 4];
  const header = new TextEncoder().encode(
    `{"f64":{"dtype":"F64","shape":[${f64.length}],"data_offsets":[0,${a}]},"f32":{"dtype":"F32","shape":[${f32.length}],"data_offsets":[${a},${a + b}]}}`,
  );
  const padded = Math.ceil(header.length / 8) * 8;
  const out = new Uint8Array(8 + padded + a + b).fill(0x20, 8 + header.length, 8 + padded);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(padded), true);
  out.set(header, 8);
  f64.forEach((bits, i) => view.setBigUint64(8 + padded + 8 * i, bits, true));
  f32.forEach((bits, i) => view.setUint32(8 + padded + a + 4 * i, bits, true));
  return out;
};
const hex = (bytes: ArrayBufferView): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");

describe("NaN payloads and every other bit pattern", () => {
  it("decode keeps every bit, and encode writes the same file back", () => {
    const bytes = fileOf(F32_BITS, F64_BITS);
    const file = decode(bytes);
    if (E.isLeft(file)) return expect.fail(JSON.stringify(file.left));
    const [f32, f64] = [file.right.tensors.get("f32")!, file.right.tensors.get("f64")!];
    expect(Array.from(new Uint32Array(f32.data.buffer, f32.data.byteOffset, F32_BITS.length))).toEqual(
      F32_BITS.map((b) => b >>> 0),
    );
    expect(Array.from(new BigUint64Array(f64.data.buffer, f64.data.byteOffset, F64_BITS.length))).toEqual(F64_BITS);
    expect(hex(encode(file.right.tensors))).toBe(hex(bytes));
  });

  it("encode writes a tensor's bits as they are (a signalling NaN stays signalling)", () => {
    const t = fromBuffer("float32", [1], new Float32Array(Uint32Array.of(0x7fa00001).buffer));
    const out = encode({ t });
    expect(new DataView(out.buffer).getUint32(out.length - 4, true).toString(16)).toBe("7fa00001");
  });

  // Any bits, half of them NaNs (exponent all ones, any sign and nonzero payload), which uniform bits would rarely be.
  const f32Bits = fc.oneof(
    fc.integer({ min: 0, max: 0xffffffff }),
    fc
      .tuple(fc.boolean(), fc.integer({ min: 1, max: 0x7fffff }))
      .map(([neg, payload]) => ((neg ? 0x80000000 : 0) | 0x7f800000 | payload) >>> 0),
  );
  const f64Bits = fc.oneof(
    fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    fc
      .tuple(fc.boolean(), fc.bigInt({ min: 1n, max: 2n ** 52n - 1n }))
      .map(([neg, payload]) => (neg ? 1n << 63n : 0n) | (0x7ffn << 52n) | payload),
  );
  test.prop([fc.array(f32Bits, { maxLength: 16 }), fc.array(f64Bits, { maxLength: 16 })])(
    "any float32 and float64 bits round-trip through decode and encode",
    (f32, f64) => {
      const bytes = fileOf(f32, f64);
      const file = decode(bytes);
      expect(E.isRight(file) && hex(encode(file.right.tensors))).toBe(hex(bytes));
    },
  );
});
