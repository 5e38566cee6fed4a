/**
 * @file The lowering table: every primitive of Rewind's registry, keyed by name, with its ONNX
 * lowering or the reason it has none. Typed `LoweringTable`, so a primitive added to the registry
 * without an entry here fails to compile.
 */
import { binaryLowerings } from "./lowerings/binary.js";
import { controlLowerings } from "./lowerings/control.js";
import { cumulativeLowerings } from "./lowerings/cumulative.js";
import { indexingLowerings } from "./lowerings/indexing.js";
import { reduceLowerings } from "./lowerings/reduce.js";
import { shapeLowerings } from "./lowerings/shape.js";
import { unaryLowerings } from "./lowerings/unary.js";
import { unsupportedLowerings } from "./lowerings/unsupported.js";
import type { LoweringTable } from "./types.js";

/** Every primitive's ONNX lowering (or why it has none). */
export const loweringTable: LoweringTable = {
  ...unaryLowerings,
  ...binaryLowerings,
  ...reduceLowerings,
  ...shapeLowerings,
  ...indexingLowerings,
  ...controlLowerings,
  ...cumulativeLowerings,
  ...unsupportedLowerings,
};

/** Which of Rewind's primitives export to ONNX. */
export interface ExportedPrimitives {
  /** The primitives with an ONNX lowering. */
  readonly lowered: string[];
  /** The primitives an export refuses (the error says why). */
  readonly unsupported: string[];
}

/**
 * The names of the primitives that export, and of those that do not (README and tests list them).
 * @example exportedPrimitives().lowered.includes("scan") // true
 */
export const exportedPrimitives = (): ExportedPrimitives => {
  const entries = Object.entries(loweringTable);
  return {
    lowered: entries.filter(([, l]) => typeof l === "function").map(([n]) => n),
    unsupported: entries.filter(([, l]) => typeof l !== "function").map(([n]) => n),
  };
};
