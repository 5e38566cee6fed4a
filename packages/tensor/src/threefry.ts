/**
 * @file Threefry-2x32 with 20 rounds: the counter-based block cipher behind Rewind's randomness.
 *
 * This is the generator of Random123 (Salmon et al., "Parallel Random Numbers: As Easy as 1, 2,
 * 3", SC 2011) and of JAX. A counter-based generator is a pure function `(key, counter) → bits`:
 * there is no hidden state, so a sample depends only on its key and its position, never on how
 * many numbers were drawn before or in which order. All arithmetic is 32-bit integer arithmetic
 * (`| 0` wrap-around adds, shifts, xor), which JavaScript engines perform exactly, so the bits are
 * identical on every machine. Threefry needs no multiplication, so no `Math.imul` appears.
 */

/** Rotation constants R_32x2 of Threefry-2x32 (Random123 `threefry.h`), used cyclically. */
const ROTATIONS: readonly number[] = [13, 15, 26, 6, 17, 29, 16, 24];

/** Skein's key-schedule parity constant: the third key word is `k0 ^ k1 ^ PARITY`. */
const PARITY = 0x1bd11bda;

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));

/**
 * Hashes the counter `(c0, c1)` under the key `(k0, k1)` and writes the two output words (as
 * unsigned 32-bit numbers) into `out[0]` and `out[1]`. The allocation-free form used by the
 * samplers' inner loops; `threefry2x32` is the friendly one.
 * @example
 * const out = new Uint32Array(2);
 * threefry2x32Into(0, 0, 0, 0, out); // out is Uint32Array [0x6b200159, 0x99ba4efe]
 */
export const threefry2x32Into = (k0: number, k1: number, c0: number, c1: number, out: Uint32Array): void => {
  const ks0 = k0 | 0;
  const ks1 = k1 | 0;
  const ks2 = (ks0 ^ ks1 ^ PARITY) | 0;
  const ks = [ks0, ks1, ks2];
  let x0 = (c0 + ks0) | 0;
  let x1 = (c1 + ks1) | 0;
  // 20 rounds in 5 groups of 4; after each group a key word pair and the group number are
  // injected (the "key schedule"), exactly as in Random123.
  for (let group = 0; group < 5; group++) {
    for (let r = 0; r < 4; r++) {
      x0 = (x0 + x1) | 0;
      x1 = rotl(x1, ROTATIONS[(group * 4 + r) % 8]!) ^ x0;
    }
    const s = group + 1;
    x0 = (x0 + ks[s % 3]!) | 0;
    x1 = (x1 + ks[(s + 1) % 3]! + s) | 0;
  }
  out[0] = x0 >>> 0;
  out[1] = x1 >>> 0;
};

/**
 * Threefry-2x32-20 of one counter block: two uint32 key words and two uint32 counter words in,
 * two uint32 words out. Inputs are taken modulo 2^32.
 * @example
 * threefry2x32([0x13198a2e, 0x03707344], [0x243f6a88, 0x85a308d3]); // [0xc4923a9c, 0x483df7a0]
 */
export const threefry2x32 = (
  key: readonly [number, number],
  counter: readonly [number, number],
): readonly [number, number] => {
  const out = new Uint32Array(2);
  threefry2x32Into(key[0], key[1], counter[0], counter[1], out);
  return [out[0]!, out[1]!];
};
