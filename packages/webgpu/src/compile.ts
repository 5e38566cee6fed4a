/**
 * @file Lowering a traced graph (after jit's passes) to a `Program`, equation by equation,
 * through the lowering table. float64 is refused here, naming the primitive.
 */
import type { Atom, Aval, ClosedGraph, Eqn, Graph } from "@rewind/autodiff";
import { gpuFail } from "./errors.js";
import { isSlot, prune, type Operand, type Program, type Step } from "./program.js";
import { fusedKernel, isNode, leavesOf, MAX_LEAVES, type FuseNode } from "./fuse.js";
import type { Fusible, LowerContext, Lowering, LoweringTable } from "./types.js";
import { grid, literal, sizeOf, type KernelInput } from "./wgsl/common.js";

/** Refuses a float64 value produced by an equation. */
const checkDtype = (eqn: Eqn, aval: Aval): void => {
  if (aval.dtype === "float64")
    gpuFail(
      "jit (webgpu)",
      `primitive ${eqn.prim.name}`,
      `the primitive ${eqn.prim.name} produces float64 [${aval.shape.join(", ")}], and WebGPU computes in float32 only`,
      'compute in float32 (astype(x, "float32"), float32 constants), or use the CPU jit (jit(f) without backend)',
    );
};

/** How many equations (and outputs) read each variable of `graph`. */
const useCounts = (graph: Graph): Map<number, number> => {
  const uses = new Map<number, number>();
  const use = (a: Atom) => {
    if (a._tag === "Var") uses.set(a.id, (uses.get(a.id) ?? 0) + 1);
  };
  for (const eqn of graph.eqns) eqn.inputs.forEach(use);
  graph.outputs.forEach(use);
  return uses;
};

/**
 * Compiles `closed` with `table`; elementwise chains are fused into one kernel unless `fusing` is
 * false (every equation its own kernel).
 * @example compileProgram(table, makeGraph(f, { optimize: true })(x)).steps.length
 */
export const compileProgram = (table: LoweringTable, closed: Pick<ClosedGraph, "graph">, fusing = true): Program => {
  const slots: Aval[] = [];
  const steps: Step[] = [];
  const producers = new Map<number, { eqn: Eqn; ins: readonly Operand[] }>();
  let current = "";
  const fresh = (aval: Aval): Operand => ({ slot: slots.push(aval) - 1, aval });
  const launch: LowerContext["launch"] = (reads, writes, gen, groups) => {
    let b = 0;
    const inputs: KernelInput[] = reads.map((r) =>
      isSlot(r)
        ? { name: `in${b++}`, dtype: r.aval.dtype, shape: r.aval.shape }
        : { lit: literal(r.literal.data[0]!, r.aval.dtype), dtype: r.aval.dtype, shape: r.aval.shape },
    );
    if (sizeOf(writes[0]!.aval.shape) === 0) return;
    steps.push({
      kind: "kernel",
      prim: current,
      wgsl: gen(inputs),
      reads: reads.filter(isSlot).map((r) => r.slot),
      writes: writes.map((w) => w.slot!),
      groups: groups ?? grid(sizeOf(writes[0]!.aval.shape)),
    });
  };
  /** Computes a fused tree into a buffer (one kernel). */
  const materialize = (node: FuseNode): Operand => {
    const leaves = leavesOf(node);
    const out = fresh(node.aval);
    const label = current;
    current = node.name;
    launch(leaves, [out], (inputs) => fusedKernel(node, leaves, inputs));
    current = label;
    return out;
  };
  const solid = (x: FuseNode | Operand): Operand => (isNode(x) ? materialize(x) : x);
  const lowerGraph = (graph: Graph, ins: readonly Operand[]): readonly Operand[] => {
    const env = new Map<number, FuseNode | Operand>();
    graph.inputs.forEach((v, i) => env.set(v.id, ins[i]!));
    const uses = useCounts(graph);
    const read = (a: Atom): FuseNode | Operand =>
      a._tag === "Literal" ? { literal: a.value, aval: a.aval } : env.get(a.id)!;
    for (const eqn of graph.eqns) {
      const raw = eqn.inputs.map(read);
      current = eqn.prim.name;
      const outAvals = eqn.outputs.map((v) => v.aval);
      outAvals.forEach((a) => checkDtype(eqn, a));
      const entry = (table as Record<string, Lowering<unknown> | "cpu" | undefined>)[eqn.prim.name];
      const fusible = typeof entry === "function" ? (entry as Partial<Fusible>) : {};
      const fuse = fusible.fuse;
      if (fuse !== undefined && fusing && (fusible.when?.(raw.map((x) => x.aval)) ?? true)) {
        // Too many buffers for one kernel: the operands' own trees are computed first.
        const wide = leavesOf({ name: "", expr: () => "", args: raw, aval: outAvals[0]! }).length > MAX_LEAVES;
        const node: FuseNode = {
          name: eqn.prim.name,
          expr: (args, dtypes, out) => fuse(args, dtypes, out, eqn.params),
          args: wide ? raw.map(solid) : raw,
          aval: outAvals[0]!,
        };
        const id = eqn.outputs[0]!.id;
        env.set(id, uses.get(id) === 1 ? node : materialize(node));
        continue;
      }
      const opnds = raw.map(solid);
      const ctx: LowerContext = {
        eqn,
        ins: opnds,
        outAvals,
        fresh,
        launch,
        producer: (x) => (isSlot(x) ? producers.get(x.slot) : undefined),
        lowerGraph,
        compileBody: (graph) => compileProgram(table, { graph }, fusing),
        push: (step) => steps.push(step),
      };
      let outs = typeof entry === "function" ? entry(ctx, eqn.params) : "cpu";
      if (outs === "cpu") {
        outs = outAvals.map(fresh);
        steps.push({ kind: "cpu", eqn, ins: opnds, outs: outs.map((o) => o.slot!) });
      }
      outs.forEach((o, i) => {
        env.set(eqn.outputs[i]!.id, o);
        if (isSlot(o) && !producers.has(o.slot)) producers.set(o.slot, { eqn, ins: opnds });
      });
    }
    return graph.outputs.map((a) => solid(read(a)));
  };
  const inputs = closed.graph.inputs.map((v) => fresh(v.aval));
  const outputs = lowerGraph(closed.graph, inputs);
  return prune({ slots, steps, inputs: inputs.map((o) => o.slot!), outputs });
};
