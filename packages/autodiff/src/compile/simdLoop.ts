/**
 * @file A fused float32 elementwise loop as a WebAssembly SIMD function, four lanes at a time.
 *
 * The same loop as `loopgen.ts` generates in JavaScript, for the specs where SIMD pays and is
 * exact: every read, member and store float32; members whose op has a lane form (`ewOps.ts`,
 * compiled by `simdLanes.ts`; e^x, tanh and the logistic through the tensor package's float32
 * polynomials, which its kernels use too); after `simplify`, an innermost axis that every read walks contiguously
 * (stride 1) or not at all (stride 0, a splat), no negative strides, and windowed reads (unslice,
 * pad: the split VJP's concatenation) only as contiguous windows along the innermost axis, which
 * then runs segment by segment as `loopgen.ts` does (inside a window: a shifted read; outside: the
 * fill). The innermost axis runs four lanes at a time; its last `n mod 4` elements run as one
 * vector of 1–3 live lanes, loaded and stored lane by lane. Everything else stays in JavaScript.
 * Each lane computes exactly what the JavaScript loop computes for its element (float32
 * operations round like `Math.fround` of the double operation; maximum/minimum select as the
 * JavaScript expressions do: both forms come from one lane expression), so the two paths agree
 * bit for bit.
 *
 * Bool operands (masks, as `rnn`'s `lengths` make, and comparisons) live in lanes as all-ones or
 * all-zero masks: a bool read's bytes become masks, comparisons give masks, and only `select` and
 * `convert` (to float32) consume them; a bool is never stored from a SIMD loop.
 *
 * Signature: `(out_0, …, read_0, …, scalar_0, …)`; an out or read argument is the byte address of
 * element 0 of its buffer location (the loop adds the view's offset and strides), a scalar an f32.
 * The output is dense in loop order, so each store walks one running pointer.
 */
import { byteSize } from "@rewind/tensor";
import { f32, FunctionBuilder, i32, v128, type ValType } from "@rewind/tensor/internal/codegen";
import { ewOps } from "./ewOps.js";
import { innerSegments, simplify, walkOf, type AxisGuard, type LoopMember, type LoopSpec } from "./loopgen.js";
import { emitLanes } from "./simdLanes.js";

/** A member the SIMD loop computes: its op has a lane form for these dtypes (see `ewOps.ts`). */
const laneWise = (m: LoopMember): boolean => ewOps[m.op].lanes?.accepts(m.dtype, m.inDtypes) ?? false;

/** How a qualifying loop runs in SIMD (from `planSimd`), shared by the kernel and its wrapper. */
export interface SimdPlan {
  readonly dims: readonly number[];
  readonly strides: ReadonlyArray<readonly number[]>;
  readonly offsets: readonly number[];
  /** Per read: its window along the innermost axis (a padded/unsliced read), if any. */
  readonly windows: ReadonlyArray<AxisGuard | undefined>;
  /** Per read: it is its fill everywhere. */
  readonly fills: readonly boolean[];
  /** Pieces of the innermost axis on which every window read is wholly inside or outside. */
  readonly segments: ReadonlyArray<readonly [number, number]>;
}

/**
 * The loop's dims, per-read strides and windows after `simplify`, or undefined when SIMD does not
 * apply (see the file comment for the conditions). Computed once per loop by the module.
 * @example planSimd(spec)?.segments // [[0, 128]] for a contiguous [32, 128] loop
 */
export const planSimd = (spec: LoopSpec): SimdPlan | undefined => {
  if (spec.shape.length === 0 || spec.shape.some((d) => d === 0)) return undefined;
  if (!spec.reads.every((r) => r.dtype === "float32" || (r.dtype === "bool" && r.guard === undefined)))
    return undefined;
  if (!spec.stores.every((s) => s.dtype === "float32") || !spec.members.every(laneWise)) return undefined;
  const walks = spec.reads.map((r) => walkOf(r, spec.shape));
  const dims = simplify(spec.shape, walks);
  const inner = dims.length - 1;
  if (inner < 0) return undefined;
  const live = walks.filter((w) => !w.allFill);
  if (!live.every((w) => w.strides.every((s) => s >= 0) && (w.strides[inner] === 0 || w.strides[inner] === 1)))
    return undefined;
  // Windows (the split VJP's unslices, pads): only along the innermost axis, step 1, inside the
  // loop, over a contiguous read; then each segment is a plain loop (inside: shifted, outside: fill).
  const windowed = live.filter((w) => w.guards.some((g) => g !== undefined));
  const fits = windowed.every((w) => {
    const g = w.guards[inner];
    return (
      w.guards.every((h, a) => h === undefined || a === inner) &&
      g !== undefined &&
      g.step === 1 &&
      g.start >= 0 &&
      g.start + g.size <= dims[inner]! &&
      w.strides[inner] === 1
    );
  });
  if (!fits) return undefined;
  const segments = windowed.length === 0 ? [[0, dims[inner]!] as const] : innerSegments(walks, dims)!;
  return {
    dims,
    strides: walks.map((w) => w.strides),
    offsets: walks.map((w) => w.offset),
    windows: walks.map((w) => (w.allFill ? undefined : w.guards[inner])),
    fills: walks.map((w) => w.allFill),
    segments,
  };
};

