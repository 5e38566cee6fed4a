/**
 * @file Lowering: a `Graph` becomes a `Block` of the compiler's IR.
 *
 * - Movement primitives become views (no node); reshape of an evenly strided view, stopGradient,
 *   a `convert` to the same dtype and rounding of int32 become aliases (the same value).
 * - remat and customVjp are inlined: without differentiation both are their body.
 * - Equations whose inputs are all compile-time constants are evaluated once, here, with the
 *   primitive's own impl (so the constant is bit-identical to what the interpreter computes).
 * - Consumers that need contiguous storage get an explicit `copy` node for a non-contiguous view
 *   (or, for a view of a constant, a constant evaluated now).
 * - Anything the compiler does not handle becomes a `fallback` node calling the primitive's impl.
 */
import type { Tensor } from "@rewind/tensor";
import { DETACHED_FIX, detachedTensorProblem } from "@rewind/tensor/internal/check";
import { graphFail } from "../errors.js";
import type { Atom, Eqn, Graph } from "../Graph.js";
import type {
  PadParams,
  PermParams,
  ShapeParams,
  UnsliceParams,
  WindowParams,
  AxesListParams,
  DTypeParams,
} from "../primitives/shape.js";
import { ewOps } from "./ewOps.js";
import { isBuiltIn, routeOf, type FusedName, type MovementName } from "./routes.js";
import {
  addVal,
  sizeOfShape,
  valOf,
  type Block,
  type Guard,
  type Node,
  type Program,
  type StridedView,
  type VId,
} from "./ir.js";
import { lowerIndex, lowerMatmul, lowerReduce, lowerScan } from "./lowerOps.js";
import {
  broadcastView,
  evalView,
  flipView,
  identityView,
  isContiguous,
  partsOf,
  reshapeView,
  sliceView,
  storedFill,
  transposeView,
  windowGuard,
  type Parts,
} from "./views.js";

/** Elementwise folds larger than this stay in the program (they would bloat memory for little gain). */
const FOLD_LIMIT = 1 << 16;

/**
 * Lowers graphs into one program; keeps the per-compilation caches.
 * @example const l = new Lowering(); const block = l.block(graph); l.prog.vals.length
 */
export class Lowering {
  readonly prog: Program = { vals: [] };
  readonly #materialized = new Map<VId, VId>();
  /**
   * Outputs of known primitives run through their impl: their real dtype may differ from the
   * aval (bool arithmetic computes in int32), so everything reading them runs through impls too,
   * exactly as the interpreter would.
   */
  readonly #tainted = new Set<VId>();
  readonly #literals = new Map<Tensor, VId>();
  readonly #reused = new WeakMap<Node[], Map<string, VId>>();

  /**
   * The value `key` names in this block's `nodes`, computed by `make` the first time. For pure
   * nodes whose key says everything they read (e.g. one reduction of one view), so a second
   * request, such as the two bias gradients of an LSTM summing one stacked cotangent, reuses it.
   */
  reuse(nodes: Node[], key: string, make: () => VId): VId {
    let seen = this.#reused.get(nodes);
    if (seen === undefined) this.#reused.set(nodes, (seen = new Map<string, VId>()));
    const known = seen.get(key);
    if (known !== undefined) return known;
    const made = make();
    seen.set(key, made);
    return made;
  }

  /** A block for `graph` with fresh input values. */
  block(graph: Graph): Block {
    const inputs = graph.inputs.map((v) => addVal(this.prog, v.aval.dtype, v.aval.shape, { kind: "root" }));
    const nodes: Node[] = [];
    const outputs = this.run(graph, inputs, nodes);
    return { inputs, nodes, outputs };
  }

  /** Lowers the equations of `graph` reading `inputs`, appending to `nodes`; returns its outputs. */
  run(graph: Graph, inputs: readonly VId[], nodes: Node[]): VId[] {
    const env = new Map<number, VId>();
    graph.inputs.forEach((v, i) => env.set(v.id, inputs[i]!));
    const read = (a: Atom): VId => (a._tag === "Literal" ? this.literal(a.value) : env.get(a.id)!);
    for (const eqn of graph.eqns) {
      const outs = this.eqn(eqn, eqn.inputs.map(read), nodes);
      eqn.outputs.forEach((v, i) => env.set(v.id, outs[i]!));
    }
    return graph.outputs.map(read);
  }

  val(id: VId) {
    return valOf(this.prog, id);
  }

  /** A new root value of this aval. */
  root(dtype: Tensor["dtype"], shape: readonly number[]): VId {
    return addVal(this.prog, dtype, shape, { kind: "root" });
  }

