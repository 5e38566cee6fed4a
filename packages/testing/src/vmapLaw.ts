/**
 * @file The vmap law: `vmap(f)` of a batch equals stacking `f` over the examples, for values and
 * gradients, eager and under `jit`. The law takes the examples apart itself (its own walk of
 * `inAxes`/`outAxes`, never `vmap`), so a wrong batching rule cannot hide behind itself, and
 * compares each example on its own, so a violation names the example as well as the leaf.
 *
 * Gradients: of a fixed scalar, ⟨w, vmap(f)(args)⟩ for random weights w on the batched float
 * outputs. Per example this scalar is ⟨w_i, f(args_i)⟩, so the gradient of a batched argument is
 * the stack of the per-example gradients and that of a shared one (`inAxes` null) their sum.
 * Tolerances: the caller's, else `LAW_TOLERANCES` for float64 leaves and `FLOAT32_TOLERANCES` for
 * float32 ones (a shared argument's gradient is a sum in another order); jit is compared exactly.
 */
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { keysOf } from "@rewind/tensor/internal/check";
import { checkBoolean, checkFunction, checkOptions, invalid, showValue } from "./args.js";
import { violation } from "./lawKit.js";
import { closeWithPaths } from "./matchers.js";
import { tolerancesFor } from "./sequenceLaws.js";
import type { FunctionCase, LawOptions, VmapLawOptions } from "./lawOptions.js";

/** The keys of `VmapLawOptions` (lawProperties.vmap checks them too). */
export const VMAP_LAW_KEYS = keysOf<VmapLawOptions>({
  rtol: true,
  atol: true,
  inAxes: true,
  outAxes: true,
  axisSize: true,
  grad: true,
  key: true,
  vmap: true,
  jit: true,
});

type AnyFn = (...args: unknown[]) => unknown;
type Axis = number | null;

const isPlainObject = (x: unknown): x is Readonly<Record<string, unknown>> =>
  typeof x === "object" && x !== null && !Array.isArray(x) && !T.isTensor(x) && !A.isTracer(x);

/**
 * Rebuilds `tree` with `leaf(x, axis, path)` at each leaf, the axis taken from the pytree prefix
 * `spec` (as `vmap` reads `inAxes`/`outAxes`); a spec that does not fit is an argument error.
 */
const mapAxes = (
  arg: string,
  spec: unknown,
  tree: unknown,
  path: string,
  leaf: (x: A.Value, axis: Axis, path: string) => A.Value,
): unknown => {
  if (spec === null || typeof spec === "number") {
    const [leaves, def] = A.treeFlatten(tree);
    const paths = A.treeLeavesWithPaths(tree).map(([p]) => (p === "<root>" ? path : path + p));
    return A.treeUnflatten(
      def,
      leaves.map((x, i) => leaf(x, spec, paths[i]!)),
    );
  }
  const unfit = (what: string): never =>
    invalid("laws.vmap", `o.${arg}`, `${what}; give it the structure of ${path} down to a number or null`);
  if (Array.isArray(spec)) {
    if (!Array.isArray(tree) || tree.length !== spec.length)
      unfit(`is an array of ${spec.length} where ${path} is ${Array.isArray(tree) ? `one of ${tree.length}` : "not"}`);
    return spec.map((s, i) => mapAxes(arg, s, (tree as unknown[])[i], `${path}[${i}]`, leaf));
  }
  if (!isPlainObject(spec)) return unfit(`must be a number, null, an array or an object, got ${showValue(spec)}`);
  const keys = Object.keys(spec).sort();
  if (!isPlainObject(tree) || Object.keys(tree).sort().join("\u0000") !== keys.join("\u0000"))
    unfit(`has the keys [${keys.join(", ")}] where ${path} has other ones`);
  return Object.fromEntries(
    keys.map((k) => [k, mapAxes(arg, spec[k], (tree as Record<string, unknown>)[k], `${path}.${k}`, leaf)]),
  );
};

/** `axis` counted from the front of a rank-`rank` value, or an argument error naming the leaf. */
const axisIn = (arg: string, axis: number, rank: number, path: string): number => {
  if (!Number.isSafeInteger(axis) || axis < -rank || axis >= rank)
    invalid("laws.vmap", `o.${arg}`, `gives ${path} (rank ${rank}) the axis ${axis}, outside [${-rank}, ${rank})`);
  return axis < 0 ? axis + rank : axis;
};

