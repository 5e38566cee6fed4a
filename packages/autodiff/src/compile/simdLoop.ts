/**
 * @file A fused float32 elementwise loop as a WebAssembly SIMD function, four lanes at a time.
 *
 * The same loop as `loopgen.ts` generates in JavaScript, for the specs where SIMD pays and is
 * exact: every read, member and store float32; members whose op has a lane form (`ewOps.ts`,
 * compiled by `simdLanes.ts`; e^x, tanh and the logistic through the tensor package's float32
 * polynomials, which its kernels use too); after `simplify`, an innermost axis that every read walks contiguously
 * (stride 1) or not at all (stride 0, a splat), no negative strides, and windowed reads (unslice,
 * pad: the split VJP's concatenation) as step-1 windows: along the innermost axis (contiguous),
 * which then runs segment by segment as `loopgen.ts` does (inside a window: a shifted read;
 * outside: the fill), or along an outer axis, whose loop then runs segment by segment the same way
 * (`simdPlan.ts`; the pads and concatenations along time of `linearScan`'s VJP and
 * `linearRecurrence`). The innermost axis runs four lanes at a time; its last `n mod 4` elements run as one
 * vector of 1–3 live lanes, loaded and stored lane by lane. Everything else stays in JavaScript.
 * Each lane computes exactly what the JavaScript loop computes for its element (float32
 * operations round like `Math.fround` of the double operation; maximum/minimum select as the
 * JavaScript expressions do: both forms come from one lane expression), so the two paths agree
 * bit for bit.
 *
 * Bool operands (masks, as `rnn`'s `lengths` make, and comparisons) live in lanes as all-ones or
 * all-zero masks: a bool read's bytes become masks, comparisons give masks, and only `select` and
 * `convert` (to float32) consume them; a bool is never stored from a SIMD loop. int32 reads (a
 * one-hot's ids) are loaded as they are and only compared for (in)equality.
 *
 * Signature: `(out_0, …, read_0, …, scalar_0, …)`; an out or read argument is the byte address of
 * element 0 of its buffer location (the loop adds the view's offset and strides), a scalar an f32.
 * The output is dense in loop order, so each store walks one running pointer.
 */
import { byteSize } from "@rewind/tensor";
import { f32, FunctionBuilder, i32, v128, type ValType } from "@rewind/tensor/internal/codegen";
import { ewOps } from "./ewOps.js";
import type { LoopMember, LoopSpec } from "./loopgen.js";
import { emitLanes } from "./simdLanes.js";
import { outerSegments, type SimdPlan } from "./simdPlan.js";

export { planSimd, readSpan, type SimdPlan } from "./simdPlan.js";

/**
 * The state `emitSimdLoop`'s steps share: the function being built, the loop's plan and the
 * locals it declared (see `declareLocals` for what each holds).
 */
interface SimdEmit {
  readonly f: FunctionBuilder;
  readonly spec: LoopSpec;
  readonly plan: SimdPlan;
  /** The innermost axis (rank − 1). */
  readonly inner: number;
  /** Bytes per element of each read: float32 values, or bool bytes (read as lane masks). */
  readonly size: readonly number[];
  /** Per read: the last axis it moves along (−1: one value for the whole loop; −2: its fill everywhere). */
  readonly level: readonly number[];
  /** Read r's pointer at level a (valid inside loop a). */
  readonly ptr: ReadonlyArray<readonly number[]>;
  /** The running output pointers, one per store. */
  readonly outPtr: readonly number[];
  readonly counters: readonly number[];
  /** Per read: the lanes of a read loaded once per loop level (its one value splat). */
  readonly splat: readonly number[];
  readonly scalarVec: readonly number[];
  /**
   * Per vector of an iteration (one, or two with `twoAtATime`): the locals of each member and of
   * each innermost-axis read.
   */
  readonly memberVecs: ReadonlyArray<readonly number[]>;
  readonly readVecs: ReadonlyArray<readonly number[]>;
  /** Scratch for turning a bool byte into a mask. */
  readonly boolScratch: number;
  /** Per read: outside its window on the outer-axis segments being emitted (its fill there). */
  readonly fillNow: boolean[];
}

/** Segments of the innermost axis, as `SimdPlan.segments` holds them. */
type Segment = readonly [number, number];

/**
 * Creates the function `name` and declares its locals, in the order the generated module has
 * always declared them (the local indices are part of the bytes `dump-sources.ts` compares).
 * @example declareLocals(spec, plan, "k0").ptr[0]![0] // the local of read 0's outermost pointer
 */
