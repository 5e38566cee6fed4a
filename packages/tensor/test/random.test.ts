import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import {
  bernoulli,
  categorical,
  foldIn,
  isKey,
  key,
  normal,
  permutation,
  randomBits,
  split,
  uniform,
  type Key,
} from "../src/Random.js";
import { TensorException } from "../src/errors.js";
import { tensor } from "../src/Tensor.js";
import { threefry2x32, threefry2x32Into } from "../src/threefry.js";

const seedArb = fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.maxSafeNat());
const shapeArb = fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 });
const sameKey = (a: Key, b: Key): boolean => a.words[0] === b.words[0] && a.words[1] === b.words[1];
const stats = (xs: ArrayLike<number>): { mean: number; variance: number } => {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  const mean = s / xs.length;
  let v = 0;
  for (let i = 0; i < xs.length; i++) v += (xs[i]! - mean) ** 2;
  return { mean, variance: v / xs.length };
};

describe("threefry2x32", () => {
  // Known-answer vectors from Random123's kat_vectors (threefry2x32_20).
  it.each([
    [
      [0x00000000, 0x00000000],
      [0x00000000, 0x00000000],
      [0x6b200159, 0x99ba4efe],
    ],
    [
      [0xffffffff, 0xffffffff],
      [0xffffffff, 0xffffffff],
      [0x1cb996fc, 0xbb002be7],
    ],
    [
      [0x13198a2e, 0x03707344],
      [0x243f6a88, 0x85a308d3],
      [0xc4923a9c, 0x483df7a0],
    ],
  ] as const)("key %j counter %j gives %j", (k, c, expected) => {
    expect(threefry2x32(k, c)).toEqual(expected);
    const out = new Uint32Array(2);
    threefry2x32Into(k[0], k[1], c[0], c[1], out);
    expect([...out]).toEqual(expected);
  });
});

describe("keys", () => {
  it("reads the seed as a 64-bit two's-complement integer, as JAX", () => {
    expect(key(0).words).toEqual([0, 0]);
    expect(key(42).words).toEqual([0, 42]);
    expect(key(-1).words).toEqual([0xffffffff, 0xffffffff]);
    expect(key(2 ** 32).words).toEqual([1, 0]);
    expect(key(2 ** 40 + 5).words).toEqual([256, 5]);
    expect(key(-(2 ** 32)).words).toEqual([0xffffffff, 0]);
    expect(key(2n ** 64n - 1n).words).toEqual(key(-1).words);
    expect(key(2n ** 63n + 7n).words).toEqual([0x80000000, 7]);
  });

  it("rejects non-integer seeds with a clear message", () => {
    for (const bad of [1.5, Number.NaN, Infinity, 2 ** 53]) {
      expect(() => key(bad)).toThrow(TensorException);
      expect(() => key(bad)).toThrow(/seed must be an integer/);
    }
  });

  it("keys are frozen values recognised by isKey", () => {
    const k = key(7);
    expect(isKey(k)).toBe(true);
    expect(Object.isFrozen(k) && Object.isFrozen(k.words)).toBe(true);
    expect(isKey({ _tag: "PRNGKey", words: [1, 2] })).toBe(true);
    expect(isKey({ _tag: "PRNGKey", words: [1, -2] })).toBe(false);
    expect(isKey({ _tag: "PRNGKey", words: [1] })).toBe(false);
    expect(isKey([0, 0])).toBe(false);
    expect(isKey(null)).toBe(false);
    expect(() => normal({ words: [0, 0] } as unknown as Key, [2])).toThrow(/expected a PRNG key/);
  });

  test.prop([seedArb, fc.integer({ min: 2, max: 8 })], { numRuns: 50 })(
    "split children differ from each other and from the parent",
    (seed, n) => {
      const parent = key(seed);
      const children = split(parent, n);
      expect(children).toHaveLength(n);
      const all = [parent, ...children].map((k) => k.words.join(","));
      expect(new Set(all).size).toBe(n + 1);
      // Counter-based: child i does not depend on how many children were asked for.
      expect(
        split(parent, n + 1)
          .slice(0, n)
          .every((k, i) => sameKey(k, children[i]!)),
      ).toBe(true);
    },
  );

  test.prop([seedArb, fc.nat(), fc.nat()], { numRuns: 50 })("foldIn differs per data", (seed, a, b) => {
    fc.pre(a !== b);
    const k = key(seed);
    expect(sameKey(foldIn(k, a), foldIn(k, b))).toBe(false);
    expect(sameKey(foldIn(k, a), k)).toBe(false);
    expect(sameKey(foldIn(k, a), foldIn(k, a))).toBe(true);
  });

  it("foldIn(k, i) is split(k, n)[i], as in JAX", () => {
    const k = key(123);
    const children = split(k, 5);
    children.forEach((child, i) => expect(sameKey(foldIn(k, i), child)).toBe(true));
  });

  it("split validates n", () => {
    expect(split(key(0), 0)).toEqual([]);
    expect(() => split(key(0), -1)).toThrow(/n must be a non-negative integer/);
    expect(() => split(key(0), 1.5)).toThrow(TensorException);
  });
});

