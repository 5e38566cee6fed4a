/**
 * @file Lowering of the non-elementwise primitives the compiler runs itself: matmul, reductions,
 * integer indexing and scan. Each checks that its tensor kernel would return exactly the aval the
 * graph expects (dtype, shape, no error); anything else falls back to the primitive's impl, so an
 * odd case keeps the interpreter's behaviour, errors included.
 */
import * as T from "@rewind/tensor";
import type { Eqn, Graph } from "../Graph.js";
import type { AxesParams, AxisParams } from "../primitives/reduce.js";
import type { IndexAxisParams } from "../primitives/indexing.js";
import type { ScanParams } from "../scan/params.js";
import type { IndexOp, Node, ReduceOp, VId } from "./ir.js";
import type { Lowering } from "./lower.js";
import { broadcastView } from "./views.js";

/** A rank-0 zero of each dtype (the start of every matmul accumulation). */
const ZERO: Readonly<Record<T.DType, T.Tensor>> = {
  float32: T.fromBuffer("float32", [], T.allocate("float32", 1)),
  float64: T.fromBuffer("float64", [], T.allocate("float64", 1)),
  int32: T.fromBuffer("int32", [], T.allocate("int32", 1)),
  bool: T.fromBuffer("bool", [], T.allocate("bool", 1)),
};

/**
 * How a matmul operand's last two axes lie in storage: packed row-major ("n"), packed
 * column-major ("t", a transpose the kernel folds in), or neither.
 * @example matrixLayout([2, 3], [1, 2]) // "t"
 */
export const matrixLayout = (shape: readonly number[], strides: readonly number[]): "n" | "t" | undefined => {
  const r = shape[shape.length - 2]!;
  const c = shape[shape.length - 1]!;
  const sr = strides[strides.length - 2]!;
  const sc = strides[strides.length - 1]!;
  if ((r <= 1 || sr === c) && (c <= 1 || sc === 1)) return "n";
  if ((r <= 1 || sr === 1) && (c <= 1 || sc === r)) return "t";
  return undefined;
};

/**
 * matmul: operands may be views whose matrices are packed, transposed or not (batch axes any).
 * @example lowerMatmul(lowering, eqn, ins, nodes) // [out]
 */
export const lowerMatmul = (l: Lowering, eqn: Eqn, ins: readonly VId[], nodes: Node[]): VId[] => {
  const dtype = l.val(ins[0]!).dtype;
  if (dtype === "bool" || l.val(ins[1]!).dtype !== dtype || eqn.outputs[0]!.aval.dtype !== dtype)
    return l.fallback(eqn, ins, nodes);
  const outShape = eqn.outputs[0]!.aval.shape;
  if (l.val(ins[0]!).shape.at(-1) === 1) {
    // k = 1: every kernel computes out = 0 + a·b per element (rounded like mul and add), an
    // outer product that fuses with its consumers instead of running as a matmul.
    const spread = (id: VId): VId => {
      const u = l.unguarded(id, nodes);
      const { root, view } = l.parts(u);
      return l.view(dtype, outShape, root, broadcastView(view, outShape));
    };
    const prod = l.root(dtype, outShape);
    nodes.push({ kind: "ew", op: "mul", ins: [spread(ins[0]!), spread(ins[1]!)], outs: [prod] });
    const out = l.root(dtype, outShape);
    nodes.push({ kind: "ew", op: "add", ins: [prod, l.literal(ZERO[dtype])], outs: [out] });
    return [out];
  }
  const operand = (id: VId): VId => {
    const u = l.unguarded(id, nodes);
    const { view } = l.parts(u);
    return matrixLayout(view.shape, view.strides) === undefined ? l.materialize(u, nodes) : u;
  };
  const a = operand(ins[0]!);
  const b = operand(ins[1]!);
  const out = l.root(dtype, eqn.outputs[0]!.aval.shape);
  nodes.push({ kind: "matmul", ins: [a, b], outs: [out] });
  return [out];
};

/**
 * Reductions: the kernel's dtype rules, and no empty max/min/arg (their kernels throw).
 * @example lowerReduce(lowering, eqn, ins, nodes) // [out]
 */
