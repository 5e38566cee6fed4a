/**
 * @file Emitting one block: the buffer plan (liveness over the fused schedule) and the code of
 * each step.
 *
 * Every root value gets a location when its step writes it: the block's destination for an
 * output (a fresh output array, a scan's next-carry buffer, a row of a stacked ys buffer) when its
 * producer can write there directly, else a pool buffer. A pool buffer returns to the pool after
 * the last step that reads its value, so later steps reuse it; outputs are never released.
 * Outputs that could not be written in place (inputs, constants, views, fallback results, scan
 * carries) are copied to their destination at the end of the block.
 */
import * as T from "@rewind/tensor";
import type { Tensor } from "@rewind/tensor";
import type { EwOpName } from "./ewOps.js";
import { schedule, type Group, type Step } from "./fusion.js";
import { rootOf, valOf, type Block, type Node, type Program, type Val, type VId } from "./ir.js";
import { int, type LoopMember, type LoopOperand, type LoopRead } from "./loopgen.js";
import { emitCumulative, emitIndex, emitMatmul, emitMatmulPair, emitReduce } from "./nodeEmit.js";
import type { Module } from "./module.js";
import { addOff, type Loc } from "./scope.js";
import { Pool } from "./pool.js";
import { ownedOutputs, type Desc } from "./runtime.js";
import { emitScan } from "./scanEmit.js";
import { partsOf } from "./views.js";

/** Where a block reads its inputs and where its outputs must end up (undefined: nowhere). */
export interface BlockIO {
  readonly inputs: readonly Loc[];
  readonly dests: ReadonlyArray<Loc | undefined>;
  /**
   * Given (top level only), an output computed by a primitive's impl is handed back as that
   * tensor (copied), keeping the dtype the impl gave it, as the interpreter returns it.
   */
  readonly tensorOutput?: (j: number, expr: string) => void;
  /** In a scan's body: code that can run once before the loop instead of at every step. */
  readonly hoist?: Hoist;
}

/**
 * A scan body's values that stay the same at every step (its constants), and the lines that
 * run once before its loop (packing a constant matrix for the body's products).
 */
export interface Hoist {
  readonly invariant: ReadonlySet<VId>;
  readonly lines: string[];
}

/** A member of a loop: an op over values (`out` set for group members, so others can read it). */
interface LoopItem {
  readonly op: EwOpName;
  readonly param: T.DType | undefined;
  readonly dtype: T.DType;
  readonly ins: readonly VId[];
  readonly out?: VId;
}

/**
 * Emits `block` into `lines`.
 * @example emitBlock(mod, prog, block, { inputs, dests }, lines, "  ")
 */
export const emitBlock = (
  mod: Module,
  prog: Program,
  block: Block,
  io: BlockIO,
  lines: string[],
  indent: string,
): void => {
  new BlockEmitter(mod, prog, block, io, lines, indent).emit();
};

/**
 * The state of one block's emission; scan and node emitters work through its methods.
 * @example new BlockEmitter(mod, prog, block, io, lines, "  ").emit()
 */
export class BlockEmitter {
  readonly #locs = new Map<VId, Loc>();
  readonly #owned = new Map<VId, number>();
  readonly #lastUse = new Map<VId, number>();
  readonly #readers = new Map<VId, Set<number>>();
  readonly #dests = new Map<VId, Loc[]>();
  readonly #endCopies: Array<{ readonly value: VId; readonly dest: Loc }> = [];
  /** Fallback results by root: the variable holding the impl's tensor. */
  readonly #tensors = new Map<VId, string>();
  readonly #tensorOutputs: Array<{ readonly j: number; readonly value: VId }> = [];

