/**
 * @file The graph IR: avals, variables, equations and closed graphs (in the spirit of a jaxpr).
 *
 * A `Graph` is closed: explicit input variables, an Immutable `List` of equations in topological
 * order (the order tracing recorded them), and output atoms. Equations name their primitive, read
 * atoms (variables or scalar literals), carry typed params and define output variables. Graphs are
 * values: two graphs with the same text are equal, so caches can be keyed by a body's value.
 */
import type { List } from "immutable";
import type { DType, Shape, Tensor } from "@rewind/tensor";
import { avalText } from "@rewind/tensor/internal/check";
import type { AnyPrimitive } from "./Primitive.js";

/** The abstract value of a variable: shape and dtype, no data. */
export interface Aval {
  /** The dimensions of the value. */
  readonly shape: Shape;
  /** The element type of the value. */
  readonly dtype: DType;
}

/** A variable of a graph. Ids are unique across the whole process, so graphs can be inlined freely. */
export interface Var {
  /** Tells a variable from a literal in an `Atom`. */
  readonly _tag: "Var";
  /** Unique in the process; printed graphs rename variables a, b, c… in order of appearance. */
  readonly id: number;
  /** The shape and dtype it holds. */
  readonly aval: Aval;
}

/** A rank-0 constant written inline in an equation (e.g. the `2` in `mul(x, 2)`). */
export interface Literal {
  /** Tells a literal from a variable in an `Atom`. */
  readonly _tag: "Literal";
  /** The rank-0 tensor written inline. */
  readonly value: Tensor;
  /** Its shape (`[]`) and dtype. */
  readonly aval: Aval;
}

/** What an equation reads: a variable or a scalar literal. */
export type Atom = Var | Literal;

/** One step of a graph: `outputs = prim(inputs; params)`. */
export interface Eqn {
  /** The primitive applied (its `name` is what printed graphs show). */
  readonly prim: AnyPrimitive;
  /** What it reads, in the primitive's argument order. */
  readonly inputs: readonly Atom[];
  /** The primitive's static parameters (axes, shapes, a scan's body…), typed by the primitive. */
  readonly params: unknown;
  /** The variables it defines, one per output of the primitive. */
  readonly outputs: readonly Var[];
  /** Where the equation was traced (a stack line), recorded only under `debugNans`. */
  readonly source?: string;
}

let nextVarId = 0;

/**
 * A fresh variable of the given aval.
 * @example newVar({ shape: [2], dtype: "float32" }).aval.shape // [2]
 */
export const newVar = (aval: Aval): Var => Object.freeze({ _tag: "Var", id: nextVarId++, aval });

/**
 * A literal atom for a rank-0 tensor.
 * @example literal(scalar(2)).aval.shape // []
 */
export const literal = (value: Tensor): Literal =>
  Object.freeze({ _tag: "Literal", value, aval: Object.freeze({ shape: value.shape, dtype: value.dtype }) });

/**
 * An aval from anything with a shape and a dtype (a tensor, a tracer).
 * @example avalOf(zeros([2, 3])) // { shape: [2, 3], dtype: "float32" }
 */
export const avalOf = (x: { readonly shape: Shape; readonly dtype: DType }): Aval =>
  Object.freeze({ shape: Object.freeze([...x.shape]), dtype: x.dtype });

/**
 * True when two avals have the same dtype and shape.
 * @example avalsEqual(avalOf(zeros([2])), avalOf(ones([2]))) // true
 */
export const avalsEqual = (a: Aval, b: Aval): boolean =>
  a.dtype === b.dtype && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);

/**
 * Short text of an aval, as graphs print it: `f32[2,3]`.
 * @example formatAval({ shape: [2, 3], dtype: "float32" }) // "f32[2,3]"
 */
export const formatAval = (a: Aval): string => {
  const short = { float32: "f32", float64: "f64", int32: "i32", bool: "bool" }[a.dtype];
  return `${short}[${a.shape.join(",")}]`;
};

/**
 * `formatAval` for messages: a shape of rank above 12 keeps its first six and last three
 * dimensions and states the rank, so a message stays short whatever the input. (`formatAval`
 * itself stays exact: jit keys its cache with it.) The tensor package's `avalText`, so every
 * package's messages show avals alike.
 * @example describeAval({ shape: Array(1000).fill(1), dtype: "float32" }) // "f32[1,1,1,1,1,1,…,1,1,1] (rank 1000)"
 */
export const describeAval = (a: Aval): string => avalText(a);

/**
 * A closed graph: inputs, equations in topological order, outputs. Two graphs are equal when
 * their canonical text is (`graphKey` in print.ts), which is how caches key bodies by value.
 */
export class Graph {
  /**
   * Freezes the arrays it is given; build graphs by tracing (`makeGraph`) rather than by hand.
   * @example new Graph([x], List(), [x]) // the identity on one variable x
   */
  constructor(
    /** The graph's parameters, in order. */
    readonly inputs: readonly Var[],
    /** Equations in topological order: each reads only inputs and earlier outputs. */
    readonly eqns: List<Eqn>,
    /** What the graph returns, in order: variables, or literals for constant outputs. */
    readonly outputs: readonly Atom[],
  ) {
    Object.freeze(inputs);
    Object.freeze(outputs);
    Object.freeze(this);
  }

  /** Input avals in order. */
  get inAvals(): readonly Aval[] {
    return this.inputs.map((v) => v.aval);
  }

  /** Output avals in order. */
  get outAvals(): readonly Aval[] {
    return this.outputs.map((a) => a.aval);
  }
}