const declareLocals = (spec: LoopSpec, plan: SimdPlan, name: string): SimdEmit => {
  const { dims, strides, windows, fills } = plan;
  const nOut = spec.stores.length,
    nRead = spec.reads.length;
  const f = new FunctionBuilder(
    name,
    [...Array<ValType>(nOut + nRead).fill(i32), ...Array<ValType>(spec.scalars).fill(f32)],
    [],
  );
  const inner = dims.length - 1;
  const vectors = (): number[] => spec.reads.map(() => f.local(v128));
  const members = (): number[] => spec.members.map(() => f.local(v128));
  const e = {
    f,
    spec,
    plan,
    inner,
    size: spec.reads.map((r) => byteSize[r.dtype]),
    level: strides.map((st, r) =>
      fills[r] ? -2 : windows[r] !== undefined ? inner : st.reduce((l, s, a) => (s !== 0 ? a : l), -1),
    ),
    ptr: strides.map(() => dims.map(() => f.local(i32))),
    outPtr: spec.stores.map(() => f.local(i32)),
    counters: dims.map(() => f.local(i32)),
    splat: spec.reads.map(() => f.local(v128)),
    scalarVec: Array.from({ length: spec.scalars }, () => f.local(v128)),
    memberVecs: [members()],
    readVecs: [vectors()],
    boolScratch: f.local(i32),
    fillNow: spec.reads.map(() => false),
  };
  // The second vector's locals come after every other (the indices above stay as they were).
  if (!twoAtATime(spec)) return e;
  const readVec2 = vectors();
  return { ...e, readVecs: [...e.readVecs, readVec2], memberVecs: [...e.memberVecs, members()] };
};

/** Parameter indices: `(out_0, …, read_0, …, scalar_0, …)`. */
const readParam = (e: SimdEmit, r: number): number => e.spec.stores.length + r;
const scalarParam = (e: SimdEmit, s: number): number => e.spec.stores.length + e.spec.reads.length + s;

/** Whether read r moves along the innermost axis (is loaded a vector at a time). */
const vectorRead = (e: SimdEmit, r: number): boolean => e.level[r] === e.inner;

/** Whether read r lies outside its window on the innermost-axis segment `seg` (it is its fill there). */
const outside = (e: SimdEmit, r: number, seg: Segment): boolean => {
  const w = e.plan.windows[r];
  return e.plan.fills[r] || e.fillNow[r]! || (w !== undefined && !(seg[0] >= w.start && seg[1] <= w.start + w.size));
};

/** Loads read r's one value at the address on the stack into all four lanes (a bool as a mask). */
const loadSplat = (e: SimdEmit, r: number): void => {
  const { f } = e;
  if (e.size[r] === 4) f.v128Load32Splat();
  else
    f.i32Load8U()
      .i32Const(0)
      .op("i32Ne")
      .set(e.boolScratch)
      .i32Const(0)
      .get(e.boolScratch)
      .op("i32Sub")
      .simd("i32x4Splat");
  f.set(e.splat[r]!);
};

/**
 * The function's start: output pointers from their parameters, scalars splat into lanes, and the
 * reads that are one value for the whole loop (level −1) loaded once. A read at level −2 (its
 * fill everywhere) needs nothing: its operand is the fill's splat.
 */
const emitPrologue = (e: SimdEmit): void => {
  const { f, spec } = e;
  spec.stores.forEach((_, k) => f.get(k).set(e.outPtr[k]!));
  e.scalarVec.forEach((l, s) => f.get(scalarParam(e, s)).simd("f32x4Splat").set(l));
  spec.reads.forEach((_, r) => {
    if (e.level[r] !== -1) return;
    f.get(readParam(e, r))
      .i32Const(e.plan.offsets[r]! * e.size[r]!)
      .op("i32Add");
    loadSplat(e, r);
  });
};

/**
 * Loads every innermost-axis read live on `seg` into its vector; `lanes` < 4 loads lane by lane.
 * Vector `copy` (0 or 1) is the one `copy` × 4 elements on from the read pointers.
 */
