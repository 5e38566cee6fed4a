/**
 * @file Public surface of @rewind/testing: property-based checks users run on their own code.
 */
export { allClose, type CloseOptions, type CloseResult } from "./allClose.js";
export { checkGrads, type CheckGradsOptions } from "./checkGrads.js";