describe("randomBits", () => {
  test.prop([seedArb, shapeArb], { numRuns: 50 })("same key and shape give the same bits", (seed, shape) => {
    const a = randomBits(key(seed), shape);
    const b = randomBits(key(seed), shape);
    expect(a.shape).toEqual(shape);
    expect(a.dtype).toBe("int32");
    expect([...a.data]).toEqual([...b.data]);
  });

  it("results do not depend on the order of calls", () => {
    const [k1, k2] = split(key(5));
    const first = [randomBits(k1!, [8]), normal(k2!, [8])];
    const second = [normal(k2!, [8]), randomBits(k1!, [8])];
    expect([...first[0]!.data]).toEqual([...second[1]!.data]);
    expect([...first[1]!.data]).toEqual([...second[0]!.data]);
  });

  it("element i is w0 ^ w1 of the block at counter (0, i), and a prefix does not depend on the size", () => {
    const k = key(99);
    const bits = randomBits(k, [6]);
    for (let i = 0; i < 6; i++) {
      const [w0, w1] = threefry2x32(k.words, [0, i]);
      expect(bits.data[i]).toBe(w0 ^ w1);
    }
    expect([...randomBits(k, [2, 3]).data]).toEqual([...bits.data]);
    expect([...randomBits(k, [4]).data]).toEqual([...bits.data].slice(0, 4));
  });

  it("every bit position is set about half the time", () => {
    const bits = randomBits(key(1), [20000]).data;
    for (let b = 0; b < 32; b++) {
      let ones = 0;
      for (let i = 0; i < bits.length; i++) ones += (bits[i]! >>> b) & 1;
      expect(Math.abs(ones / bits.length - 0.5)).toBeLessThan(0.02);
    }
  });
});

describe("normal", () => {
  it.each(["float32", "float64"] as const)("100k %s samples have mean ≈ 0 and variance ≈ 1", (dtype) => {
    const xs = normal(key(2024), [100_000], dtype);
    expect(xs.dtype).toBe(dtype);
    expect(xs.data.every(Number.isFinite)).toBe(true);
    const { mean, variance } = stats(xs.data);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(variance - 1)).toBeLessThan(0.02);
    let kurt = 0;
    for (let i = 0; i < xs.data.length; i++) kurt += (xs.data[i]! - mean) ** 4;
    expect(Math.abs(kurt / xs.data.length / variance ** 2 - 3)).toBeLessThan(0.1);
    const within1 = xs.data.filter((x) => Math.abs(x) < 1).length / xs.data.length;
    expect(Math.abs(within1 - 0.6827)).toBeLessThan(0.01);
  });

  it("rejects non-float dtypes", () => {
    expect(() => normal(key(0), [2], "int32")).toThrow(/draws floating-point numbers/);
  });
});

describe("uniform", () => {
  it("default samples lie in [0, 1) with mean ≈ 1/2 and variance ≈ 1/12", () => {
    const xs = uniform(key(3), [100_000]);
    expect(xs.dtype).toBe("float32");
    expect(xs.data.every((x) => x >= 0 && x < 1)).toBe(true);
    const { mean, variance } = stats(xs.data);
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.005);
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.002);
  });

  test.prop(
    [
      fc.double({ min: -1e6, max: 1e6, noNaN: true }),
      fc.double({ min: 1e-6, max: 1e3, noNaN: true }),
      fc.constantFrom("float32" as const, "float64" as const),
      fc.nat(),
    ],
    { numRuns: 100 },
  )("samples lie in [min, max) for any range and dtype", (min, relWidth, dtype, seed) => {
    // Ranges at least a millionth of |min| wide always contain a float32.
    const max = min + relWidth * Math.max(1, Math.abs(min));
    fc.pre(max > min);
    const xs = uniform(key(seed), [200], { min, max, dtype });
    expect(xs.data.every((x) => x >= min && x < max)).toBe(true);
  });

  it("never returns max even when max is not representable, nor after rounding up", () => {
    // fround(0.1) > 0.1, and (1 - 2^-23) * 3 rounds to 3 in float32.
    for (const [min, max] of [
      [0, 0.1],
      [0, 3],
      [-0.1, 0],
      [1e30, 1.0000001e30],
    ] as const) {
      const xs = uniform(key(4), [50_000], { min, max });
      expect(xs.data.every((x) => x >= min && x < max)).toBe(true);
    }
    const wide = uniform(key(4), [1000], { min: -1.7e308, max: 1.7e308, dtype: "float64" });
    expect(wide.data.every(Number.isFinite)).toBe(true);
  });

  it("rejects empty ranges and non-float dtypes", () => {
    expect(() => uniform(key(0), [2], { min: 1, max: 1 })).toThrow(/must be finite and contain/);
    expect(() => uniform(key(0), [2], { min: 0, max: Infinity })).toThrow(TensorException);
    // No float32 lies in [-23272.573265625, -23272.572265625): float32 spacing there is ~0.002.
    expect(() => uniform(key(0), [2], { min: -23272.573265625, max: -23272.572265625 })).toThrow(
      /contain a float32 value/,
    );
    expect(uniform(key(0), [2], { min: -23272.573265625, max: -23272.572265625, dtype: "float64" }).shape).toEqual([2]);
    expect(() => uniform(key(0), [2], { dtype: "bool" })).toThrow(/dtype "bool"/);
  });
});

