/**
 * @file Building one ONNX graph (the model's, or a `Scan` body): nodes in order, constants, typed
 * inputs and outputs. Names come from one counter per model, so a body may read any name of the
 * graphs around it (ONNX subgraphs see outer-scope values) and no two values ever share a name.
 */
import type { DType, Tensor } from "@rewind/tensor";
import { elemType, int64Proto, tensorProto, type AttributeProto, type NodeProto, type TensorProto } from "./proto.js";
import type { ValueInfoProto } from "./proto.js";

/** The name source of one model: every value and node gets a name no other one has. */
export class Names {
  private next = 0;

  /**
   * A name source that never returns one of `reserved` (the user's input and output names).
   * @example new Names(new Set(["x"]))
   */
  constructor(private readonly reserved: ReadonlySet<string> = new Set()) {}

  /**
   * A fresh name starting with `hint`.
   * @example new Names().fresh("x") // "x_0"
   */
  fresh(hint: string): string {
    for (;;) {
      const name = `${hint}_${this.next++}`;
      if (!this.reserved.has(name)) return name;
    }
  }
}

/** The attribute types of onnx.proto's AttributeProto.AttributeType used here. */
const ATTR = { float: 1, int: 2, string: 3, tensor: 4, graph: 5, ints: 7 } as const;

/**
 * Attribute constructors: `attr.int("axis", 1)`, `attr.ints("perm", [1, 0])`, …
 * @example attr.int("axis", 0).i // 0
 */
export const attr = {
  int: (name: string, i: number): AttributeProto => ({ name, type: ATTR.int, i }),
  ints: (name: string, ints: readonly number[]): AttributeProto => ({ name, type: ATTR.ints, ints: [...ints] }),
  float: (name: string, f: number): AttributeProto => ({ name, type: ATTR.float, f }),
  // The string attributes used here ("add", "constant") are ASCII, so one byte per character.
  string: (name: string, s: string): AttributeProto => ({
    name,
    type: ATTR.string,
    s: Uint8Array.from(s, (c) => c.charCodeAt(0)),
  }),
  tensor: (name: string, t: TensorProto): AttributeProto => ({ name, type: ATTR.tensor, t }),
  graph: (name: string, g: NonNullable<AttributeProto["g"]>): AttributeProto => ({ name, type: ATTR.graph, g }),
};

/** One ONNX graph under construction. */
export class GraphBuilder {
  /** Nodes in the order they were added (ONNX wants a topological order; tracing gives one). */
  readonly nodes: NodeProto[] = [];
  /** Tensors stored in the model (top-level graph only): baked parameters and captured constants. */
  readonly initializers: TensorProto[] = [];
  /** The graph's typed inputs. */
  readonly inputs: ValueInfoProto[] = [];
  /** The graph's typed outputs. */
  readonly outputs: ValueInfoProto[] = [];

  /**
   * A builder drawing names from `names` (shared with the graphs around it).
   * @example new GraphBuilder(new Names())
   */
  constructor(readonly names: Names) {}

  /**
   * Adds a node and returns the names of its `outputs` outputs.
   * @example b.node("Add", [x, y])[0]
   */
  node(op: string, inputs: readonly string[], attributes: readonly AttributeProto[] = [], outputs = 1): string[] {
    const outs = Array.from({ length: outputs }, () => this.names.fresh(op.toLowerCase()));
    this.nodes.push({
      opType: op,
      name: this.names.fresh(`n_${op}`),
      input: [...inputs],
      output: outs,
      attribute: [...attributes],
    });
    return outs;
  }

  /**
   * Adds a single-output node and returns its output's name.
   * @example b.op("Exp", [x])
   */
  op(op: string, inputs: readonly string[], attributes: readonly AttributeProto[] = []): string {
    return this.node(op, inputs, attributes, 1)[0]!;
  }

  /**
   * A constant tensor as a `Constant` node (valid in a subgraph as in the main graph).
   * @example b.constant(scalar(2))
   */
  constant(t: Tensor): string {
    return this.op("Constant", [], [attr.tensor("value", tensorProto(this.names.fresh("c"), t))]);
  }

  /**
   * A constant int64 vector (a shape, axes, pads) as a `Constant` node.
   * @example b.int64([2, 3])
   */
  int64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.op("Constant", [], [attr.tensor("value", int64Proto(this.names.fresh("c"), values, dims))]);
  }

  /**
   * A rank-0 constant of `dtype` holding `value`.
   * @example b.scalar(0, "float32")
   */
  scalar(value: number, dtype: DType): string {
    const data =
      dtype === "float32"
        ? Float32Array.of(value)
        : dtype === "float64"
          ? Float64Array.of(value)
          : dtype === "int32"
            ? Int32Array.of(value)
            : Uint8Array.of(value === 0 ? 0 : 1);
    const raw = new Uint8Array(data.buffer);
    const t: TensorProto = { name: this.names.fresh("c"), dataType: elemType(dtype), dims: [], rawData: raw };
    return this.op("Constant", [], [attr.tensor("value", t)]);
  }

  /**
   * `x` cast to `dtype` (no node when it already has it).
   * @example b.cast(x, "int32", "float32")
   */
  cast(x: string, from: DType | "int64", to: DType | "int64"): string {
    return from === to ? x : this.op("Cast", [x], [attr.int("to", elemType(to))]);
  }
}

/**
 * Every value name the nodes read, those of their subgraphs (a `Scan` body reads outer-scope
 * names) included.
 * @example namesRead([{ opType: "Exp", input: ["x"], output: ["y"] }]) // Set {"x"}
 */
export const namesRead = (nodes: readonly NodeProto[], into = new Set<string>()): Set<string> => {
  for (const n of nodes) {
    for (const name of n.input ?? []) into.add(name);
    for (const a of n.attribute ?? []) if (a.g?.node) namesRead(a.g.node, into);
  }
  return into;
};

/**
 * The finished graph of a builder, named `name`.
 * @example graphOf(body, "scan_body").node.length
 */
export const graphOf = (b: GraphBuilder, name: string) => ({
  name,
  node: b.nodes,
  initializer: b.initializers,
  input: b.inputs,
  output: b.outputs,
});