  constant(t: Tensor): VId {
    // A constant whose buffer was donated to another jitted call reads as empty: refuse, not NaN.
    const gone = detachedTensorProblem(t);
    if (gone !== undefined)
      graphFail({
        _tag: "InvalidArgument",
        op: "compileGraph",
        arg: "graph",
        detail: `a constant is ${gone}`,
        fix: DETACHED_FIX,
      });
    return addVal(this.prog, t.dtype, t.shape, { kind: "const", tensor: t });
  }

  literal(t: Tensor): VId {
    let id = this.#literals.get(t);
    if (id === undefined) this.#literals.set(t, (id = this.constant(t)));
    return id;
  }

  parts(id: VId): Parts {
    return partsOf(this.prog, id);
  }

  isConstish(id: VId): boolean {
    return this.val(this.parts(id).root).def.kind === "const";
  }

  /** The value of a constant (or a view of one), evaluated now. */
  constTensor(id: VId): Tensor {
    const v = this.val(id);
    if (v.def.kind === "const") return v.def.tensor;
    const p = this.parts(id);
    const root = this.val(p.root).def as { tensor: Tensor };
    return evalView(root.tensor, p.view, p.guard, v.shape, v.dtype);
  }

  /** A view value over `root`, or `root` itself when the view is the whole of it. */
  view(dtype: Tensor["dtype"], shape: readonly number[], root: VId, view: StridedView, guard?: Guard): VId {
    const r = this.val(root);
    const whole =
      guard === undefined &&
      view.offset === 0 &&
      isContiguous(view) &&
      sizeOfShape(shape) === r.size &&
      shape.length === r.shape.length &&
      shape.every((d, i) => d === r.shape[i]);
    if (whole) return root;
    return addVal(this.prog, dtype, shape, { kind: "view", root, view, ...(guard === undefined ? {} : { guard }) });
  }

  /** `id` as contiguous storage: itself, or a copy node (a constant for views of constants). */
  contiguous(id: VId, nodes: Node[]): VId {
    const v = this.val(id);
    if (v.def.kind !== "view" || (v.def.guard === undefined && isContiguous(v.def.view))) return id;
    return this.materialize(id, nodes);
  }

  /** `id` readable by strided index arithmetic (no guard). */
  unguarded(id: VId, nodes: Node[]): VId {
    const v = this.val(id);
    return v.def.kind === "view" && v.def.guard !== undefined ? this.materialize(id, nodes) : id;
  }

  materialize(id: VId, nodes: Node[]): VId {
    const hit = this.#materialized.get(id);
    if (hit !== undefined) return hit;
    const v = this.val(id);
    let m: VId;
    if (this.isConstish(id)) m = this.constant(this.constTensor(id));
    else {
      m = this.root(v.dtype, v.shape);
      nodes.push({ kind: "ew", op: "copy", ins: [id], outs: [m] });
    }
    this.#materialized.set(id, m);
    return m;
  }

  isTainted(id: VId): boolean {
    return this.#tainted.has(this.parts(id).root);
  }

  /** A node calling the primitive's impl (its outputs are tainted: their dtypes come from the impl). */
  fallback(eqn: Eqn, ins: readonly VId[], nodes: Node[]): VId[] {
    const outs = eqn.outputs.map((v) => this.root(v.aval.dtype, v.aval.shape));
    if (isBuiltIn(eqn.prim)) outs.forEach((o) => this.#tainted.add(o));
    nodes.push({
      kind: "fallback",
      prim: eqn.prim,
      params: eqn.params,
      ins: ins.map((i) => this.contiguous(i, nodes)),
      outs,
    });
    return outs;
  }

  /** Evaluates an equation of constants now; undefined when its impl throws or disagrees with the avals. */
  #fold(eqn: Eqn, ins: readonly VId[]): VId[] | undefined {
    try {
      const outs = eqn.prim.impl(
        ins.map((i) => this.constTensor(i)),
        eqn.params,
      );
      const ok =
        outs.length === eqn.outputs.length &&
        outs.every((t, i) => {
          const a = eqn.outputs[i]!.aval;
          return t.dtype === a.dtype && t.shape.length === a.shape.length && t.shape.every((d, j) => d === a.shape[j]);
        });
      return ok ? outs.map((t) => this.constant(t)) : undefined;
    } catch {
      return undefined;
    }
  }

