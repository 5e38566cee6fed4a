/**
 * @file `vmap`: the batching transform (JAX's `jax.vmap`), over pytrees.
 *
 * `vmap(f)(...args)` traces `f` once on one example's avals (the batch axes removed) into a closed
 * graph, then runs that graph through the batching interpreter (interpret.ts), where each
 * primitive's `batch` rule moves the batch axis instead of looping. The rules emit ordinary ops,
 * so vmap composes with every other transform, and with itself.
 */
import { describeAval, avalOf, type Aval } from "../Graph.js";
import { traceToGraph, type Value } from "../core.js";
import { expectFunction, expectOptions, synchronous } from "../check.js";
import { graphFail } from "../errors.js";
import { kit } from "../kit.js";
import { materialize, moveAxis } from "../primitives/batching.js";
import { treeFlatten, treeUnflatten, type TreeDef } from "../Tree.js";
import { leafAxes, normalizeBatchAxis, type AxisSpec } from "./axes.js";
import { batchGraph } from "./interpret.js";
import type { Transformed } from "../types.js";

/** Options of `vmap`. */
export interface VmapOptions {
  /**
   * The batch axis of the arguments (default 0): one number or `null` for all of them, or an
   * array with one entry per argument, each a number, `null` (not batched: shared by every
   * example) or a pytree prefix of that argument (`{ w: null, b: 0 }`).
   */
  readonly inAxes?: AxisSpec;
  /** Where the batch axis goes in the result (default 0), a pytree prefix of it like `inAxes`. */
  readonly outAxes?: AxisSpec;
  /** The number of examples; required when no argument is batched, else checked against them. */
  readonly axisSize?: number;
}

const shapeText = (v: Value): string => describeAval(avalOf(v));

/** The number of examples: every batched leaf (and `axisSize`) must agree. */
const batchSize = (
  batched: ReadonlyArray<{ readonly path: string; readonly leaf: Value; readonly axis: number }>,
  axisSize: number | undefined,
): number => {
  if (axisSize !== undefined && (!Number.isSafeInteger(axisSize) || axisSize < 0)) {
    graphFail({
      _tag: "InvalidArgument",
      op: "vmap",
      arg: "options.axisSize",
      detail: `axisSize must be a non-negative integer, got ${String(axisSize)}`,
      fix: "pass the number of examples, e.g. { axisSize: 8 }",
    });
  }
  const first = batched[0];
  if (first === undefined) {
    if (axisSize !== undefined) return axisSize;
    return graphFail({
      _tag: "InvalidArgument",
      op: "vmap",
      arg: "inAxes",
      detail: "no argument is batched (every leaf has inAxes null), so the number of examples is unknown",
      fix: "batch at least one argument, or pass { axisSize: n }",
    });
  }
  const size = axisSize ?? first.leaf.shape[first.axis]!;
  for (const b of batched) {
    const n = b.leaf.shape[b.axis]!;
    if (n !== size) {
      const against =
        axisSize !== undefined
          ? `options.axisSize is ${axisSize}`
          : `${first.path} (${shapeText(first.leaf)}, axis ${first.axis}) has ${size}`;
      graphFail({
        _tag: "InvalidArgument",
        op: "vmap",
        arg: b.path,
        detail: `${b.path} (${shapeText(b.leaf)}) has ${n} examples along axis ${b.axis}, but ${against}`,
        fix: "give every batched argument the same size along its batch axis (inAxes), or mark shared ones null",
      });
    }
  }
  return size;
};

/**
 * Vectorizes `f` over a batch axis of its arguments: `vmap(f)(xs)` equals stacking `f` over the
 * examples of `xs`, computed by one batched program instead of a loop (JAX's `vmap`). `f` is
 * written for one example; arguments with `inAxes` null are shared by all examples. Works on
 * pytrees and composes with `grad`, `jit` and itself: `vmap(grad(loss), { inAxes: [null, 0] })`
 * gives per-example gradients.
 * @throws GraphException (`InvalidArgument`) for an axis out of range, `inAxes`/`outAxes` that do
 *   not match the arguments or result, or batched arguments of different sizes.
 * @example
 * const dot = (a: Value, b: Value) => sum(mul(a, b));
 * vmap(dot)(tensor([[1, 2], [3, 4]]), tensor([[1, 1], [2, 2]])) // [3, 14]
 * vmap(dot, { inAxes: [0, null] })(tensor([[1, 2], [3, 4]]), tensor([1, 1])) // [3, 7]
 */
export const vmap = <Args extends unknown[], R>(
  f: (...args: Args) => R,
  options: VmapOptions = {},
): Transformed<Args, R> => {
  expectFunction("vmap", "f", f);
  const opts = expectOptions("vmap", options, ["inAxes", "outAxes", "axisSize"]) as VmapOptions;
  const inAxes = opts.inAxes === undefined ? 0 : opts.inAxes;
  const outAxes = opts.outAxes === undefined ? 0 : opts.outAxes;
  // On tensors the batched program runs eagerly, so the outputs are tensors (`Concrete<R>`).
  return ((...args: Args): R => {
    const leaves = leafAxes("inAxes", inAxes, args, "args").map((l) => ({
      ...l,
      axis:
        l.axis === null ? null : normalizeBatchAxis("inAxes", l.path, l.axis, l.leaf.shape.length, shapeText(l.leaf)),
    }));
    const batched = leaves.filter((l): l is typeof l & { axis: number } => l.axis !== null);
    const size = batchSize(batched, opts.axisSize);
    const [, inTree] = treeFlatten(args);
    const avals: Aval[] = leaves.map(({ leaf, axis }) => ({
      shape: axis === null ? leaf.shape : leaf.shape.filter((_, i) => i !== axis),
      dtype: leaf.dtype,
    }));
    let outTree: TreeDef | undefined;
    const { graph, consts } = traceToGraph(
      (tracers) => {
        const [outLeaves, def] = treeFlatten(
          synchronous("vmap", f)(...(treeUnflatten<unknown[]>(inTree, tracers) as never[])),
        );
        outTree = def;
        return outLeaves;
      },
      avals,
      "vmap",
    );
    const outs = batchGraph(
      kit,
      graph,
      [...consts, ...leaves.map((l) => l.leaf)],
      [...consts.map(() => null), ...leaves.map((l) => l.axis)],
      size,
    );
    const placed = leafAxes(
      "outAxes",
      outAxes,
      treeUnflatten(
        outTree!,
        outs.map((o) => o.value),
      ),
      "out",
    ).map(({ path, axis }, i) => {
      const { value, dim } = outs[i]!;
      if (axis === null) {
        if (dim === null) return value;
        return graphFail({
          _tag: "InvalidArgument",
          op: "vmap",
          arg: `outAxes of ${path}`,
          detail: `outAxes is null for ${path}, but it differs between examples (it depends on a batched argument)`,
          fix: `give ${path} an output axis (e.g. 0), or return it from outside the vmapped function`,
        });
      }
      const rank = value.shape.length + (dim === null ? 1 : 0);
      const to = normalizeBatchAxis("outAxes", path, axis, rank, `${shapeText(value)} with the batch axis`);
      return dim === null ? materialize(kit, value, null, size, to) : moveAxis(kit, value, dim, to);
    });
    return treeUnflatten<R>(outTree!, placed);
  }) as Transformed<Args, R>;
};
