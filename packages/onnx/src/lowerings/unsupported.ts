/**
 * @file The primitives that do not export (yet), each with the reason the export error gives.
 */
import type { PartialTable } from "../types.js";

const RANDOM =
  "Rewind's counter-based random bits have no ONNX operator that reproduces them; " +
  "draw the random values outside the exported function and pass them as an argument";

/** Primitives without a lowering, and why. */
export const unsupportedLowerings: PartialTable<"randomSample" | "keySplit" | "keyFoldIn"> = {
  randomSample: { unsupported: RANDOM },
  keySplit: { unsupported: RANDOM },
  keyFoldIn: { unsupported: RANDOM },
};
