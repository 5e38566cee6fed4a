/**
 * @file What the compiler produces and the runtime runs: buffer slots (one per value, shared by a
 * reshape and its input), and steps — a WGSL kernel over some slots, or a primitive run on the CPU
 * (its inputs read back, its outputs uploaded) where the table says `"cpu"`.
 */
import type { Aval, Eqn } from "@rewind/autodiff";
import type { Tensor } from "@rewind/tensor";

/** A value a step reads: a buffer slot, or a scalar literal of the graph. */
export type Operand =
  | { readonly slot: number; readonly aval: Aval }
  | { readonly slot?: undefined; readonly literal: Tensor; readonly aval: Aval };

/** A kernel launch. */
export interface KernelStep {
  /** Tells the step kinds apart. */
  readonly kind: "kernel";
  /** The primitive it computes (part of), for inspection. */
  readonly prim: string;
  /** The kernel's source (also the key of the compiled-pipeline cache). */
  readonly wgsl: string;
  /** Slots bound first, read-only, in binding order. */
  readonly reads: readonly number[];
  /** Slots bound after the reads, written. */
  readonly writes: readonly number[];
  /** The workgroup grid. */
  readonly groups: readonly [number, number, number];
}

/** A primitive run on the CPU. */
export interface CpuStep {
  /** Tells the step kinds apart. */
  readonly kind: "cpu";
  /** The equation (its primitive's `impl` runs). */
  readonly eqn: Eqn;
  /** Its operands. */
  readonly ins: readonly Operand[];
  /** The slots its outputs are uploaded to. */
  readonly outs: readonly number[];
}

/**
 * A scan run on the device: its body (a program of kernels only) encoded once per iteration into
 * the same submission, the carry passed from one iteration's buffers to the next's, x_t copied out
 * of the stacked xs and y_t into the stacked ys (buffer copies, no kernel, no read-back).
 */
export interface ScanStep {
  /** Tells the step kinds apart. */
  readonly kind: "scan";
  /**
   * The body (kernels, and scans nested in it): inputs `[consts…, carry…, x_t…]`, outputs
   * `[carry'…, y_t…]`.
   */
  readonly body: Program;
  /** Number of iterations. */
  readonly length: number;
  /** Iterate from the last step to the first. */
  readonly reverse: boolean;
  /** Number of constants. */
  readonly numConsts: number;
  /** Number of carries. */
  readonly numCarry: number;
  /** The scan's operands (buffer slots): consts, initial carry, stacked xs. */
  readonly ins: readonly number[];
  /** The slots of its outputs: final carry, stacked ys. */
  readonly outs: readonly number[];
}

/** One step of a program. */
export type Step = KernelStep | CpuStep | ScanStep;

/** A compiled graph. */
export interface Program {
  /** The aval of every slot. */
  readonly slots: Aval[];
  /** The steps, in order. */
  readonly steps: Step[];
  /** The slots of the graph's inputs (captured constants first, then the arguments' leaves). */
  readonly inputs: readonly number[];
  /** The graph's outputs. */
  readonly outputs: readonly Operand[];
}

/** True for a slot operand. */
export const isSlot = (x: Operand): x is Operand & { readonly slot: number } => x.slot !== undefined;

/**
 * Drops kernel steps none of whose writes is read later or returned (a transpose folded into a
 * matmul's operand layout leaves its own kernel unused).
 * @example prune(program).steps.length
 */
export const prune = (p: Program): Program => {
  const live = new Set<number>(p.outputs.filter(isSlot).map((o) => o.slot));
  const kept: Step[] = [];
  for (let s = p.steps.length - 1; s >= 0; s--) {
    const step = p.steps[s]!;
    if (step.kind === "kernel" && !step.writes.some((w) => live.has(w))) continue;
    kept.push(step);
    if (step.kind === "kernel") step.reads.forEach((r) => live.add(r));
    else if (step.kind === "scan") step.ins.forEach((r) => live.add(r));
    else step.ins.filter(isSlot).forEach((o) => live.add(o.slot));
  }
  return { ...p, steps: kept.reverse() };
};
