/**
 * @file Dead-code pruning and elementwise fusion: which `ew` nodes run together in one loop.
 *
 * Groups form greedily in program order. A group is emitted (its loop runs) at one position,
 * `emitPos`, the index of one of its members. An `ew` node E of the group's shape may join:
 * - by moving the group's emission to E's position, when no node outside the group has read a
 *   member yet (the group is not `frozen`); several such groups merge into one;
 * - without moving it, when every input of E is ready by the group's `emitPos` (this also fuses
 *   siblings: ops of one shape that merely run side by side).
 * A member read through a view (a transpose, a broadcast, a window) by E cannot be computed in
 * E's own loop, so E never joins the group of such a member. Reading a member from outside its
 * group freezes the group, so nothing runs before a value it reads.
 */
import { shapesEqual } from "@rewind/tensor";
import { rootOf, valOf, type Block, type Node, type Program, type ScanNode, type VId } from "./ir.js";

/**
 * The scan without the consts and xs its (pruned) body never reads, so nothing materialises them
 * (e.g. an input weight whose projection scanLift moved out of the loop). Carries always stay.
 */
const withoutUnreadInputs = (prog: Program, n: ScanNode): ScanNode => {
  const read = new Set<VId>();
  const mark = (u: VId): void => {
    read.add(u);
    read.add(rootOf(prog, u));
  };
  n.body.nodes.forEach((node) => node.ins.forEach(mark));
  n.body.outputs.forEach(mark);
  const { numConsts: nc, numCarry: nk } = n;
  const keep = n.body.inputs.map((u, i) => (i >= nc && i < nc + nk) || read.has(u));
  if (keep.every(Boolean)) return n;
  const body: Block = { ...n.body, inputs: n.body.inputs.filter((_, i) => keep[i]) };
  return { ...n, body, ins: n.ins.filter((_, i) => keep[i]), numConsts: keep.slice(0, nc).filter(Boolean).length };
};

/** A fused loop: member node indices (ascending), the iteration shape, where it runs. */
export interface Group {
  readonly members: number[];
  readonly shape: readonly number[];
  emitPos: number;
  frozen: boolean;
}

/** One thing the generated code does, in order. */
export type Step = { readonly kind: "group"; readonly group: Group } | { readonly kind: "node"; readonly node: Node };

/**
 * Drops nodes whose outputs nobody reads (all primitives are pure), and the ys of scans that
 * nobody reads, recursively. `live[j]` says whether output j of the block counts as read.
 * @example prune(prog, block) // block.nodes now holds only live nodes
 */
export const prune = (prog: Program, block: Block, live?: readonly boolean[]): void => {
  const used = new Set<VId>();
  const use = (id: VId): void => {
    used.add(id);
    used.add(rootOf(prog, id));
  };
  block.outputs.forEach((o, j) => (live === undefined || live[j] ? use(o) : undefined));
  const kept: Node[] = [];
  for (let i = block.nodes.length - 1; i >= 0; i--) {
    const n = block.nodes[i]!;
    if (n.kind === "scan") {
      const ysOut = n.ysOut.map((y) => (y !== null && used.has(y) ? y : null));
      const carriesUsed = n.carryOut.some((c) => c !== null && used.has(c));
      if (!carriesUsed && ysOut.every((y) => y === null)) continue;
      prune(prog, n.body, [...n.carryOut.map(() => true), ...ysOut.map((y) => y !== null)]);
      const scan: ScanNode = {
        ...withoutUnreadInputs(prog, n),
        ysOut,
        outs: [...n.carryOut.filter((c): c is VId => c !== null), ...ysOut.filter((y): y is VId => y !== null)],
      };
      scan.ins.forEach(use);
      kept.push(scan);
    } else if (n.outs.some((o) => used.has(o))) {
      n.ins.forEach(use);
      kept.push(n);
    }
  }
  block.nodes = kept.reverse();
};

/** How many recent groups of the same shape a sibling may join. */
const SIBLING_LOOKBACK = 6;

/**
 * Groups the block's `ew` nodes and returns the steps in execution order.
 * @example schedule(prog, block).filter((s) => s.kind === "group").length // fused loops
 */
export const schedule = (prog: Program, block: Block): Step[] => {
  const nodes = block.nodes;
  const groupOf = new Map<number, Group>();
  const producer = new Map<VId, number>();
  const groups: Group[] = [];
  nodes.forEach((n, i) => n.outs.forEach((o) => producer.set(o, i)));
  const groupOfValue = (id: VId): Group | undefined => {
    const p = producer.get(rootOf(prog, id));
    return p === undefined ? undefined : groupOf.get(p);
  };
  /** Where a value becomes available. */
  const ready = (id: VId): number => {
    const p = producer.get(rootOf(prog, id));
    if (p === undefined) return -1;
    return groupOf.get(p)?.emitPos ?? p;
  };

  nodes.forEach((n, i) => {
    if (n.kind !== "ew") {
      for (const u of n.ins) {
        const g = groupOfValue(u);
        if (g !== undefined) g.frozen = true;
      }
      return;
    }
    const shape = valOf(prog, n.outs[0]).shape;
    // Groups E reads through a view: E can be in none of them.
    const viewed = new Set<Group>();
    const direct = new Set<Group>();
    for (const u of n.ins) {
      const g = groupOfValue(u);
      if (g === undefined) continue;
      if (valOf(prog, u).def.kind === "view") viewed.add(g);
      else direct.add(g);
    }
    const candidates = [...direct].filter((g) => !viewed.has(g) && shapesEqual(g.shape, shape));
    const fitsWithoutMove = (g: Group): boolean =>
      !viewed.has(g) && n.ins.every((u) => groupOfValue(u) === g || ready(u) <= g.emitPos);
    let target: Group | undefined;
    if (candidates.length > 0 && candidates.every((g) => !g.frozen)) {
      target = candidates[0]!;
      for (const other of candidates.slice(1)) {
        for (const m of other.members) groupOf.set(m, target);
        target.members.push(...other.members);
        groups.splice(groups.indexOf(other), 1);
      }
      target.members.sort((a, b) => a - b);
      target.emitPos = i;
    } else {
      target = candidates.find(fitsWithoutMove);
      if (target === undefined) {
        const recent = groups
          .filter((g) => shapesEqual(g.shape, shape))
          .slice(-SIBLING_LOOKBACK)
          .reverse();
        target = recent.find(fitsWithoutMove);
      }
    }
    if (target === undefined) {
      target = { members: [], shape, emitPos: i, frozen: false };
      groups.push(target);
    }
    target.members.push(i);
    groupOf.set(i, target);
    for (const u of n.ins) {
      const g = groupOfValue(u);
      if (g !== undefined && g !== target) g.frozen = true;
    }
  });

  const steps: Step[] = [];
  nodes.forEach((n, i) => {
    if (n.kind !== "ew") steps.push({ kind: "node", node: n });
    else if (groupOf.get(i)!.emitPos === i) steps.push({ kind: "group", group: groupOf.get(i)! });
  });
  return steps;
};
