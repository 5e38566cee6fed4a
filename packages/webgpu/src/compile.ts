/**
 * @file Lowering a traced graph (after jit's passes) to a `Program`, equation by equation,
 * through the lowering table. float64 is refused here, naming the primitive.
 */
import type { Atom, Aval, ClosedGraph, Eqn, Graph } from "@rewind/autodiff";
import { gpuFail } from "./errors.js";
import { isSlot, prune, type Operand, type Program, type Step } from "./program.js";
import type { LowerContext, Lowering, LoweringTable } from "./types.js";
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

/**
 * Compiles `closed` with `table`.
 * @example compileProgram(table, makeGraph(f, { optimize: true })(x)).steps.length
 */
export const compileProgram = (table: LoweringTable, closed: Pick<ClosedGraph, "graph">): Program => {
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
  const lowerGraph = (graph: Graph, ins: readonly Operand[]): readonly Operand[] => {
    const env = new Map<number, Operand>();
    graph.inputs.forEach((v, i) => env.set(v.id, ins[i]!));
    const read = (a: Atom): Operand => (a._tag === "Literal" ? { literal: a.value, aval: a.aval } : env.get(a.id)!);
    for (const eqn of graph.eqns) {
      const opnds = eqn.inputs.map(read);
      current = eqn.prim.name;
      const outAvals = eqn.outputs.map((v) => v.aval);
      outAvals.forEach((a) => checkDtype(eqn, a));
      const entry = (table as Record<string, Lowering<unknown> | "cpu" | undefined>)[eqn.prim.name];
      const ctx: LowerContext = {
        eqn,
        ins: opnds,
        outAvals,
        fresh,
        launch,
        producer: (x) => (isSlot(x) ? producers.get(x.slot) : undefined),
        lowerGraph,
        compileBody: (graph) => compileProgram(table, { graph }),
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
    return graph.outputs.map(read);
  };
  const inputs = closed.graph.inputs.map((v) => fresh(v.aval));
  const outputs = lowerGraph(closed.graph, inputs);
  return prune({ slots, steps, inputs: inputs.map((o) => o.slot!), outputs });
};