  constructor(
    readonly mod: Module,
    readonly prog: Program,
    readonly block: Block,
    readonly io: BlockIO,
    readonly lines: string[],
    readonly indent: string,
  ) {
    block.inputs.forEach((v, i) => this.#locs.set(v, io.inputs[i]!));
  }

  line(s: string): void {
    this.lines.push(this.indent + s);
  }

  val(id: VId): Val {
    return valOf(this.prog, id);
  }

  /** A descriptor object (dtype, shape, size) for wrapping a value's buffer as a tensor. */
  desc(id: VId): string {
    const v = this.val(id);
    const d: Desc = { dtype: v.dtype, shape: v.shape, size: v.size };
    return this.mod.object(d);
  }

  rootLoc(root: VId): Loc {
    const l = this.#locs.get(root);
    if (l !== undefined) return l;
    const d = this.val(root).def;
    if (d.kind !== "const") throw new Error(`Rewind internal error: value ${root} read before it was written`);
    return { buf: this.mod.constBuffer(d.tensor), off: "0" };
  }

  /** The location of a contiguous value (a root, or a contiguous view of one). */
  loc(id: VId): Loc {
    const p = partsOf(this.prog, id);
    const l = this.rootLoc(p.root);
    return { buf: l.buf, off: addOff(l.off, p.view.offset) };
  }

  setLoc(root: VId, loc: Loc): void {
    this.#locs.set(root, loc);
  }

  /** Claims a pool buffer for a root; it is released after the root's last reader. */
  allocate(root: VId): Loc {
    const v = this.val(root);
    const id = this.mod.pool.alloc(v.dtype, v.size);
    this.#owned.set(root, id);
    const l = { buf: Pool.bufName(id), off: "0" };
    this.#locs.set(root, l);
    return l;
  }

  /** Claims a pool buffer not tied to a value (a scan's second carry buffer). */
  allocateRaw(dtype: T.DType, size: number): number {
    return this.mod.pool.alloc(dtype, size);
  }

  /** Makes pool buffer `id` the storage of `root`. */
  own(root: VId, id: number): void {
    this.#owned.set(root, id);
    this.#locs.set(root, { buf: Pool.bufName(id), off: "0" });
  }

  /** The location a single-output step writes `root` to (its first destination, or the pool). */
  target(root: VId): Loc {
    const d = this.#dests.get(root);
    if (d === undefined) return this.allocate(root);
    this.#locs.set(root, d[0]!);
    return d[0]!;
  }

  /** Destinations of `root` past the first, for a value written once and copied. */
  copyToOtherDests(root: VId): void {
    const d = this.#dests.get(root);
    if (d === undefined) return;
    const n = this.val(root).size;
    for (const x of d.slice(1)) this.line(`copy(${x.buf}, ${x.off}, ${d[0]!.buf}, ${d[0]!.off}, ${int(n)});`);
  }

  destsOf(root: VId): readonly Loc[] | undefined {
    return this.#dests.get(root);
  }

  /** The roots a step reads from outside itself (through views: the viewed root). */
  #stepReads(st: Step): VId[] {
    if (st.kind === "node") return st.node.ins.map((u) => rootOf(this.prog, u));
    const members = new Set(st.group.members.map((i) => this.block.nodes[i]!.outs[0]));
    return st.group.members.flatMap((i) =>
      this.block.nodes[i]!.ins.filter((u) => !members.has(u)).map((u) => rootOf(this.prog, u)),
    );
  }

