/**
 * @file Code for the non-elementwise nodes: matmul (transposes folded, batches as offsets),
 * reductions and concat (specialised kernels), and integer indexing (runtime kernels into
 * planned buffers, with the primitive's impl as the error path).
 */
import { broadcastStrides, viewOffsets } from "@rewind/tensor";
import type { Tensor } from "@rewind/tensor";
import { indexingPrimitives } from "../primitives/indexing.js";
import type { BlockEmitter } from "./block.js";
import { sizeOfShape, type Node, type VId } from "./ir.js";
import { genConcat, genReduce } from "./kernelgen.js";
import { int } from "./loopgen.js";
import { gatherShape, matrixLayout } from "./lowerOps.js";
import { addOff, type Loc } from "./scope.js";
import type { CumulativeDesc } from "./runtime.js";
import { rowSumKernel } from "./rowSum.js";
import { partsOf, rowMajor } from "./views.js";

/** A loop over q < count calling `call(offsets…)`, with offsets as progressions or tables. */
const batched = (
  em: BlockEmitter,
  count: number,
  offsets: readonly Int32Array[],
  call: (offs: readonly string[]) => string,
): void => {
  if (count === 1) {
    em.line(call(offsets.map((o) => String(o[0]!))));
    return;
  }
  const q = em.mod.fresh();
  const terms = offsets.map((o) => {
    const step = o[1]! - o[0]!;
    const even = o.every((x, i) => x === o[0]! + i * step);
    return even ? addOff(int(o[0]!), `${q} * ${int(step)}`) : `${em.mod.object(o)}[${q}]`;
  });
  em.line(`for (let ${q} = 0; ${q} < ${int(count)}; ${q}++) ${call(terms)}`);
};

/**
 * The packing slot for b when one packing serves several products: b is one matrix for every
 * product of the batch (a broadcast weight), or a constant of the enclosing scan's body (packed
 * before the loop, see `Hoist`). Undefined otherwise.
 */
const packedB = (em: BlockEmitter, root: VId, bOffsets: Int32Array, k: number, n: number): number | undefined => {
  const shared = bOffsets.every((o) => o === bOffsets[0]);
  if (!shared) return undefined;
  const invariant = em.io.hoist?.invariant.has(root) === true;
  return invariant || bOffsets.length > 1 ? em.mod.packSlot(k, n) : undefined;
};

/** Where a product's operand lies: its view of its root, the root's location, and whether it is stored transposed. */
const operandOf = (em: BlockEmitter, u: VId) => {
  const parts = partsOf(em.prog, u);
  return { parts, loc: em.rootLoc(parts.root), t: matrixLayout(parts.view.shape, parts.view.strides) === "t" };
};

/**
 * Batched matmul; an operand stored transposed is passed as such (transA/transB).
 * @example emitMatmul(emitter, node) // emits mm(...) calls
 */
