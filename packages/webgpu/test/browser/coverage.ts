/**
 * @file Which browser test file compares which lowering with the CPU: each file asserts that the
 * graphs it ran contained its primitives, and a Node test checks the lists cover every primitive
 * the lowering table lowers to WGSL.
 */

/** The elementwise primitives (elementwise.browser.ts). */
export const ELEMENTWISE_COVERED = [
  "neg",
  "abs",
  "exp",
  "expm1",
  "log",
  "log1p",
  "sqrt",
  "sin",
  "cos",
  "tanh",
  "logistic",
  "softplus",
  "sign",
  "floor",
  "ceil",
  "round",
  "isNaN",
  "isFinite",
  "logicalNot",
  "add",
  "sub",
  "mul",
  "div",
  "pow",
  "maximum",
  "minimum",
  "equal",
  "notEqual",
  "less",
  "lessEqual",
  "greater",
  "greaterEqual",
  "logicalAnd",
  "logicalOr",
  "select",
  "convert",
];

/** Movement, reduction, matmul and indexing primitives (structure.browser.ts). */
export const STRUCTURE_COVERED = [
  "broadcastTo",
  "reshape",
  "transpose",
  "slice",
  "unslice",
  "flip",
  "pad",
  "concat",
  "stopGradient",
  "sum",
  "reduceMax",
  "reduceMin",
  "prod",
  "argmax",
  "argmin",
  "matmul",
  "take",
  "addAt",
  "gather",
  "addAlongAxis",
];

/** The cumulative primitives and the linear recurrence (cumulative.browser.ts). */
export const CUMULATIVE_COVERED = ["cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "linearScan"];

/** Random samples, Threefry on the device (random.browser.ts). */
export const RANDOM_COVERED = ["randomSample"];

/** scan, on the device with the carry resident (scan.browser.ts). */
export const SCAN_COVERED = ["scan"];

/** Lowered by inlining their bodies (api.browser.ts). */
export const INLINE_COVERED = ["remat", "customVjp"];