  emit(): void {
    const steps = schedule(this.prog, this.block);
    steps.forEach((st, i) => {
      for (const r of this.#stepReads(st)) {
        this.#lastUse.set(r, i);
        let s = this.#readers.get(r);
        if (s === undefined) this.#readers.set(r, (s = new Set()));
        s.add(i);
      }
    });
    const producer = new Map<VId, Node>();
    this.block.nodes.forEach((n) => n.outs.forEach((o) => producer.set(o, n)));
    this.block.outputs.forEach((o, j) => {
      this.#lastUse.set(rootOf(this.prog, o), Infinity);
      const dest = this.io.dests[j];
      if (dest === undefined) return;
      const p = producer.get(o);
      const direct = p !== undefined && p.kind !== "fallback" && !(p.kind === "scan" && p.carryOut.includes(o));
      // An impl's result is copied: the impl may return a buffer something else holds.
      if (p?.kind === "fallback" && this.io.tensorOutput !== undefined) this.#tensorOutputs.push({ j, value: o });
      else if (direct) this.#dests.set(o, [...(this.#dests.get(o) ?? []), dest]);
      else this.#endCopies.push({ value: o, dest });
    });
    steps.forEach((st, i) => {
      const written = st.kind === "group" ? this.#emitGroup(st.group, i) : this.#emitNode(st.node);
      for (const r of this.#stepReads(st)) if (this.#lastUse.get(r) === i) this.#release(r);
      for (const w of written) if (!this.#lastUse.has(w)) this.#release(w);
    });
    for (const { j, value } of this.#tensorOutputs)
      this.io.tensorOutput!(j, `freshTensor(${this.#tensors.get(value)!})`);
    for (const { value, dest } of this.#endCopies) {
      const v = this.val(value);
      this.loop(v.shape, [{ op: "copy", param: undefined, dtype: v.dtype, ins: [value] }], [{ member: 0, loc: dest }]);
    }
    for (const r of [...this.#owned.keys()]) this.#release(r);
  }

  #release(root: VId): void {
    const id = this.#owned.get(root);
    if (id === undefined) return;
    this.mod.pool.free(id);
    this.#owned.delete(root);
  }

  /** A member's output is stored when a later step or the block's outputs read it. */
  #isStored(root: VId, step: number): boolean {
    if (this.#dests.has(root) || this.#lastUse.get(root) === Infinity) return true;
    const r = this.#readers.get(root);
    return r !== undefined && [...r].some((s) => s !== step);
  }

  #emitGroup(g: Group, step: number): VId[] {
    const items: LoopItem[] = g.members.map((i) => {
      const n = this.block.nodes[i] as Extract<Node, { kind: "ew" }>;
      return { op: n.op, param: n.param, dtype: this.val(n.outs[0]).dtype, ins: n.ins, out: n.outs[0] };
    });
    const stores: Array<{ member: number; loc: Loc }> = [];
    const written: VId[] = [];
    items.forEach((m, j) => {
      const r = m.out!;
      if (!this.#isStored(r, step)) return;
      written.push(r);
      const locs = this.#dests.get(r) ?? [this.allocate(r)];
      this.#locs.set(r, locs[0]!);
      for (const loc of locs) stores.push({ member: j, loc });
    });
    this.loop(g.shape, items, stores);
    return written;
  }

  /** Emits one fused loop over `shape` computing `items` and storing the listed members. */
  loop(
    shape: readonly number[],
    items: readonly LoopItem[],
    stores: ReadonlyArray<{ member: number; loc: Loc }>,
  ): void {
    const memberOf = new Map<VId, number>();
    items.forEach((m, j) => (m.out === undefined ? undefined : memberOf.set(m.out, j)));
    const reads: LoopRead[] = [];
    const readArgs: string[] = [];
    const readIndex = new Map<VId, number>();
    const scalars: string[] = [];
    const scalar = (v: number): LoopOperand => {
      const name = this.mod.scalar(v);
      let i = scalars.indexOf(name);
      if (i < 0) i = scalars.push(name) - 1;
      return { kind: "scalar", index: i };
    };
    const operand = (u: VId): LoopOperand => {
      const j = memberOf.get(u);
      if (j !== undefined) return { kind: "member", index: j };
      const p = partsOf(this.prog, u);
      const root = this.val(p.root);
      if (root.def.kind === "const" && root.size === 1 && p.guard === undefined)
        return scalar(root.def.tensor.data[0]!);
      const known = readIndex.get(u);
      if (known !== undefined) return { kind: "read", index: known };
      const l = this.rootLoc(p.root);
      const fill = p.guard === undefined ? undefined : (scalar(p.guard.fill) as { index: number }).index;
      reads.push({
        dtype: this.val(u).dtype,
        view: p.view,
        ...(p.guard === undefined ? {} : { guard: p.guard, fill: fill! }),
      });
      readArgs.push(l.buf, l.off);
      readIndex.set(u, reads.length - 1);
      return { kind: "read", index: reads.length - 1 };
    };
    const members: LoopMember[] = items.map((m) => ({
      op: m.op,
      param: m.param,
      dtype: m.dtype,
      ins: m.ins.map(operand),
      inDtypes: m.ins.map((u) => this.val(u).dtype),
    }));
    const stored = stores.map((s) => ({ member: s.member, dtype: items[s.member]!.dtype }));
    const name = this.mod.loop({ shape, reads, members, stores: stored, scalars: scalars.length });
    const args = [...stores.flatMap((s) => [s.loc.buf, s.loc.off]), ...readArgs, ...scalars];
    this.line(`${name}(${args.join(", ")});`);
  }

  #emitNode(n: Node): VId[] {
    switch (n.kind) {
      case "ew":
        throw new Error("Rewind internal error: elementwise node outside a group");
      case "matmul":
        emitMatmul(this, n);
        break;
      case "matmulPair":
        emitMatmulPair(this, n);
        break;
      case "reduce":
        emitReduce(this, n);
        break;
      case "concat":
      case "index":
        emitIndex(this, n);
        break;
      case "scan":
        emitScan(this, n, (body, io, lines, indent) => emitBlock(this.mod, this.prog, body, io, lines, indent));
        break;
      case "cumulative":
        emitCumulative(this, n);
        break;
      case "fallback":
        this.#emitFallback(n);
        break;
    }
    for (const o of n.outs) if (n.kind !== "fallback") this.copyToOtherDests(o);
    return [...n.outs];
  }

  /** Calls the primitive's impl on tensors viewing the inputs' buffers. */
  #emitFallback(n: Extract<Node, { kind: "fallback" }>): void {
    const { prim, params } = n;
    const fn = this.mod.object((ins: readonly Tensor[]) => ownedOutputs(prim.impl(ins, params), ins));
    const args = n.ins.map((u) => {
      const held = this.#tensors.get(u);
      if (held !== undefined) return held;
      const l = this.loc(u);
      return `tensorAt(${this.desc(u)}, ${l.buf}, ${l.off})`;
    });
    const r = this.mod.fresh();
    this.line(`const ${r} = ${fn}([${args.join(", ")}]);`);
    n.outs.forEach((o, j) => {
      const name = this.mod.fresh();
      this.line(`const ${name} = ${r}[${j}];`);
      this.#tensors.set(o, name);
      this.#locs.set(o, { buf: `${name}.data`, off: "0" });
    });
  }
}
