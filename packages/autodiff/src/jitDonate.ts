/**
 * @file jit's `donate` option (JAX's `donate_argnums`): the tensors in the donated arguments of a
 * call on concrete tensors are given up when it returns, and their memory becomes the next call's
 * outputs.
 *
 * Giving up is detaching: each donated leaf's ArrayBuffer is transferred (`ArrayBuffer.prototype
 * .transfer` where present, else `structuredClone` with a transfer list: both move the memory
 * without copying), so the old typed array reads as empty and every later use of the tensor fails
 * with a message naming the donation (`@rewind/tensor`'s checks, `detached.ts`). A buffer stays
 * valid, untouched, when giving it up would break something else: when a non-donated argument or
 * an output of this call uses it (the interpreter may return an input as it is), when a traced
 * graph captured it (as a constant or a scalar literal, in this jitted function or another) or a
 * compiled runner holds it (its planned buffers, which a primitive's impl receives views of, and
 * its constants; compile/owned.ts), when the typed array views only part of it, or when it cannot
 * be detached (a SharedArrayBuffer, WebAssembly memory). A buffer donated twice
 * (one tensor passed in two donated places) is given up once.
 *
 * Reuse: each cache entry keeps a pool, one slot per output. Each donated leaf is assigned, once
 * per entry, an output of the same dtype and size (same shape first) that the compiled runner
 * writes into; a detached buffer goes to its output's slot, and the next call's runner writes that
 * output there instead of allocating (`compileGraph`'s `outs`). In a training loop
 * (`[params, state] = step(params, state, batch)` with `donate: [0, 1]`) two sets of buffers
 * alternate and no output array is allocated in steady state. The interpreter (`compile: false`,
 * `setJitMode("interpret")`, `withDebugNans`) gives buffers up the same way without reusing them.
 */
import type { Tensor, WritableTypedArray } from "@rewind/tensor";
import { BUFFER_CLASS } from "@rewind/tensor/internal/check";
import type { CompiledGraph } from "./compile/index.js";
import { holdBuffers, isHeld } from "./compile/owned.js";
import { isTracer } from "./core.js";
import { graphFail } from "./errors.js";
import type { Atom, Graph } from "./Graph.js";
import type { ClosedGraph } from "./trace.js";
import { treeLeafCount, type TreeDef } from "./Tree.js";

/**
 * Returns the `donate` option as sorted distinct argument indices, or undefined when absent.
 * @example donateOption([1, 0, 1]) // [0, 1]
 */
export const donateOption = (x: unknown): readonly number[] | undefined => {
  if (x === undefined) return undefined;
  if (!Array.isArray(x) || !x.every((i) => Number.isSafeInteger(i) && (i as number) >= 0)) {
    const bad = Array.isArray(x) ? (x as unknown[]).find((i) => !(Number.isSafeInteger(i) && (i as number) >= 0)) : x;
    return graphFail({
      _tag: "InvalidArgument",
      op: "jit",
      arg: "options.donate",
      detail: `expected an array of argument positions (non-negative integers), got ${
        Array.isArray(x) ? `an array holding ${typeof bad === "number" ? String(bad) : typeof bad}` : typeof x
      }`,
      fix: "list the positions of the arguments the caller gives up, e.g. { donate: [0, 1] } for the first two",
    });
  }
  return Object.freeze([...new Set(x as number[])].sort((a, b) => a - b));
};

/**
 * Throws unless every donated position names an argument of a call with `argc` arguments.
 * @example checkDonatedPositions([0, 1], 3)
 */
export const checkDonatedPositions = (donate: readonly number[], argc: number): void => {
  const out = donate.find((i) => i >= argc);
  if (out === undefined) return;
  const args = `${argc} ${argc === 1 ? "argument" : "arguments"}`;
  graphFail({
    _tag: "InvalidArgument",
    op: "jit",
    arg: "options.donate",
    detail: `position ${out} is donated, but the jitted function was called with ${args}`,
    fix: `donate positions below ${argc} (0 is the first argument), or pass the argument`,
  });
};

/**
 * Records the buffers a traced graph holds (its captured constants' and every literal's, nested
 * bodies included) as never to be donated, by this jitted function or another (compile/owned.ts).
 * @example holdCaptured(closed)
 */
export const holdCaptured = (closed: ClosedGraph): void => {
  const buffers: ArrayBufferLike[] = [];
  for (const c of closed.consts) if (!isTracer(c)) buffers.push(c.data.buffer);
  const atom = (a: Atom): void => {
    if (a._tag === "Literal") buffers.push(a.value.data.buffer);
  };
  const visit = (g: Graph): void => {
    g.outputs.forEach(atom);
    for (const e of g.eqns) {
      e.inputs.forEach(atom);
      for (const [, sub] of e.prim.subgraphs?.(e.params) ?? []) visit(sub);
    }
  };
  visit(closed.graph);
  holdBuffers(buffers);
};

/** The engine's ways to move a buffer, read at each use (cheap, and tests can watch them). */
interface Movers {
  readonly transfer?: (this: ArrayBuffer) => ArrayBuffer;
  readonly structuredClone?: (v: unknown, o: { transfer: ArrayBuffer[] }) => unknown;
}

/** Whether `buf` is a buffer detaching may move: a fixed-length ArrayBuffer (not shared memory). */
const movable = (buf: ArrayBufferLike): buf is ArrayBuffer =>
  buf instanceof ArrayBuffer && (buf as { resizable?: boolean }).resizable !== true;

