/**
 * @file `toOnnx`: trace a pytree function as `jit` does and write it as an ONNX model.
 */
import { isTracer, makeGraph, RewindError, treeLeavesWithPaths, treeUnflatten, withDebugNans } from "@rewind/autodiff";
import type { ClosedGraph } from "@rewind/autodiff";
import { scalar, type Tensor } from "@rewind/tensor";
import { everyEntry, optionsProblem } from "@rewind/tensor/internal/check";
import { GraphBuilder, graphOf, Names, namesRead } from "./builder.js";
import { exportFail } from "./errors.js";
import { lowerGraph, UnsupportedPrimitive, unsupportedError } from "./lower.js";
import { onnx, tensorProto, valueInfo } from "./proto.js";
import { loweringTable } from "./table.js";

/** The ONNX operator set the exported models declare. */
export const OPSET = 17;
/** The ONNX IR version of the models (the one that goes with opset 17). */
export const IR_VERSION = 8;

/** Options of `toOnnx`. */
export interface ToOnnxOptions {
  /**
   * Positions of the arguments stored in the model as initializers (their example values: the
   * trained parameters), so the served model takes only the other arguments. Default: none, every
   * argument's leaves are graph inputs. Tensors that `f` captures (closes over) are stored too; a
   * stored tensor that no output depends on is left out of the model.
   */
  readonly bake?: readonly number[];
  /**
   * Names of the graph inputs, one per leaf of the arguments that are not baked, in pytree order.
   * Default: the argument's position and the leaf's path, `arg0`, `arg1.h`, `arg1.c[0]`.
   */
  readonly inputNames?: readonly string[];
  /** Names of the graph outputs, one per leaf of the result. Default: `out`, `out[0]`, `out.logits`… */
  readonly outputNames?: readonly string[];
  /** The graph's name, shown by model viewers. Default `"rewind"`. */
  readonly name?: string;
}

const OPTION_KEYS = ["bake", "inputNames", "outputNames", "name"];

/** Checks the options object (through the options check every package runs) and its fields. */
const readOptions = (options: unknown, numArgs: number): ToOnnxOptions => {
  const problem = optionsProblem("toOnnx", "options", options, OPTION_KEYS);
  if (problem !== undefined) exportFail(problem.arg, problem.detail, problem.fix);
  const o = options as Record<string, unknown>;
  const bake = o["bake"];
  if (
    bake !== undefined &&
    !everyEntry(bake, (i) => Number.isInteger(i) && (i as number) >= 0 && (i as number) < numArgs)
  )
    exportFail(
      "options.bake",
      `expected argument positions in [0, ${numArgs}), got ${JSON.stringify(bake)}`,
      "pass e.g. { bake: [0] } to store the first argument",
    );
  for (const key of ["inputNames", "outputNames"]) {
    const names = o[key];
    if (names !== undefined && !everyEntry(names, (n) => typeof n === "string" && n !== ""))
      exportFail(
        `options.${key}`,
        `expected an array of non-empty strings, got ${JSON.stringify(names)}`,
        "pass one name per leaf",
      );
  }
  if (o["name"] !== undefined && typeof o["name"] !== "string")
    exportFail("options.name", `expected a string, got ${typeof o["name"]}`, 'pass e.g. "char-rnn"');
  return o;
};

const DTYPES = new Set(["float32", "float64", "int32", "bool"]);

/** Traces f on the example arguments, as jit does; tracing errors name toOnnx and keep their fix. */
const trace = (f: (...args: never[]) => unknown, args: readonly unknown[]): ClosedGraph => {
  try {
    return makeGraph(f, { optimize: true })(...args);
  } catch (e) {
    if (!(e instanceof RewindError)) throw e;
    const error = e.error as { fix?: string };
    return exportFail("f", `f cannot be traced on the example arguments: ${e.message}`, error.fix ?? "see the message");
  }
};

/** The arguments' leaves with their paths; a tree that cannot be walked (a cycle) is refused naming toOnnx. */
const leavesOfArguments = (args: readonly unknown[]): Array<readonly [string, unknown]> => {
  try {
    return treeLeavesWithPaths(args);
  } catch (e) {
    if (!(e instanceof RewindError)) throw e;
    return exportFail("exampleArgs", e.message, "pass a pytree of tensors (arrays and plain objects of them)");
  }
};

/** The graph's input names, one per argument leaf, and which leaves are baked. */
const argumentLeaves = (args: readonly unknown[], bake: readonly number[]) =>
  leavesOfArguments(args).map(([path, leaf]) => {
    const m = /^\[(\d+)\]/.exec(path);
    const position = Number(m?.[1] ?? 0);
    const t = leaf as Partial<Tensor>;
    if (typeof t !== "object" || !DTYPES.has(t.dtype as string) || !Array.isArray(t.shape))
      exportFail(
        `exampleArgs${path}`,
        `expected a tensor of float32, float64, int32 or bool, got ${typeof leaf}`,
        "pass tensors (e.g. zeros(shape, dtype)) as example arguments",
      );
    return {
      name: `arg${position}${path.slice(m?.[0].length ?? 0)}`,
      tensor: leaf as Tensor,
      baked: bake.includes(position),
    };
  });

