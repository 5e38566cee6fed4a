/**
 * @file The lowering table's types: one entry per primitive of Rewind's registry, keyed by
 * `PrimitiveName`, so a primitive added to Rewind without a decision here fails to compile. An
 * entry is a WGSL lowering or `"cpu"` (read back, run the primitive's CPU impl, upload).
 */
import type { Aval, Eqn, Graph, Primitive, PrimitiveName, registry } from "@rewind/autodiff";
import type { Operand, Program, Step } from "./program.js";
import type { DType } from "@rewind/tensor";
import type { KernelInput } from "./wgsl/common.js";

/** The params type of a registry primitive. */
export type ParamsOf<K extends PrimitiveName> = (typeof registry)[K] extends Primitive<string, infer P> ? P : never;

/** What a lowering sees and can emit. */
export interface LowerContext {
  /** The equation. */
  readonly eqn: Eqn;
  /** Its operands. */
  readonly ins: readonly Operand[];
  /** Its outputs' avals. */
  readonly outAvals: readonly Aval[];
  /** A new, unwritten slot for a value of `aval`. */
  readonly fresh: (aval: Aval) => Operand;
  /**
   * Adds a kernel reading `reads` and writing `writes`; `gen` gets the reads as kernel inputs
   * (buffers named `in0, in1…` in order, literals inlined) and returns the WGSL. The grid
   * defaults to one thread per element of the first write.
   */
  readonly launch: (
    reads: readonly Operand[],
    writes: readonly Operand[],
    gen: (inputs: KernelInput[]) => string,
    groups?: readonly [number, number, number],
  ) => void;
  /** The equation that produced a slot operand in this graph, with its operands. */
  readonly producer: (x: Operand) => { readonly eqn: Eqn; readonly ins: readonly Operand[] } | undefined;
  /** Compiles a closed graph on its own (a scan's body), its inputs fresh slots of its program. */
  readonly compileBody: (graph: Graph) => Program;
  /** Adds a step made by the lowering itself (a scan). */
  readonly push: (step: Step) => void;
  /** Lowers a closed graph (a remat or customVjp body) inline on `ins`; returns its outputs. */
  readonly lowerGraph: (graph: Graph, ins: readonly Operand[]) => readonly Operand[];
}

/** How one primitive becomes kernels: its outputs, or `"cpu"` for these operands (e.g. a dtype). */
export type Lowering<P> = (ctx: LowerContext, params: P) => readonly Operand[] | "cpu";

/**
 * An elementwise lowering's expression, for fusion: the WGSL of the primitive applied to its
 * operands' expressions (of the given dtypes), producing `out`.
 */
export interface Fusible {
  /** The expression (compile.ts fuses chains of these into one kernel). */
  readonly fuse: (args: readonly string[], ins: readonly DType[], out: DType, params: unknown) => string;
  /** Fuse only operands like these (default: always). */
  readonly when?: (ins: readonly Aval[]) => boolean;
}

/** Every primitive's lowering, or `"cpu"`. */
export type LoweringTable = { readonly [K in PrimitiveName]: Lowering<ParamsOf<K>> | "cpu" };

/** A part of the table (one family of primitives). */
export type PartialTable<K extends PrimitiveName> = { readonly [N in K]: Lowering<ParamsOf<N>> | "cpu" };
