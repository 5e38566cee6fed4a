/**
 * @file `compileGraph`: a graph becomes one generated JavaScript function.
 *
 * The pipeline: lower the graph to the compiler's IR (views, inlined remat/customVjp,
 * folded constants) → prune dead code → per block, fuse elementwise chains and plan buffers by
 * liveness → emit straight-line code calling specialised kernels, with scans as loops over their
 * body compiled once → `new Function` once. Outputs are written into fresh arrays allocated per
 * call, or into arrays the caller passes (jit's `donate` option recycles the donated buffers so);
 * every intermediate lives in buffers allocated once per compiled runner.
 *
 * A passed output array needs no zeroing: every kernel writes each element of its destination
 * (matmul zero-fills before accumulating, reductions start from their own initial value, the
 * scatter-adds copy `x` first, scans write every row), as the planned intermediate buffers, reused
 * from call to call, already require (test/compile-runtime.test.ts checks it on arrays of NaN).
 */
import { getKernelBackend, isTensor, shapesEqual, type Tensor, type WritableTypedArray } from "@rewind/tensor";
import { codegenRefused, simdAvailable } from "@rewind/tensor/internal/codegen";
import { DETACHED_FIX, detachedTensorProblem } from "@rewind/tensor/internal/check";
import { expectGraph } from "../check.js";
import { evalGraph } from "../core.js";
import { avalOf, describeAval, type Graph } from "../Graph.js";
import { graphFail } from "../errors.js";
import { JIT_PIPELINE, optimize } from "../passes/index.js";
import { emitBlock } from "./block.js";
import { flipTransposedProducts } from "./flipProducts.js";
import { pushWindows } from "./pushWindows.js";
import { tableProducts } from "./tableProducts.js";
import { pairProducts } from "./pairProducts.js";
import { prune } from "./fusion.js";
import { valOf } from "./ir.js";
import { int } from "./loopgen.js";
import { Lowering } from "./lower.js";
import { checkOutputArrays } from "./outArrays.js";
import { Module } from "./module.js";
import { ARRAY_OF, type GeneratedRun, type Loc } from "./scope.js";
import type { Desc } from "./runtime.js";

/**
 * A compiled graph: call it on the graph's inputs, optionally with `outs`, per output an array
 * (of the output's dtype and size, holding nothing anyone reads) for the runner to write that
 * output into instead of allocating one; `source` is the generated code, for inspection.
 */
export interface CompiledGraph {
  (inputs: readonly Tensor[], outs?: ReadonlyArray<WritableTypedArray | undefined>): readonly Tensor[];
  /** The generated JavaScript. */
  readonly source: string;
  /** Bytes of buffers planned once for this runner (intermediates, scan carries and stacks). */
  readonly plannedBytes: number;
  /** Fused loops that run as WebAssembly SIMD kernels (0 with the "js" kernel backend). */
  readonly simdKernels: number;
  /**
   * Per output, whether the runner writes it into the array passed at its index of `outs` (false
   * for an output a primitive's own implementation computes: it comes back as a fresh tensor).
   */
  readonly writesInto: readonly boolean[];
}

