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
import { shapesEqual } from "@rewind/tensor";
import { onArena } from "./arena.js";
import { rootOf, valOf, type Block, type Node, type Program, type VId } from "./ir.js";
import { partsOf } from "./views.js";

type MatmulNode = Extract<Node, { kind: "matmul" }>;

/** Whether `n` is a whole 2-D product the arena computes (`Module.matmul` gives it `mma`). */
const pairable = (prog: Program, n: Node): n is MatmulNode => {
  if (n.kind !== "matmul") return false;
  const out = valOf(prog, n.outs[0]);
  if (out.shape.length !== 2) return false;
  const [m, cols] = out.shape as [number, number];
  return onArena(out.dtype, m, valOf(prog, n.ins[0]).shape[1]!, cols);
};

/** Whether two products read the same op(a): one root, one view of it, unguarded. */
const sameA = (prog: Program, x: MatmulNode, y: MatmulNode): boolean => {
  if (x.ins[0] === y.ins[0]) return true;
  const p = partsOf(prog, x.ins[0]);
  const q = partsOf(prog, y.ins[0]);
  return (
    p.root === q.root &&
    p.guard === undefined &&
    q.guard === undefined &&
    p.view.offset === q.view.offset &&
    shapesEqual(p.view.shape, q.view.shape) &&
    shapesEqual(p.view.strides, q.view.strides)
  );
};

/** The index of the node producing each value of `block`. */
const producers = (block: Block): Map<VId, number> => {
  const at = new Map<VId, number>();
  block.nodes.forEach((n, i) => n.outs.forEach((o) => at.set(o, i)));
  return at;
};

/**
 * Pairs products of one op(a) in `block` (see the file comment). It leaves no value unread, so
 * nothing needs pruning after it.
 * @example pairProducts(prog, block) // an RNN step's two weight gradients become one matmulPair node
 */
export const pairProducts = (prog: Program, block: Block): void => {
  const nodes = block.nodes;
  let producedAt = producers(block);
  for (let i = 0; i < nodes.length; i++) {
    const first = nodes[i]!;
    if (!pairable(prog, first)) continue;
    let j = i + 1;
    for (; j < nodes.length; j++) {
      const second = nodes[j]!;
      if (
        pairable(prog, second) &&
        sameA(prog, first, second) &&
        second.ins.every((u) => (producedAt.get(rootOf(prog, u)) ?? -1) < i)
      )
        break;
    }
    if (j === nodes.length) continue;
    const second = nodes[j] as MatmulNode;
    nodes[i] = {
      kind: "matmulPair",
      ins: [first.ins[0], first.ins[1], second.ins[1]],
      outs: [first.outs[0], second.outs[0]],
    };
    nodes.splice(j, 1);
    // Later nodes moved up one place.
    producedAt = producers(block);
  }
};
