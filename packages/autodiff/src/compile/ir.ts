/**
 * @file The compiler's own IR: values with a definition (stored root, compile-time constant, or a
 * lazy strided view of another value), and blocks of nodes.
 *
 * Lowering (lower.ts) turns a `Graph` into a `Block`. Movement primitives (broadcastTo, slice,
 * transpose, flip, reshape, unslice, pad) produce no node: their output is a *view* — shape,
 * strides and offset over a root's flat storage, plus an optional guard (unslice/pad: outside the
 * window the value is a fill constant). Consumers read views by index arithmetic, so a view costs
 * nothing unless a consumer needs contiguous storage, which then gets an explicit `copy` node.
 */
import { isDType, type DType, type Tensor } from "@rewind/tensor";
import type { CumulativeOp } from "@rewind/tensor/internal/codegen";
import type { AnyPrimitive } from "../Primitive.js";
import type { indexingPrimitives } from "../primitives/indexing.js";
import type { reducePrimitives } from "../primitives/reduce.js";
import type { EwOpName } from "./ewOps.js";

/** A value's number; indexes `Program.vals`. */
export type VId = number;

/** Element `[i0..ik]` of the view lives at `offset + Σ ij · strides[j]` of its root's storage. */
export interface StridedView {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

/**
 * A window of the value's (outer) shape: along axis a, outer index `start[a] + q·step[a]` for
 * `q < inner.shape[a]` reads inner element q; every other position is `fill`.
 */
export interface Guard {
  readonly start: readonly number[];
  readonly step: readonly number[];
  /** The value outside the window, as stored in the value's dtype (already rounded). */
  readonly fill: number;
}

/** How a value comes to exist. */
export type Def =
  | { readonly kind: "root" }
  | { readonly kind: "const"; readonly tensor: Tensor }
  | { readonly kind: "view"; readonly root: VId; readonly view: StridedView; readonly guard?: Guard };

/** A value of the program. */
export interface Val {
  readonly id: VId;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly size: number;
  readonly def: Def;
}

/** Reductions the compiler runs with its own kernels: every reduction primitive. */
export type ReduceOp = keyof typeof reducePrimitives;

/** Integer-indexing ops the compiler runs with its own kernels: every indexing primitive. */
export type IndexOp = keyof typeof indexingPrimitives;

/** One step of a block. Every node lists the values it reads (`ins`) and defines (`outs`). */
export type Node =
  | {
      readonly kind: "ew";
      readonly op: EwOpName;
      readonly param?: DType;
      readonly ins: readonly VId[];
      readonly outs: readonly [VId];
    }
  | { readonly kind: "matmul"; readonly ins: readonly [VId, VId]; readonly outs: readonly [VId] }
  | {
      /** Two float32 products of one a (`ins` [a, b1, b2], `outs` [a·b1, a·b2]): see pairProducts.ts. */
      readonly kind: "matmulPair";
      readonly ins: readonly [VId, VId, VId];
      readonly outs: readonly [VId, VId];
    }
  | {
      readonly kind: "reduce";
      readonly op: ReduceOp;
      readonly axes: readonly number[];
      readonly ins: readonly [VId];
      readonly outs: readonly [VId];
    }
  | { readonly kind: "concat"; readonly axis: number; readonly ins: readonly VId[]; readonly outs: readonly [VId] }
  | {
      readonly kind: "index";
      readonly op: IndexOp;
      readonly axis: number;
      readonly ins: readonly VId[];
      readonly outs: readonly [VId];
    }
  | ScanNode
  | {
      /** A cumulative primitive or linearScan: its tensor kernel, writing into the output's buffer. */
      readonly kind: "cumulative";
      readonly op: CumulativeOp | "linearScan";
      readonly axis: number;
      readonly reverse: boolean;
      readonly ins: readonly VId[];
      readonly outs: readonly [VId];
    }
  | {
      readonly kind: "fallback";
      readonly prim: AnyPrimitive;
      readonly params: unknown;
      readonly ins: readonly VId[];
      readonly outs: readonly VId[];
    };

/**
 * A scan: `ins` are `[consts…, init…, xs…]` (all contiguous), the body's inputs
 * `[consts…, carries…, x rows…]` and outputs `[carries'…, y rows…]`. A carry the body returns
 * unchanged (`carryOut[k] === null`) is not a node output at all: the parent reads the init value.
 * `ysOut[j] === null` marks a y nobody reads (pruned: the body does not compute it).
 */
export interface ScanNode {
  readonly kind: "scan";
  readonly ins: readonly VId[];
  readonly outs: readonly VId[];
  readonly body: Block;
  readonly numConsts: number;
  readonly numCarry: number;
  readonly length: number;
  readonly reverse: boolean;
  readonly carryOut: ReadonlyArray<VId | null>;
  ysOut: Array<VId | null>;
}

/** A straight-line program: inputs, nodes in order, outputs. */
export interface Block {
  readonly inputs: readonly VId[];
  nodes: Node[];
  readonly outputs: readonly VId[];
}

/** Every value of a compilation (blocks of nested scans share one table). */
export interface Program {
  readonly vals: Val[];
}

/**
 * The product of a shape's dimensions.
 * @example sizeOfShape([2, 3]) // 6
 */
export const sizeOfShape = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Adds a value to the program and returns its id.
 * @example addVal(prog, "float32", [2], { kind: "root" }) // a new value id
 */
export const addVal = (prog: Program, dtype: DType, shape: readonly number[], def: Def): VId => {
  // Avals reach generated code (as dtype tags and sizes): accept nothing but real dtypes and sizes.
  if (!isDType(dtype) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(
      `Rewind internal error: cannot compile a value of dtype ${String(dtype)} and shape [${shape.join(", ")}]`,
    );
  }
  const id = prog.vals.length;
  prog.vals.push(Object.freeze({ id, dtype, shape: Object.freeze([...shape]), size: sizeOfShape(shape), def }));
  return id;
};

/**
 * The value with this id (ids come only from `addVal`, so it exists).
 * @example valOf(prog, id).shape
 */
export const valOf = (prog: Program, id: VId): Val => prog.vals[id]!;

/**
 * The id of the storage a value reads: itself for roots and constants, the root of a view.
 * @example rootOf(prog, viewId) // the id of the value the view reads
 */
export const rootOf = (prog: Program, id: VId): VId => {
  const d = valOf(prog, id).def;
  return d.kind === "view" ? d.root : id;
};