describe("bernoulli", () => {
  it("is true with frequency p", () => {
    for (const p of [0.03, 0.3, 0.5, 0.9]) {
      const xs = bernoulli(key(11), p, [100_000]);
      expect(xs.dtype).toBe("bool");
      expect(xs.data.every((x) => x === 0 || x === 1)).toBe(true);
      const freq = stats(xs.data).mean;
      expect(Math.abs(freq - p)).toBeLessThan(0.006);
    }
  });

  it("p = 0 is never true and p = 1 always", () => {
    expect(bernoulli(key(1), 0, [1000]).data.every((x) => x === 0)).toBe(true);
    expect(bernoulli(key(1), 1, [1000]).data.every((x) => x === 1)).toBe(true);
  });

  it("rejects p outside [0, 1]", () => {
    for (const p of [-0.1, 1.5, Number.NaN]) expect(() => bernoulli(key(0), p, [2])).toThrow(/p must be a probability/);
  });
});

describe("categorical", () => {
  const probs = [0.1, 0.2, 0.7, 0];
  const rows = 40_000;
  const logitRows = Array.from({ length: rows }, () => probs.map(Math.log));

  it("frequencies match softmax(logits) and -Infinity is never chosen", () => {
    const logits = tensor(logitRows, "float64");
    const before = [...logits.data];
    const samples = categorical(key(8), logits);
    expect(samples.dtype).toBe("int32");
    expect(samples.shape).toEqual([rows]);
    const counts = [0, 0, 0, 0];
    for (const s of samples.data) counts[s]!++;
    expect(counts[3]).toBe(0);
    probs.forEach((p, c) => expect(Math.abs(counts[c]! / rows - p)).toBeLessThan(0.01));
    expect([...logits.data]).toEqual(before); // inputs are never written
  });

  it("samples along any axis", () => {
    // Classes on axis 0: shape [4, rows] gives rows samples.
    const transposed = tensor(probs.map((p) => Array.from({ length: rows }, () => Math.log(p))));
    const samples = categorical(key(9), transposed, 0);
    expect(samples.shape).toEqual([rows]);
    const counts = [0, 0, 0, 0];
    for (const s of samples.data) counts[s]!++;
    expect(counts[3]).toBe(0);
    probs.forEach((p, c) => expect(Math.abs(counts[c]! / rows - p)).toBeLessThan(0.01));
    expect(categorical(key(0), tensor([[[1, 2, 3]], [[1, 2, 3]]]), 1).shape).toEqual([2, 3]);
  });

  it("a single finite logit among -Infinity is always chosen", () => {
    const logits = tensor(Array.from({ length: 500 }, () => [-Infinity, 5, -Infinity]));
    expect(categorical(key(1), logits).data.every((x) => x === 1)).toBe(true);
  });

  it("rejects scalars, bool logits, bad axes and empty class axes", () => {
    expect(() => categorical(key(0), tensor(1))).toThrow(TensorException);
    expect(() => categorical(key(0), tensor([true, false]))).toThrow(/bool/);
    expect(() => categorical(key(0), tensor([1, 2]), 1)).toThrow(/axis 1 is out of range/);
    expect(() => categorical(key(0), tensor([[], []]))).toThrow(/no classes/);
  });
});

describe("permutation", () => {
  test.prop([seedArb, fc.integer({ min: 0, max: 300 })], { numRuns: 100 })("is a permutation of 0..n-1", (seed, n) => {
    const p = permutation(key(seed), n);
    expect(p.dtype).toBe("int32");
    expect(p.shape).toEqual([n]);
    expect([...p.data].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it("all orderings of 3 items are about equally likely", () => {
    const counts = new Map<string, number>();
    const base = key(17);
    for (let i = 0; i < 6000; i++) {
      const s = [...permutation(foldIn(base, i), 3).data].join("");
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    for (const c of counts.values()) expect(Math.abs(c - 1000)).toBeLessThan(120);
  });

  it("is deterministic per key and different across keys", () => {
    expect([...permutation(key(1), 50).data]).toEqual([...permutation(key(1), 50).data]);
    expect([...permutation(key(1), 50).data]).not.toEqual([...permutation(key(2), 50).data]);
  });

  it("rejects bad n", () => {
    expect(() => permutation(key(0), -1)).toThrow(/n must be an integer/);
    expect(() => permutation(key(0), 2.5)).toThrow(TensorException);
  });
});
