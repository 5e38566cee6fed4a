/**
 * @file checkGrads: random-direction finite differences in float64 against `vjp` and `jvp`.
 *
 * For a random input direction v and a random output cotangent u, reverse mode must satisfy
 * ⟨u, J v⟩ = ⟨Jᵀu, v⟩, where J v is estimated by central differences (Autograd's and JAX's
 * `check_vjp`); forward mode must match J v directly. It costs a constant number of function
 * evaluations whatever the tensor sizes. Order 2 checks the derivative functions themselves
 * (the pullback at fixed u, the pushforward at fixed v), which exercises every VJP rule's own VJP.
 */
import * as T from "@rewind/tensor";
import { jvp, treeFlatten, treeUnflatten, vjp } from "@rewind/autodiff";
import { allClose } from "./allClose.js";
import { keysOf } from "@rewind/tensor/internal/check";
import { checkFinite, checkFunction, checkInt, checkOptions, invalid, showValue } from "./args.js";
import { testingError } from "./failure.js";

/** Validates checkGrads' arguments, so a typo cannot turn the check into one that tests nothing. */
const checkArgs = (f: unknown, args: unknown, opts: unknown): void => {
  checkFunction("checkGrads", "f", f);
  if (!Array.isArray(args))
    invalid("checkGrads", "args", `must be an array of arguments, got ${args === null ? "null" : typeof args}`);
  checkOptions(
    "checkGrads",
    "opts",
    opts,
    keysOf<CheckGradsOptions>({ order: true, modes: true, eps: true, rtol: true, atol: true, seed: true }),
  );
  const o = (opts ?? {}) as Record<string, unknown>;
  if (o["order"] !== undefined && o["order"] !== 1 && o["order"] !== 2)
    invalid("checkGrads", "opts.order", `must be 1 or 2, got ${showValue(o["order"])}`);
  const modes = o["modes"];
  if (
    modes !== undefined &&
    (!Array.isArray(modes) || modes.length === 0 || !modes.every((m) => m === "rev" || m === "fwd"))
  ) {
    invalid("checkGrads", "opts.modes", `must be a non-empty array of "rev" and "fwd", got ${showValue(modes)}`);
  }
  checkFinite("checkGrads", "opts.eps", o["eps"], Number.MIN_VALUE);
  checkFinite("checkGrads", "opts.rtol", o["rtol"], 0);
  checkFinite("checkGrads", "opts.atol", o["atol"], 0);
  checkInt("checkGrads", "opts.seed", o["seed"], -Number.MAX_SAFE_INTEGER);
  const leaves = treeFlatten(args)[0];
  const floats = leaves.filter((l) => T.isFloating(l.dtype));
  if (floats.length === 0) invalid("checkGrads", "args", "has no float tensors, so there is no derivative to check");
  const narrow = floats.find((l) => l.dtype !== "float64");
  if (narrow !== undefined)
    invalid(
      "checkGrads",
      "args",
      `holds a ${narrow.dtype} tensor; finite differences need float64 (astype(x, "float64"))`,
    );
};

/** Options of `checkGrads`. */
export interface CheckGradsOptions {
  /** 1: first derivatives; 2: also the derivatives of the derivative functions. */
  readonly order?: 1 | 2;
  /** Which modes to check: reverse (vjp) and/or forward (jvp). Default both. */
  readonly modes?: ReadonlyArray<"rev" | "fwd">;
  /** Finite-difference step (default 1e-6, for float64). */
  readonly eps?: number;
  /** Relative tolerance between the derivative and its finite difference (default 1e-5). */
  readonly rtol?: number;
  /** Absolute tolerance between the derivative and its finite difference (default 1e-6). */
  readonly atol?: number;
  /** Seed of the random directions (default 0). */
  readonly seed?: number;
}

/** A function `checkGrads` can check: any arguments (pytrees of tensors among them), any pytree result. */
export type CheckedFunction = (...args: never[]) => unknown;

const floatLeaves = (tree: unknown): T.Tensor[] =>
  treeFlatten(tree)[0].filter((l): l is T.Tensor => T.isTensor(l) && T.isFloating(l.dtype));

/** A random normal pytree shaped like the float leaves of `tree` (others zero). */
const randomLike = (tree: unknown, key: T.Key): unknown => {
  const [leaves, def] = treeFlatten(tree);
  const keys = T.random.split(key, Math.max(1, leaves.length));
  return treeUnflatten(
    def,
    leaves.map((l, i) =>
      T.isFloating(l.dtype) ? T.random.normal(keys[i]!, l.shape, l.dtype) : T.zeros(l.shape, l.dtype),
    ),
  );
};