/**
 * Compiles a graph into a runner that gives the interpreter's results bit for bit. Qualifying
 * float32 loops run as WebAssembly SIMD kernels unless `setKernelBackend("js")` is in force at
 * compile time (same bits either way).
 * The runner assumes inputs of the graph's avals (as `jit` guarantees). Intermediates live in
 * buffers owned by the runner; outputs are fresh, or the arrays passed in `outs` (checked: the
 * output's typed-array class and length, no input's buffer, no two alike). A re-entrant call runs
 * the interpreter, which ignores `outs`.
 * The graph first goes through jit's passes (a no-op on a graph `jit` built), so a graph as
 * `makeGraph(f)` traced it computes what `jit(f)` and `f` compute, float64 lifting included.
 * @throws GraphException (`InvalidArgument`) where the engine refuses to generate JavaScript (a
 * Content-Security-Policy without 'unsafe-eval'): `jit` then interprets instead.
 * @example const run = compileGraph(makeGraph((x) => exp(x))(zeros([3])).graph); run([ones([3])])
 * @example run([ones([3])], [new Float32Array(3)]) // writes e^1 into the array passed
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
  // A flipped product may leave an operand's transposing copy unread.
  if (flipTransposedProducts(prog, block)) prune(prog, block);
  // A value now computed per window, or a product now gathered from its table's, is left unread.
  if (pushWindows(prog, block)) prune(prog, block);
  if (tableProducts(prog, block)) prune(prog, block);
  // Last: the rewrites above match single products. (It leaves nothing unread to prune.)
  if (simd) pairProducts(prog, block);
  const mod = new Module(simd);
  const lines: string[] = [];
  const inputs: Loc[] = block.inputs.map((_, i) => ({ buf: `I${i}`, off: "0" }));
  if (inputs.length > 0) lines.push(`  const ${inputs.map((l, i) => `${l.buf} = inputs[${i}].data`).join(", ")};`);
  const dests: Loc[] = block.outputs.map((_, j) => ({ buf: `O${j}`, off: "0" }));
  const wraps = block.outputs.map((o, j) => {
    const v = valOf(prog, o);
    const d: Desc = { dtype: v.dtype, shape: v.shape, size: v.size };
    return `wrap(${mod.object(d)}, O${j})`;
  });
  // An output computed by a primitive's impl is that tensor (copied): its O array is never declared.
  const writesInto = block.outputs.map(() => true);
  const tensorOutput = (j: number, expr: string): void => {
    wraps[j] = expr;
    writesInto[j] = false;
  };
  const declAt = lines.length;
  emitBlock(mod, prog, block, { inputs, dests, tensorOutput }, lines, "  ");
  const decls = block.outputs.flatMap((o, j) => {
    const v = valOf(prog, o);
    return writesInto[j] ? [`  const O${j} = outs[${j}] ?? new ${ARRAY_OF[v.dtype]}(${int(v.size)});`] : [];
  });
  lines.splice(declAt, 0, ...decls);
  lines.push(`  return [${wraps.join(", ")}];`);
  const source = mod.source(lines);
  let run: GeneratedRun;
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
  const runner = (ins: readonly Tensor[], outs?: ReadonlyArray<WritableTypedArray | undefined>): readonly Tensor[] => {
    // Generated code indexes buffers without bounds checks: inputs must match the graph's avals.
    checkInputs(graph, ins);
    if (outs !== undefined) checkOutputArrays(graph, ins, outs);
    if (busy) return evalGraph(graph, ins) as readonly Tensor[];
    busy = true;
    try {
      return run(ins, outs ?? NO_ARRAYS);
    } finally {
      busy = false;
    }
  };
  const facts = { source, plannedBytes: mod.pool.bytes(), simdKernels: mod.simdKernelCount, writesInto };
  return Object.assign(runner, facts);
};

const NO_ARRAYS: ReadonlyArray<WritableTypedArray | undefined> = Object.freeze([]);

/** What arrived in place of a tensor, in words (a donated tensor says so). */
const got = (t: unknown): string =>
  isTensor(t) ? describeAval(avalOf(t)) : (detachedTensorProblem(t) ?? (t === null ? "null" : typeof t));

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
    // Compared in place: `avalOf` would copy every input's shape on every call.
    if (!isTensor(t) || t.dtype !== want[i]!.dtype || !shapesEqual(t.shape, want[i]!.shape)) {
      graphFail({
        _tag: "InvalidArgument",
        op: "compileGraph",
        arg: `inputs[${i}]`,
        detail: `expected a tensor ${describeAval(want[i]!)}, got ${got(t)}`,
        fix:
          detachedTensorProblem(t) === undefined ? "pass tensors of the avals the graph was traced with" : DETACHED_FIX,
      });
    }
  });
};