/** Example i of `tree`: each batched leaf indexed at i along its axis, shared leaves as they are. */
const exampleOf = (arg: string, spec: unknown, tree: unknown, root: string, i: number): unknown =>
  mapAxes(arg, spec, tree, root, (x, axis, path) => {
    if (axis === null) return x;
    const a = axisIn(arg, axis, x.shape.length, path);
    return A.squeeze(A.slice(x, [...Array<null>(a).fill(null), { start: i, stop: i + 1 }]), a);
  });

/** The number of examples: the size of the first batched leaf (vmap itself checks that they agree). */
const batchSizeOf = (spec: unknown, args: unknown, axisSize: number | undefined): number => {
  let size = axisSize;
  mapAxes("inAxes", spec, args, "args", (x, axis, path) => {
    if (axis !== null) size ??= x.shape[axisIn("inAxes", axis, x.shape.length, path)]!;
    return x;
  });
  if (size === undefined) invalid("laws.vmap", "o.axisSize", "is needed when no argument is batched (inAxes null)");
  return size!;
};

/** A standard-normal pytree shaped like the batched float leaves of `out`, zeros elsewhere. */
const weightsFor = (out: unknown, outAxes: unknown, key: T.Key): unknown => {
  let k = 0;
  return mapAxes("outAxes", outAxes, out, "out", (x, axis) =>
    axis !== null && T.isFloating(x.dtype)
      ? T.random.normal(T.random.foldIn(key, k++), x.shape, x.dtype)
      : T.zeros(x.shape, x.dtype),
  );
};

/** ⟨w, out⟩ over the float leaves (a float64 scalar). */
const weighted = (w: unknown, out: unknown): A.Value => {
  const ws = A.treeLeaves(w);
  return A.treeLeaves(out).reduce<A.Value>(
    (acc, y, j) => (T.isFloating(y.dtype) ? A.add(acc, A.astype(A.sum(A.mul(ws[j]!, y)), "float64")) : acc),
    T.scalar(0, "float64"),
  );
};

/** What one comparison of the law reports: the case, the two computations and the tolerances to use. */
interface Compare {
  readonly name: string;
  readonly o: LawOptions;
  /** Compare bit for bit (jit) instead of up to rounding. */
  readonly exact?: boolean;
}

/** Throws the vmap law's violation unless every leaf is close (per dtype), NaNs in the same places. */
const expectLeaves = (cmp: Compare, what: string, actual: unknown, expected: unknown, label: string): void => {
  const a = A.treeLeavesWithPaths(actual);
  const e = A.treeLeaves(expected);
  if (a.length !== e.length)
    violation("vmap", cmp.name, `${what}: ${label} has ${a.length} leaves where ${e.length} were expected`);
  a.forEach(([path, x], j) => {
    const tol = cmp.exact === true ? { rtol: 0, atol: 0 } : tolerancesFor(x.dtype, cmp.o);
    const r = closeWithPaths(x, e[j], { ...tol, equalNan: true }, label + (path === "<root>" ? "" : path));
    if (!r.pass) violation("vmap", cmp.name, `${what}: ${r.message}`);
  });
};

/**
 * The vmap law on one case (see `laws.vmap`): `c.args` are the batched arguments.
 * @example vmapLaw({ f: (x) => A.tanh(x), args: [T.zeros([3, 2], "float64")] })
 */