/**
 * The span of elements read `r` touches, relative to its location: `[lo, hi)`.
 * @example readSpan(plan, 0) // [128, 16128] for a [32, 128] slice of a [32, 512] buffer
 */
export const readSpan = (plan: SimdPlan, r: number): readonly [number, number] => {
  if (plan.fills[r]) return [0, 0];
  const lo = plan.offsets[r]!;
  const inner = plan.dims.length - 1;
  const window = plan.windows[r];
  // A windowed read walks its window's length along the innermost axis, not the loop's.
  const extent = (a: number): number => (a === inner && window !== undefined ? window.size : plan.dims[a]!) - 1;
  return [lo, lo + 1 + plan.strides[r]!.reduce((s, st, a) => s + st * Math.max(0, extent(a)), 0)];
};

/**
 * Emits `spec`, planned as `plan`, as the exported function `name`.
 * @example encodeModule([emitSimdLoop(spec, planSimd(spec)!, "k0")], pages)
 */
export const emitSimdLoop = (spec: LoopSpec, plan: SimdPlan, name: string): FunctionBuilder => {
  const { dims, strides, offsets, windows, fills, segments } = plan;
  const nOut = spec.stores.length,
    nRead = spec.reads.length;
  const f = new FunctionBuilder(
    name,
    [...Array<ValType>(nOut + nRead).fill(i32), ...Array<ValType>(spec.scalars).fill(f32)],
    [],
  );
  const outParam = (k: number): number => k;
  const readParam = (r: number): number => nOut + r;
  const scalarParam = (s: number): number => nOut + nRead + s;
  const rank = dims.length,
    inner = rank - 1;
  // Bytes per element of each read: float32 values, or bool bytes (read as lane masks).
  const size = spec.reads.map((r) => byteSize[r.dtype]);
  // A read's level: the last axis it moves along (−1: one value for the whole loop).
  const level = strides.map((st, r) =>
    fills[r] ? -2 : windows[r] !== undefined ? inner : st.reduce((l, s, a) => (s !== 0 ? a : l), -1),
  );
  const vectorRead = (r: number): boolean => level[r] === inner;
  // Pointers: read r at level a (valid inside loop a), and the running output pointers.
  const ptr = strides.map(() => dims.map(() => f.local(i32)));
  const outPtr = spec.stores.map(() => f.local(i32));
  const counters = dims.map(() => f.local(i32));
  const splat = spec.reads.map(() => f.local(v128));
  const scalarVec = Array.from({ length: spec.scalars }, () => f.local(v128));
  const memberVec = spec.members.map(() => f.local(v128));
  const readVec = spec.reads.map(() => f.local(v128));
  const boolScratch = f.local(i32);

  spec.stores.forEach((_, k) => f.get(outParam(k)).set(outPtr[k]!));
  scalarVec.forEach((l, s) => f.get(scalarParam(s)).simd("f32x4Splat").set(l));
  /** Loads read r's one value at the address on the stack into all four lanes (a bool as a mask). */
  const loadSplat = (r: number): void => {
    if (size[r] === 4) f.v128Load32Splat();
    else
      f.i32Load8U()
        .i32Const(0)
        .op("i32Ne")
        .set(boolScratch)
        .i32Const(0)
        .get(boolScratch)
        .op("i32Sub")
        .simd("i32x4Splat");
    f.set(splat[r]!);
  };
  spec.reads.forEach((_, r) => {
    if (level[r] !== -1) return;
    f.get(readParam(r))
      .i32Const(offsets[r]! * size[r]!)
      .op("i32Add");
    loadSplat(r);
  });
  // (level −2: a read that is its fill everywhere; its operand is the fill's splat.)

  /** Whether read r lies outside its window on the innermost-axis segment `seg` (it is its fill there). */
  const outside = (r: number, seg: readonly [number, number]): boolean => {
    const w = windows[r];
    return fills[r] || (w !== undefined && !(seg[0] >= w.start && seg[1] <= w.start + w.size));
  };
  const fillOf = (r: number): number => scalarVec[spec.reads[r]!.fill!]!;

  /** One vector of the innermost axis; `lanes` < 4 for the ragged end (the other lanes compute on zeros, unstored). */
  const body = (lanes: number, seg: readonly [number, number]): void => {
    spec.reads.forEach((_, r) => {
      if (!vectorRead(r) || outside(r, seg)) return;
      const at = ptr[r]![inner]!;
      if (size[r] === 1) {
        // Four bool bytes → lanes of 0/1 → masks (any nonzero byte is true, as `c !== 0` is).
        if (lanes === 4)
          f.get(at).i32Load().simd("i32x4Splat").i32x4ConstLanes([0xff, 0xff00, 0xff0000, -0x1000000]).simd("v128And");
        else {
          f.v128Zero();
          for (let q = 0; q < lanes; q++) f.get(at).i32Load8U(q).i32x4ReplaceLane(q);
        }
        f.v128Zero().simd("i32x4Ne");
      } else if (lanes === 4) f.get(at).v128Load();
      else {
        f.v128Zero();
        for (let q = 0; q < lanes; q++)
          f.get(at)
            .f32Load(4 * q)
            .f32x4ReplaceLane(q);
      }
      f.set(readVec[r]!);
    });
    const operand = (o: LoopMember["ins"][number]): number =>
      o.kind === "member"
        ? memberVec[o.index]!
        : o.kind === "scalar"
          ? scalarVec[o.index]!
          : outside(o.index, seg)
            ? fillOf(o.index)
            : vectorRead(o.index)
              ? readVec[o.index]!
              : splat[o.index]!;
    spec.members.forEach((m, j) => {
      // `planSimd` admitted only members with a lane form (`laneWise`).
      emitLanes(f, ewOps[m.op].lanes!, m.ins.map(operand), m.inDtypes);
      f.set(memberVec[j]!);
    });
    spec.stores.forEach((s, k) => {
      if (lanes === 4) f.get(outPtr[k]!).get(memberVec[s.member]!).v128Store();
      else
        for (let q = 0; q < lanes; q++)
          f.get(outPtr[k]!)
            .get(memberVec[s.member]!)
            .f32x4ExtractLane(q)
            .f32Store(4 * q);
      f.get(outPtr[k]!)
        .i32Const(4 * lanes)
        .op("i32Add")
        .set(outPtr[k]!);
    });
  };

  /** Where read r's pointer at level a starts: its base, or its pointer one level out, plus `shift` elements. */
  const startPointer = (r: number, a: number, shift: number): void => {
    if (a === 0)
      f.get(readParam(r))
        .i32Const((offsets[r]! + shift) * size[r]!)
        .op("i32Add");
    else
      f.get(ptr[r]![a - 1]!)
        .i32Const(shift * size[r]!)
        .op("i32Add");
    f.set(ptr[r]![a]!);
  };

  /** Counts `count` iterations of `step` (do-while, so only called with count > 0), advancing read pointers. */
  const counted = (
    a: number,
    count: number,
    step: number,
    inside: () => void,
    advances: (r: number) => boolean,
  ): void => {
    f.i32Const(0).set(counters[a]!);
    f.block().loop();
    inside();
    spec.reads.forEach((_, r) => {
      const s = strides[r]![a]!;
      if (advances(r) && s !== 0)
        f.get(ptr[r]![a]!)
          .i32Const(s * step * size[r]!)
          .op("i32Add")
          .set(ptr[r]![a]!);
    });
    f.get(counters[a]!).i32Const(step).op("i32Add").tee(counters[a]!).i32Const(count).op("i32LtU").brIf(0);
    f.op("end").op("end");
  };

  /** The innermost axis, segment by segment: whole vectors, then the ragged end (length mod 4 lanes). */
  const emitInner = (): void => {
    for (const seg of segments) {
      const live = spec.reads.map((_, r) => vectorRead(r) && !outside(r, seg));
      spec.reads.forEach((_, r) => (live[r] ? startPointer(r, inner, seg[0] - (windows[r]?.start ?? 0)) : undefined));
      const length = seg[1] - seg[0];
      const count = length - (length % 4);
      if (count > 0)
        counted(
          inner,
          count,
          4,
          () => body(4, seg),
          (r) => live[r]!,
        );
      if (length % 4 !== 0) body(length % 4, seg);
    }
  };

  /** Loop over outer axis a (every dim is at least 1), its pointers set from level a − 1. */
  const emitLevel = (a: number): void => {
    if (a === inner) return emitInner();
    spec.reads.forEach((_, r) => (level[r]! >= a ? startPointer(r, a, 0) : undefined));
    counted(
      a,
      dims[a]!,
      1,
      () => {
        spec.reads.forEach((_, r) => {
          if (level[r] !== a) return;
          f.get(ptr[r]![a]!);
          loadSplat(r);
        });
        emitLevel(a + 1);
      },
      (r) => level[r]! >= a,
    );
  };
  emitLevel(0);
  return f;
};