const inner = (a: unknown, b: unknown): number => {
  const xs = floatLeaves(a);
  const ys = floatLeaves(b);
  if (xs.length !== ys.length)
    throw testingError({
      _tag: "TestArgumentError",
      op: "checkGrads",
      detail: `checkGrads: inner product of pytrees with ${xs.length} and ${ys.length} float leaves`,
    });
  let s = 0;
  xs.forEach((x, i) => {
    const y = ys[i]!;
    for (let j = 0; j < x.data.length; j++) s += x.data[j]! * y.data[j]!;
  });
  return s;
};

const axpy = (alpha: number, v: unknown, x: unknown): unknown => {
  const [xl, def] = treeFlatten(x);
  const [vl] = treeFlatten(v);
  return treeUnflatten(
    def,
    xl.map((l, i) => (T.isTensor(l) && T.isFloating(l.dtype) ? T.add(l, T.mul(vl[i] as T.Tensor, alpha)) : l)),
  );
};

const sub = (a: unknown, b: unknown, scale: number): unknown => {
  const [al, def] = treeFlatten(a);
  const [bl] = treeFlatten(b);
  return treeUnflatten(
    def,
    al.map((l, i) => (T.isFloating(l.dtype) ? T.mul(T.sub(l as T.Tensor, bl[i] as T.Tensor), scale) : l)),
  );
};

const call = (f: CheckedFunction, args: readonly unknown[]): unknown => (f as (...a: unknown[]) => unknown)(...args);

/** Central differences of f along v: (f(x + εv) − f(x − εv)) / 2ε. */
const numericJvp = (f: CheckedFunction, args: readonly unknown[], v: readonly unknown[], eps: number): unknown => {
  const plus = call(
    f,
    args.map((a, i) => axpy(eps, v[i], a)),
  );
  const minus = call(
    f,
    args.map((a, i) => axpy(-eps, v[i], a)),
  );
  return sub(plus, minus, 1 / (2 * eps));
};

const closeScalars = (what: string, a: number, b: number, rtol: number, atol: number): void => {
  if (!(Math.abs(a - b) <= atol + rtol * Math.max(Math.abs(a), Math.abs(b)))) {
    throw testingError({
      _tag: "TestFailure",
      op: "checkGrads",
      detail: `checkGrads (${what}): ${a} vs ${b} (|diff| ${Math.abs(a - b)}, rtol ${rtol}, atol ${atol})`,
    });
  }
};

/**
 * Checks `f`'s derivatives at `args` against central finite differences in a random direction.
 * Use float64 arguments. Throws an `Error` describing the mismatch; returns nothing on success.
 * Invalid arguments (float32 or no float tensors, an output with no float tensors, unknown modes,
 * eps ≤ 0) are refused with an `Error` too, so a check can never pass by checking nothing.
 * @example checkGrads((x) => tanh(x), [tensor([0.3, -1], "float64")], { order: 2 })
 */
export const checkGrads = (f: CheckedFunction, args: readonly unknown[], opts: CheckGradsOptions = {}): void => {
  checkArgs(f, args, opts);
  const order = opts.order ?? 1;
  const modes = opts.modes ?? ["rev", "fwd"];
  const eps = opts.eps ?? 1e-6;
  const rtol = opts.rtol ?? 1e-5;
  const atol = opts.atol ?? 1e-6;
  const seed = opts.seed ?? 0;
  const [kv, ku] = T.random.split(T.random.key(seed), 2) as [T.Key, T.Key];
  const v = args.map((a, i) => randomLike(a, T.random.foldIn(kv, i)));
  const jvNumeric = numericJvp(f, args, v, eps);
  const out = call(f, args);
  if (floatLeaves(out).length === 0)
    invalid("checkGrads", "f", "returned no float tensors, so there is no derivative to check");
  const u = randomLike(out, ku);
  const scale = Math.max(1, Math.abs(inner(u, jvNumeric)));
  if (modes.includes("rev")) {
    const [, pullback] = vjp(f as (...a: unknown[]) => unknown, ...args);
    closeScalars("rev: ⟨u, J v⟩ vs ⟨Jᵀu, v⟩", inner(pullback(u), v), inner(u, jvNumeric), rtol, atol * scale);
    if (order === 2) {
      const pullbackAt = (...xs: unknown[]): unknown => vjp(f as (...a: unknown[]) => unknown, ...xs)[1](u);
      checkGrads(pullbackAt, args, { ...opts, order: 1, modes: ["rev"], seed: 2 * seed + 1 });
    }
  }
  if (modes.includes("fwd")) {
    const [, tangent] = jvp(f, args, v);
    const r = allClose(tangent, jvNumeric, { rtol, atol: atol * scale });
    if (!r.pass)
      throw testingError({
        _tag: "TestFailure",
        op: "checkGrads",
        detail: `checkGrads (fwd: jvp vs finite differences): ${r.message}`,
      });
    if (order === 2) {
      const pushforwardAt = (...xs: unknown[]): unknown => jvp(f, xs, v)[1];
      checkGrads(pushforwardAt, args, { ...opts, order: 1, modes: ["fwd"], seed: 2 * seed + 2 });
    }
  }
};
