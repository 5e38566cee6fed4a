/**
 * @file A float32 product read only through its transpose is computed transposed:
 * `transpose(a · b)` becomes `bᵀ · aᵀ`, written straight into a contiguous buffer.
 *
 * Why: reverse mode through `x · Wᵀ` (every torch-layout linear and RNN cell) yields the weight's
 * gradient as `transpose(xᵀ · g)`. As a view, that transpose makes every consumer (the gradient
 * output's copy, clipping's sum of squares, the optimizer's update) read with a far stride: the
 * fused loops fall back from WebAssembly SIMD to tiled JavaScript. Computing `gᵀ · x` instead
 * costs the same product and leaves the gradient contiguous.
 *
 * Same bits: the float32 kernels' contract (tensor/src/wasm/matmulWasm.ts, matmulJs.ts) forms
 * every output element from +0 by adding its k products one at a time in increasing k, each
 * product and sum rounded to float32, whatever the element's position; a float32 product is
 * commutative, so element (j, i) of `bᵀ · aᵀ` is element (i, j) of `a · b` bit for bit. The
 * float64 kernel groups products by row blocks (compile/matmul.ts), so float64 is left alone.
 */
import { addVal, valOf, type Block, type Node, type Program, type VId } from "./ir.js";
import { partsOf, transposeView } from "./views.js";

/** The value's matrix transposed, as a view of the same storage (a matmul operand, so unguarded). */
const transposedOperand = (prog: Program, id: VId): VId => {
  const { root, view } = partsOf(prog, id);
  const [r, c] = valOf(prog, id).shape as [number, number];
  return addVal(prog, valOf(prog, id).dtype, [c, r], { kind: "view", root, view: transposeView(view, [1, 0]) });
};

/** Whether `id` is exactly the 2-D transpose of the contiguous `[m, n]` root `root` (unguarded). */
const isWholeTranspose = (prog: Program, id: VId, root: VId, m: number, n: number): boolean => {
  const d = valOf(prog, id).def;
  if (d.kind !== "view" || d.root !== root || d.guard !== undefined || d.view.offset !== 0) return false;
  const { shape, strides } = d.view;
  return shape.length === 2 && shape[0] === n && shape[1] === m && strides[0] === 1 && strides[1] === n;
};

/** Every value some node of `block` or a nested block reads or returns, with how often. */
const countUses = (block: Block, uses: Map<VId, number>): void => {
  const add = (u: VId): void => {
    uses.set(u, (uses.get(u) ?? 0) + 1);
  };
  block.outputs.forEach(add);
  for (const n of block.nodes) {
    n.ins.forEach(add);
    if (n.kind === "scan") countUses(n.body, uses);
  }
};

/**
 * Rewrites, in `block` and the blocks of its scans, each rank-2 float32 matmul whose output is
 * read only through whole transposes (never directly) into the product of the transposed
 * operands, its readers then reading the new product's contiguous output. A transpose may be an
 * output of `block` itself (a weight's gradient): the product is then written in place of the
 * output's copy. In a scan's body, only reads by the body's nodes qualify.
 * @example flipTransposedProducts(prog, block) // after prune, before emission
 */
export const flipTransposedProducts = (prog: Program, block: Block): void => {
  const uses = new Map<VId, number>();
  countUses(block, uses);
  // Views by root, for the candidates only (the value table also holds the views' definitions).
  const viewsOf = new Map<VId, VId[]>();
  for (const v of prog.vals) {
    if (v.def.kind === "view") {
      const list = viewsOf.get(v.def.root);
      if (list === undefined) viewsOf.set(v.def.root, [v.id]);
      else list.push(v.id);
    }
  }
  rewrite(prog, block, uses, viewsOf, true);
};

const rewrite = (prog: Program, block: Block, uses: Map<VId, number>, viewsOf: Map<VId, VId[]>, top: boolean): void => {
  const replace = new Map<VId, VId>();
  const local = new Map<VId, number>();
  const count = (u: VId): void => void local.set(u, (local.get(u) ?? 0) + 1);
  for (const n of block.nodes) n.ins.forEach(count);
  if (top) block.outputs.forEach(count);
  block.nodes = block.nodes.map((n): Node => {
    if (n.kind === "scan") {
      rewrite(prog, n.body, uses, viewsOf, false);
      return n;
    }
    if (n.kind !== "matmul") return n;
    const out = valOf(prog, n.outs[0]);
    if (out.dtype !== "float32" || out.shape.length !== 2 || (uses.get(out.id) ?? 0) > 0) return n;
    const [m, k] = [out.shape[0]!, out.shape[1]!];
    const views = (viewsOf.get(out.id) ?? []).filter((v) => (uses.get(v) ?? 0) > 0);
    // Every read of the product is a whole transpose, read by this block's nodes alone.
    const flips =
      views.length > 0 && views.every((v) => isWholeTranspose(prog, v, out.id, m, k) && local.get(v) === uses.get(v));
    if (!flips) return n;
    const flipped = addVal(prog, "float32", [k, m], { kind: "root" });
    views.forEach((v) => replace.set(v, flipped));
    const [a, b] = n.ins;
    return { kind: "matmul", ins: [transposedOperand(prog, b), transposedOperand(prog, a)], outs: [flipped] };
  });
  if (replace.size === 0) return;
  block.nodes = block.nodes.map((n): Node => {
    if (!n.ins.some((u) => replace.has(u))) return n;
    return { ...n, ins: n.ins.map((u) => replace.get(u) ?? u) } as Node;
  });
  // The top block's outputs are read by nothing but the final copy into the result arrays.
  if (top) (block as { outputs: readonly VId[] }).outputs = block.outputs.map((u) => replace.get(u) ?? u);
};
