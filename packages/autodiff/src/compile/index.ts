/**
 * @file `compileGraph`: a graph becomes one generated JavaScript function.
 *
 * The pipeline: lower the graph to the compiler's IR (views, inlined remat/customVjp,
 * folded constants) → prune dead code → per block, fuse elementwise chains and plan buffers by
 * liveness → emit straight-line code calling specialised kernels, with scans as loops over their
 * body compiled once → `new Function` once. Outputs are written into fresh arrays allocated per
 * call; every intermediate lives in buffers allocated once per compiled runner.
 */
import { getKernelBackend, isTensor, type Tensor } from "@rewind/tensor";
import { codegenRefused, simdAvailable } from "@rewind/tensor/internal/codegen";
import { expectGraph } from "../check.js";
import { evalGraph } from "../core.js";
import { avalOf, avalsEqual, describeAval, type Graph } from "../Graph.js";
import { graphFail } from "../errors.js";
import { JIT_PIPELINE, optimize } from "../passes/index.js";
import { emitBlock } from "./block.js";
import { prune } from "./fusion.js";
import { valOf } from "./ir.js";
import { int } from "./loopgen.js";
import { Lowering } from "./lower.js";
import { ARRAY_OF, Module, type Loc } from "./module.js";
import type { Desc } from "./runtime.js";

/** A compiled graph: call it on the graph's inputs; `source` is the generated code, for inspection. */
export interface CompiledGraph {
  (inputs: readonly Tensor[]): readonly Tensor[];
  /** The generated JavaScript. */
  readonly source: string;
  /** Bytes of buffers planned once for this runner (intermediates, scan carries and stacks). */
  readonly plannedBytes: number;
  /** Fused loops that run as WebAssembly SIMD kernels (0 with the "js" kernel backend). */
  readonly simdKernels: number;
}

/**
 * Compiles a graph into a runner that gives the interpreter's results bit for bit. Qualifying
 * float32 loops run as WebAssembly SIMD kernels unless `setKernelBackend("js")` is in force at
 * compile time (same bits either way).
 * The runner assumes inputs of the graph's avals (as `jit` guarantees). Intermediates live in
 * buffers owned by the runner; outputs are always fresh. A re-entrant call runs the interpreter.
 * The graph first goes through jit's passes (a no-op on a graph `jit` built), so a graph as
 * `makeGraph(f)` traced it computes what `jit(f)` and `f` compute, float64 lifting included.
 * @throws GraphException (`InvalidArgument`) where the engine refuses to generate JavaScript (a
 * Content-Security-Policy without 'unsafe-eval'): `jit` then interprets instead.
 * @example const run = compileGraph(makeGraph((x) => exp(x))(zeros([3])).graph); run([ones([3])])
 */
export const compileGraph = (graph: Graph): CompiledGraph => {
  expectGraph("compileGraph", "graph", graph);
  if (codegenRefused("eval")) {
    graphFail({
      _tag: "InvalidArgument",
      op: "compileGraph",
      arg: "graph",
      detail:
        "this engine refuses to generate JavaScript (a Content-Security-Policy without 'unsafe-eval', or node " +
        "--disallow-code-generation-from-strings), and a compiled graph is generated JavaScript",
      fix:
        "call the function through jit, which interprets where code generation is refused, " +
        "or allow 'unsafe-eval' in the page's script-src",
    });
  }
  return compileWith(optimize(graph, JIT_PIPELINE).graph, getKernelBackend().setting !== "js" && simdAvailable());
};

const compileWith = (graph: Graph, simd: boolean): CompiledGraph => {
  const lowering = new Lowering();
  const prog = lowering.prog;
  const block = lowering.block(graph);
  prune(prog, block);
  const mod = new Module(simd);
  const lines: string[] = [];
  const inputs: Loc[] = block.inputs.map((_, i) => ({ buf: `I${i}`, off: "0" }));
  if (inputs.length > 0) lines.push(`  const ${inputs.map((l, i) => `${l.buf} = inputs[${i}].data`).join(", ")};`);
  const dests: Loc[] = block.outputs.map((o, j) => {
    const v = valOf(prog, o);
    lines.push(`  const O${j} = new ${ARRAY_OF[v.dtype]}(${int(v.size)});`);
    return { buf: `O${j}`, off: "0" };
  });
  const wraps = block.outputs.map((o, j) => {
    const v = valOf(prog, o);
    const d: Desc = { dtype: v.dtype, shape: v.shape, size: v.size };
    return `wrap(${mod.object(d)}, O${j})`;
  });
  const tensorOutput = (j: number, expr: string): void => void (wraps[j] = expr);
  emitBlock(mod, prog, block, { inputs, dests, tensorOutput }, lines, "  ");
  lines.push(`  return [${wraps.join(", ")}];`);
  const source = mod.source(lines);
  let run: (inputs: readonly Tensor[]) => readonly Tensor[];
  try {
    run = mod.instantiate(source);
  } catch (e) {
    // The engine refused the runner's WebAssembly memory or module: the JavaScript loops give the same bits.
    if (mod.usesArena) return compileWith(graph, false);
    throw e;
  }
  // The runner owns its buffers, so a call made while it runs (a primitive's impl calling back
  // into the same jitted function) must not use them: it gets the interpreter.
  let busy = false;
  const runner = (ins: readonly Tensor[]): readonly Tensor[] => {
    // Generated code indexes buffers without bounds checks: inputs must match the graph's avals.
    checkInputs(graph, ins);
    if (busy) return evalGraph(graph, ins) as readonly Tensor[];
    busy = true;
    try {
      return run(ins);
    } finally {
      busy = false;
    }
  };
  return Object.assign(runner, { source, plannedBytes: mod.pool.bytes(), simdKernels: mod.simdKernelCount });
};

/** Rejects runner inputs that are not tensors of the graph's input avals, naming the first. */
const checkInputs = (graph: Graph, ins: readonly Tensor[]): void => {
  const want = graph.inAvals;
  if (!Array.isArray(ins) || ins.length !== want.length) {
    graphFail({
      _tag: "InvalidArgument",
      op: "compileGraph",
      arg: "inputs",
      detail: `the graph takes ${want.length} inputs, got ${Array.isArray(ins) ? ins.length : typeof ins}`,
      fix: "pass one tensor per graph input",
    });
  }
  ins.forEach((t, i) => {
    if (!isTensor(t) || !avalsEqual(avalOf(t), want[i]!)) {
      graphFail({
        _tag: "InvalidArgument",
        op: "compileGraph",
        arg: `inputs[${i}]`,
        detail: `expected a tensor ${describeAval(want[i]!)}, got ${isTensor(t) ? describeAval(avalOf(t)) : typeof t}`,
        fix: "pass tensors of the avals the graph was traced with",
      });
    }
  });
};
