/**
 * @file Lowering a traced graph to ONNX nodes, equation by equation, through the lowering table.
 */
import type { Atom, Eqn, Graph } from "@rewind/autodiff";
import type { GraphBuilder } from "./builder.js";
import { exportFail } from "./errors.js";
import type { LowerContext, Lowering, LoweringTable } from "./types.js";

/** Thrown (and caught by `toOnnx`) for a primitive that does not export; it retraces for the line. */
export class UnsupportedPrimitive extends Error {
  /**
   * @param primitive The primitive's name.
   * @param reason Why it has no lowering, and what to do instead.
   * @param source Where the equation was traced, when tracing recorded it.
   */
  constructor(
    readonly primitive: string,
    readonly reason: string,
    readonly source: string | undefined,
  ) {
    super(`toOnnx: primitive ${primitive} has no ONNX lowering: ${reason}`);
  }
}

/**
 * Throws the export error for an unsupported primitive, naming it and the line that traced it.
 * @example unsupportedError(new UnsupportedPrimitive("cummax", "no ONNX operator", "at f (a.ts:3:9)"))
 */
export const unsupportedError = (u: UnsupportedPrimitive): never =>
  exportFail(
    "f",
    `the function uses the primitive ${u.primitive}, which has no ONNX lowering ` +
      `(traced ${u.source === undefined || u.source === "" ? "at an unknown line" : u.source}): ${u.reason}`,
    "compute that part outside the exported function (pass its result as an argument), " +
      "or write it with primitives that export (README: the primitives and their ONNX operators)",
  );

/**
 * Lowers `graph` into `b`, its inputs bound to the ONNX names `inputs`; returns its outputs' names.
 * @example lowerGraph(table)(b, graph, ["x"]) // ["exp_3"]
 */
export const lowerGraph = (table: LoweringTable) => {
  const run = (b: GraphBuilder, graph: Graph, inputs: readonly string[]): readonly string[] => {
    const env = new Map<number, string>();
    graph.inputs.forEach((v, i) => env.set(v.id, inputs[i]!));
    const read = (a: Atom): string => (a._tag === "Literal" ? b.constant(a.value) : env.get(a.id)!);
    for (const eqn of graph.eqns) {
      const outs = lowerEqn(table, b, eqn, eqn.inputs.map(read), run);
      eqn.outputs.forEach((v, i) => env.set(v.id, outs[i]!));
    }
    return graph.outputs.map(read);
  };
  return run;
};

const lowerEqn = (
  table: LoweringTable,
  b: GraphBuilder,
  eqn: Eqn,
  ins: readonly string[],
  lowerGraph: LowerContext["lowerGraph"],
): readonly string[] => {
  const name = eqn.prim.name;
  const entry = Object.hasOwn(table, name) ? (table as Record<string, unknown>)[name] : undefined;
  if (entry === undefined)
    throw new UnsupportedPrimitive(name, "it is not one of Rewind's built-in primitives", eqn.source);
  if (typeof entry !== "function")
    throw new UnsupportedPrimitive(name, (entry as { unsupported: string }).unsupported, eqn.source);
  const ctx: LowerContext = {
    b,
    eqn,
    ins,
    inAvals: eqn.inputs.map((a) => a.aval),
    outAvals: eqn.outputs.map((v) => v.aval),
    lowerGraph,
  };
  return (entry as Lowering<unknown>)(ctx, eqn.params);
};
