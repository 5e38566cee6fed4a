/**
 * @file compile/pushWindows.ts: an elementwise value read only through disjoint windows by
 * elementwise nodes (an LSTM's gate pre-activation, split into its four gates) is computed per
 * window inside the loop reading it, with the interpreter's bits (and eager's), in float32 and
 * float64, at the top level and in a scan's body. Values read whole, through overlapping windows,
 * or by a product keep their own loop. Each case counts the fused loops the generated code
 * calls, so the path under test is the one taken.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";
import { expectThreeWays, floatDTypes } from "./compileSupport.js";

type F = (...xs: Value[]) => Value | readonly Value[];

/** Normal values with NaN, ±Infinity and −0 planted. */
const data = (seed: number, shape: readonly number[], dtype: "float32" | "float64"): T.Tensor => {
  const d = Array.from(T.random.normal(T.random.key(seed), shape, dtype).data as Float32Array | Float64Array);
  [NaN, Infinity, -0, -Infinity].forEach((v, i) => (d[(i * 7919 + seed) % d.length] = v));
  return T.fromDataOrThrow(d, shape, dtype);
};

/** Fused loops (kernel calls `F<n>(`) in the generated `run`, inside scans included. */
const loopsCalled = (f: F, args: readonly T.Tensor[]): number => {
  const source = A.compileGraph(A.makeGraph(f)(...args).graph).source;
  return source.slice(source.indexOf("return function run")).match(/\bF\d+\(/g)?.length ?? 0;
};

const [B, H] = [6, 5];
const columns = (x: Value, start: number, stop: number): Value => A.slice(x, [null, { start, stop }]);

/** An LSTM cell's step: the gates' pre-activation (x + h·W + b) read as four windows. */
const cell = (x: Value, h: Value, c: Value, w: Value, b: Value): [Value, Value] => {
  const pre = A.add(A.add(x, A.matmul(h, w)), b);
  const [i, f, g, o] = [0, 1, 2, 3].map((k) => columns(pre, k * H, (k + 1) * H)) as [Value, Value, Value, Value];
  const c2 = A.add(A.mul(A.sigmoid(f), c), A.mul(A.sigmoid(i), A.tanh(g)));
  return [A.mul(A.sigmoid(o), A.tanh(c2)), c2];
};

describe("compile: an elementwise value read through disjoint windows", () => {
  for (const dtype of floatDTypes) {
    const x = data(1, [B, 4 * H], dtype);
    const h = data(2, [B, H], dtype);
    const c = data(3, [B, H], dtype);
    const w = data(4, [H, 4 * H], dtype);
    const b = data(5, [4 * H], dtype);

    it(`${dtype}: an LSTM cell's pre-activation is computed in the gates' loop`, () => {
      const f: F = (x, h, c, w, b) => cell(x, h, c, w, b);
      expectThreeWays(`${dtype} cell`, f, [x, h, c, w, b]);
      expect(loopsCalled(f, [x, h, c, w, b])).toBe(1);
    });

    it(`${dtype}: likewise in a scan's body, every step`, () => {
      const xs = data(6, [4, B, 4 * H], dtype);
      const f: F = (xs, h, c, w, b) => {
        const step = ([h, c]: [Value, Value], xt: Value): [[Value, Value], Value] => {
          const [h2, c2] = cell(xt, h, c, w, b);
          return [[h2, c2], h2];
        };
        const [[hT, cT], ys] = A.scan<[Value, Value], Value, Value>(step, [h, c], xs);
        return [hT, cT, ys];
      };
      expectThreeWays(`${dtype} scan`, f, [xs, h, c, w, b]);
      // The loop inside the body, and its carries' copies (once before the loop, none per step).
      const source = A.compileGraph(A.makeGraph(f)(xs, h, c, w, b).graph).source;
      const run = source.slice(source.indexOf("return function run"));
      const body = run.slice(run.indexOf("for (let"));
      expect(body.slice(0, body.indexOf("\n    }")).match(/\bF\d+\(/g)?.length).toBe(1);
    });

    it(`${dtype}: a value read in one window only is computed there only`, () => {
      const f: F = (x, h, w, b) => A.tanh(columns(A.add(A.add(x, A.matmul(h, w)), b), H, 3 * H));
      expectThreeWays(`${dtype} one window`, f, [x, h, w, b]);
      expect(loopsCalled(f, [x, h, w, b])).toBe(1);
    });

    it(`${dtype}: overlapping windows, a whole read or a product reading a window keep the value's loop`, () => {
      const overlapping: F = (x, h, w, b) => {
        const pre = A.add(A.add(x, A.matmul(h, w)), b);
        return [A.tanh(columns(pre, 0, 2 * H)), A.sigmoid(columns(pre, H, 3 * H))];
      };
      const whole: F = (x, h, w, b) => {
        const pre = A.add(A.add(x, A.matmul(h, w)), b);
        return [A.tanh(columns(pre, 0, H)), A.sum(pre)];
      };
      // Whole rows: a window the product reads in place (a column window it would copy first,
      // and the copy, an elementwise node, computes that window).
      const product: F = (x, h, w, b) => {
        const pre = A.add(A.add(x, A.matmul(h, w)), b);
        const rows = (start: number, stop: number): Value => A.slice(pre, [{ start, stop }]);
        return [A.tanh(rows(0, 2)), A.matmul(rows(2, B), A.transpose(x))];
      };
      for (const [label, f, loops] of [
        ["overlapping", overlapping, 2],
        ["whole", whole, 3], // and the sum's own kernel
        ["product", product, 2],
      ] as const) {
        expectThreeWays(`${dtype} ${label}`, f, [x, h, w, b]);
        expect(loopsCalled(f, [x, h, w, b]), label).toBe(loops);
      }
    });
  }
});
