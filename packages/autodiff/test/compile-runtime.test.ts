/**
 * @file The compiled runner as a value: planned buffers reused across calls never leak into
 * results, outputs are fresh (or written into the arrays passed, whatever they held), the
 * generated source holds no user strings, and the switches that keep the interpreter
 * (`compile: false`, `withDebugNans`).
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { bind } from "../src/core.js";
import { expectBits } from "./compileSupport.js";

const f64 = (x: T.NestedArray): T.Tensor => T.tensor(x, "float64");
const copyOf = (t: T.Tensor): T.Tensor => T.fromBuffer(t.dtype, t.shape, t.data.slice());

/** Exercises pool reuse: matmuls (unfused) and a scan whose buffers live across the call. */
const model = (w: Value, x: Value) => {
  const h = A.tanh(A.matmul(x, w));
  const [c, ys] = A.scan((cc: Value, r: Value) => [A.add(A.mul(cc, 0.5), r), A.exp(cc)], A.sum(h, { axis: 0 }), h);
  return { c, ys, h2: A.matmul(h, A.transpose(w)), s: A.sum(ys) };
};

describe("compile: the runner", () => {
  it("reuses its buffers across calls without changing earlier results", () => {
    const jf = A.jit(model);
    const w = T.random.normal(T.random.key(1), [3, 3], "float64");
    const x1 = T.random.normal(T.random.key(2), [4, 3], "float64");
    const x2 = T.random.normal(T.random.key(3), [4, 3], "float64");
    const first = jf(w, x1);
    const snapshot = A.treeMap((t) => copyOf(t as T.Tensor), first);
    const second = jf(w, x2);
    expectBits("first results after a second call", first, snapshot);
    expectBits("second call", second, A.jit(model, { compile: false })(w, x2));
    expectBits("first call again", jf(w, x1), snapshot);
  });

  it("returns fresh outputs: never a buffer of an input, of a constant, or of an earlier call", () => {
    const c = f64([1, 2]);
    const jf = A.jit((x: Value) => [x, c, A.exp(x), A.exp(x), A.reshape(x, [2, 1]), 3] as const);
    const x = f64([0.5, -1]);
    const a = jf(x);
    const b = jf(x);
    const buffers = [...a, ...b].filter(T.isTensor).map((t) => t.data.buffer);
    expect(new Set(buffers).size).toBe(buffers.length);
    expect(buffers).not.toContain(x.data.buffer);
    expect(buffers).not.toContain(c.data.buffer);
    expectBits(
      "values",
      a,
      [x, c, A.exp(x), A.exp(x), A.reshape(x, [2, 1]), 3].filter((v) => typeof v !== "number"),
    );
  });

  it("plans buffers by liveness: a chain of products reuses a few buffers", () => {
    const ws = Array.from({ length: 8 }, (_, i) => T.random.normal(T.random.key(i), [64, 64], "float64"));
    const chain = (x: Value) => ws.reduce((acc, w) => A.matmul(acc, w), x);
    const run = A.compileGraph(A.makeGraph(chain)(ws[0]!).graph);
    // Seven intermediates of 32 KiB each; at most two are alive at once.
    expect(run.plannedBytes).toBeLessThanOrEqual(2 * 64 * 64 * 8);
  });

  it("generated code holds no user strings: pytree keys, names and paths never reach the source", () => {
    const evil = "alert(1)";
    const f = (p: Record<string, Value>) => {
      const carry = { [evil]: p[evil]!, [`"); ${evil}; ("`]: A.mul(p[evil]!, 2) };
      const step = (c: typeof carry, x: Value): [typeof carry, Record<string, Value>] => [
        A.treeMap<typeof carry>((v) => A.add(v, x), c),
        { [`\`${evil}\``]: A.sin(x) },
      ];
      const named = A.customVjp(
        function alert1(v: Value) {
          return A.tanh(v);
        },
        (v: Value) => [A.tanh(v), v] as const,
        (_r: Value, g: Value) => [g],
      );
      return [A.scan(step, carry, A.stack([p[evil]!, p[evil]!])), named(p[evil]!)];
    };
    const arg = { [evil]: f64([1, 2]) };
    const { source } = A.compileGraph(A.makeGraph(f)(arg).graph);
    expect(source).not.toContain("alert");
    // The one string literal is the strict-mode directive.
    expect(source.match(/["'`]/g)?.length).toBe(2);
    expect(source.startsWith('"use strict";')).toBe(true);
    expectBits("values", A.jit(f)(arg), A.jit(f, { compile: false })(arg));
  });

  it("compile: false and withDebugNans run the interpreter (debugNans still names the primitive)", () => {
    const f = (x: Value) => A.log(A.sub(x, 2));
    expectBits("compile: false", A.jit(f, { compile: false })(f64([3])), A.jit(f)(f64([3])));
    const jf = A.jit(f);
    expect(() => A.withDebugNans(() => jf(f64([1])))).toThrow(/log/);
    expect(T.item(jf(f64([1])))).toBeNaN();
  });

  it("a call that re-enters the running runner (from a primitive's impl) gets the interpreter", () => {
    let depth = 0;
    const reenter = A.definePrimitive<"reenter", void>({
      name: "reenter",
      abstractEval: ([x]) => [x!],
      impl: ([x]) => {
        if (depth > 0) return [T.mul(x!, 3)];
        depth++;
        try {
          return [T.add(jf(T.neg(x!)) as T.Tensor, 1)];
        } finally {
          depth--;
        }
      },
      vjp: ([g]) => [g!],
    });
    const f = (x: Value) => {
      // sin(x) lives in a planned buffer across the re-entrant call, which runs on other values.
      const s = A.sin(x);
      return A.mul(A.exp(bind(reenter, [A.tanh(x)], undefined)[0]!), s);
    };
    const jf: (x: Value) => unknown = A.jit(f);
    const x = f64([0.5, -1]);
    expectBits("re-entered", jf(x), A.jit(f, { compile: false })(x));
  });

  it("writes outputs into arrays passed in `outs` (any contents), the others fresh, same bits", () => {
    const run = A.compileGraph(A.makeGraph(model)(T.zeros([3, 3], "float64"), T.zeros([4, 3], "float64")).graph);
    const w = T.random.normal(T.random.key(4), [3, 3], "float64");
    const x = T.random.normal(T.random.key(5), [4, 3], "float64");
    const fresh = run([w, x]);
    // Recycled memory holds old values: NaN everywhere must not leak into a result.
    const outs = fresh.map((t, j) => (j % 2 === 0 ? new Float64Array(t.data.length).fill(NaN) : undefined));
    const into = run([w, x], outs);
    into.forEach((t, j) => {
      expectBits(`output ${j}`, t, fresh[j]!);
      if (outs[j] !== undefined) expect(t.data).toBe(outs[j]);
    });
    expect(run.writesInto).toEqual(fresh.map(() => true));
  });

  it.each(["float64", "float32"] as const)(
    "needs no zeroed output arrays: every kind of output overwrites a garbage-filled array (%s)",
    (dtype) => {
      // float32 at sizes where the fused loops and the products run as WebAssembly kernels.
      const [r, c] = dtype === "float32" ? [16, 64] : [4, 3];
      const k = T.random.key(6);
      const normal = (i: number, shape: number[]) => T.random.normal(T.random.foldIn(k, i), shape, dtype);
      const constant = normal(0, [1, c]);
      // One output per emitter: fused loop, products (k = c and k = 0), reductions, concat, the four
      // indexing kernels, a scan's carry and rows, a constant, an input, one value twice, int32 and bool.
      const f = (x: Value, idx: Value, w: Value, v: Value, cols: Value, empty: Value, empty2: Value) => {
        const [carry, rows] = A.scan((h: Value, row: Value) => [A.add(h, row), A.mul(h, row)], T.zeros([c], dtype), x);
        const e = A.exp(x);
        return [
          ...[A.add(e, 1), A.matmul(x, A.transpose(x)), A.matmul(x, w), A.matmul(empty, empty2)],
          ...[A.sum(x, { axis: 0 }), A.max(x, { axis: 1 }), A.argmax(x, { axis: 1 }), A.prod(x, { axis: 1 })],
          ...[A.concat([x, x], 0), A.take(x, idx, 0), A.addAt(x, idx, v, 0), A.gather(x, cols, 1)],
          ...[A.addAlongAxis(x, cols, T.ones([r, 2], dtype), 1), carry, rows, constant, x, e, e, A.greater(x, 0)],
        ];
      };
      const args = [
        normal(1, [r, c]),
        T.tensor([2, 0, 2], "int32"),
        normal(2, [c, c]),
        normal(3, [3, c]),
        T.fromDataOrThrow(
          Array.from({ length: 2 * r }, (_, i) => (i * 7) % c),
          [r, 2],
          "int32",
        ),
        T.zeros([2, 0], dtype),
        T.zeros([0, 3], dtype),
      ] as const;
      const closed = A.makeGraph(f)(...args);
      const run = A.compileGraph(closed.graph);
      const want = A.jit(f, { compile: false })(...args);
      const outs = want.map((t) => {
        const a = t.data.slice() as T.WritableTypedArray;
        return a.fill(t.dtype === "int32" ? -7 : t.dtype === "bool" ? 255 : NaN);
      });
      expect(run.writesInto.every((w) => w)).toBe(true);
      if (dtype === "float32") expect(run.simdKernels).toBeGreaterThan(0);
      const got = run([...(closed.consts as T.Tensor[]), ...args], outs);
      expectBits("into garbage", got, want);
      got.forEach((t, j) => expect(t.data).toBe(outs[j]));
    },
  );

  it("refuses output arrays of another class or length, or sharing memory with an input or each other", () => {
    const run = A.compileGraph(
      A.makeGraph((a: Value, b: Value) => [A.add(a, b), A.mul(a, b)])(f64([0, 0]), f64([0, 0])).graph,
    );
    const [a, b] = [f64([1, 2]), f64([3, 4])];
    const shared = new Float64Array(2);
    expect(() => run([a, b], [new Float32Array(2)])).toThrow(
      /output 0 is f64\[2\], but it is not a Float64Array \(argument `outs\[0\]`\)/,
    );
    expect(() => run([a, b], [undefined, new Float64Array(3)])).toThrow(
      /output 1 .* holds 3 elements \(argument `outs\[1\]`\)/,
    );
    expect(() => run([a, b], [a.data as Float64Array])).toThrow(
      /shares its buffer with an input \(argument `outs\[0\]`\)/,
    );
    expect(() => run([a, b], [shared, shared])).toThrow(/another output array \(argument `outs\[0\]`\)/);
    expect(() => run([a, b], [undefined, undefined, undefined])).toThrow(/2 outputs, got 3 arrays/);
    expect(Array.from(a.data)).toEqual([1, 2]);
  });

  it("an output a primitive's impl computes comes back fresh, and takes no array", () => {
    const twice = A.definePrimitive<"twiceImpl", void>({
      name: "twiceImpl",
      abstractEval: ([x]) => [x!],
      impl: ([x]) => [T.mul(x!, 2)],
      vjp: ([g]) => [A.mul(g!, 2)],
    });
    const run = A.compileGraph(A.makeGraph((x: Value) => [bind(twice, [x], undefined)[0]!, A.exp(x)])(f64([0])).graph);
    expect(run.writesInto).toEqual([false, true]);
    const given = new Float64Array(1);
    const [t0, t1] = run([f64([1])], [given, new Float64Array(1)]);
    expectBits("impl output", t0!, f64([2]));
    expect(t0!.data).not.toBe(given);
    expectBits("exp", t1!, f64([Math.exp(1)]));
  });

  it("compiles lazily: a jitted function only ever called under grad is never compiled", () => {
    let traced = 0;
    const jf = A.jit((x: Value) => {
      traced++;
      return A.sum(A.square(x));
    });
    const g = A.grad(jf)(f64([1, 2]));
    expectBits("grad", g, f64([2, 4]));
    expect(traced).toBe(1);
  });
});