/** Moves `buf`'s memory to a new ArrayBuffer, detaching `buf`; undefined when it cannot be detached. */
const detach = (buf: ArrayBufferLike): ArrayBuffer | undefined => {
  if (!movable(buf)) return undefined;
  try {
    const { transfer } = buf as Movers;
    const moved =
      transfer !== undefined
        ? transfer.call(buf)
        : ((globalThis as Movers).structuredClone?.(buf, { transfer: [buf] }) as ArrayBuffer | undefined);
    // An engine without `transfer` copies a buffer it may not detach (WebAssembly memory) instead of refusing.
    return buf.byteLength === 0 ? moved : undefined;
  } catch {
    return undefined;
  }
};

/**
 * `detach` for every buffer of `bufs`, in order. Without `transfer` (Node 20), one `structuredClone`
 * moves them all: its cost is mostly per call, not per buffer (22 buffers of an optimizer step:
 * ~24 µs in one call against ~44 µs one by one). If that call refuses (one buffer may not be
 * moved), each is tried alone, so the others are still given up.
 */
const detachAll = (bufs: readonly ArrayBuffer[]): Array<ArrayBuffer | undefined> => {
  const clone = (globalThis as Movers).structuredClone;
  if (bufs.length < 2 || (bufs[0] as Movers).transfer !== undefined || clone === undefined) return bufs.map(detach);
  try {
    const moved = clone([...bufs], { transfer: [...bufs] }) as ArrayBuffer[];
    return bufs.map((b, k) => (b.byteLength === 0 ? moved[k] : undefined));
  } catch {
    return bufs.map(detach);
  }
};

/**
 * The donation state of one cache entry: which leaves are donated, and the pool of output arrays.
 * @example
 * const plan = new DonationPlan(closed, inTree, [0]);
 * plan.giveUp(leaves, plan.call(run, inputs));
 */
export class DonationPlan {
  /** Per argument leaf (in flatten order): 1 when it belongs to a donated argument. */
  readonly #donated: Uint8Array;
  /** Per argument leaf: the output whose slot its buffer fills, or -1. Set at the first compiled call. */
  #slots: Int32Array | undefined;
  /** Per output: an array for the runner to write into (a donated buffer), or undefined. */
  readonly #spare: Array<WritableTypedArray | undefined>;

  constructor(
    readonly closed: ClosedGraph,
    args: TreeDef,
    donate: readonly number[],
  ) {
    const perArg = args.kind === "array" ? args.children.map(treeLeafCount) : [];
    this.#donated = new Uint8Array(perArg.reduce((n, c) => n + c, 0));
    let at = 0;
    perArg.forEach((n, i) => {
      if (donate.includes(i)) this.#donated.fill(1, at, at + n);
      at += n;
    });
    this.#spare = closed.graph.outputs.map(() => undefined);
  }

  /** Runs the entry's runner, handing a compiled one the pooled arrays (each used at most once). */
  call(
    run: CompiledGraph | ((inputs: readonly Tensor[]) => readonly Tensor[]),
    inputs: readonly Tensor[],
  ): readonly Tensor[] {
    if (!("writesInto" in run)) return run(inputs);
    this.#slots ??= this.#assign(run.writesInto);
    const outs = run(inputs, this.#spare);
    this.#spare.fill(undefined);
    return outs;
  }

  /**
   * Gives up the donated leaves' buffers (see the file comment), pooling each for the output
   * assigned to its leaf when the entry's runner is compiled.
   */
  giveUp(leaves: readonly Tensor[], outs: readonly Tensor[]): void {
    const keep = new Set<ArrayBufferLike>();
    for (let i = 0; i < leaves.length; i++) if (this.#donated[i] === 0) keep.add(leaves[i]!.data.buffer);
    for (const o of outs) keep.add(o.data.buffer);
    const seen = new Set<ArrayBufferLike>();
    const given: number[] = [];
    const bufs: ArrayBuffer[] = [];
    for (let i = 0; i < leaves.length; i++) {
      if (this.#donated[i] === 0) continue;
      const data = leaves[i]!.data;
      const buf = data.buffer;
      if (seen.has(buf)) continue;
      seen.add(buf);
      if (keep.has(buf) || isHeld(buf)) continue;
      if (data.byteLength === 0 || data.byteOffset !== 0 || data.byteLength !== buf.byteLength) continue;
      if (!movable(buf)) continue;
      given.push(i);
      bufs.push(buf);
    }
    detachAll(bufs).forEach((moved, k) => {
      if (moved === undefined) return;
      const i = given[k]!;
      const slot = this.#slots?.[i] ?? -1;
      if (slot >= 0 && this.#spare[slot] === undefined) this.#spare[slot] = new BUFFER_CLASS[leaves[i]!.dtype](moved);
    });
  }

  /** Assigns each donated leaf an output of its dtype and size the runner writes into, same shape first. */
  #assign(writesInto: readonly boolean[]): Int32Array {
    const ins = this.closed.graph.inAvals.slice(this.closed.consts.length);
    const outs = this.closed.graph.outAvals;
    const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);
    const slots = new Int32Array(ins.length).fill(-1);
    const taken = writesInto.map((w, j) => !w || size(outs[j]!.shape) === 0);
    for (const sameShape of [true, false]) {
      ins.forEach((a, i) => {
        if (this.#donated[i] === 0 || slots[i] !== -1) return;
        const j = outs.findIndex(
          (o, k) =>
            !taken[k] &&
            o.dtype === a.dtype &&
            (sameShape ? o.shape.join() === a.shape.join() : size(o.shape) === size(a.shape)),
        );
        if (j < 0) return;
        slots[i] = j;
        taken[j] = true;
      });
    }
    return slots;
  }
}
