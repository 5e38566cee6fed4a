/**
 * @file jit's `donate` option: results are those without it, bit for bit; a donated tensor is
 * unusable afterwards with a message saying so; everything not donated (and every buffer the call
 * still needs) stays valid; in steady state the runner writes its outputs into the buffers donated
 * the call before, so a training loop allocates no output arrays.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { bind } from "../src/core.js";
import { expectBits } from "./compileSupport.js";

type Tree = { readonly w: Value; readonly b: Value; readonly layers: readonly Value[] };
interface State {
  readonly m: Tree;
  readonly v: Tree;
  readonly count: Value;
}

const GONE = /whose buffer was donated to a jitted call \(jit's `donate` option\) or transferred/;

const initParams = (dtype: T.DType): Tree => {
  const k = T.random.key(3);
  const n = (i: number, shape: number[]) => T.random.normal(T.random.foldIn(k, i), shape, dtype);
  return { w: n(0, [4, 3]), b: n(1, [3]), layers: [n(2, [3, 3]), n(3, [3])] };
};
const zerosLike = (t: Tree): Tree => A.treeMap((x) => T.zeros(x.shape, x.dtype), t);
const initState = (p: Tree): State => ({ m: zerosLike(p), v: zerosLike(p), count: T.scalar(0, "int32") });

/** One training step with plain ops: a loss's gradient, then Adam with bias correction from the int32 count. */
const step = (p: Tree, s: State, x: Value): [Tree, State] => {
  const loss = (q: Tree) => {
    const h = A.tanh(A.add(A.matmul(x, q.w), q.b));
    return A.sum(A.square(A.add(A.matmul(h, q.layers[0]!), q.layers[1]!)));
  };
  const g = A.grad(loss)(p);
  const count = A.add(s.count, 1);
  const t = A.astype(count, x.dtype);
  const m = A.treeMap<Tree>((mi, gi) => A.add(A.mul(mi, 0.9), A.mul(gi, 0.1)), s.m, g);
  const v = A.treeMap<Tree>((vi, gi) => A.add(A.mul(vi, 0.999), A.mul(A.square(gi), 0.001)), s.v, g);
  const c1 = A.sub(1, A.pow(0.9, t));
  const c2 = A.sub(1, A.pow(0.999, t));
  const update = (pi: Value, mi: Value, vi: Value) =>
    A.sub(pi, A.mul(0.01, A.div(A.div(mi, c1), A.add(A.sqrt(A.div(vi, c2)), 1e-8))));
  return [A.treeMap<Tree>(update, p, m, v), { m, v, count }];
};

/** jit of `step`; a new one per test on purpose (warnRetraces: false: the warning is about doing so in a loop). */
const jitStep = (options: A.JitOptions) => A.jit(step, { ...options, warnRetraces: false });

/** Detaches a buffer without copying, as donation does (this package is typed without Node's globals). */
const structuredCloneOf = (buffer: ArrayBufferLike): void => {
  const { structuredClone } = globalThis as unknown as { structuredClone: (v: unknown, o: unknown) => unknown };
  structuredClone(buffer, { transfer: [buffer] });
};

const batch = (dtype: T.DType, i: number): T.Tensor => T.random.normal(T.random.key(100 + i), [5, 4], dtype);

afterEach(() => vi.restoreAllMocks());

describe("jit donate: same results", () => {
  it.each([
    ["float32", true],
    ["float64", true],
    ["float32", false],
    ["float64", false],
  ] as const)(
    "an Adam step with donated params and state equals the step without, bit for bit (%s, compile %s)",
    (dtype, compile) => {
      const plain = jitStep({ compile });
      const donating = jitStep({ compile, donate: [0, 1] });
      let [p, s] = [initParams(dtype), initState(initParams(dtype))];
      let [q, r] = [initParams(dtype), initState(initParams(dtype))];
      for (let i = 0; i < 30; i++) {
        const x = batch(dtype, i);
        [p, s] = plain(p, s, x);
        [q, r] = donating(q, r, x);
        expectBits(`step ${i}`, [q, r], [p, s]);
        expectBits(`batch ${i} untouched`, x, batch(dtype, i));
      }
      expect(T.item(r.count as T.Tensor)).toBe(30);
      expect([plain.traceCount(), donating.traceCount()]).toEqual([1, 1]);
    },
  );

  it("equals the step without jit (eager), bit for bit", () => {
    const donating = jitStep({ donate: [0, 1] });
    let [p, s] = [initParams("float32"), initState(initParams("float32"))];
    let [q, r] = [initParams("float32"), initState(initParams("float32"))];
    for (let i = 0; i < 5; i++) {
      [p, s] = step(p, s, batch("float32", i));
      [q, r] = donating(q, r, batch("float32", i));
      expectBits(`step ${i}`, [q, r], [p, s]);
    }
  });
});