export const emitMatmul = (em: BlockEmitter, n: Extract<Node, { kind: "matmul" }>): void => {
  const [a, b] = n.ins;
  const out = em.val(n.outs[0]);
  const rank = out.shape.length;
  const m = out.shape[rank - 2]!;
  const nn = out.shape[rank - 1]!;
  const k = em.val(a).shape[rank - 1]!;
  const batch = out.shape.slice(0, rank - 2);
  const count = sizeOfShape(batch);
  const lo = em.target(n.outs[0]);
  if (count * m * nn === 0) return;
  const { parts: pa, loc: la, t: tA } = operandOf(em, a);
  const { parts: pb, loc: lb, t: tB } = operandOf(em, b);
  const helper = k === 0 ? "mm" : em.mod.matmul(out.dtype, m, k, nn);
  const offsets = [
    viewOffsets(
      batch,
      batch.map((_, i) => m * nn * sizeOfShape(batch.slice(i + 1))),
      0,
    ),
    viewOffsets(batch, pa.view.strides.slice(0, rank - 2), pa.view.offset),
    viewOffsets(batch, pb.view.strides.slice(0, rank - 2), pb.view.offset),
  ];
  const slot = helper === "mma" ? packedB(em, pb.root, offsets[2]!, k, nn) : undefined;
  if (slot !== undefined) {
    const pack = `mmp(${slot}, ${lb.buf}, ${addOff(lb.off, int(offsets[2]![0]!))}, ${int(k)}, ${int(nn)}, ${tB});`;
    if (em.io.hoist?.invariant.has(pb.root) === true) em.io.hoist.lines.push(pack);
    else em.line(pack);
    batched(
      em,
      count,
      offsets.slice(0, 2),
      ([oo, ao]) =>
        `mmq(${lo.buf}, ${addOff(lo.off, oo!)}, ${la.buf}, ${addOff(la.off, ao!)}, ${slot}, ` +
        `${int(m)}, ${int(k)}, ${int(nn)}, ${tA});`,
    );
    return;
  }
  batched(
    em,
    count,
    offsets,
    // Positional arguments, not a descriptor object: this call runs once per product, per step
    // inside scans, and an object per call measurably slows the small products of batch-1 RNNs.
    ([oo, ao, bo]) =>
      `${helper}(${lo.buf}, ${addOff(lo.off, oo!)}, ${la.buf}, ${addOff(la.off, ao!)}, ` +
      `${lb.buf}, ${addOff(lb.off, bo!)}, ${int(m)}, ${int(k)}, ${int(nn)}, ${tA}, ${tB});`,
  );
};

/**
 * Two float32 products of one a (made by pairProducts.ts): one `mm2` call, which packs each k
 * block of op(a) once for both.
 * @example emitMatmulPair(emitter, node) // emits mm2(...)
 */
export const emitMatmulPair = (em: BlockEmitter, n: Extract<Node, { kind: "matmulPair" }>): void => {
  const [c1, c2] = n.outs.map((o) => em.target(o)) as [Loc, Loc];
  const [m, n1] = em.val(n.outs[0]).shape as [number, number];
  const n2 = em.val(n.outs[1]).shape[1]!;
  const k = em.val(n.ins[0]).shape[1]!;
  em.mod.matmulPair(m, k, n1, n2);
  const [a, b1, b2] = n.ins.map((u) => {
    const { parts, loc, t } = operandOf(em, u);
    return { at: `${loc.buf}, ${addOff(loc.off, int(parts.view.offset))}`, t };
  }) as [Operand, Operand, Operand];
  em.line(
    `mm2(${c1.buf}, ${c1.off}, ${c2.buf}, ${c2.off}, ${a.at}, ${b1.at}, ${b2.at}, ` +
      `${int(m)}, ${int(k)}, ${int(n1)}, ${int(n2)}, ${a.t}, ${b1.t}, ${b2.t});`,
  );
};

/** An operand of `mm2`: its buffer and offset, and whether it is stored transposed. */
interface Operand {
  readonly at: string;
  readonly t: boolean;
}

/**
 * A reduction kernel reading the input's strided view.
 * @example emitReduce(emitter, node) // emits one kernel call
 */
export const emitReduce = (em: BlockEmitter, n: Extract<Node, { kind: "reduce" }>): void => {
  const p = partsOf(em.prog, n.ins[0]);
  const x = em.rootLoc(p.root);
  const o = em.target(n.outs[0]);
  const k = genReduce(n.op, p.view, n.axes, em.val(n.ins[0]).dtype);
  const rows = k.rows;
  const name =
    rows !== undefined && em.mod.simd && rows.n % 4 === 0
      ? rowSumKernel(em.mod, rows.n, rows.count, rows.stride, rows.start, em.mod.kernel(k.text))
      : em.mod.kernel(k.text);
  const tables = k.tables.map((t) => em.mod.object(t));
  em.line(`${name}(${[o.buf, o.off, x.buf, x.off, ...tables].join(", ")});`);
};

