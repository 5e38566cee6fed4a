/**
 * @file jit: one trace per input signature (pytree structure, shapes, dtypes), reuse otherwise,
 * and transparency to differentiation.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";

const f64 = (x: T.NestedArray): T.Tensor => T.tensor(x, "float64");
const data = (v: unknown): number[] => Array.from((v as T.Tensor).data);

/** A jitted function that counts how often its body runs (it runs only while tracing). */
const counted = () => {
  let traces = 0;
  const f = A.jit((x: Value, y: Value) => {
    traces++;
    return A.add(A.mul(x, y), A.sin(x));
  });
  return { f, traces: () => traces };
};

describe("jit", () => {
  it("traces once per signature and reuses the graph for new values", () => {
    const { f, traces } = counted();
    expect(data(f(f64([1, 2]), f64([3, 4])))).toEqual(data(A.add(A.mul(f64([1, 2]), f64([3, 4])), A.sin(f64([1, 2])))));
    expect(data(f(f64([0, 0]), f64([5, 6])))).toEqual([0, 0]);
    expect(f.cacheSize()).toBe(1);
    expect(traces()).toBe(1);
  });

  it("retraces on a new shape or dtype, and caches each signature", () => {
    const { f, traces } = counted();
    f(f64([1, 2]), f64([3, 4]));
    f(f64([1, 2, 3]), f64([3, 4, 5]));
    f(T.tensor([1, 2]), T.tensor([3, 4]));
    expect(f.cacheSize()).toBe(3);
    expect(traces()).toBe(3);
    f(f64([7, 8, 9]), f64([1, 1, 1]));
    expect(traces()).toBe(3);
  });

  it("keys the cache on the pytree structure as well", () => {
    let traces = 0;
    const g = A.jit((p: { a: Value; b?: Value }) => {
      traces++;
      return p.b === undefined ? p.a : A.add(p.a, p.b);
    });
    g({ a: f64([1]) });
    g({ a: f64([1]), b: f64([2]) });
    g({ a: f64([5]) });
    expect(g.cacheSize()).toBe(2);
    expect(traces).toBe(2);
  });

  it("treats static (non-tensor) arguments as part of the signature, by value", () => {
    let traces = 0;
    const scale = A.jit((x: Value, k: number) => {
      traces++;
      return A.mul(x, k);
    });
    expect(data(scale(f64([1]), 2))).toEqual([2]);
    expect(data(scale(f64([1]), 3))).toEqual([3]);
    scale(f64([5]), 3);
    expect(traces).toBe(2);
  });

  it("is transparent to grad: grad(jit(f)) equals grad(f), also twice", () => {
    const f = (x: Value) => A.sum(A.mul(A.tanh(x), A.exp(x)));
    const x = f64([0.1, -0.4, 1.3]);
    expect(data(A.grad(A.jit(f))(x))).toEqual(data(A.grad(f)(x)));
    const second = (h: (x: Value) => Value) => A.grad((v: Value) => A.sum(A.grad(h)(v)))(x);
    expect(data(second(A.jit(f)))).toEqual(data(second(f)));
  });

  it("jits a gradient: jit(grad(f)) computes the same numbers and caches one graph", () => {
    const f = (x: Value) => A.sum(A.mul(A.tanh(x), A.exp(x)));
    const jg = A.jit((x: Value) => A.grad(f)(x));
    const x = f64([0.1, -0.4, 1.3]);
    expect(data(jg(x))).toEqual(data(A.grad(f)(x)));
    jg(f64([1, 2, 3]));
    expect(jg.cacheSize()).toBe(1);
  });

  it("exposes the traced graph for printing", () => {
    const f = A.jit((x: Value) => A.exp(x));
    expect(A.printGraph(f.graphFor(f64([1])))).toBe(
      ["{ lambda ; a:f64[1]. let", "    b:f64[1] = exp a", "  in (b) }"].join("\n"),
    );
  });
});
