/**
 * @file The lowering table's types: one entry per primitive of Rewind's registry, keyed by
 * `PrimitiveName`, so adding a primitive to Rewind without deciding how it exports fails to compile.
 */
import type { Aval, Eqn, Graph, Primitive, PrimitiveName, registry } from "@rewind/autodiff";
import type { GraphBuilder } from "./builder.js";

/** The params type of a registry primitive. */
export type ParamsOf<K extends PrimitiveName> = (typeof registry)[K] extends Primitive<string, infer P> ? P : never;

/** What a lowering sees of the equation it lowers. */
export interface LowerContext {
  /** The graph being built (the model's, or a Scan body's). */
  readonly b: GraphBuilder;
  /** The equation. */
  readonly eqn: Eqn;
  /** ONNX names of the equation's inputs, in order. */
  readonly ins: readonly string[];
  /** The inputs' avals. */
  readonly inAvals: readonly Aval[];
  /** The outputs' avals. */
  readonly outAvals: readonly Aval[];
  /**
   * Lowers a closed graph into builder `b` with its inputs bound to `inputs`; returns the names of
   * its outputs (scan bodies, remat and customVjp bodies).
   */
  readonly lowerGraph: (b: GraphBuilder, graph: Graph, inputs: readonly string[]) => readonly string[];
}

/** How one primitive becomes ONNX nodes: returns the names of the equation's outputs. */
export type Lowering<P> = (ctx: LowerContext, params: P) => readonly string[];

/** A primitive that does not export, and why (the export error tells the user). */
export interface Unsupported {
  /** Why the primitive has no ONNX form, and what to do instead. */
  readonly unsupported: string;
}

/** Every primitive's lowering, or the reason it has none. */
export type LoweringTable = { readonly [K in PrimitiveName]: Lowering<ParamsOf<K>> | Unsupported };

/** A part of the table (one family of primitives). */
export type PartialTable<K extends PrimitiveName> = { readonly [N in K]: Lowering<ParamsOf<N>> | Unsupported };
