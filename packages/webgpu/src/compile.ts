/**
 * @file Lowering a traced graph (after jit's passes) to a `Program`, equation by equation,
 * through the lowering table; bookkeeping scalars go to the host lane (host.ts). float64 outside
 * the host lane is refused here, naming the primitive.
 */
import type { Atom, Aval, ClosedGraph, Eqn, Graph } from "@rewind/autodiff";
import { gpuFail } from "./errors.js";
import { isSlot, prune, type Operand, type Program, type Step } from "./program.js";
import { fusedKernel, isNode, leavesOf, MAX_LEAVES, type FuseNode } from "./fuse.js";
import { HOST_MAX, onHostLane } from "./host.js";
import type { Fusible, LowerContext, Lowering, LoweringTable } from "./types.js";
import { grid, literal, sizeOf, type KernelInput } from "./wgsl/common.js";

/** Refuses a float64 value an equation on the device produces (or reads). */
const checkDtype = (eqn: Eqn, aval: Aval, role: "produces" | "reads" = "produces"): void => {
  if (aval.dtype === "float64")
    gpuFail(
      "jit (webgpu)",
      `primitive ${eqn.prim.name}`,
      `the primitive ${eqn.prim.name} ${role} float64 [${aval.shape.join(", ")}], ` +
        "and WebGPU computes in float32 only " +
        "(float64 is computed on the CPU only for scalars, such as an optimizer's bias corrections, " +
        `and tables of at most ${HOST_MAX} elements made of constants; never from the device's arrays)`,
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

/** How `compileProgram` compiles. */
export interface CompileOptions {
  /** Fuse elementwise chains into one kernel (default true; false: every equation its own kernel). */
  readonly fusing?: boolean;
  /**
   * Which of the graph's inputs are host values (host.ts), in order; given, the host lane is on.
   * Without it (a scan's body: kernels only) every value is on the device.
   */
  readonly host?: readonly boolean[];
}

/**
 * Compiles `closed` with `table`.
 * @example compileProgram(table, makeGraph(f, { optimize: true })(x), { host: [false] }).steps.length
 */
export const compileProgram = (
  table: LoweringTable,
  closed: Pick<ClosedGraph, "graph">,
  options: CompileOptions = {},
): Program => {
  const fusing = options.fusing ?? true;
  const hostLane = options.host !== undefined;
  /** Slots holding host values. */
  const onHost = new Set<number>();
  const isHostValue = (x: FuseNode | Operand): boolean => !isNode(x) && (!isSlot(x) || onHost.has(x.slot));
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
  /** Runs `eqn` on the CPU: its outputs are host values (uploaded when a kernel reads them). */
  const onCpu = (eqn: Eqn, ins: readonly Operand[], outAvals: readonly Aval[]): Operand[] => {
    const outs = outAvals.map(fresh);
    steps.push({ kind: "cpu", eqn, ins, outs: outs.map((o) => o.slot!) });
    outs.forEach((o) => onHost.add(o.slot!));
    return outs;
  };
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
      if (
        hostLane &&
        onHostLane(
          raw.map((x) => ({ ...x.aval, onHost: isHostValue(x) })),
          outAvals,
        )
      ) {
        onCpu(eqn, raw.map(solid), outAvals).forEach((o, i) => env.set(eqn.outputs[i]!.id, o));
        continue;
      }
      outAvals.forEach((a) => checkDtype(eqn, a));
      raw.forEach((x) => checkDtype(eqn, x.aval, "reads"));
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
        compileBody: (graph) => compileProgram(table, { graph }, { fusing }),
        push: (step) => steps.push(step),
      };
      let outs = typeof entry === "function" ? entry(ctx, eqn.params) : "cpu";
      if (outs === "cpu") outs = onCpu(eqn, opnds, outAvals);
      outs.forEach((o, i) => {
        env.set(eqn.outputs[i]!.id, o);
        if (isSlot(o) && !producers.has(o.slot)) producers.set(o.slot, { eqn, ins: opnds });
      });
    }
    return graph.outputs.map((a) => solid(read(a)));
  };
  const inputs = closed.graph.inputs.map((v) => fresh(v.aval));
  inputs.forEach((o, i) => {
    if (options.host?.[i] === true) onHost.add(o.slot!);
  });
  const outputs = lowerGraph(closed.graph, inputs);
  return prune({ slots, steps, inputs: inputs.map((o) => o.slot!), outputs });
};
