/**
 * @file Lowerings of the control primitives: `scan` becomes one ONNX `Scan` whose body is the
 * scan's body graph lowered as a subgraph (so the model's size does not grow with the sequence
 * length); `remat` and `customVjp` run their primal body inline; `stopGradient` is the identity.
 * A scan's constants are not passed to the Scan node: ONNX subgraphs read outer-scope values.
 */
import type { ScanParams } from "@rewind/autodiff";
import { attr, GraphBuilder, graphOf } from "../builder.js";
import { valueInfo } from "../proto.js";
import type { LowerContext, PartialTable } from "../types.js";

/** Inlines a body whose inputs are the equation's inputs, in order. */
const inline = ({ b, ins, eqn, lowerGraph }: LowerContext, body: ScanParams["body"]): readonly string[] => {
  if (body.inputs.length !== ins.length)
    throw new Error(
      `Rewind internal error: ${eqn.prim.name} body takes ${body.inputs.length} inputs, got ${ins.length}`,
    );
  return lowerGraph(b, body, ins);
};

/** The ONNX Scan of a Rewind scan. */
const lowerScan = (ctx: LowerContext, p: ScanParams): readonly string[] => {
  const { b, ins, lowerGraph } = ctx;
  const nc = p.numConsts;
  const nk = p.numCarry;
  const nx = p.body.inputs.length - nc - nk;
  const ny = p.body.outputs.length - nk;
  const body = new GraphBuilder(b.names);
  const stateNames = p.body.inputs.slice(nc).map((v, i) => {
    const name = b.names.fresh(i < nk ? "carry" : "x_t");
    body.inputs.push(valueInfo(name, v.aval.dtype, v.aval.shape));
    return name;
  });
  // ONNX's Scan needs at least one scan input: a scan over `length` steps without xs reads a
  // zero vector of that length, built at run time from a constant shape (no data of that size).
  let scanned = ins.slice(nc + nk);
  if (nx === 0) {
    const dummy = b.names.fresh("step");
    body.inputs.push(valueInfo(dummy, "float32", []));
    scanned = [b.op("ConstantOfShape", [b.int64([p.length])])];
  }
  const outs = lowerGraph(body, p.body, [...ins.slice(0, nc), ...stateNames]);
  outs.forEach((o, i) => {
    const out = body.op("Identity", [o]);
    const aval = p.body.outputs[i]!.aval;
    body.outputs.push(valueInfo(out, aval.dtype, aval.shape));
  });
  const direction = p.reverse ? 1 : 0;
  const attributes = [
    attr.graph("body", graphOf(body, b.names.fresh("scan_body"))),
    attr.int("num_scan_inputs", Math.max(nx, 1)),
    attr.ints("scan_input_directions", new Array<number>(Math.max(nx, 1)).fill(direction)),
    // A reverse scan's ys stay in xs order: each step's y goes where its x came from.
    ...(ny > 0 ? [attr.ints("scan_output_directions", new Array<number>(ny).fill(direction))] : []),
  ];
  return b.node("Scan", [...ins.slice(nc, nc + nk), ...scanned], attributes, nk + ny);
};

/** The control primitives' lowerings. */
export const controlLowerings: PartialTable<"scan" | "remat" | "customVjp" | "stopGradient"> = {
  scan: (ctx, p) => lowerScan(ctx, p as ScanParams),
  remat: (ctx, { body }) => inline(ctx, body),
  customVjp: (ctx, { body }) => inline(ctx, body),
  stopGradient: ({ b, ins }) => [b.op("Identity", [ins[0]!])],
};
