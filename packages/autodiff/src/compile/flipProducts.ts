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
import { addVal, valOf, type Block, type Node, type Program, type StridedView, type VId } from "./ir.js";
import { partsOf, transposeView } from "./views.js";

/** Swaps the last two of `xs` (a matrix's rows and columns; batch axes stay). */
const swapLast = <X>(xs: readonly X[]): X[] => [...xs.slice(0, -2), xs.at(-1)!, xs.at(-2)!];

/** The value's matrices transposed, as a view of the same storage (a matmul operand, so unguarded). */
const transposedOperand = (prog: Program, id: VId): VId => {
  const { root, view } = partsOf(prog, id);
  const v = valOf(prog, id);
  const perm = swapLast(v.shape.map((_, i) => i));
  return addVal(prog, v.dtype, swapLast(v.shape), { kind: "view", root, view: transposeView(view, perm) });
};

/** A view's identity: its root and its layout. */
const viewKey = (root: VId, v: StridedView): string =>
  `${root}:${v.shape.join(",")}/${v.strides.join(",")}+${v.offset}`;

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
 * operands, its readers then reading the new product's contiguous output; likewise a batched
 * float32 matmul read only by a sum over all its batch axes, whose result is read so. A transpose may be an
 * output of `block` itself (a weight's gradient): the product is then written in place of the
 * output's copy. In a scan's body, only reads by the body's nodes qualify.
 * Returns whether it rewrote any product (a copy may then be left unread: prune again).
 * @example flipTransposedProducts(prog, block) // true: prune(prog, block) again
 */
export const flipTransposedProducts = (prog: Program, block: Block): boolean => {
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
  return rewrite(prog, block, uses, viewsOf, true);
};

const rewrite = (
  prog: Program,
  block: Block,
  uses: Map<VId, number>,
  viewsOf: Map<VId, VId[]>,
  top: boolean,
): boolean => {
  let nested = false;
  const replace = new Map<VId, VId>();
  const local = new Map<VId, number>();
  const count = (u: VId): void => void local.set(u, (local.get(u) ?? 0) + 1);
  for (const n of block.nodes) n.ins.forEach(count);
  if (top) block.outputs.forEach(count);
  const readViews = (id: VId): VId[] => (viewsOf.get(id) ?? []).filter((v) => (uses.get(v) ?? 0) > 0);
  /** The `[m, n]` root `id`, read only through whole transposes by this block alone: those views. */
  const transposesOf = (id: VId): VId[] | undefined => {
    const v = valOf(prog, id);
    if (v.shape.length !== 2 || (uses.get(id) ?? 0) > 0) return undefined;
    const views = readViews(id);
    const [m, n] = v.shape as [number, number];
    const only = views.every((w) => isWholeTranspose(prog, w, id, m, n) && local.get(w) === uses.get(w));
    return views.length > 0 && only ? views : undefined;
  };
  // Copies of views (a matmul operand that was not packed) by the view they copy, with position.
  const copies = new Map<string, { readonly id: VId; readonly at: number }>();
  /** Per copy's output, the view it copies. */
  const copied = new Map<VId, VId>();
  block.nodes.forEach((n, at) => {
    if (n.kind !== "ew" || n.op !== "copy") return;
    const d = valOf(prog, n.ins[0]!).def;
    if (d.kind !== "view" || d.guard !== undefined) return;
    const key = viewKey(d.root, d.view);
    if (!copies.has(key)) copies.set(key, { id: n.outs[0], at });
    copied.set(n.outs[0], n.ins[0]!);
  });
  /**
   * The operand transposed: a copy of the transposed view made earlier when there is one (the
   * batch-major copy the forward product read, instead of the backward's transposed copy).
   */
  const operandT = (id: VId, at: number): VId => {
    const source = copied.get(id);
    const d = source === undefined ? undefined : valOf(prog, source).def;
    if (d?.kind === "view") {
      const v = valOf(prog, id);
      const hit = copies.get(viewKey(d.root, transposeView(d.view, swapLast(v.shape.map((_, i) => i)))));
      if (hit !== undefined && hit.at < at) return hit.id;
    }
    return transposedOperand(prog, id);
  };
  const flip = (n: Extract<Node, { kind: "matmul" }>, out: VId, at: number): Node => {
    // An operand may be the transpose of a product flipped before this one: its storage is then
    // the flipped product's (`replace`), whose transpose is the operand's transposed view.
    const [a, b] = n.ins.map((u) => replace.get(u) ?? u) as [VId, VId];
    return { kind: "matmul", ins: [operandT(b, at), operandT(a, at)], outs: [out] };
  };
  const swapped = new Map<number, Node>();
  block.nodes.forEach((n, i) => {
    if (n.kind === "scan") nested = rewrite(prog, n.body, uses, viewsOf, false) || nested;
    if (n.kind !== "matmul") return;
    const out = valOf(prog, n.outs[0]);
    const rank = out.shape.length;
    if (out.dtype !== "float32" || rank < 2) return;
    if (rank === 2) {
      const views = transposesOf(out.id);
      if (views === undefined) return;
      const flipped = addVal(prog, "float32", swapLast(out.shape), { kind: "root" });
      views.forEach((v) => replace.set(v, flipped));
      swapped.set(i, flip(n, flipped, i));
      return;
    }
    // A batched product summed over its batch axes (a shared weight's gradient, e.g. a linear
    // layer over [batch, time, features]): the sum adds each element's batch terms in the same
    // order whichever element it is, so the sum of the transposed products is the transposed sum.
    if (uses.get(out.id) !== 1 || local.get(out.id) !== 1 || readViews(out.id).length > 0) return;
    const j = block.nodes.findIndex((r, at) => at > i && r.ins.includes(out.id));
    const r = block.nodes[j];
    if (r?.kind !== "reduce" || r.op !== "sum" || r.ins[0] !== out.id) return;
    if (r.axes.length !== rank - 2 || !r.axes.every((a, q) => a === q)) return;
    const views = transposesOf(r.outs[0]);
    if (views === undefined) return;
    const product = addVal(prog, "float32", swapLast(out.shape), { kind: "root" });
    const total = addVal(prog, "float32", swapLast(valOf(prog, r.outs[0]).shape), { kind: "root" });
    views.forEach((v) => replace.set(v, total));
    swapped.set(i, flip(n, product, i));
    swapped.set(j, { ...r, ins: [product], outs: [total] });
  });
  if (swapped.size === 0) return nested;
  block.nodes = block.nodes.map((n, i): Node => {
    const m = swapped.get(i) ?? n;
    if (!m.ins.some((u) => replace.has(u))) return m;
    return { ...m, ins: m.ins.map((u) => replace.get(u) ?? u) } as Node;
  });
  // The top block's outputs are read by nothing but the final copy into the result arrays.
  if (top) (block as { outputs: readonly VId[] }).outputs = block.outputs.map((u) => replace.get(u) ?? u);
  return true;
};
