/**
 * Each law passes on Rewind's transforms and FAILS on a deliberately broken one: a law that
 * cannot fail proves nothing.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import {
  arbScanProblem,
  lawProperties,
  laws,
  scanCase,
  scanFamilies,
  type JvpImpl,
  type ScanImpl,
  type ScanProblem,
} from "../src/index.js";

const t = (x: T.NestedArray) => T.fromArrayOrThrow(x, "float64");

/** One problem per family, long enough (5–7 steps) for every breakage below to show. */
const problems = (reverse?: boolean): ScanProblem[] =>
  scanFamilies.map(
    (family, i) =>
      fc.sample(
        arbScanProblem({
          families: [family],
          minLength: 5,
          maxLength: 7,
          ...(reverse === undefined ? {} : { reverse }),
        }),
        { numRuns: 1, seed: 100 + i },
      )[0]!,
  );

const rows = <X>(xs: X, start: number, stop: number): X => A.treeMap((x) => A.slice(x, [{ start, stop }]), xs ?? null);

/** Breakages of scan, each a plausible bug. */
const dropLastStep: ScanImpl = (f, init, xs, o = {}) => {
  const n = o.length ?? A.treeLeaves(xs)[0]!.shape[0]!;
  const processed = o.reverse === true ? rows(xs, 1, n) : rows(xs, 0, n - 1);
  const [c, ys] = A.scan(f, init, processed, { ...o, length: n - 1 });
  return [c, A.treeMap((y) => A.concat([y, A.zerosLike(A.slice(y, [{ start: 0, stop: 1 }]))]), ys)];
};
const noGradToInit: ScanImpl = (f, init, xs, o) =>
  A.scan(
    f,
    A.treeMap((x) => (T.isFloating(x.dtype) ? A.stopGradient(x) : x), init),
    xs,
    o,
  );
const ignoresReverse: ScanImpl = (f, init, xs, o = {}) => A.scan(f, init, xs, { ...o, reverse: false });
const everyIsTruncation: ScanImpl = (f, init, xs, o = {}) =>
  typeof o.remat === "object"
    ? A.scan(f, init, xs, { ...o, remat: "all", truncate: o.remat.every })
    : A.scan(f, init, xs, o);
const unrollForgetsReverse: ScanImpl = (f, init, xs, o = {}) =>
  o.unroll !== undefined && o.unroll !== 1 ? A.scan(f, init, xs, { ...o, reverse: false }) : A.scan(f, init, xs, o);
const ignoresTruncate: ScanImpl = (f, init, xs, o = {}) =>
  A.scan(f, init, xs, Object.fromEntries(Object.entries(o).filter(([key]) => key !== "truncate")));
const truncateOffByOne: ScanImpl = (f, init, xs, o = {}) =>
  A.scan(f, init, xs, o.truncate === undefined ? o : { ...o, truncate: o.truncate + 1 });

describe("laws hold for Rewind", () => {
  it.each(scanFamilies.map((f, i) => [f, i] as const))("all scan laws on a %s problem, both directions", (_, i) => {
    for (const p of [problems(false)[i]!, problems(true)[i]!]) {
      laws.bptt(p);
      laws.reverse(p);
      laws.remat(p);
      laws.unroll(p);
      laws.truncation(p, { k: 2 });
      laws.jit(scanCase(p));
      laws.jit(scanCase(p, "loss"));
      laws.stopGradient(scanCase(p));
      laws.adjoint(scanCase(p));
    }
  });
  it("as fast-check properties", () => {
    const params = { numRuns: 5, seed: 3 };
    fc.assert(lawProperties.bptt(), params);
    fc.assert(lawProperties.truncation(), params);
    fc.assert(lawProperties.adjoint(), params);
  });
});