export const lowerReduce = (l: Lowering, eqn: Eqn, ins: readonly VId[], nodes: Node[]): VId[] => {
  const op = eqn.prim.name as ReduceOp;
  const x = l.val(ins[0]!);
  const rank = x.shape.length;
  const raw = op === "argmax" || op === "argmin" ? [(eqn.params as AxisParams).axis] : (eqn.params as AxesParams).axes;
  const axes = raw.map((a) => (a < 0 ? a + rank : a));
  const valid = axes.every((a) => Number.isInteger(a) && a >= 0 && a < rank) && new Set(axes).size === axes.length;
  const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
  const expected =
    op === "argmax" || op === "argmin"
      ? "int32"
      : (op === "sum" || op === "prod") && x.dtype === "bool"
        ? "int32"
        : x.dtype;
  const outAval = eqn.outputs[0]!.aval;
  const empty = count === 0 && op !== "sum" && op !== "prod";
  if (!valid || empty || expected !== outAval.dtype) return l.fallback(eqn, ins, nodes);
  const input = l.unguarded(ins[0]!, nodes);
  const sorted = [...axes].sort((p, q) => p - q);
  const { root, view } = l.parts(input);
  const viewKey = `${view.shape.join(",")}/${view.strides.join(",")}+${view.offset}`;
  const key = `reduce ${op} ${sorted.join(",")} of ${root} ${viewKey}`;
  return [
    l.reuse(nodes, key, () => {
      const out = l.root(outAval.dtype, outAval.shape);
      nodes.push({ kind: "reduce", op, axes: sorted, ins: [input], outs: [out] });
      return out;
    }),
  ];
};

/**
 * The output shape of gather (take_along_axis) for these shapes, or undefined where the tensor
 * kernel would throw (rank mismatch, axes that do not broadcast).
 * @example gatherShape([2, 3], [2, 1], 1) // [2, 1]
 */
export const gatherShape = (x: readonly number[], idx: readonly number[], axis: number): number[] | undefined => {
  if (idx.length !== x.length) return undefined;
  const out = idx.map((d, i) => (i === axis ? d : x[i] === 1 ? d : d === 1 ? x[i]! : d));
  return out.some((d, i) => i !== axis && d !== x[i] && x[i] !== 1) ? undefined : out;
};

/**
 * take / gather and their scatter-add transposes; int32 indices, no bool accumulation.
 * @example lowerIndex(lowering, eqn, ins, nodes) // [out]
 */
export const lowerIndex = (l: Lowering, eqn: Eqn, ins: readonly VId[], nodes: Node[]): VId[] => {
  // Spelled out so that a new indexing primitive (a new IndexOp) fails to compile here.
  const op: "take" | "gather" | "addAt" | "addAlongAxis" = eqn.prim.name as IndexOp;
  const axis = (eqn.params as IndexAxisParams).axis;
  const x = l.val(ins[0]!);
  const idx = l.val(ins[1]!);
  const outAval = eqn.outputs[0]!.aval;
  let ok =
    idx.dtype === "int32" && outAval.dtype === x.dtype && Number.isInteger(axis) && axis >= 0 && axis < x.shape.length;
  if (ok) {
    const taken = [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)];
    const gathered = gatherShape(x.shape, idx.shape, axis);
    if (op === "take") ok = T.shapesEqual(taken, outAval.shape);
    else if (op === "gather") ok = gathered !== undefined && T.shapesEqual(gathered, outAval.shape);
    else {
      const values = l.val(ins[2]!);
      const want = op === "addAt" ? taken : gathered;
      ok =
        x.dtype !== "bool" &&
        T.promoteTypes(x.dtype, values.dtype) === x.dtype &&
        want !== undefined &&
        T.shapesEqual(want, values.shape);
    }
  }
  if (!ok) return l.fallback(eqn, ins, nodes);
  const out = l.root(outAval.dtype, outAval.shape);
  nodes.push({ kind: "index", op, axis, ins: ins.map((i) => l.contiguous(i, nodes)), outs: [out] });
  return [out];
};

/**
 * Whether the body's input `i` is read only as the right operand of matmuls (an RNN's transposed
 * recurrent weight, `h · Wᵀ`), and is not an output of the body.
 */
const onlyMatmulRight = (body: Graph, i: number): boolean => {
  const input = body.inputs[i]!;
  if (body.outputs.includes(input)) return false;
  return body.eqns.every(
    (e) => !e.inputs.includes(input) || (e.prim.name === "matmul" && e.inputs[0] !== input && e.inputs[1] === input),
  );
};

/**
 * What the body of a scan reads for each graph input, and the parent values passed to it.
 * Carries and xs are passed as contiguous values. A constant that is a broadcast (a bias spread
 * over the batch) is not materialised: the value it broadcasts is passed and the body reads it
 * with stride 0; compile-time constants need no passing at all. Neither is a transposed matrix
 * that the body only multiplies by on the right (`h · Wᵀ`): its products pack it once before the
 * loop (`packedB`), transposing as they pack, so a copy would only be packed again. Other views
 * of constants are copied once before the loop: the body reuses them every step.
 */
