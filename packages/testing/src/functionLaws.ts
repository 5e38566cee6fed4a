/**
 * @file The laws about any function, not only scan: jit invariance, stopGradient and VJP/JVP
 * adjointness. Each takes a `FunctionCase` ({ f, args }) and checks with the shared law toolkit
 * (lawKit.ts), so its tolerances are every law's. `laws` (laws.ts) holds them beside the scan laws.
 */
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { keysOf } from "@rewind/tensor/internal/check";
import { checkFunction, checkOptions, invalid } from "./args.js";
import { expectClose, expectCloseScalar, type LawCheck } from "./lawKit.js";
import type { AdjointLawOptions, FunctionCase, JitLawOptions, StopGradientLawOptions } from "./lawOptions.js";

type AnyFn = (...args: unknown[]) => unknown;

/** Throws unless `c` is a `FunctionCase` ({ f, args }) and `o` an options object. */
const checkCase = (law: string, c: unknown, o: unknown, known: readonly string[]): void => {
  const r = c as Partial<FunctionCase> | null;
  if (typeof r !== "object" || r === null) invalid(`laws.${law}`, "c", `must be { f, args }, got ${String(r)}`);
  checkFunction(`laws.${law}`, "c.f", r!.f);
  if (!Array.isArray(r!.args))
    invalid(
      `laws.${law}`,
      "c.args",
      `must be an array of arguments, got ${r!.args === null ? "null" : typeof r!.args}`,
    );
  checkOptions(`laws.${law}`, "o", o, known);
};

/** The keys of each function law's options (lawProperties checks them too). */
export const JIT_LAW_KEYS = keysOf<JitLawOptions>({ rtol: true, atol: true, jit: true, key: true });
export const STOP_GRADIENT_LAW_KEYS = keysOf<StopGradientLawOptions>({
  rtol: true,
  atol: true,
  stopGradient: true,
  key: true,
});
export const ADJOINT_LAW_KEYS = keysOf<AdjointLawOptions>({ rtol: true, atol: true, key: true, jvp: true, vjp: true });

/** A standard-normal pytree shaped like the float leaves of `tree` (zeros elsewhere). */
const randomLike = (tree: unknown, key: T.Key): unknown => {
  const [leaves, def] = A.treeFlatten(tree);
  const keys = T.random.split(key, Math.max(1, leaves.length));
  return A.treeUnflatten(
    def,
    leaves.map((l, i) =>
      T.isFloating(l.dtype) ? T.random.normal(keys[i]!, l.shape, l.dtype) : T.zeros(l.shape, l.dtype),
    ),
  );
};

/** Σ a·b over the float leaves of two pytrees of one structure. */
const inner = (a: unknown, b: unknown): number => {
  const ys = A.treeLeaves(b);
  let acc = 0;
  A.treeLeaves(a).forEach((x, i) => {
    const y = ys[i];
    if (!T.isTensor(x) || !T.isTensor(y) || !T.isFloating(x.dtype)) return;
    for (let j = 0; j < x.data.length; j++) acc += x.data[j]! * y.data[j]!;
  });
  return acc;
};

/** The name a violation gives a function case. */
const caseName = (c: FunctionCase): string => c.name ?? (c.f.name || "f");

/**
 * The laws of `laws` that take a `FunctionCase`.
 * @example functionLaws.adjoint({ f: (x) => tanh(x), args: [x] })
 */
