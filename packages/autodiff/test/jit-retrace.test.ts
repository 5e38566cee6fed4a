/**
 * @file jit's trace accounting (`traceCount`) and its retrace warnings: a static value that
 * changes every call, and a jit made anew for every call. Each warns once, names what changed, is
 * silent for legitimately new shapes and below the threshold, and `warnRetraces: false` silences it.
 */
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { resetRetraceWarnings } from "../src/jitRetrace.js";

const f64 = (x: T.NestedArray): T.Tensor => T.tensor(x, "float64");
let warn: MockInstance<(...args: unknown[]) => void>;

beforeEach(() => {
  resetRetraceWarnings();
  // This package is typed without the DOM's or Node's globals.
  const { console } = globalThis as unknown as { console: { warn: (...args: unknown[]) => void } };
  warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
});
afterEach(() => warn.mockRestore());

const messages = (): string[] => warn.mock.calls.map((c) => String(c[0]));

describe("jit: traceCount", () => {
  it("counts every trace: new signatures and graphFor, not cache hits", () => {
    const jf = A.jit((x: Value) => A.exp(x));
    jf(f64([1]));
    jf(f64([2]));
    expect(jf.traceCount()).toBe(1);
    jf(f64([1, 2]));
    jf.graphFor(f64([[1]]));
    expect(jf.traceCount()).toBe(3);
    expect(jf.cacheSize()).toBe(3);
  });

  it("counts traces that capture an enclosing transform's tracers, which the cache does not keep", () => {
    let w: Value = T.scalar(1, "float64");
    const jf = A.jit((x: Value) => A.mul(x, w));
    const loss = (v: Value) => {
      w = v;
      return A.sum(jf(f64([1, 2])));
    };
    A.grad(loss)(T.scalar(2, "float64"));
    A.grad(loss)(T.scalar(3, "float64"));
    expect(jf.traceCount()).toBe(2);
    expect(jf.cacheSize()).toBe(0);
    expect(messages()).toEqual([]);
  });
});

describe("jit: a static value that changes every call", () => {
  const x = f64([1, 2]);
  const y = f64([3]);

  it("warns once, naming the function, the argument path and the last change, and the fix", () => {
    const step = A.jit(function step(p: Value, s: [{ count: number }, Value]) {
      return A.mul(A.add(p, s[0].count), A.sum(s[1]));
    });
    for (let i = 0; i < 7; i++) step(x, [{ count: i }, y]);
    expect(step.traceCount()).toBe(7);
    expect(messages()).toHaveLength(1);
    const text = messages()[0]!;
    expect(text).toContain("jit of `step` has traced 4 times for arguments of the same shapes and dtypes");
    expect(text).toContain("args[1][0].count: 2 → 3");
    expect(text).toContain('scalar(step, "int32")');
    expect(text).toContain("close over it");
    expect(text).toContain("{ warnRetraces: false }");
  });

  it("names an anonymous function so, and a new closure in the arguments as another function", () => {
    const jf = A.jit((p: Value, f: (v: Value) => Value) => f(p));
    for (let i = 0; i < 4; i++) jf(x, (v: Value) => A.mul(v, 2));
    expect(messages()).toHaveLength(1);
    expect(messages()[0]).toContain("jit of an anonymous function has traced 4 times");
    expect(messages()[0]).toMatch(/args\[1\]: the function \(anonymous\) #\d+ → the function \(anonymous\) #\d+\./);
  });

  it("is silent for new shapes, below the threshold, and with warnRetraces: false", () => {
    const shapes = A.jit((p: Value, k: number) => A.mul(p, k));
    for (let n = 1; n <= 8; n++) shapes(T.ones([n], "float64"), 2);
    const few = A.jit((p: Value, k: number) => A.add(p, k));
    for (let k = 0; k < 3; k++) few(x, k);
    const quiet = A.jit((p: Value, k: number) => A.sub(p, k), { warnRetraces: false });
    for (let k = 0; k < 10; k++) quiet(x, k);
    expect([shapes.traceCount(), few.traceCount(), quiet.traceCount()]).toEqual([8, 3, 10]);
    expect(messages()).toEqual([]);
  });

  it("takes its threshold from warnRetraces", () => {
    const jf = A.jit((p: Value, k: number) => A.div(p, k), { warnRetraces: 5 });
    for (let k = 1; k <= 5; k++) jf(x, k);
    expect(messages()).toEqual([]);
    jf(x, 6);
    expect(messages()).toHaveLength(1);
    expect(messages()[0]).toContain("args[1]: 5 → 6");
  });

  it("refuses a threshold that is not a non-negative integer or false", () => {
    for (const bad of [-1, 1.5, "3", true]) {
      expect(() => A.jit((p: Value) => p, { warnRetraces: bad as never })).toThrow(
        /jit: expected a non-negative integer or false, got .* \(argument `options\.warnRetraces`\)/,
      );
    }
  });
});

describe("jit: a jit made anew for every call", () => {
  const x = f64([1, 2]);

  it("warns once when more than ten wrappers of one function trace the same arguments into the same operations", () => {
    for (let i = 0; i < 16; i++) {
      const lr = 0.1 / (i + 1); // a fresh closure each step, as in a schedule
      A.jit(function update(p: Value) {
        return A.sub(p, A.mul(p, lr));
      })(x);
    }
    expect(messages()).toHaveLength(1);
    expect(messages()[0]).toContain("11 separate jit(...) wrappers of `update`");
    expect(messages()[0]).toContain("Make the jit once, outside the loop");
  });

  it("is silent for different functions of one source text (every unary op, every grad(f)), and below the threshold", () => {
    const apply = (op: (v: Value) => Value) => A.jit((v: Value) => op(v));
    for (const op of [A.exp, A.sin, A.cos, A.tanh, A.neg, A.sqrt]) apply(op)(x);
    for (const loss of [(v: Value) => A.sum(A.exp(v)), (v: Value) => A.sum(A.sin(v)), (v: Value) => A.sum(A.cos(v))])
      for (let i = 0; i < 2; i++) A.jit(A.grad(loss))(x);
    for (let i = 0; i < 10; i++) A.jit((v: Value) => A.log1p(v))(x);
    expect(messages()).toEqual([]);
  });

  it("takes its threshold from warnRetraces too, and is silent with warnRetraces: false", () => {
    for (let i = 0; i < 5; i++) A.jit((v: Value) => A.log(v), { warnRetraces: 3 })(x);
    expect(messages()).toHaveLength(1);
    expect(messages()[0]).toContain("4 separate jit(...) wrappers");
    warn.mockClear();
    for (let i = 0; i < 8; i++) A.jit((v: Value) => A.expm1(v), { warnRetraces: false })(x);
    expect(messages()).toEqual([]);
  });
});