const scanInputs = (l: Lowering, ins: readonly VId[], body: Graph, nc: number, nodes: Node[]) => {
  const avals = body.inAvals;
  const reads: VId[] = [];
  const passed: VId[] = [];
  const bodyInputs: VId[] = [];
  const captured = new Map<VId, VId>();
  const pass = (parent: VId): VId => {
    let inner = captured.get(parent);
    if (inner === undefined) {
      const v = l.val(parent);
      inner = l.root(v.dtype, v.shape);
      captured.set(parent, inner);
      passed.push(parent);
      bodyInputs.push(inner);
    }
    return inner;
  };
  ins.forEach((u, i) => {
    const v = l.val(u);
    // A constant passed as the view it is: a broadcast, or a transpose only multiplied by (the
    // body's walk asked last, of constants only).
    const asView =
      i < nc &&
      v.def.kind === "view" &&
      v.def.guard === undefined &&
      (v.def.view.strides.some((st, a) => st === 0 && v.shape[a]! > 1) ||
        (v.shape.length === 2 && matrixLayout(v.shape, v.def.view.strides) === "t" && onlyMatmulRight(body, i)));
    if (i < nc && l.isConstish(u)) reads.push(u);
    else if (asView && v.def.kind === "view") {
      const root = pass(v.def.root);
      reads.push(l.view(v.dtype, v.shape, root, v.def.view));
    } else {
      // Carries and xs get inputs of their own even when equal to another input (each is one slot).
      const stored = l.contiguous(u, nodes);
      const inner = l.root(v.dtype, avals[i]!.shape);
      if (i < nc) captured.set(stored, inner);
      passed.push(stored);
      bodyInputs.push(inner);
      reads.push(inner);
    }
  });
  return { reads, passed, bodyInputs, numConsts: passed.length - (ins.length - nc) };
};

/**
 * scan: the body becomes a nested block. A carry returned unchanged is an alias of its init,
 * and a scan of length 0 is its inits and empty ys, so neither needs a loop.
 * @example lowerScan(lowering, eqn, ins, nodes) // [carries…, ys…]
 */
export const lowerScan = (l: Lowering, eqn: Eqn, ins: readonly VId[], nodes: Node[]): VId[] => {
  const p = eqn.params as ScanParams;
  const nc = p.numConsts;
  const nk = p.numCarry;
  const outAvals = eqn.outputs.map((v) => v.aval);
  if (p.length === 0) {
    return outAvals.map((a, j) =>
      j < nk ? l.contiguous(ins[nc + j]!, nodes) : l.constant(T.fromBuffer(a.dtype, a.shape, T.allocate(a.dtype, 0))),
    );
  }
  const io = scanInputs(l, ins, p.body, nc, nodes);
  const bodyNodes: Node[] = [];
  const outs = l.run(p.body, io.reads, bodyNodes);
  if (outs.some((o) => l.isTainted(o))) return l.fallback(eqn, ins, nodes);
  const body = { inputs: io.bodyInputs, nodes: bodyNodes, outputs: outs };
  const passedAt = (i: number): VId => io.passed[io.numConsts + (i - nc)]!;
  const carryOut = Array.from({ length: nk }, (_, k) =>
    outs[k] === io.reads[nc + k] ? null : l.root(outAvals[k]!.dtype, outAvals[k]!.shape),
  );
  // A y that is the step's x row stacks back into xs itself; a y that is a constant is its broadcast.
  const same = outAvals.slice(nk).map((a, j): VId | undefined => {
    const i = io.reads.indexOf(outs[nk + j]!);
    if (i >= nc + nk) return passedAt(i);
    if (i >= 0 && i < nc) {
      const { root, view } = l.parts(l.unguarded(ins[i]!, nodes));
      return l.view(a.dtype, a.shape, root, broadcastView(view, a.shape));
    }
    return undefined;
  });
  const ysOut: Array<VId | null> = outAvals
    .slice(nk)
    .map((a, j) => (same[j] === undefined ? l.root(a.dtype, a.shape) : null));
  nodes.push({
    kind: "scan",
    ins: io.passed,
    outs: [...carryOut.filter((c): c is VId => c !== null), ...ysOut.filter((y): y is VId => y !== null)],
    body,
    numConsts: io.numConsts,
    numCarry: nk,
    length: p.length,
    reverse: p.reverse,
    carryOut,
    ysOut,
  });
  return [...carryOut.map((c, k) => c ?? passedAt(nc + k)), ...ysOut.map((y, j) => y ?? same[j]!)];
};
