/**
 * @file The compiled runner as a value: planned buffers reused across calls never leak into
 * results, outputs are fresh, the generated source holds no user strings, and the switches that
 * keep the interpreter (`compile: false`, `withDebugNans`).
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
    expect(T.item(jf(f64([1])) as T.Tensor)).toBeNaN();
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