  eqn(eqn: Eqn, ins: readonly VId[], nodes: Node[]): readonly VId[] {
    const prim = eqn.prim;
    if (!isBuiltIn(prim) || ins.some((i) => this.isTainted(i))) return this.fallback(eqn, ins, nodes);
    const name = prim.name;
    const route = routeOf(name);
    // Views of constants stay views (an elementwise loop reads a broadcast scalar for free).
    if (route === "view") return [this.#movement(name as MovementName, eqn, ins, nodes)];
    const foldable = route !== "scan" && route !== "inline";
    if (foldable && ins.every((i) => this.isConstish(i))) {
      const outSize = eqn.outputs.reduce((n, v) => n + sizeOfShape(v.aval.shape), 0);
      const folded = outSize <= FOLD_LIMIT || route !== "elementwise" ? this.#fold(eqn, ins) : undefined;
      if (folded !== undefined) return folded;
    }
    const x = ins[0]!;
    const xv = this.val(x);
    switch (route) {
      case "alias":
        return [x];
      case "inline":
        return this.run((eqn.params as { body: Graph }).body, ins, nodes);
      case "scan":
        return lowerScan(this, eqn, ins, nodes);
      case "matmul":
        return lowerMatmul(this, eqn, ins, nodes);
      case "reduce":
        return lowerReduce(this, eqn, ins, nodes);
      case "index":
        return lowerIndex(this, eqn, ins, nodes);
      case "fallback":
        return this.fallback(eqn, ins, nodes);
      case "kernel": {
        // The tensor kernel writes into the output's planned buffer: a fresh array per call (the
        // impl's) costs its page faults on every call.
        const out = this.root(eqn.outputs[0]!.aval.dtype, eqn.outputs[0]!.aval.shape);
        const { axis, reverse } = eqn.params as { axis: number; reverse: boolean };
        const op = name as Extract<Node, { kind: "cumulative" }>["op"];
        nodes.push({
          kind: "cumulative",
          op,
          axis,
          reverse,
          ins: ins.map((i) => this.contiguous(i, nodes)),
          outs: [out],
        });
        return [out];
      }
      case "concat": {
        if (ins.length === 1) return [x];
        const out = this.root(xv.dtype, eqn.outputs[0]!.aval.shape);
        nodes.push({
          kind: "concat",
          axis: (eqn.params as { axis: number }).axis,
          ins: ins.map((i) => this.contiguous(i, nodes)),
          outs: [out],
        });
        return [out];
      }
      case "elementwise":
        return this.#elementwise(name as FusedName, eqn, ins, nodes);
    }
  }

  /** An elementwise primitive: an `ew` node when the compiler computes exactly the kernel's dtype. */
  #elementwise(name: FusedName, eqn: Eqn, ins: readonly VId[], nodes: Node[]): readonly VId[] {
    const op = ewOps[name];
    const xv = this.val(ins[0]!);
    const param = name === "convert" ? (eqn.params as DTypeParams).dtype : undefined;
    // Kernels that return their input unchanged: same-dtype casts, rounding an int32.
    if (
      (name === "convert" && param === xv.dtype) ||
      ((name === "floor" || name === "ceil" || name === "round") && xv.dtype === "int32")
    )
      return [ins[0]!];
    const outAval = eqn.outputs[0]!.aval;
    const inDtypes = ins.map((i) => this.val(i).dtype);
    if (op.result(inDtypes, param) !== outAval.dtype) return this.fallback(eqn, ins, nodes);
    const out = this.root(outAval.dtype, outAval.shape);
    nodes.push({ kind: "ew", op: name, ...(param === undefined ? {} : { param }), ins, outs: [out] });
    return [out];
  }

  /** A movement primitive as a view. */
  #movement(name: MovementName, eqn: Eqn, ins: readonly VId[], nodes: Node[]): VId {
    // A guarded view composes with nothing: store it first.
    const x = this.unguarded(ins[0]!, nodes);
    const xv = this.val(x);
    const { root, view } = this.parts(x);
    const out = eqn.outputs[0]!.aval.shape;
    const mk = (v: StridedView, guard?: Guard) => this.view(xv.dtype, out, root, v, guard);
    switch (name) {
      case "broadcastTo":
        return mk(broadcastView(view, (eqn.params as ShapeParams).shape));
      case "transpose":
        return mk(transposeView(view, (eqn.params as PermParams).perm));
      case "slice": {
        const w = eqn.params as WindowParams;
        return mk(sliceView(view, w.start, w.step, w.size));
      }
      case "flip":
        return mk(flipView(view, (eqn.params as AxesListParams).axes));
      case "reshape": {
        const r = reshapeView(view, out);
        if (r !== undefined) return mk(r);
        const stored = this.materialize(x, nodes);
        return this.view(xv.dtype, out, stored, identityView(out));
      }
      case "unslice": {
        const p = eqn.params as UnsliceParams;
        return mk(view, windowGuard(p.start, p.step, 0));
      }
      case "pad": {
        const p = eqn.params as PadParams;
        return mk(
          view,
          windowGuard(
            p.widths.map(([lo]) => lo),
            p.widths.map(() => 1),
            storedFill(xv.dtype, p.value),
          ),
        );
      }
    }
  }
}
