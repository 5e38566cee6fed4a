/**
 * @file The registry: every primitive, keyed by name, built from the primitive objects themselves.
 * `PrimitiveName` is derived from it, so tables typed `{ [K in PrimitiveName]: … }` (the
 * gradient-check table in test/) fail to compile when a primitive is added without an entry, and
 * the registry itself refuses a primitive without a batching rule (or the `batchByLoop` marker).
 */
import type { AnyPrimitive, BatchedPrimitive } from "../Primitive.js";
import { binaryPrimitives } from "./binary.js";
import { indexingPrimitives } from "./indexing.js";
import { linalgPrimitives } from "./linalg.js";
import { randomPrimitives } from "./random.js";
import { reducePrimitives } from "./reduce.js";
import { scan } from "../scan/primitive.js";
import { shapePrimitives } from "./shape.js";
import { remat, stopGradient } from "./special.js";
import { customVjp } from "./customVjp.js";
import { cumulativePrimitives } from "./cumulative.js";
import { unaryPrimitives } from "./unary.js";

/** Every primitive of Rewind, keyed by its name. */
export const registry = {
  ...unaryPrimitives,
  ...binaryPrimitives,
  ...reducePrimitives,
  ...shapePrimitives,
  ...indexingPrimitives,
  ...linalgPrimitives,
  ...randomPrimitives,
  ...cumulativePrimitives,
  stopGradient,
  remat,
  customVjp,
  scan,
} as const satisfies Readonly<Record<string, AnyPrimitive & BatchedPrimitive>>;

/** The name of a primitive. */
export type PrimitiveName = keyof typeof registry;
