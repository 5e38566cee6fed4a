/**
 * @file Products of one operand, paired: two float32 products `a·b1` and `a·b2` of the same op(a)
 * become one `matmulPair` node, whose kernel packs each k block of op(a) once for both (XLA's
 * "dot merger" does the like by concatenating the b's; here nothing is copied).
 *
 * Why: a recurrent cell's two weight gradients read the same gate gradients, dW_ih = dGᵀ·x and
 * dW_hh = dGᵀ·h over every timestep's rows; packing dGᵀ (a transposed read of T·B × 4H floats,
 * memory-bound) twice was 0.33 ms of a 24 ms char-rnn step. Each output element is still its own
 * sum in k order by the same kernels, so the bits are those of the two products.
 *
 * The later product moves up to the earlier one's place, so it must read nothing computed at or
 * after that place. Only whole 2-D products on the runner's memory pair (batches stay as they are),
 * only in the top-level block (a scan's per-step products pack their b once already), and only
 * with SIMD on: `mm2` is an arena helper.
 */
import { WASM_MIN_MACS } from "@rewind/tensor/internal/codegen";
import { rootOf, valOf, type Block, type Node, type Program, type VId } from "./ir.js";
import { partsOf } from "./views.js";

type MatmulNode = Extract<Node, { kind: "matmul" }>;

/** Whether `n` is a whole float32 product the arena computes (`Module.matmul` gives it `mma`). */
const pairable = (prog: Program, n: Node): n is MatmulNode => {
  if (n.kind !== "matmul") return false;
  const out = valOf(prog, n.outs[0]);
  if (out.dtype !== "float32" || out.shape.length !== 2) return false;
  const k = valOf(prog, n.ins[0]).shape[1]!;
  return out.shape[0]! * k * out.shape[1]! >= WASM_MIN_MACS;
};

/** Whether two products read the same op(a): one root, one view of it, unguarded. */
const sameA = (prog: Program, x: MatmulNode, y: MatmulNode): boolean => {
  if (x.ins[0] === y.ins[0]) return true;
  const p = partsOf(prog, x.ins[0]);
  const q = partsOf(prog, y.ins[0]);
  const same = (u: readonly number[], v: readonly number[]): boolean =>
    u.length === v.length && u.every((d, i) => d === v[i]);
  return (
    p.root === q.root &&
    p.view.offset === q.view.offset &&
    same(p.view.shape, q.view.shape) &&
    same(p.view.strides, q.view.strides)
  );
};

/**
 * Pairs products of one op(a) in `block` (see the file comment); true if it paired any.
 * @example if (pairProducts(prog, block)) prune(prog, block)
 */
export const pairProducts = (prog: Program, block: Block): boolean => {
  const nodes = block.nodes;
  let changed = false;
  for (let i = 0; i < nodes.length; i++) {
    const first = nodes[i]!;
    if (!pairable(prog, first)) continue;
    const producedAt = new Map<VId, number>();
    nodes.forEach((n, at) => n.outs.forEach((o) => producedAt.set(o, at)));
    const j = nodes.findIndex(
      (second, at) =>
        at > i &&
        pairable(prog, second) &&
        sameA(prog, first, second) &&
        second.ins.every((u) => (producedAt.get(rootOf(prog, u)) ?? -1) < i),
    );
    if (j < 0) continue;
    const second = nodes[j] as MatmulNode;
    nodes[i] = {
      kind: "matmulPair",
      ins: [first.ins[0], first.ins[1], second.ins[1]],
      outs: [first.outs[0], second.outs[0]],
    };
    nodes.splice(j, 1);
    changed = true;
  }
  return changed;
};