/** On a bad index the runtime kernel writes nothing; the impl then throws the tensor error. */
const failWith = (em: BlockEmitter, n: Extract<Node, { kind: "index" }>): string => {
  const prim = indexingPrimitives[n.op];
  const params = { axis: n.axis };
  return em.mod.object((ins: readonly Tensor[]) => {
    prim.impl(ins, params);
    throw new Error(`Rewind internal error: ${n.op} accepted indices the compiled kernel rejects`);
  });
};

/**
 * concat and the integer-indexing family.
 * @example emitIndex(emitter, node) // emits one kernel or helper call
 */
export const emitIndex = (em: BlockEmitter, n: Extract<Node, { kind: "concat" | "index" }>): void => {
  const out = em.val(n.outs[0]);
  const o = em.target(n.outs[0]);
  const ins = n.ins.map((u) => em.loc(u));
  if (n.kind === "concat") {
    const shape = em.val(n.ins[0]!).shape;
    const outer = sizeOfShape(shape.slice(0, n.axis));
    const inner = sizeOfShape(shape.slice(n.axis + 1));
    const chunks = n.ins.map((u) => em.val(u).shape[n.axis]! * inner);
    const name = em.mod.kernel(genConcat(outer, chunks, out.dtype));
    em.line(`${name}(${[o.buf, o.off, ...ins.flatMap((l) => [l.buf, l.off])].join(", ")});`);
    return;
  }
  const [x, idx] = n.ins.map((u) => em.val(u));
  const [lx, li, lv] = ins;
  const a = n.axis;
  const args = [o.buf, o.off, lx!.buf, lx!.off, li!.buf, li!.off];
  let call: string;
  const op: "take" | "addAt" | "gather" | "addAlongAxis" = n.op; // a new IndexOp fails to compile here
  if (op === "take" || op === "addAt") {
    const dims = [
      int(idx!.size),
      int(sizeOfShape(x!.shape.slice(0, a))),
      int(x!.shape[a]!),
      int(sizeOfShape(x!.shape.slice(a + 1))),
    ];
    call =
      n.op === "take"
        ? `takeInto(${[...args, ...dims].join(", ")})`
        : `addAtInto(${[...args, lv!.buf, lv!.off, ...dims].join(", ")})`;
  } else {
    const outShape = gatherShape(x!.shape, idx!.shape, a)!;
    const strides = rowMajor(x!.shape);
    const xStrides = x!.shape.map((d, i) => (i === a || d === 1 ? 0 : strides[i]!));
    const base = em.mod.object(viewOffsets(outShape, xStrides, 0));
    const which = em.mod.object(viewOffsets(outShape, broadcastStrides(idx!.shape, outShape), 0));
    const tail = [base, which, int(strides[a]!), int(x!.shape[a]!)];
    call =
      n.op === "gather"
        ? `gatherInto(${[...args, int(idx!.size), ...tail].join(", ")})`
        : `addAlongInto(${[...args, int(idx!.size), lv!.buf, lv!.off, ...tail, int(x!.size)].join(", ")})`;
  }
  const tensors = n.ins.map((u, i) => `tensorAt(${em.desc(u)}, ${ins[i]!.buf}, ${ins[i]!.off})`);
  em.line(`if (!${call}) ${failWith(em, n)}([${tensors.join(", ")}]);`);
};

/**
 * A cumulative primitive or linearScan: the tensor kernel, writing into the output's buffer.
 * @example emitCumulative(emitter, node) // cumInto(D3, B2, 0, B1, 0);
 */
export const emitCumulative = (em: BlockEmitter, n: Extract<Node, { kind: "cumulative" }>): void => {
  const out = em.val(n.outs[0]);
  const o = em.target(n.outs[0]);
  const desc: CumulativeDesc = {
    op: n.op,
    shape: out.shape,
    size: out.size,
    axis: n.axis,
    reverse: n.reverse,
    dtype: out.dtype,
  };
  const ins = n.ins.flatMap((u) => {
    const l = em.loc(u);
    return [l.buf, l.off];
  });
  em.line(`cumInto(${[em.mod.object(desc), o.buf, o.off, ...ins].join(", ")});`);
};