describe("jit donate: a donated tensor is given up", () => {
  const setup = (compile: boolean) => {
    const jf = jitStep({ compile, donate: [0, 1] });
    const p = initParams("float32");
    const s = initState(p);
    const x = batch("float32", 0);
    const out = jf(p, s, x);
    return { jf, p, s, x, out };
  };

  it.each([true, false])(
    "every later use says it was donated: ops, item, toArray, printing, jit (compile %s)",
    (compile) => {
      const { jf, p, s, x, out } = setup(compile);
      const w = p.w as T.Tensor;
      for (const use of [
        () => A.add(w, 1),
        () => T.exp(w),
        () => T.toArray(w),
        () => T.toString(w),
        () => T.item(s.count as T.Tensor),
        () => jf(p, s, x),
        () => A.jit((v: Value) => A.exp(v))(w),
        () => A.grad((v: Value) => A.sum(A.mul(v, w)))(T.ones([4, 3])),
      ]) {
        expect(use).toThrow(GONE);
        expect(use).toThrow(/use the value the jitted call returned/);
      }
      expect(`${w}`).toBe("Tensor<float32[4, 3], donated or transferred>");
      expect(() => +(s.count as T.Tensor)).toThrow(GONE);
      // The jitted call names where the donated tensor sits in its arguments.
      expect(() => jf(p, s, x)).toThrow(/\[0\]\.b/);
      // What the call returned is valid, and so is the argument not donated.
      expect(() => jf(out[0], out[1], x)).not.toThrow();
      expectBits("batch", x, batch("float32", 0));
    },
  );

  it("leaves valid a tensor also passed in a non-donated argument, captured as a constant, or returned as it is", () => {
    const p = T.tensor([1, 2, 3]);
    const twice = A.jit((a: Value, b: Value) => A.add(a, b), { donate: [0] });
    expectBits("a + a", twice(p, p), T.tensor([2, 4, 6]));
    expectBits("still valid", p, T.tensor([1, 2, 3]));

    const c = T.tensor([10, 20, 30]);
    const k = T.scalar(5);
    const captures = A.jit((a: Value, b: Value) => A.add(A.mul(a, c), A.mul(b, k)), { donate: [0, 1] });
    const first = captures(c, k);
    expectBits("captured constant", c, T.tensor([10, 20, 30]));
    expectBits("captured scalar literal", k, T.scalar(5));
    expectBits("again", captures(c, k), first);

    for (const compile of [true, false]) {
      const x = T.tensor([4, 5]);
      const same = A.jit((a: Value) => [a, A.neg(a)], { compile, donate: [0] });
      const [out, neg] = same(x) as [T.Tensor, T.Tensor];
      // The interpreter returns the input itself; the compiled runner a copy, and then x is given up.
      expectBits(`returned (compile ${compile})`, out, T.tensor([4, 5]));
      expectBits(`negated (compile ${compile})`, neg, T.tensor([-4, -5]));
      if (compile) expect(() => T.exp(x)).toThrow(GONE);
      else expect(out).toBe(x);
    }
  });

  it("leaves valid a tensor another jitted function captured, which keeps working", () => {
    const c = T.tensor([1, 2, 3]);
    const k = T.scalar(2);
    const reader = A.jit((a: Value) => A.add(A.mul(a, c), k));
    const before = reader(T.ones([3]));
    const taker = A.jit((a: Value, b: Value) => A.add(A.mul(a, 2), b), { donate: [0, 1] });
    expectBits("taker", taker(c, k), T.tensor([4, 6, 8]));
    expectBits("constant", c, T.tensor([1, 2, 3]));
    expectBits("scalar literal", k, T.scalar(2));
    expectBits("reader", reader(T.ones([3])), before);
  });

  it("leaves a compiled runner's planned buffers alone when a primitive's impl donates its input", () => {
    const inner = A.jit((a: Value) => A.mul(a, 3), { donate: [0] });
    // The impl gets its input as a view of one of the outer runner's planned buffers.
    const viaInner = A.definePrimitive<"donatesItsInput", void>({
      name: "donatesItsInput",
      abstractEval: ([x]) => [x!],
      impl: ([x]) => [inner(x!)],
      vjp: ([g]) => [A.mul(g!, 3)],
    });
    const f = (x: Value) => {
      const s = A.sin(x);
      return A.add(A.exp(bind(viaInner, [A.tanh(x)], undefined)[0]!), A.tanh(s));
    };
    const compiled = A.jit(f, { warnRetraces: false });
    const interpreted = A.jit(f, { compile: false, warnRetraces: false });
    for (let i = 0; i < 3; i++) {
      const x = T.random.normal(T.random.key(i), [6], "float64");
      expectBits(`call ${i}`, compiled(x), interpreted(x));
    }
  });

  it("a compiled graph refuses a donated constant or input with the donation named, not NaN", () => {
    const gone = T.scalar(4);
    const literal = A.makeGraph((a: Value) => A.mul(a, gone))(T.zeros([2])).graph;
    structuredCloneOf(gone.data.buffer);
    expect(() => A.compileGraph(literal)).toThrow(/compileGraph: a constant is a float32 tensor of shape \[\]/);
    expect(() => A.compileGraph(literal)).toThrow(GONE);

    const s = T.tensor([2, 3]);
    const run = A.compileGraph(A.makeGraph((a: Value) => A.mul(a, s))(T.zeros([2])).graph);
    const donated = T.tensor([5, 5]);
    A.jit((a: Value) => A.neg(a), { donate: [0] })(donated);
    expect(() => run([s, donated])).toThrow(/expected a tensor f32\[2\], got a float32 tensor of shape \[2\]/);
    expect(() => run([s, donated])).toThrow(GONE);
  });

  it("leaves valid what it cannot take whole: a view of part of a buffer, a SharedArrayBuffer, an empty tensor", () => {
    const whole = new Float32Array([1, 2, 3, 4]);
    const part = T.fromBuffer("float32", [2], whole.subarray(1, 3));
    const shared = T.fromBuffer("float32", [2], new Float32Array(new SharedArrayBuffer(8)));
    const empty = T.zeros([0]);
    const jf = A.jit((a: Value, b: Value, e: Value) => [A.add(a, b), A.exp(e)], { donate: [0, 1, 2] });
    jf(part, shared, empty);
    expectBits("part", part, T.tensor([2, 3]));
    expectBits("shared", shared, T.tensor([0, 0]));
    expect(T.isTensor(empty)).toBe(true);
  });

  it("gives up the others when one donated buffer cannot be moved (WebAssembly memory)", () => {
    // Where the engine has no `transfer`, the buffers move together in one structuredClone, which
    // copies a WebAssembly memory's buffer instead of moving it: that one stays valid.
    // (This package's tests are typed without the host's globals.)
    const { WebAssembly: wasm } = globalThis as unknown as {
      WebAssembly: { Memory: new (d: { initial: number }) => { buffer: ArrayBuffer } };
    };
    const memory = new wasm.Memory({ initial: 1 });
    const pinned = T.fromBuffer("float32", [16384], new Float32Array(memory.buffer).fill(2));
    const [a, b] = [T.tensor([1, 2]), T.tensor([3, 4])];
    const jf = A.jit((p: Value, x: Value, y: Value) => [A.sum(p), A.add(x, y)], { donate: [0, 1, 2] });
    const [total, sum] = jf(pinned, a, b);
    expectBits("results", [total, sum], [T.tensor(32768), T.tensor([4, 6])]);
    expect(T.isTensor(pinned)).toBe(true);
    expect(pinned.data[16383]).toBe(2);
    expect(() => T.exp(a)).toThrow(GONE);
    expect(() => T.exp(b)).toThrow(GONE);
  });

  it.runIf(!("transfer" in ArrayBuffer.prototype))(
    "moves the buffers one by one when moving them together is refused",
    () => {
      const [a, b] = [T.tensor([1, 2]), T.tensor([3, 4])];
      const jf = A.jit((x: Value, y: Value) => A.add(x, y), { donate: [0, 1] });
      const host = globalThis as unknown as { structuredClone: (v: unknown, o: unknown) => unknown };
      const clone = host.structuredClone;
      const spy = vi.spyOn(host, "structuredClone").mockImplementation((v: unknown, o: unknown) => {
        if (Array.isArray(v)) throw new Error("DataCloneError: refused");
        return clone(v, o);
      });
      try {
        expectBits("sum", jf(a, b), T.tensor([4, 6]));
        // One refused call for both, then one call each.
        expect(spy.mock.calls.map(([v]) => Array.isArray(v))).toEqual([true, false, false]);
      } finally {
        spy.mockRestore();
      }
      expect(() => T.exp(a)).toThrow(GONE);
      expect(() => T.exp(b)).toThrow(GONE);
    },
  );

  it("gives up a tensor passed twice once, and a view sharing its memory with it", () => {
    const p = T.tensor([1, 2, 3, 4]);
    const view = T.reshape(p, [2, 2]);
    const jf = A.jit((a: Value, b: Value) => A.add(a, b), { donate: [0, 1] });
    expectBits("sum", jf(p, p), T.tensor([2, 4, 6, 8]));
    expect(() => T.exp(p)).toThrow(GONE);
    expect(() => T.exp(view)).toThrow(GONE);
  });

  it("gives nothing up when the call throws, nor when the call is traced", () => {
    const x = T.tensor([1, 2, 3]);
    const pick = A.jit((a: Value, i: Value) => A.take(a, i), { donate: [0] });
    expect(() => pick(x, T.tensor([7], "int32"))).toThrow();
    expectBits("after a failed call", x, T.tensor([1, 2, 3]));

    const scaled = A.jit((a: Value, b: Value) => A.mul(a, b), { donate: [0, 1] });
    const w = T.tensor([2, 3, 4]);
    const g = A.grad((v: Value) => A.sum(scaled(v, w)))(x);
    expectBits("gradient", g, w);
    expectBits("traced argument", x, T.tensor([1, 2, 3]));
    expectBits("traced constant", w, T.tensor([2, 3, 4]));
  });

  it("refuses positions that are not argument indices, naming what arrived", () => {
    const f = (a: Value, b: Value) => A.add(a, b);
    for (const bad of [[-1], [0.5], "0", [0, "1"], 1])
      expect(() => A.jit(f, { donate: bad as never })).toThrow(/options\.donate/);
    expect(() => A.jit(f, { donate: [0.5] })).toThrow(/an array holding 0\.5/);
    const jf = A.jit(f, { donate: [2] });
    const x = T.tensor([1]);
    expect(() => jf(x, x)).toThrow(/position 2 is donated, but the jitted function was called with 2 arguments/);
    expectBits("not given up", x, T.tensor([1]));
  });
});

