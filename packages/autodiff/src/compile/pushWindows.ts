/**
 * @file An elementwise value read only through disjoint windows is computed window by window:
 * `window(f(a, b))` becomes `f(window(a), window(b))`, one node per window, each then fusing into
 * the loop that reads it.
 *
 * Why: an LSTM cell adds its input projection, the recurrent product and the biases into one
 * `[B, 4H]` pre-activation and reads its four gates as `[B, H]` windows of it. Fusion cannot put a
 * value read through a view in its reader's loop (fusion.ts), so the sum ran as a loop of its own
 * every step, storing 4·B·H floats for the gate loop to load again (at B 32, 4 µs a step of a 15 µs
 * gate loop, and a loop too small for a kernel thread to take half). Per window, the sum fuses
 * into the gate loop.
 *
 * Same bits: every element is the same operation on the same operands; nothing is computed twice
 * (the windows are disjoint) and elements no window reads are no longer computed at all.
 */
import { shapesEqual } from "@rewind/tensor";
import { addVal, valOf, type Block, type Node, type Program, type Val, type VId } from "./ir.js";
import { partsOf, rowMajor, sliceView } from "./views.js";

type EwNode = Extract<Node, { kind: "ew" }>;

/** A box of a value: its first index and size per axis. */
interface Box {
  readonly start: readonly number[];
  readonly size: readonly number[];
}

/** The box `view` reads of a contiguous value of `shape`, if it is one (same rank, unit steps, no guard). */
const windowBox = (prog: Program, id: VId, root: VId): Box | undefined => {
  const d = valOf(prog, id).def;
  const shape = valOf(prog, root).shape;
  if (d.kind !== "view" || d.root !== root || d.guard !== undefined || d.view.shape.length !== shape.length)
    return undefined;
  const strides = rowMajor(shape);
  let rest = d.view.offset;
  const start = strides.map((s) => {
    const at = Math.floor(rest / s);
    rest -= at * s;
    return at;
  });
  const size = d.view.shape;
  const fits = size.every(
    (n, a) => (n === 1 || d.view.strides[a] === strides[a]) && start[a]! >= 0 && start[a]! + n <= shape[a]!,
  );
  return rest === 0 && fits ? { start, size } : undefined;
};

const overlap = (a: Box, b: Box): boolean =>
  a.start.every((s, i) => s < b.start[i]! + b.size[i]! && b.start[i]! < s + a.size[i]!);

/** Per value, how often this block's nodes and outputs read it (nested bodies read their own inputs). */
const readCounts = (block: Block): Map<VId, number> => {
  const reads = new Map<VId, number>();
  const add = (u: VId): void => void reads.set(u, (reads.get(u) ?? 0) + 1);
  block.outputs.forEach(add);
  for (const n of block.nodes) n.ins.forEach(add);
  return reads;
};

/**
 * The nodes computing `n` per window (each window value becoming the output of its node), or
 * undefined when `n`'s output is not read only through disjoint windows by elementwise nodes.
 */
const perWindow = (
  prog: Program,
  block: Block,
  n: EwNode,
  reads: Map<VId, number>,
  viewsOf: Map<VId, VId[]>,
): EwNode[] | undefined => {
  const views = viewsOf.get(n.outs[0]) ?? [];
  const out = n.outs[0];
  const shape = valOf(prog, out).shape;
  if ((reads.get(out) ?? 0) > 0) return undefined;
  const windows = views.filter((v) => (reads.get(v) ?? 0) > 0);
  const boxes = windows.map((v) => windowBox(prog, v, out));
  if (windows.length === 0 || boxes.some((b) => b === undefined)) return undefined;
  if (boxes.some((b, i) => boxes.slice(i + 1).some((c) => overlap(b!, c!)))) return undefined;
  const readers = block.nodes.filter((m) => m.ins.some((u) => windows.includes(u)));
  if (readers.some((m) => m.kind !== "ew") || block.outputs.some((o) => windows.includes(o))) return undefined;
  // Operands of the output's shape are windowed; scalars are read whole by every element.
  const operands = n.ins.map((u) => ({ u, v: valOf(prog, u), parts: partsOf(prog, u) }));
  if (
    operands.some(({ v, parts }) => v.shape.length > 0 && (!shapesEqual(v.shape, shape) || parts.guard !== undefined))
  )
    return undefined;
  return windows.map((w, i) => {
    const { start, size } = boxes[i]!;
    const ins = operands.map(({ u, v, parts }) => {
      if (v.shape.length === 0) return u;
      const view = sliceView(
        parts.view,
        start,
        size.map(() => 1),
        size,
      );
      const id = addVal(prog, v.dtype, size, { kind: "view", root: parts.root, view });
      addView(viewsOf, parts.root, id);
      return id;
    });
    // The window's value keeps its id (its readers need no change) and becomes the node's output.
    const root: Val = { ...valOf(prog, w), def: { kind: "root" } };
    prog.vals[w] = Object.freeze(root);
    const node: EwNode = { kind: "ew", op: n.op, ...(n.param === undefined ? {} : { param: n.param }), ins, outs: [w] };
    return node;
  });
};

/** Records `view` among the views of `root`. */
const addView = (viewsOf: Map<VId, VId[]>, root: VId, view: VId): void => {
  const list = viewsOf.get(root);
  if (list === undefined) viewsOf.set(root, [view]);
  else list.push(view);
};

/** One pass over `block` (not its scans), latest nodes first: whether it rewrote any. */
const pushOnce = (prog: Program, block: Block, viewsOf: Map<VId, VId[]>): boolean => {
  const reads = readCounts(block);
  for (let i = block.nodes.length - 1; i >= 0; i--) {
    const n = block.nodes[i]!;
    if (n.kind !== "ew") continue;
    const nodes = perWindow(prog, block, n, reads, viewsOf);
    if (nodes === undefined) continue;
    block.nodes.splice(i, 1, ...nodes);
    return true;
  }
  return false;
};

/**
 * Rewrites, in `block` and the blocks of its scans, every elementwise node whose output is read
 * only through disjoint windows, by elementwise nodes, into one node per window (repeatedly, so
 * a chain of elementwise nodes is windowed back to its first). Returns whether it rewrote any.
 * @example pushWindows(prog, block) // true for an LSTM step: its gates' pre-activation
 */
export const pushWindows = (prog: Program, block: Block): boolean => {
  // Views by root, over the whole program once (scan bodies share its value table); the rewrites
  // add theirs as they make them.
  const viewsOf = new Map<VId, VId[]>();
  for (const v of prog.vals) if (v.def.kind === "view") addView(viewsOf, v.def.root, v.id);
  return pushIn(prog, block, viewsOf);
};

/** `pushWindows` in `block` and its scans' blocks, with the program's views by root. */
const pushIn = (prog: Program, block: Block, viewsOf: Map<VId, VId[]>): boolean => {
  let changed = false;
  for (const n of block.nodes) if (n.kind === "scan") changed = pushIn(prog, n.body, viewsOf) || changed;
  while (pushOnce(prog, block, viewsOf)) changed = true;
  return changed;
};
