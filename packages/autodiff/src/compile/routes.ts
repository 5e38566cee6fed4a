/**
 * @file How the compiler runs each primitive: fused elementwise (`ewOps`), or its entry in
 * `ROUTES` (a view, an alias, an inlined body, a node of its own kind, a kernel or a fallback).
 */
import type { AnyPrimitive } from "../Primitive.js";
import { registry, type PrimitiveName } from "../primitives/index.js";
import { ewOps, NOT_FUSED, type ElementwiseName, type EwOpName, type NotFusedName } from "./ewOps.js";

/**
 * How the compiler runs each primitive that is not elementwise (those are `ewOps`'s keys, or
 * listed in `NOT_FUSED`):
 * - `view`: a movement, lowered to a view of its input (no node);
 * - `alias`: its output is its input;
 * - `inline`: without differentiation, its body;
 * - `scan`, `matmul`, `reduce`, `index`, `concat`: a node of that kind (`lowerOps.ts`);
 * - `fallback`: deliberately no fast path, the primitive's impl runs: the random primitives, so a
 *   jitted sample is @rewind/tensor's eager sample bit for bit (`NOT_FUSED` names the elementwise
 *   ones).
 * - `kernel`: a `cumulative` node: the primitive's tensor kernel (its fast path) writing into
 *   the output's planned buffer; its outputs always have the dtypes of their avals, so unlike a
 *   `fallback`'s they do not send everything that reads them through impls too: the cumulative
 *   primitives and linearScan.
 * Typed by `PrimitiveName`, so a primitive added without an entry here, or a misspelt one, fails
 * to compile.
 */
export type Route =
  "view" | "alias" | "inline" | "scan" | "matmul" | "reduce" | "index" | "concat" | "fallback" | "kernel";
export const ROUTES = {
  broadcastTo: "view",
  reshape: "view",
  transpose: "view",
  slice: "view",
  unslice: "view",
  flip: "view",
  pad: "view",
  stopGradient: "alias",
  remat: "inline",
  customVjp: "inline",
  scan: "scan",
  matmul: "matmul",
  sum: "reduce",
  reduceMax: "reduce",
  reduceMin: "reduce",
  prod: "reduce",
  argmax: "reduce",
  argmin: "reduce",
  take: "index",
  gather: "index",
  addAt: "index",
  addAlongAxis: "index",
  concat: "concat",
  randomSample: "fallback",
  keySplit: "fallback",
  keyFoldIn: "fallback",
  cumsum: "kernel",
  cumprod: "kernel",
  cummax: "kernel",
  cummin: "kernel",
  logcumsumexp: "kernel",
  linearScan: "kernel",
} as const satisfies { readonly [K in Exclude<PrimitiveName, ElementwiseName>]: Route };

/** Whether `p` is the registry's primitive of its name (not a user's primitive that shares a name). */
export const isBuiltIn = (p: AnyPrimitive): p is AnyPrimitive & { readonly name: PrimitiveName } =>
  (registry as Readonly<Record<string, AnyPrimitive>>)[p.name] === p;

/** A fused elementwise primitive (one with an `ewOps` entry). */
export type FusedName = Exclude<EwOpName, "copy">;
/** Whether `name` is fused elementwise. */
const isFused = (name: PrimitiveName): name is FusedName => name in ewOps;
/** Whether `name` is elementwise but deliberately not fused (runs its impl). */
const isNotFused = (name: PrimitiveName): name is NotFusedName => (NOT_FUSED as readonly string[]).includes(name);

/** The route of a built-in primitive: fused elementwise, or its `ROUTES` entry. */
export const routeOf = (name: PrimitiveName): Route | "elementwise" =>
  isFused(name) ? "elementwise" : isNotFused(name) ? "fallback" : ROUTES[name];

/** A movement primitive (lowered to a view). */
export type MovementName = {
  [K in keyof typeof ROUTES]: (typeof ROUTES)[K] extends "view" ? K : never;
}[keyof typeof ROUTES];