const emitVectorReads = (e: SimdEmit, lanes: number, seg: Segment, copy: number): void => {
  const { f } = e;
  e.spec.reads.forEach((_, r) => {
    if (!vectorRead(e, r) || outside(e, r, seg)) return;
    const at = e.ptr[r]![e.inner]!;
    if (e.size[r] === 1) {
      // Four bool bytes → lanes of 0/1 → masks (any nonzero byte is true, as `c !== 0` is).
      if (lanes === 4)
        f.get(at)
          .i32Load(4 * copy)
          .simd("i32x4Splat")
          .i32x4ConstLanes([0xff, 0xff00, 0xff0000, -0x1000000])
          .simd("v128And");
      else {
        f.v128Zero();
        for (let q = 0; q < lanes; q++) f.get(at).i32Load8U(q).i32x4ReplaceLane(q);
      }
      f.v128Zero().simd("i32x4Ne");
    } else if (lanes === 4) f.get(at).v128Load(16 * copy);
    else if (e.spec.reads[r]!.dtype === "int32") {
      f.v128Zero();
      for (let q = 0; q < lanes; q++)
        f.get(at)
          .i32Load(4 * q)
          .i32x4ReplaceLane(q);
    } else {
      f.v128Zero();
      for (let q = 0; q < lanes; q++)
        f.get(at)
          .f32Load(4 * q)
          .f32x4ReplaceLane(q);
    }
    f.set(e.readVecs[copy]![r]!);
  });
};

/**
 * Computes every member's lanes from its operands' locals on `seg`, for each vector of `copies`
 * member by member (vector 0's member j, then vector 1's), so that the two vectors' independent
 * chains sit side by side in the instruction stream.
 */
const emitMembers = (e: SimdEmit, seg: Segment, copies: readonly number[]): void => {
  const operand =
    (copy: number) =>
    (o: LoopMember["ins"][number]): number =>
      o.kind === "member"
        ? e.memberVecs[copy]![o.index]!
        : o.kind === "scalar"
          ? e.scalarVec[o.index]!
          : outside(e, o.index, seg)
            ? e.scalarVec[e.spec.reads[o.index]!.fill!]!
            : vectorRead(e, o.index)
              ? e.readVecs[copy]![o.index]!
              : e.splat[o.index]!;
  e.spec.members.forEach((m, j) => {
    for (const copy of copies) {
      // `planSimd` admitted only members with a lane form (`laneWise`).
      emitLanes(e.f, ewOps[m.op].lanes!, m.ins.map(operand(copy)), m.inDtypes);
      e.f.set(e.memberVecs[copy]![j]!);
    }
  });
};

/** Stores `lanes` lanes of each stored member of each vector of `copies` and advances its output pointer past them. */
const emitStores = (e: SimdEmit, lanes: number, copies: readonly number[]): void => {
  const { f } = e;
  e.spec.stores.forEach((s, k) => {
    for (const copy of copies) {
      const value = e.memberVecs[copy]![s.member]!;
      if (lanes === 4)
        f.get(e.outPtr[k]!)
          .get(value)
          .v128Store(16 * copy);
      else
        for (let q = 0; q < lanes; q++)
          f.get(e.outPtr[k]!)
            .get(value)
            .f32x4ExtractLane(q)
            .f32Store(16 * copy + 4 * q);
    }
    f.get(e.outPtr[k]!)
      .i32Const(4 * lanes * copies.length)
      .op("i32Add")
      .set(e.outPtr[k]!);
  });
};

/**
 * One vector of the innermost axis, or two side by side (`copies` [0, 1]); `lanes` < 4 for the
 * ragged end (the other lanes compute on zeros, unstored).
 */
const emitBody = (e: SimdEmit, lanes: number, seg: Segment, copies: readonly number[] = [0]): void => {
  for (const copy of copies) emitVectorReads(e, lanes, seg, copy);
  emitMembers(e, seg, copies);
  emitStores(e, lanes, copies);
};

/**
 * Whether the innermost loop computes two vectors at a time: when a member is one of the float32
 * polynomials (e^x, tanh, the logistic). Each is a chain of ~30 dependent instructions, so one
 * vector at a time leaves the core waiting on latencies; two independent chains side by side
 * fill them (an LSTM cell's gates, measured alone: 0.77× the time; three or four vectors spill
 * registers and gain less or lose). Each lane's operations are unchanged, so are its bits.
 */
const twoAtATime = (spec: LoopSpec): boolean => spec.members.some((m) => "emit" in ewOps[m.op].lanes!);

/** Where read r's pointer at level a starts: its base, or its pointer one level out, plus `shift` elements. */
const startPointer = (e: SimdEmit, r: number, a: number, shift: number): void => {
  const { f, size } = e;
  if (a === 0)
    f.get(readParam(e, r))
      .i32Const((e.plan.offsets[r]! + shift) * size[r]!)
      .op("i32Add");
  else
    f.get(e.ptr[r]![a - 1]!)
      .i32Const(shift * size[r]!)
      .op("i32Add");
  f.set(e.ptr[r]![a]!);
};