describe("jit donate: steady state", () => {
  /**
   * Records every buffer jit's donation moves (the engine's `transfer`, or `structuredClone`,
   * which moves a call's buffers all at once: its result is then the array of them).
   */
  const watchMoves = (): (() => ArrayBuffer[]) => {
    const proto = ArrayBuffer.prototype as { transfer?: () => ArrayBuffer };
    const spy =
      proto.transfer !== undefined
        ? vi.spyOn(proto as { transfer: () => ArrayBuffer }, "transfer")
        : vi.spyOn(
            globalThis as unknown as { structuredClone: (v: unknown, o: unknown) => unknown },
            "structuredClone",
          );
    return () => spy.mock.results.flatMap((r) => (Array.isArray(r.value) ? r.value : [r.value]) as ArrayBuffer[]);
  };

  it("writes each call's outputs into the buffers donated the call before: no output array is allocated", () => {
    const jf = jitStep({ donate: [0, 1] });
    let [p, s] = [initParams("float32"), initState(initParams("float32"))];
    [p, s] = jf(p, s, batch("float32", 0));
    const moved = watchMoves();
    for (let i = 1; i < 8; i++) {
      const before = moved().length;
      const out = jf(p, s, batch("float32", i));
      const leaves = A.treeLeaves(out) as T.Tensor[];
      // The call gives up every leaf of params and state…
      expect(moved().length - before).toBe(leaves.length);
      // …and from the third call on, every output lives in a buffer moved by the call before.
      if (i >= 2) {
        const previous = new Set(moved().slice(before - leaves.length, before));
        for (const t of leaves) expect(previous.has(t.data.buffer as ArrayBuffer)).toBe(true);
      }
      [p, s] = out;
    }
  });

  it("without donation, or on the interpreter, every output is a new buffer", () => {
    for (const options of [{}, { compile: false, donate: [0, 1] }]) {
      const jf = jitStep(options);
      let [p, s] = [initParams("float32"), initState(initParams("float32"))];
      const seen = new Set<ArrayBufferLike>();
      for (let i = 0; i < 4; i++) {
        [p, s] = jf(p, s, batch("float32", i));
        for (const t of A.treeLeaves([p, s]) as T.Tensor[]) {
          expect(seen.has(t.data.buffer)).toBe(false);
          seen.add(t.data.buffer);
        }
      }
    }
  });
});
