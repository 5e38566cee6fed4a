/**
 * @file The lowering table: every primitive of Rewind's registry, keyed by name, with its WGSL
 * lowering or `"cpu"` (the primitive's CPU impl runs between two submissions: its inputs are read
 * back and its outputs uploaded). Typed `LoweringTable`, so a primitive added to the registry
 * without an entry here fails to compile.
 */
import { cumulativeLowerings } from "./lowerings/cumulative.js";
import { elementwiseLowerings } from "./lowerings/elementwise.js";
import { randomSampleLowering } from "./lowerings/random.js";
import { scanLowering } from "./lowerings/scan.js";
import { structureLowerings } from "./lowerings/structure.js";
import type { LoweringTable } from "./types.js";

/** Every primitive's WebGPU lowering, or `"cpu"`. */
export const loweringTable: LoweringTable = {
  ...elementwiseLowerings,
  ...structureLowerings,
  ...cumulativeLowerings,
  // Closed bodies run inline, as the CPU compiler runs them (the VJP structure does not matter here).
  remat: (ctx, { body }) => ctx.lowerGraph(body, ctx.ins),
  customVjp: (ctx, { body }) => ctx.lowerGraph(body, ctx.ins),
  scan: scanLowering,
  randomSample: randomSampleLowering,
  // Keys are made on the CPU: they are small host values (README: the CPU fallbacks).
  keySplit: "cpu",
  keyFoldIn: "cpu",
};

/** Which primitives run as WGSL kernels on WebGPU, and which fall back to the CPU. */
export interface LoweredPrimitives {
  /** The primitives with a WGSL lowering (some fall back for a dtype, e.g. a bool sum). */
  readonly lowered: string[];
  /** The primitives that always run on the CPU between two submissions. */
  readonly cpu: string[];
}

/**
 * The primitives lowered to WGSL and those run on the CPU (the README lists both).
 * @example loweredPrimitives().cpu.includes("scan") // true
 */
export const loweredPrimitives = (): LoweredPrimitives => {
  const entries = Object.entries(loweringTable);
  return {
    lowered: entries.filter(([, l]) => l !== "cpu").map(([n]) => n),
    cpu: entries.filter(([, l]) => l === "cpu").map(([n]) => n),
  };
};
