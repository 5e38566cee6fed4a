/**
 * @file Fusing chains of elementwise primitives into one kernel. An elementwise equation whose
 * result has exactly one consumer is not computed on its own: it stays an expression tree that
 * the consumer extends; the tree becomes one kernel (one thread per element, every node a WGSL
 * `let`) when a non-elementwise primitive, a second consumer or the graph's outputs need the
 * value in a buffer. Every node is the primitive's own expression, its value a `let` of its dtype,
 * so fusing changes the number of launches and of intermediate buffers, not the semantics (the
 * WGSL compiler may still contract a·b + c into one rounding inside a kernel).
 */
import type { Aval } from "@rewind/autodiff";
import { isSlot, type Operand } from "./program.js";
import { bindings, flatKernel, literal, sizeOf, wgslType, type KernelInput } from "./wgsl/common.js";
import type { ExprOf } from "./wgsl/elementwise.js";
import { HELPERS } from "./wgsl/helpers.js";

/** Most buffers one fused kernel reads (WebGPU guarantees 8 storage buffers per stage; one is the output). */
export const MAX_LEAVES = 7;

/** An elementwise equation not yet computed: its expression over other nodes and operands. */
export interface FuseNode {
  /** The primitive, for the kernel's label. */
  readonly name: string;
  /** The expression of the primitive (its params already applied). */
  readonly expr: ExprOf;
  /** Its operands: nodes of the same tree, or buffers and literals. */
  readonly args: readonly (FuseNode | Operand)[];
  /** The shape and dtype it computes. */
  readonly aval: Aval;
}

/** True for a node (not an operand). */
export const isNode = (x: FuseNode | Operand): x is FuseNode => "expr" in x;

/**
 * The buffer operands a tree reads, each once, in first-use order (the kernel's bindings).
 * @example leavesOf(node).length // ≤ MAX_LEAVES
 */
export const leavesOf = (n: FuseNode, into: Operand[] = []): Operand[] => {
  for (const a of n.args) {
    if (isNode(a)) leavesOf(a, into);
    else if (isSlot(a) && !into.some((l) => l.slot === a.slot)) into.push(a);
  }
  return into;
};

/**
 * The kernel computing the tree `root`; `inputs[k]` is the binding of `leaves[k]`.
 * @example fusedKernel(root, leavesOf(root), inputs)
 */
export const fusedKernel = (root: FuseNode, leaves: readonly Operand[], inputs: readonly KernelInput[]): string => {
  const n = sizeOf(root.aval.shape);
  const lines: string[] = [];
  let next = 0;
  const operand = (x: Operand): string => {
    if (!isSlot(x)) return literal(x.literal.data[0]!, x.aval.dtype);
    const input = inputs[leaves.findIndex((l) => l.slot === x.slot)]!;
    return `${input.name!}[${sizeOf(x.aval.shape) === 1 ? "0u" : "i"}]`;
  };
  const emit = (node: FuseNode): string => {
    const args = node.args.map((a) => (isNode(a) ? emit(a) : operand(a)));
    const name = `t${next++}`;
    const dtypes = node.args.map((a) => a.aval.dtype);
    lines.push(`let ${name}: ${wgslType(node.aval.dtype)} = ${node.expr(args, dtypes, node.aval.dtype)};`);
    return name;
  };
  const result = emit(root);
  return flatKernel(bindings(inputs, [root.aval.dtype]), n, `${lines.join("\n")}\nout0[i] = ${result};`, HELPERS);
};
