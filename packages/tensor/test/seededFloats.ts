/**
 * @file Test data for the matmul kernel tests: seeded float32 values in [-1, 1) times a power of
 * two in [2^-span, 2^span], so that products and sums round often, and the four layouts of the
 * operands.
 */

/** Every (transA, transB) pair: each operand stored as is or transposed. */
export const TRANSPOSES = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
] as const;

/**
 * `count` values from a 32-bit linear congruential generator started at `seed`.
 * @example seededFloats(4, 1, 8) // four values, the same for every run
 */
export const seededFloats = (count: number, seed: number, span: number): Float32Array => {
  const out = new Float32Array(count);
  let s = seed >>> 0 || 1;
  const next = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  for (let i = 0; i < count; i++) out[i] = (2 * next() - 1) * 2 ** Math.floor((2 * span + 1) * next() - span);
  return out;
};