/**
 * Exports `f` as an ONNX model (opset 17): `f` is traced on `exampleArgs` as `jit` traces it (only
 * their shapes and dtypes matter, except for baked arguments, whose values are stored), each
 * primitive becomes ONNX operators, and `scan` becomes an ONNX `Scan` whose body is a subgraph.
 * The leaves of the arguments become the graph's inputs and the leaves of the result its outputs,
 * named after their pytree paths unless `options` names them. Returns the model's bytes (the
 * `.onnx` file). Throws a `RewindError` naming the primitive and the line that traced it when `f`
 * uses a primitive with no ONNX form, and one naming the argument when `f` cannot be traced
 * (it reads data while tracing, or its shapes depend on data).
 * @example
 * const bytes = toOnnx((x) => tanh(matmul(x, w)), [zeros([1, 4])]);
 * // ONNX Runtime: (await InferenceSession.create(bytes)).run({ arg0: … }) → { out }
 * @example
 * // the parameters stored in the model, only the input left to feed
 * const model = toOnnx((params, x) => predict(params, x), [params, zeros([1, 4])], { bake: [0] });
 */
export const toOnnx = (
  f: (...args: never[]) => unknown,
  exampleArgs: readonly unknown[],
  options: ToOnnxOptions = {},
): Uint8Array => {
  if (typeof f !== "function") exportFail("f", `expected a function, got ${typeof f}`, "pass the function to export");
  if (!Array.isArray(exampleArgs))
    exportFail(
      "exampleArgs",
      `expected an array of arguments, got ${typeof exampleArgs}`,
      "pass [x] for a function of one argument x",
    );
  const opts = readOptions(options, exampleArgs.length);
  const leaves = argumentLeaves(exampleArgs, opts.bake ?? []);
  const fed = leaves.filter((l) => !l.baked);
  if (opts.inputNames !== undefined && opts.inputNames.length !== fed.length)
    exportFail(
      "options.inputNames",
      `got ${opts.inputNames.length} names for ${fed.length} input leaves (${fed.map((l) => l.name).join(", ")})`,
      "pass one name per leaf of the arguments that are not baked",
    );
  const closed = trace(f, exampleArgs);
  // Inside grad, jit or scan, f may close over the enclosing trace's values, which have no data.
  if (closed.consts.some(isTracer) || leaves.some((l) => isTracer(l.tensor)))
    exportFail("f", "toOnnx was called while another transform (jit, grad, scan…) traces", "call toOnnx outside it");
  // A lone tensor's path is "<root>": its output is `out`, as documented (it used to be `out<root>`).
  const outPaths = treeLeavesWithPaths(
    treeUnflatten(
      closed.outTree,
      closed.graph.outputs.map(() => scalar(0)),
    ),
  ).map(([p]) => (p === "<root>" ? "out" : `out${p}`));
  if (outPaths.length === 0)
    exportFail("f", "f returns no tensors, so the model would have no outputs", "return the tensors to serve");
  const outNames = opts.outputNames ?? outPaths;
  if (outNames.length !== outPaths.length)
    exportFail(
      "options.outputNames",
      `got ${outNames.length} names for ${outPaths.length} output leaves (${outPaths.join(", ")})`,
      "pass one name per leaf of f's result",
    );
  fed.forEach((l, i) => (l.name = opts.inputNames?.[i] ?? l.name));
  const userNames = [...fed.map((l) => l.name), ...outNames];
  const dup = userNames.find((n, i) => userNames.indexOf(n) !== i);
  if (dup !== undefined)
    exportFail(
      "options",
      `the name "${dup}" is given to two graph inputs or outputs`,
      "give every input and output its own name",
    );
  try {
    return build(closed, leaves, outNames, new Set(userNames), opts.name ?? "rewind");
  } catch (e) {
    if (!(e instanceof UnsupportedPrimitive)) throw e;
    // Equations record their source line only when traced under debugNans: trace again for it.
    let found = e;
    try {
      build(
        withDebugNans(() => trace(f, exampleArgs)),
        leaves,
        outNames,
        new Set(userNames),
        "",
      );
    } catch (again) {
      if (again instanceof UnsupportedPrimitive) found = again;
    }
    return unsupportedError(found);
  }
};

const build = (
  closed: ClosedGraph,
  leaves: ReadonlyArray<{ name: string; tensor: Tensor; baked: boolean }>,
  outNames: readonly string[],
  reserved: ReadonlySet<string>,
  graphName: string,
): Uint8Array => {
  const b = new GraphBuilder(new Names(reserved));
  const nc = closed.consts.length;
  const inputNames = closed.graph.inputs.map((v, i) => {
    if (i < nc) {
      const name = b.names.fresh("const");
      b.initializers.push(tensorProto(name, closed.consts[i] as Tensor));
      return name;
    }
    const leaf = leaves[i - nc]!;
    if (leaf.baked) b.initializers.push(tensorProto(leaf.name, leaf.tensor));
    else b.inputs.push(valueInfo(leaf.name, v.aval.dtype, v.aval.shape));
    return leaf.name;
  });
  const outs = lowerGraph(loweringTable)(b, closed.graph, inputNames);
  outs.forEach((o, i) => {
    const aval = closed.graph.outputs[i]!.aval;
    b.nodes.push({ opType: "Identity", name: b.names.fresh("n_out"), input: [o], output: [outNames[i]!] });
    b.outputs.push(valueInfo(outNames[i]!, aval.dtype, aval.shape));
  });
  // A constant f captured, or a baked argument, that no computed output depends on is left out:
  // a model carries no unread tensors (ONNX Runtime warns at every load of one that does).
  const read = namesRead(b.nodes);
  b.initializers.splice(0, b.initializers.length, ...b.initializers.filter((t) => read.has(t.name!)));
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: "", version: OPSET }],
    producerName: "@rewind/onnx",
    graph: graphOf(b, graphName),
  });
  return onnx.ModelProto.encode(model).finish();
};
