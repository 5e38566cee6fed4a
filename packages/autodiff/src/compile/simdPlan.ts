/**
 * @file Whether a fused float32 loop runs as a WebAssembly SIMD kernel (`simdLoop.ts`), and how:
 * its dims after `simplify`, each read's strides and windows, and the segments its axes run in.
 *
 * Windowed reads (pad, unslice, concatenation: a read that is a shifted view inside a window and
 * its fill outside) are allowed along any axis with step 1. Along the innermost axis the loop runs
 * segment by segment (`segments`); along an outer axis, the loop over that axis runs segment by
 * segment (`outerSegments`), each with the reads outside their window as their fill. Either way no
 * lane tests a window, and each lane computes what the JavaScript loop computes.
 */
import { ewOps } from "./ewOps.js";
import { innerSegments, simplify, walkOf, type AxisGuard, type LoopMember, type LoopSpec } from "./loopgen.js";

/**
 * A member the SIMD loop computes: its op has a lane form for these dtypes (see `ewOps.ts`), and
 * every scalar operand is float32. Scalars reach the kernel as f32 parameters splat into lanes: an
 * int32 scalar would be compared as float bits with int32 lanes (`equal(ids, 3)` was false for
 * every id 3), and beyond 2^24 it does not survive the float; a bool scalar would not be a mask.
 */
const laneWise = (m: LoopMember): boolean =>
  (ewOps[m.op].lanes?.accepts(m.dtype, m.inDtypes) ?? false) &&
  m.ins.every((o, i) => o.kind !== "scalar" || m.inDtypes[i] === "float32");

/** How a qualifying loop runs in SIMD (from `planSimd`), shared by the kernel and its wrapper. */
export interface SimdPlan {
  readonly dims: readonly number[];
  readonly strides: ReadonlyArray<readonly number[]>;
  readonly offsets: readonly number[];
  /** Per read: its window along the innermost axis (a padded/unsliced read), if any. */
  readonly windows: ReadonlyArray<AxisGuard | undefined>;
  /** Per read, per axis: its window along that outer axis, if any (never the innermost axis). */
  readonly outerWindows: ReadonlyArray<ReadonlyArray<AxisGuard | undefined>>;
  /** Per read: it is its fill everywhere. */
  readonly fills: readonly boolean[];
  /** Pieces of the innermost axis on which every window read is wholly inside or outside. */
  readonly segments: ReadonlyArray<readonly [number, number]>;
}

/** The last axis read `strides` moves along (−1: none). */
const lastMoving = (strides: readonly number[]): number => strides.reduce((l, s, a) => (s !== 0 ? a : l), -1);

/**
 * The loop's dims, per-read strides and windows after `simplify`, or undefined when SIMD does not
 * apply: a read or store that is not float32 (bool and int32 reads without windows are fine), a member
 * without a lane form, a negative stride, an innermost axis some read walks with a stride other
 * than 0 or 1, or a window with a step other than 1, outside the loop, over an innermost axis the
 * read does not walk contiguously, or along an outer axis past the last one the read moves along.
 * @example planSimd(spec)?.segments // [[0, 128]] for a contiguous [32, 128] loop
 */
export const planSimd = (spec: LoopSpec): SimdPlan | undefined => {
  if (spec.shape.length === 0 || spec.shape.some((d) => d === 0)) return undefined;
  if (!spec.reads.every((r) => r.dtype === "float32" || (r.dtype !== "float64" && r.guard === undefined)))
    return undefined;
  if (!spec.stores.every((s) => s.dtype === "float32") || !spec.members.every(laneWise)) return undefined;
  const walks = spec.reads.map((r) => walkOf(r, spec.shape));
  const dims = simplify(spec.shape, walks);
  const inner = dims.length - 1;
  if (inner < 0) return undefined;
  const live = walks.filter((w) => !w.allFill);
  if (!live.every((w) => w.strides.every((s) => s >= 0) && (w.strides[inner] === 0 || w.strides[inner] === 1)))
    return undefined;
  const fits = live.every((w) =>
    w.guards.every(
      (g, a) =>
        g === undefined ||
        (g.step === 1 &&
          g.start >= 0 &&
          g.start + g.size <= dims[a]! &&
          (a === inner ? w.strides[inner] === 1 : lastMoving(w.strides) >= a)),
    ),
  );
  if (!fits) return undefined;
  // The innermost axis's pieces come from the innermost windows alone.
  const innerOnly = walks.map((w) => ({ ...w, guards: w.guards.map((g, a) => (a === inner ? g : undefined)) }));
  const segments = innerSegments(innerOnly, dims) ?? [[0, dims[inner]!] as const];
  return {
    dims,
    strides: walks.map((w) => w.strides),
    offsets: walks.map((w) => w.offset),
    windows: walks.map((w) => (w.allFill ? undefined : w.guards[inner])),
    outerWindows: walks.map((w) => w.guards.map((g, a) => (w.allFill || a === inner ? undefined : g))),
    fills: walks.map((w) => w.allFill),
    segments,
  };
};

/**
 * Pieces of outer axis `a` on which every read windowed along it is wholly inside or outside its
 * window (one piece, the whole axis, when no read is).
 * @example outerSegments(plan, 1) // [[0, 1], [1, 1024]] for a read padded by one step in front
 */
export const outerSegments = (plan: SimdPlan, a: number): Array<readonly [number, number]> => {
  const d = plan.dims[a]!;
  const points = new Set([0, d]);
  for (const w of plan.outerWindows) {
    const g = w[a];
    if (g === undefined) continue;
    points.add(g.start);
    points.add(g.start + g.size);
  }
  const sorted = [...points].sort((x, y) => x - y);
  return sorted.slice(1).map((hi, i) => [sorted[i]!, hi] as const);
};

/**
 * The span of elements read `r` touches, relative to its location: `[lo, hi)`.
 * @example readSpan(plan, 0) // [128, 16128] for a [32, 128] slice of a [32, 512] buffer
 */
export const readSpan = (plan: SimdPlan, r: number): readonly [number, number] => {
  if (plan.fills[r]) return [0, 0];
  const lo = plan.offsets[r]!;
  const inner = plan.dims.length - 1;
  // A windowed read walks its window's length along that axis, not the loop's.
  const extent = (a: number): number =>
    (a === inner ? plan.windows[r] : plan.outerWindows[r]![a])?.size ?? plan.dims[a]!;
  return [lo, lo + 1 + plan.strides[r]!.reduce((s, st, a) => s + st * Math.max(0, extent(a) - 1), 0)];
};