describe("laws fail on broken implementations", () => {
  it("BPTT law: a scan that drops the last step (values) or the gradient to init", () => {
    for (const p of problems()) {
      expect(() => laws.bptt(p, { scan: dropLastStep })).toThrow(
        /^BPTT law violated for ScanProblem\(.*\n {2}scan vs scanUnrolled: outputs/,
      );
      expect(() => laws.bptt(p, { scan: noGradToInit })).toThrow(/BPTT law violated[^]*grad\.init/);
    }
  });
  it("reverse law: a scan that ignores `reverse`", () => {
    for (const p of problems()) expect(() => laws.reverse(p, { scan: ignoresReverse })).toThrow(/reverse law violated/);
  });
  it("remat law: { every: k } that also cuts the gradient (same values, wrong gradients)", () => {
    for (const p of problems()) {
      expect(() => laws.remat(p, { scan: everyIsTruncation, sizes: [2] })).toThrow(
        /^remat law violated[^]*remat \{ every: 2 \} vs "all": grad\./,
      );
    }
  });
  it("laws.checkpoint, the deprecated alias of laws.remat, runs the same checks under its own name", () => {
    const p = problems()[0]!;
    expect(() => laws.checkpoint(p)).not.toThrow();
    expect(() => laws.checkpoint(p, { scan: everyIsTruncation, sizes: [2] })).toThrow(
      /^checkpoint law violated[^]*remat \{ every: 2 \} vs "all": grad\./,
    );
    expect(() => laws.checkpoint(p, { sizez: [2] } as never)).toThrow(/^laws\.checkpoint: /);
  });
  it("unroll law: an unrolled scan that forgets `reverse`", () => {
    for (const p of problems(true))
      expect(() => laws.unroll(p, { scan: unrollForgetsReverse })).toThrow(
        /unroll law violated[^]*unroll 2 vs unroll 1: outputs/,
      );
  });
  it("truncation law: truncate ignored, or cut one step late", () => {
    for (const p of problems()) {
      expect(() => laws.truncation(p, { scan: ignoresTruncate, k: 2 })).toThrow(
        /truncation law violated[^]*truncate 2 vs manual chunks of 2: grad\./,
      );
      expect(() => laws.truncation(p, { scan: truncateOffByOne, k: 2 })).toThrow(/truncation law violated/);
    }
  });
  it("jit law: a jit that reuses its first result, or that drops gradients", () => {
    const stale = <Args extends unknown[], R>(f: (...args: Args) => R) => {
      let first: [R] | undefined;
      return (...args: Args): R => (first ??= [f(...args)])[0];
    };
    const opaque =
      <Args extends unknown[], R>(f: (...args: Args) => R) =>
      (...args: Args): R =>
        f(...(args.map((a) => A.treeMap((x) => A.stopGradient(x), a)) as Args));
    for (const p of problems()) {
      expect(() => laws.jit(scanCase(p), { jit: stale })).toThrow(/jit law violated[^]*jit\(f\) vs f on other args/);
      expect(() => laws.jit(scanCase(p), { jit: opaque })).toThrow(/jit law violated[^]*vjp\(jit\(f\)\) vs vjp\(f\)/);
    }
  });
  it("stopGradient law: an identity, or a customVjp stop that passes the cotangent", () => {
    const leaky = A.customVjp(
      (x: A.Value) => x,
      (x: A.Value) => [x, null] as const,
      (_r: null, g: A.Value) => [g],
    );
    for (const p of problems()) {
      expect(() => laws.stopGradient(scanCase(p), { stopGradient: (x) => x })).toThrow(
        /stopGradient law violated[^]*cotangent of stopped argument 0/,
      );
      expect(() => laws.stopGradient(scanCase(p), { stopGradient: leaky })).toThrow(/stopGradient law violated/);
    }
    expect(() =>
      laws.stopGradient(
        { f: (x: A.Value) => A.mul(x, 2), args: [t([1])] },
        { stopGradient: (x) => A.mul(A.stopGradient(x), 1.5) },
      ),
    ).toThrow(/value with argument 0 stopped/);
  });
  it("adjointness law: a customVjp whose pullback is not linear, and a broken jvp", () => {
    const squareCt = A.customVjp(
      (x: A.Value) => A.sin(x),
      (x: A.Value) => [A.sin(x), x] as const,
      (x: A.Value, g: A.Value) => [A.mul(A.mul(g, g), A.cos(x))],
    );
    expect(() => laws.adjoint({ f: squareCt, args: [t([0.3, -1, 2])], name: "sin with a squared cotangent" })).toThrow(
      /^VJP\/JVP adjointness law violated for sin with a squared cotangent/,
    );
    const doubledJvp: JvpImpl = (f, primals, tangents) => {
      const [y, ty] = A.jvp(f, primals, tangents);
      return [y, A.treeMap((x) => A.mul(x, 2), ty)];
    };
    for (const p of problems())
      expect(() => laws.adjoint(scanCase(p), { jvp: doubledJvp })).toThrow(/adjointness law violated/);
  });
  it("as fast-check properties: the counterexample names the problem", () => {
    const run = fc.check(lawProperties.bptt(arbScanProblem({ minLength: 1 }), { scan: dropLastStep }), {
      seed: 5,
      numRuns: 20,
    });
    expect(run.failed).toBe(true);
    expect(fc.stringify(run.counterexample)).toMatch(/ScanProblem\(/);
  });
});
