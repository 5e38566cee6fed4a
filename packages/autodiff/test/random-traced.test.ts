/**
 * @file Random keys as traced data: `random.*` samples equal @rewind/tensor's eager samples bit
 * for bit (eager, jitted in both modes, under grad), a batched key under vmap draws per example
 * from each example's own key (nested too, and under jit), an unbatched key gives every example
 * the same sample, split and foldIn batch per example, a dropout gradient under vmap equals the
 * per-example gradients, and bad keys are refused with errors naming the op and the argument.
 */
import { afterEach, describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { expectSameBits } from "./vmapLaw.js";

const R = A.random;
const root = T.random.key(2026);
const B = 4;
const keys = T.random.split(root, B);
const keyBatch = R.keysData(keys);
const xs = T.random.normal(T.random.key(1), [B, 3], "float64");
/** Example i of x along axis 0. */
const row = (x: Value, i: number): Value => A.reshape(A.take(x, [i], 0), x.shape.slice(1));
/** Key `i` of key data `[n, 2]`, as key data `[2]`. */
const keyRow = (ks: Value, i: number): Value => row(ks, i);

/** The refusal thrown for a bad argument: the message names the op and the argument. */
const refused = (op: string, arg: string) =>
  expect.objectContaining({ message: expect.stringMatching(new RegExp(`^${op}: .*\\(argument \`${arg}\`\\)`)) });

afterEach(() => {
  A.setJitMode("compile");
});

describe("key data", () => {
  it("keyData, keysData and wrapKeyData convert between key records and int32 data", () => {
    const k = T.random.key(-1);
    expect(Array.from(R.keyData(k).data)).toEqual([-1, -1]);
    expect(R.keyData(k).dtype).toBe("int32");
    expect(R.wrapKeyData(R.keyData(k))).toEqual(k);
    expect(keyBatch.shape).toEqual([B, 2]);
    keys.forEach((kk, i) => expect(R.wrapKeyData(keyRow(keyBatch, i) as T.Tensor)).toEqual(kk));
  });

  it("refuses what is not a key, naming the function and the argument", () => {
    expect(() => R.wrapKeyData(T.zeros([3], "int32"))).toThrow(refused("wrapKeyData", "data"));
    expect(() => R.keysData([root, { words: [1, 2] } as unknown as T.Key])).toThrow(refused("keysData", "keys\\[1\\]"));
  });
});

describe("traced samples equal the eager samplers bit for bit", () => {
  const draws = (k: A.random.KeyLike): Value[] => [
    R.normal(k, [2, 3], "float64"),
    R.normal(k, [5]),
    R.uniform(k, [4], { min: -2, max: 3, dtype: "float64" }),
    R.bits(k, [3]),
    R.bernoulli(k, 0.3, [6]),
    R.split(k, 3),
    R.foldIn(k, 11),
  ];
  const eager = (k: T.Key): Value[] => [
    T.random.normal(k, [2, 3], "float64"),
    T.random.normal(k, [5]),
    T.random.uniform(k, [4], { min: -2, max: 3, dtype: "float64" }),
    T.random.randomBits(k, [3]),
    T.random.bernoulli(k, 0.3, [6]),
    R.keysData(T.random.split(k, 3)),
    R.keyData(T.random.foldIn(k, 11)),
  ];
  const expectAll = (actual: Value[], expected: Value[], what: string): void =>
    actual.forEach((a, i) => expectSameBits(a, expected[i]!, `${what}, draw ${i}`));

  it("eagerly, from a key record or its data", () => {
    expectAll(draws(root), eager(root), "record");
    expectAll(draws(R.keyData(root)), eager(root), "data");
  });

  for (const mode of ["compile", "interpret"] as const) {
    it(`under jit (${mode}), with the key an argument or a captured record`, () => {
      A.setJitMode(mode);
      expectAll(A.jit(draws)(R.keyData(root)), eager(root), "argument");
      expectAll(A.jit(() => draws(root))(), eager(root), "captured");
    });
  }

  it("under grad, where the sample is a constant", () => {
    const x = T.random.normal(T.random.key(5), [2, 3], "float64");
    const g = A.grad((v: Value, k: Value) => A.sum(A.mul(v, R.normal(k, [2, 3], "float64"))))(x, R.keyData(root));
    expectSameBits(g, T.random.normal(root, [2, 3], "float64"), "d/dx sum(x · normal(k))");
  });

  it("keeps different keys apart and the same key equal under jit's passes", () => {
    // CSE may merge the two draws from ks[0]; it must not merge the draws from ks[0] and ks[1].
    const f = (k: Value): Value[] => {
      const ks = R.split(k);
      return [R.normal(keyRow(ks, 0), [3]), R.normal(keyRow(ks, 1), [3]), R.normal(keyRow(ks, 0), [3])];
    };
    const [a, b, c] = A.jit(f)(R.keyData(root));
    const [k0, k1] = T.random.split(root);
    expectSameBits(a!, T.random.normal(k0!, [3]), "ks[0]");
    expectSameBits(b!, T.random.normal(k1!, [3]), "ks[1]");
    expectSameBits(c!, a!, "ks[0] again");
  });

  it("folds in traced data: a scan's step counter, eager and jitted (in and out of the loop)", () => {
    // The key of step t is foldIn(root, t): it depends on the carry, so no pass may hoist the
    // draw out of the loop; `fixed` draws from a loop-invariant key, which hoisting may move.
    const run = (k: Value): Value[] =>
      A.scan(
        (t: Value) => [A.add(t, 1), [R.normal(R.foldIn(k, t), [2], "float64"), R.normal(k, [2], "float64")]],
        T.scalar(0, "int32"),
        null,
        { length: 3 },
      )[1];
    const want = T.stack([0, 1, 2].map((t) => T.random.normal(T.random.foldIn(root, t), [2], "float64")));
    const fixed = T.stack([0, 1, 2].map(() => T.random.normal(root, [2], "float64")));
    for (const [what, out] of [
      ["eager", run(R.keyData(root))],
      ["jit", A.jit(run)(R.keyData(root))],
    ] as const) {
      expectSameBits(out[0]!, want, `${what}: per-step samples`);
      expectSameBits(out[1]!, fixed, `${what}: loop-invariant key`);
    }
  });
});

describe("random under vmap", () => {
  const noisy = (k: Value, x: Value): Value => A.add(x, R.normal(k, x.shape, "float64"));
  const perExample = (f: (k: Value, x: Value) => Value): T.Tensor =>
    T.stack(keys.map((k, i) => f(R.keyData(k), row(xs, i)) as T.Tensor));

  it("a batched key draws per example, each from its own key", () => {
    const out = A.vmap(noisy)(keyBatch, xs);
    expectSameBits(out, perExample(noisy), "vmap vs stack");
    // Per-example noise really differs (a rule reusing example 0's key would give equal rows).
    const noise = T.sub(out, xs);
    expect(Array.from((row(noise, 1) as T.Tensor).data)).not.toEqual(Array.from((row(noise, 0) as T.Tensor).data));
  });

  it("takes the key batch on any axis", () => {
    const out = A.vmap(noisy, { inAxes: [1, 0] })(T.transpose(keyBatch), xs);
    expectSameBits(out, perExample(noisy), "keys batched on axis 1");
  });

  it("gives every example the same sample from an unbatched key (inAxes null), as JAX", () => {
    // 0·x + sample is exactly the sample, as a batched value
    const sampled = (k: Value, x: Value) => A.add(A.mul(x, 0), R.normal(k, x.shape, "float64"));
    const out = A.vmap(sampled, { inAxes: [null, 0] })(R.keyData(root), xs);
    const one = T.random.normal(root, [3], "float64");
    expectSameBits(out, T.stack(keys.map(() => one)), "shared key");
  });

  it("splits and folds in per example", () => {
    const f = (k: Value) => [R.split(k, 3), R.foldIn(k, 5), R.foldIn(R.foldIn(k, 1), 2)];
    const [split, folded, twice] = A.vmap(f)(keyBatch);
    expectSameBits(split!, T.stack(keys.map((k) => R.keysData(T.random.split(k, 3)))), "split");
    expectSameBits(folded!, R.keysData(keys.map((k) => T.random.foldIn(k, 5))), "foldIn");
    const want = keys.map((k) => T.random.foldIn(T.random.foldIn(k, 1), 2));
    expectSameBits(twice!, R.keysData(want), "foldIn twice");
  });

  it("folds batched data into a shared key, and batched data into batched keys", () => {
    const data = T.tensor([3, -4, 0, 2147483647], "int32");
    const shared = A.vmap((d: Value) => R.foldIn(root, d))(data);
    const ds = Array.from(data.data);
    expectSameBits(shared, R.keysData(ds.map((d) => T.random.foldIn(root, d))), "shared key");
    const both = A.vmap((k: Value, d: Value) => R.foldIn(k, d))(keyBatch, data);
    expectSameBits(both, R.keysData(keys.map((k, i) => T.random.foldIn(k, ds[i]!))), "batched both");
  });

  it("nests: vmap(vmap(f)) over a [2, B] grid of keys", () => {
    const grid = R.keysData(T.random.split(root, 2 * B));
    const keys2 = T.reshape(grid, [2, B, 2]);
    const xs2 = T.stack([xs, T.neg(xs)]);
    const out = A.vmap(A.vmap(noisy))(keys2, xs2);
    const want = T.stack(
      [0, 1].map((a) => T.stack(keys.map((_, b) => noisy(keyRow(grid, a * B + b), row(row(xs2, a), b)) as T.Tensor))),
    );
    expectSameBits(out, want, "nested");
  });

  it("batches a scan whose body folds the step into each example's key", () => {
    const walk = (k: Value, x: Value): Value =>
      A.scan(
        (c: Value, t: Value) => {
          const c2 = A.add(c, R.normal(R.foldIn(k, A.astype(t, "int32")), x.shape, "float64"));
          return [c2, A.sum(c2)];
        },
        x,
        T.arange(0, 4, 1, "float64"),
      )[1];
    const want = T.stack(keys.map((k, i) => walk(R.keyData(k), row(xs, i)) as T.Tensor));
    expectSameBits(A.vmap(walk)(keyBatch, xs), want, "vmap of scan");
    expectSameBits(A.jit(A.vmap(walk))(keyBatch, xs), want, "jit of vmap of scan");
  });

  it("jit(vmap(f)) equals vmap(f), compiled and interpreted", () => {
    const f = (k: Value, x: Value) => [noisy(k, x), R.split(k), R.bernoulli(R.foldIn(k, 3), 0.5, [2])];
    const want = A.vmap(f)(keyBatch, xs);
    for (const mode of ["compile", "interpret"] as const) {
      A.setJitMode(mode);
      const got = A.jit(A.vmap(f))(keyBatch, xs);
      got.forEach((g, i) => expectSameBits(g, want[i]!, `${mode}, output ${i}`));
    }
  });

  it("dropout: per-example gradients under vmap equal the single-example gradients", () => {
    const p = 0.5;
    const loss = (k: Value, x: Value): Value => {
      const kept = A.where(R.bernoulli(k, 1 - p, x.shape), A.div(x, 1 - p), 0);
      return A.sum(A.mul(kept, A.tanh(x)));
    };
    const grads = A.vmap(A.grad(loss, { argnums: 1 }))(keyBatch, xs);
    const want = T.stack(keys.map((k, i) => A.grad(loss, { argnums: 1 })(R.keyData(k), row(xs, i)) as T.Tensor));
    expectSameBits(grads, want, "per-example dropout gradients");
    expectSameBits(A.jit(A.vmap(A.grad(loss, { argnums: 1 })))(keyBatch, xs), want, "jitted");
  });
});

describe("bad keys", () => {
  it("refuses a key of the wrong shape or dtype, naming the op and the argument", () => {
    expect(() => R.normal(T.zeros([3], "int32"), [2])).toThrow(refused("random.normal", "key"));
    expect(() => R.uniform(T.zeros([2], "float32"), [2])).toThrow(refused("random.uniform", "key"));
    expect(() => R.split(keyBatch)).toThrow(refused("random.split", "key"));
    expect(() => R.foldIn([0, 1] as unknown as Value, 1)).toThrow(refused("random.foldIn", "key"));
    // the message says what to do with a batch of keys
    expect(() => R.bernoulli(keyBatch, 0.5, [2])).toThrow(/vmap over them/);
  });

  it("refuses bad keys inside jit and vmap at trace time", () => {
    expect(() => A.jit((k: Value) => R.normal(k, [2]))(T.zeros([2], "float64"))).toThrow(
      refused("random.normal", "key"),
    );
    // vmap over axis 1 of [B, 2] leaves a per-example key of shape [B]
    expect(() => A.vmap((k: Value) => R.bits(k, [2]), { inAxes: 1 })(T.zeros([3, 2], "int32"))).toThrow(
      refused("random.bits", "key"),
    );
  });

  it("refuses bad shapes, dtypes and data with the eager samplers' checks", () => {
    expect(() => R.normal(root, [2], "int32")).toThrow(/normal.*dtype/);
    expect(() => R.uniform(root, [2], { min: 1, max: 0 })).toThrow(/uniform/);
    expect(() => R.bernoulli(root, 1.5, [2])).toThrow(/bernoulli.*p/);
    expect(() => R.normal(root, [-1])).toThrow(/random.normal.*shape/);
    expect(() => R.split(root, 1.5)).toThrow(refused("random.split", "n"));
    expect(() => R.foldIn(root, 2 ** 40)).toThrow(refused("random.foldIn", "data"));
    expect(() => R.foldIn(root, T.scalar(1.5, "float64"))).toThrow(refused("random.foldIn", "data"));
  });
});