/** A counted loop over one axis, for `counted`. */
interface CountedLoop {
  readonly axis: number;
  /** Iterations, counted in elements; more than 0 (the loop is a do-while). */
  readonly count: number;
  /** Elements per iteration (4 on the innermost axis, else 1). */
  readonly step: number;
  /** Emits one iteration's work. */
  readonly inside: () => void;
  /** Which reads' pointers at this axis move on after each iteration. */
  readonly advances: (r: number) => boolean;
}

/** Counts `loop.count` iterations of `loop.step` (do-while), advancing read pointers. */
const counted = (e: SimdEmit, loop: CountedLoop): void => {
  const { f } = e;
  const { axis: a, count, step } = loop;
  f.i32Const(0).set(e.counters[a]!);
  f.block().loop();
  loop.inside();
  e.spec.reads.forEach((_, r) => {
    const s = e.plan.strides[r]![a]!;
    if (loop.advances(r) && s !== 0)
      f.get(e.ptr[r]![a]!)
        .i32Const(s * step * e.size[r]!)
        .op("i32Add")
        .set(e.ptr[r]![a]!);
  });
  f.get(e.counters[a]!).i32Const(step).op("i32Add").tee(e.counters[a]!).i32Const(count).op("i32LtU").brIf(0);
  f.op("end").op("end");
};

/** The innermost axis, segment by segment: whole vectors, then the ragged end (length mod 4 lanes). */
const emitInner = (e: SimdEmit): void => {
  const { inner } = e;
  for (const seg of e.plan.segments) {
    const live = e.spec.reads.map((_, r) => vectorRead(e, r) && !outside(e, r, seg));
    e.spec.reads.forEach((_, r) =>
      live[r] ? startPointer(e, r, inner, seg[0] - (e.plan.windows[r]?.start ?? 0)) : undefined,
    );
    const length = seg[1] - seg[0];
    const advances = (r: number): boolean => live[r]!;
    const pairs = e.readVecs.length === 2 ? length - (length % 8) : 0;
    if (pairs > 0)
      counted(e, { axis: inner, count: pairs, step: 8, inside: () => emitBody(e, 4, seg, [0, 1]), advances });
    const count = length - pairs - (length % 4);
    if (count > 0) counted(e, { axis: inner, count, step: 4, inside: () => emitBody(e, 4, seg), advances });
    if (length % 4 !== 0) emitBody(e, length % 4, seg);
  }
};

/**
 * Loop over outer axis a (every dim is at least 1), its pointers set from level a − 1: one loop
 * per segment of the axis (`outerSegments`), in which each read windowed along it is either a
 * shifted read or its fill.
 */
const emitLevel = (e: SimdEmit, a: number): void => {
  if (a === e.inner) return emitInner(e);
  const { f, spec, level, plan } = e;
  for (const [lo, hi] of outerSegments(plan, a)) {
    const saved = [...e.fillNow];
    spec.reads.forEach((_, r) => {
      const w = plan.outerWindows[r]![a];
      if (w !== undefined && !(lo >= w.start && hi <= w.start + w.size)) e.fillNow[r] = true;
    });
    spec.reads.forEach((_, r) => {
      if (level[r]! < a || e.fillNow[r]) return;
      // The segment's first index, relative to the window's start for a windowed read.
      startPointer(e, r, a, (lo - (plan.outerWindows[r]![a]?.start ?? 0)) * plan.strides[r]![a]!);
    });
    counted(e, {
      axis: a,
      count: hi - lo,
      step: 1,
      inside: () => {
        spec.reads.forEach((_, r) => {
          if (level[r] !== a || e.fillNow[r]) return;
          f.get(e.ptr[r]![a]!);
          loadSplat(e, r);
        });
        emitLevel(e, a + 1);
      },
      advances: (r) => level[r]! >= a && !e.fillNow[r],
    });
    e.fillNow.splice(0, e.fillNow.length, ...saved);
  }
};

/**
 * Emits `spec`, planned as `plan`, as the exported function `name`: its locals, the prologue,
 * then the loop nest from the outermost axis in.
 * @example encodeModule([emitSimdLoop(spec, planSimd(spec)!, "k0")], pages)
 */
export const emitSimdLoop = (spec: LoopSpec, plan: SimdPlan, name: string): FunctionBuilder => {
  const e = declareLocals(spec, plan, name);
  emitPrologue(e);
  emitLevel(e, 0);
  return e.f;
};