export const vmapLaw = (c: FunctionCase, o: VmapLawOptions = {}): void => {
  const r = c as Partial<FunctionCase> | null;
  if (typeof r !== "object" || r === null) invalid("laws.vmap", "c", `must be { f, args }, got ${String(r)}`);
  checkFunction("laws.vmap", "c.f", r!.f);
  if (!Array.isArray(r!.args))
    invalid("laws.vmap", "c.args", `must be an array of arguments, got ${showValue(r!.args)}`);
  checkOptions("laws.vmap", "o", o, VMAP_LAW_KEYS);
  checkBoolean("laws.vmap", "o.grad", o.grad);
  const f = c.f as AnyFn;
  const args = c.args as unknown[];
  // Not `??`: null is an axis spec ("not batched"), not a missing option.
  const inAxes = o.inAxes === undefined ? 0 : o.inAxes;
  const outAxes = o.outAxes === undefined ? 0 : o.outAxes;
  const cmp: Compare = { name: c.name ?? (c.f.name || "f"), o };
  const n = batchSizeOf(inAxes, args, o.axisSize);
  const options: A.VmapOptions = { inAxes, outAxes, ...(o.axisSize === undefined ? {} : { axisSize: o.axisSize }) };
  const vf = (o.vmap ?? A.vmap)(f, options);
  const jit = o.jit ?? A.jit;
  const examples = Array.from({ length: n }, (_, i) => exampleOf("inAxes", inAxes, args, "args", i) as unknown[]);

  const out = vf(...args);
  examples.forEach((ex, i) => {
    const mine = exampleOf("outAxes", outAxes, out, "out", i);
    expectLeaves(cmp, `example ${i} of vmap(f) vs f on example ${i} alone`, mine, f(...ex), "out");
  });
  expectLeaves({ ...cmp, exact: true }, "jit(vmap(f)) vs vmap(f), bit for bit", jit(vf)(...args), out, "out");

  if (o.grad === false) return;
  const w = weightsFor(out, outAxes, o.key ?? T.random.key(5));
  if (A.treeLeaves(w).every((x) => !T.isFloating(x.dtype))) return; // no float output: nothing to differentiate
  // Only the float leaves are differentiated; int and bool ones stay as they are.
  const [leaves, def] = A.treeFlatten(args);
  const floats = leaves.flatMap((x, k) => (T.isFloating(x.dtype) ? [k] : []));
  if (floats.length === 0) return;
  const withFloats = (all: readonly A.Value[], fs: readonly A.Value[]): unknown[] => {
    const copy = [...all];
    floats.forEach((k, j) => (copy[k] = fs[j]!));
    return A.treeUnflatten<unknown[]>(def, copy);
  };
  const pick = (tree: unknown): A.Value[] => floats.map((k) => A.treeLeaves(tree)[k]!);
  const batchedGrad = (fs: A.Value[]): A.Value[] =>
    A.grad((g: A.Value[]) => weighted(w, vf(...withFloats(leaves, g))))(fs);
  const gradV = batchedGrad(pick(args));
  // Each leaf's axis as a scalar leaf (NaN: shared), so the list is in treeFlatten's order.
  const axes = A.treeLeaves(mapAxes("inAxes", inAxes, args, "args", (_x, axis) => T.scalar(axis ?? NaN, "float64")));
  const paths = A.treeLeavesWithPaths(args).map(([p]) => `grad.args${p === "<root>" ? "" : p}`);
  const perExample = examples.map((ex, i) => {
    const wi = exampleOf("outAxes", outAxes, w, "out", i);
    const exLeaves = A.treeLeaves(ex);
    return A.grad((g: A.Value[]) => weighted(wi, f(...withFloats(exLeaves, g))))(pick(ex));
  });
  floats.forEach((k, j) => {
    const axis = (axes[k] as T.Tensor).data[0]!;
    if (Number.isNaN(axis)) {
      const zero: A.Value = T.zeros(gradV[j]!.shape, gradV[j]!.dtype); // 0 + g is g exactly; a batch may be empty
      const sum = perExample.map((g) => g[j]!).reduce((s, g) => A.add(s, g), zero);
      expectLeaves(cmp, "gradient of vmap(f) vs the per-example gradients summed", gradV[j], sum, paths[k]!);
      return;
    }
    perExample.forEach((g, i) => {
      const mine = exampleOf("inAxes", axis, gradV[j], paths[k]!, i);
      expectLeaves(cmp, `example ${i} of the gradient of vmap(f) vs f's gradient on it`, mine, g[j], paths[k]!);
    });
  });
  expectLeaves(
    { ...cmp, exact: true },
    "jit of the gradient of vmap(f) vs it, bit for bit",
    jit(batchedGrad)(pick(args)),
    gradV,
    "grad",
  );
};