export const functionLaws = {
  /**
   * jit invariance: `jit(f)` gives f's values (also on a second call with other values of the
   * same signature, which reuses the trace) and f's VJP; `jit` of the VJP gives the VJP.
   * @example laws.jit({ f: (x) => sum(tanh(x)), args: [tensor([0.5], "float64")] })
   */
  jit: (c: FunctionCase, o: JitLawOptions = {}): void => {
    checkCase("jit", c, o, JIT_LAW_KEYS);
    const jit = o.jit ?? A.jit;
    const f = c.f as AnyFn;
    const jf = jit(f);
    const name = caseName(c);
    const check: LawCheck = { law: "jit", instance: name, options: o };
    const shifted = c.args.map((a) =>
      A.treeMap((x) => (T.isFloating(x.dtype) ? T.add(T.mul(x as T.Tensor, 0.5), 0.125) : x), a),
    );
    for (const [label, args] of [
      ["args", c.args],
      ["other args", shifted],
    ] as const) {
      expectClose(check, `jit(f) vs f on ${label}`, jf(...args), f(...args));
    }
    const u = randomLike(f(...c.args), o.key ?? T.random.key(1));
    const pullback =
      (g: AnyFn) =>
      (...args: unknown[]) =>
        A.vjp(g, ...args)[1](u);
    const expected = pullback(f)(...c.args);
    expectClose(check, "vjp(jit(f)) vs vjp(f)", pullback(jf)(...c.args), expected);
    expectClose(check, "jit(vjp(f)) vs vjp(f)", jit(pullback(f))(...c.args), expected);
  },

  /**
   * stopGradient law: stopping the gradient of argument i leaves f's value unchanged, gives a
   * zero cotangent to argument i, and leaves the other arguments' cotangents unchanged.
   * @example laws.stopGradient({ f: (x, y) => mul(x, y), args: [x, y] })
   */
  stopGradient: (c: FunctionCase, o: StopGradientLawOptions = {}): void => {
    checkCase("stopGradient", c, o, STOP_GRADIENT_LAW_KEYS);
    const stop = o.stopGradient ?? A.stopGradient;
    const f = c.f as AnyFn;
    const name = caseName(c);
    const check: LawCheck = { law: "stopGradient", instance: name, options: o };
    const out = f(...c.args);
    const u = randomLike(out, o.key ?? T.random.key(2));
    const reference = A.vjp(f, ...c.args)[1](u);
    c.args.forEach((_, i) => {
      const g = (...args: unknown[]) => f(...args.map((a, j) => (j === i ? A.treeMap((x) => stop(x), a) : a)));
      const [value, pullback] = A.vjp(g, ...c.args);
      expectClose(check, `value with argument ${i} stopped`, value, out);
      const cts = pullback(u);
      const zeros = A.treeMap((x) => T.zeros(x.shape, x.dtype), c.args[i]);
      const exact: LawCheck = { ...check, options: { rtol: 0, atol: 0 } };
      expectClose(exact, `cotangent of stopped argument ${i}`, cts[i], zeros, `ct[${i}]`);
      cts.forEach((ct, j) => {
        if (j !== i)
          expectClose(check, `cotangent of argument ${j} with argument ${i} stopped`, ct, reference[j], `ct[${j}]`);
      });
    });
  },

  /**
   * VJP/JVP adjointness: for random u (output-shaped) and v (argument-shaped),
   * ⟨u, jvp(f)(v)⟩ = ⟨vjp(f)(u), v⟩ up to rounding. It checks that forward and reverse mode are
   * transposes of each other (a pullback that is not linear in its cotangent breaks it); that
   * either is the true derivative is `checkGrads`' job.
   * @example laws.adjoint({ f: (x) => tanh(x), args: [x] }, { key: random.key(3) })
   */
  adjoint: (c: FunctionCase, o: AdjointLawOptions = {}): void => {
    checkCase("adjoint", c, o, ADJOINT_LAW_KEYS);
    const f = c.f as AnyFn;
    const [ku, kv] = T.random.split(o.key ?? T.random.key(3), 2) as [T.Key, T.Key];
    const [out, pullback] = (o.vjp ?? A.vjp)(f, ...c.args);
    const u = randomLike(out, ku);
    const v = c.args.map((a, i) => randomLike(a, T.random.foldIn(kv, i)));
    const [, jv] = (o.jvp ?? A.jvp)(c.f, c.args, v);
    expectCloseScalar(
      "VJP/JVP adjointness",
      caseName(c),
      inner(u, jv),
      inner(pullback(u), v),
      o,
      (lhs, rhs, diff) => `⟨u, J v⟩ = ${lhs} (jvp) but ⟨Jᵀu, v⟩ = ${rhs} (vjp); |diff| ${diff}`,
    );
  },
};
