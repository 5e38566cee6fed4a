/**
 * @file Source of one fused elementwise loop.
 *
 * The loop runs over the group's shape with every operand read by index arithmetic: a strided
 * view (broadcast = stride 0, transpose = permuted strides, slice/flip = scaled strides and an
 * offset) or a guarded window (unslice/pad: a condition on the indices, the fill elsewhere).
 * Size-1 axes are dropped and adjacent axes merged where every operand walks them evenly, so a
 * contiguous chain is one flat loop and a bias `[H] → [B, H]` is two. Each read and each member
 * is computed at the outermost loop level it depends on: a row-broadcast operand is read once
 * per row, and everything computed from it too.
 *
 * The text contains only generated identifiers, dtype names, operator text and integers
 * (checked by `int`); constants arrive as parameters.
 */
import type { DType } from "@rewind/tensor";
import { ewOps, type EwOpName } from "./ewOps.js";
import type { Guard, StridedView } from "./ir.js";
import { windowIndex } from "./views.js";

/** A buffer operand of the loop: its view over the group's shape (guarded views: the inner view). */
export interface LoopRead {
  readonly dtype: DType;
  readonly view: StridedView;
  readonly guard?: Guard;
  /** Index of the scalar parameter holding the guard's fill (guarded reads only). */
  readonly fill?: number;
}

/** Where a member's operand comes from. */
export type LoopOperand =
  | { readonly kind: "read"; readonly index: number }
  | { readonly kind: "scalar"; readonly index: number }
  | { readonly kind: "member"; readonly index: number };

export interface LoopMember {
  readonly op: EwOpName;
  readonly param: DType | undefined;
  readonly dtype: DType;
  readonly ins: readonly LoopOperand[];
  readonly inDtypes: readonly DType[];
}

export interface LoopSpec {
  readonly shape: readonly number[];
  readonly reads: readonly LoopRead[];
  readonly members: readonly LoopMember[];
  /** Stored results, in parameter order: which member and into what dtype of buffer. */
  readonly stores: ReadonlyArray<{ readonly member: number; readonly dtype: DType }>;
  readonly scalars: number;
}

/** A kernel's parameters and body, ready to be wrapped in `function name(params) { body }`. */
export interface KernelText {
  readonly params: readonly string[];
  readonly body: string;
}

/**
 * Interpolates an integer into generated code, refusing anything else.
 * @example int(-3) // "(-3)"
 */
export const int = (n: number): string => {
  if (!Number.isSafeInteger(n)) throw new Error(`Rewind internal error: non-integer ${n} in generated code`);
  return n < 0 ? `(${n})` : String(n);
};

export interface AxisGuard {
  readonly start: number;
  readonly step: number;
  readonly size: number;
}

/** A read normalised to the loop's axes: a stride and an optional window per axis. */
export interface Walk {
  strides: number[];
  guards: Array<AxisGuard | undefined>;
  offset: number;
  /** All positions lie outside the window: the read is its fill. */
  allFill: boolean;
}

/**
 * The read `r` normalised to the loop's axes (before `simplify`).
 * @example walkOf({ dtype: "float32", view }, [2, 3]).strides
 */
export const walkOf = (r: LoopRead, shape: readonly number[]): Walk => {
  const guards = shape.map((d, a): AxisGuard | undefined => {
    if (r.guard === undefined) return undefined;
    const g = { start: r.guard.start[a]!, step: r.guard.step[a]!, size: r.view.shape[a]! };
    return g.start === 0 && g.step === 1 && g.size === d ? undefined : g;
  });
  return { strides: [...r.view.strides], guards, offset: r.view.offset, allFill: false };
};

/**
 * Drops size-1 axes (resolving windows there) and merges axes every read walks evenly; returns
 * the loop's dims and updates the walks to them.
 * @example simplify([2, 3], walks) // [6] when every read is contiguous
 */
export const simplify = (shape: readonly number[], walks: Walk[]): number[] => {
  let dims = [...shape];
  for (let a = dims.length - 1; a >= 0; a--) {
    if (dims[a] !== 1) continue;
    for (const w of walks) {
      const g = w.guards[a];
      if (g !== undefined) {
        const q = windowIndex(0, g.start, g.step, g.size);
        if (q < 0) w.allFill = true;
        else w.offset += q * w.strides[a]!;
      }
      w.strides.splice(a, 1);
      w.guards.splice(a, 1);
    }
    dims.splice(a, 1);
  }
  for (let a = dims.length - 2; a >= 0; a--) {
    const even = walks.every(
      (w) =>
        w.allFill ||
        (w.guards[a] === undefined &&
          w.guards[a + 1] === undefined &&
          w.strides[a] === w.strides[a + 1]! * dims[a + 1]!),
    );
    if (!even) continue;
    for (const w of walks) {
      w.strides.splice(a, 1);
      w.guards.splice(a, 1);
    }
    dims = [...dims.slice(0, a), dims[a]! * dims[a + 1]!, ...dims.slice(a + 2)];
  }
  return dims;
};

const windowTest = (i: string, g: AxisGuard, dim: number): string => {
  if (g.size === 0) return "false";
  if (g.step === 1) {
    const parts = [
      g.start > 0 ? `${i} >= ${int(g.start)}` : "",
      g.start + g.size < dim ? `${i} < ${int(g.start + g.size)}` : "",
    ];
    return parts.filter((p) => p !== "").join(" && ") || "true";
  }
  const d = `(${i} - ${int(g.start)})`;
  return `${d} % ${int(g.step)} === 0 && ${d} / ${int(g.step)} >= 0 && ${d} / ${int(g.step)} < ${int(g.size)}`;
};

/**
 * Pieces of the innermost axis on which every window read is entirely inside or entirely outside
 * its window, when all windows lie along that axis with step 1 (the split VJP's concatenation of
 * unslices): each piece is a loop without conditions. Undefined when windows lie elsewhere.
 * @example innerSegments(walks, [32, 512]) // [[0, 128], [128, 256], [256, 384], [384, 512]]
 */
export const innerSegments = (
  walks: readonly Walk[],
  dims: readonly number[],
): Array<readonly [number, number]> | undefined => {
  const inner = dims.length - 1;
  const guarded = walks.filter((w) => !w.allFill && w.guards.some((g) => g !== undefined));
  if (inner < 0 || guarded.length === 0) return undefined;
  if (!guarded.every((w) => w.guards.every((g, a) => g === undefined || (a === inner && g.step === 1))))
    return undefined;
  const d = dims[inner]!;
  const clamp = (x: number): number => Math.min(d, Math.max(0, x));
  const points = new Set([0, d]);
  for (const w of guarded) {
    const g = w.guards[inner]!;
    points.add(clamp(g.start));
    points.add(clamp(g.start + g.size));
  }
  const sorted = [...points].sort((a, b) => a - b);
  return sorted.slice(1).map((hi, i) => [sorted[i]!, hi] as const);
};

/** A segment of the innermost axis (see `innerSegments`); undefined outside segmented loops. */
type Segment = readonly [number, number] | undefined;

/** What `genLoop`'s steps share: the loop after `simplify`, each read's and member's level, and the lines so far. */
interface LoopGen {
  readonly spec: LoopSpec;
  readonly walks: readonly Walk[];
  readonly dims: readonly number[];
  readonly rank: number;
  readonly segments: Array<readonly [number, number]> | undefined;
  /** Reads indexed by running bases (no window, or windows handled by the inner segments). */
  readonly based: readonly boolean[];
  /** Per read: the last axis it moves along or is windowed on (−1: one value for the whole loop). */
  readonly readLevel: readonly number[];
  /** Per member: the deepest level of its operands (computed once there, hoisted out of inner loops). */
  readonly memberLevel: readonly number[];
  /** Elements per step of each axis in the dense output. */
  readonly ostrides: readonly number[];
  /** The last two axes run in TILE × TILE blocks (a transposing read, see `tiles`). */
  readonly tiled: boolean;
  readonly lines: string[];
}

/** Side of the square blocks a transposing loop runs in: 32 float32 rows of 128 bytes each. */
const TILE = 32;
/** Read strides (in elements) along the inner axis from which each read touches a new cache line. */
const FAR_STRIDE = 16;

/**
 * Whether the loop's last two axes should run in `TILE × TILE` blocks: some read walks the inner
 * axis with a far stride (a transpose), so a row-by-row loop touches a new cache line per element
 * and evicts it before the neighbouring rows reuse it; within a block every line fetched for one
 * row is reused by the next `TILE` rows. Only plain loops (no windows or segments), big enough on
 * both axes for blocks to pay. Each element is computed exactly as before, in another order.
 */
const tiles = (walks: readonly Walk[], dims: readonly number[], segmented: boolean): boolean => {
  const rank = dims.length;
  if (rank < 2 || segmented || dims[rank - 1]! < 2 * TILE || dims[rank - 2]! < 2 * TILE) return false;
  if (walks.some((w) => w.guards.some((g) => g !== undefined))) return false;
  return walks.some((w) => !w.allFill && Math.abs(w.strides[rank - 1]!) >= FAR_STRIDE);
};

/**
 * Simplifies `spec`'s loop and finds where each read and member is computed.
 * @example planLoop(spec, "// f32 | f32").readLevel // [1, -1]: a [4, 8] loop over a matrix and a broadcast scalar
 */
const planLoop = (spec: LoopSpec, tag: string): LoopGen => {
  const walks = spec.reads.map((r) => walkOf(r, spec.shape));
  const dims = simplify(spec.shape, walks);
  const segments = innerSegments(walks, dims);
  const readLevel = walks.map((w) => {
    if (w.allFill) return -1;
    let level = -1;
    w.strides.forEach((s, a) => (s !== 0 || w.guards[a] !== undefined ? (level = a) : undefined));
    return level;
  });
  const memberLevel: number[] = [];
  const levelOf = (o: LoopOperand): number =>
    o.kind === "read" ? readLevel[o.index]! : o.kind === "member" ? memberLevel[o.index]! : -1;
  spec.members.forEach((m, j) => (memberLevel[j] = Math.max(-1, ...m.ins.map(levelOf))));
  return {
    spec,
    walks,
    dims,
    rank: dims.length,
    segments,
    based: walks.map((w) => !w.allFill && (segments !== undefined || w.guards.every((g) => g === undefined))),
    readLevel,
    memberLevel,
    ostrides: dims.map((_, a) => dims.slice(a + 1).reduce((x, y) => x * y, 1)),
    tiled: tiles(walks, dims, segments !== undefined),
    lines: [tag],
  };
};

/** The JavaScript name of an operand's value inside the loop. */
const operand = (o: LoopOperand): string =>
  o.kind === "read" ? `x${o.index}` : o.kind === "member" ? `v${o.index}` : `s${o.index}`;

/** The read of `r` at its level (the loop indices up to it are in scope). */
const readExpr = (g: LoopGen, r: number, base: string, seg: Segment): string => {
  const { rank } = g;
  const w = g.walks[r]!;
  const read = g.spec.reads[r]!;
  if (w.allFill) return `s${read.fill!}`;
  if (g.based[r]) {
    const guard = w.guards[rank - 1];
    if (guard === undefined) return `r${r}[${base}]`;
    // Inside a segment the window test is settled: in (shift the index) or out (the fill).
    const inside = seg![0] >= guard.start && seg![1] <= guard.start + guard.size;
    return inside ? `r${r}[${base} - ${int(guard.start * w.strides[rank - 1]!)}]` : `s${read.fill!}`;
  }
  const tests: string[] = [];
  const terms: string[] = [`ro${r} + ${int(w.offset)}`];
  w.strides.forEach((s, a) => {
    const guard = w.guards[a];
    if (a > g.readLevel[r]!) return;
    if (guard !== undefined) tests.push(windowTest(`i${a}`, guard, g.dims[a]!));
    const q =
      guard === undefined
        ? `i${a}`
        : guard.step === 1
          ? `(i${a} - ${int(guard.start)})`
          : `((i${a} - ${int(guard.start)}) / ${int(guard.step)})`;
    if (s !== 0) terms.push(`${q} * ${int(s)}`);
  });
  return `${tests.join(" && ")} ? r${r}[${terms.join(" + ")}] : s${read.fill!}`;
};

/**
 * Opens `level` (its loop already open): the output position and the running bases of the
 * reads that move along it. Returns the new position's name; updates `base` in place.
 */
const emitPositions = (g: LoopGen, level: number, base: string[], pos: string, pad: string): string => {
  const step = g.ostrides[level]!;
  g.lines.push(`${pad}const p${level} = ${pos} + ${step === 1 ? `i${level}` : `i${level} * ${int(step)}`};`);
  g.walks.forEach((w, r) => {
    const s = w.strides[level]!;
    if (!g.based[r] || g.readLevel[r]! < level || s === 0) return;
    g.lines.push(`${pad}const b${r}_${level} = ${base[r]} + ${s === 1 ? `i${level}` : `i${level} * ${int(s)}`};`);
    base[r] = `b${r}_${level}`;
  });
  return `p${level}`;
};

/** The reads and members computed at `level` (the ones whose operands move no deeper). */
const emitValues = (g: LoopGen, level: number, base: readonly string[], seg: Segment, pad: string): void => {
  g.walks.forEach((_, r) =>
    g.readLevel[r] === level ? g.lines.push(`${pad}const x${r} = ${readExpr(g, r, base[r]!, seg)};`) : undefined,
  );
  g.spec.members.forEach((m, j) => {
    if (g.memberLevel[j] !== level) return;
    g.lines.push(`${pad}const v${j} = ${ewOps[m.op].expr(m.ins.map(operand), m.dtype, m.inDtypes, m.param)};`);
  });
};

/** Emits the code of `level` (its loop already open) and the loops inside it. */
const emitLevel = (g: LoopGen, level: number, bases: readonly string[], pos: string, seg: Segment): void => {
  const { rank, segments, lines } = g;
  const pad = "  ".repeat(level + 2);
  const base = [...bases];
  if (level >= 0) pos = emitPositions(g, level, base, pos, pad);
  emitValues(g, level, base, seg, pad);
  if (level === rank - 1) {
    g.spec.stores.forEach((s, k) => lines.push(`${pad}o${k}[oo${k} + ${pos}] = v${s.member};`));
    return;
  }
  const next = level + 1;
  const open = "  ".repeat(next + 1);
  if (g.tiled && next === rank - 2) return emitTiles(g, next, base, pos, open);
  const ranges = next === rank - 1 && segments !== undefined ? segments : [[0, g.dims[next]!] as const];
  for (const [lo, hi] of ranges) {
    const bounds = g.tiled && next >= rank - 2 ? [`t${next}`, `e${next}`] : [int(lo), int(hi)];
    lines.push(`${open}for (let i${next} = ${bounds[0]}; i${next} < ${bounds[1]}; i${next}++) {`);
    emitLevel(g, next, base, pos, next === rank - 1 && segments !== undefined ? [lo, hi] : seg);
    lines.push(`${open}}`);
  }
};

/**
 * Opens the block loops of the last two axes (`t` = a block's first index, `e` = one past its
 * last), then the element loops of `level` and `level + 1` inside them (`emitLevel`).
 */
const emitTiles = (g: LoopGen, level: number, base: readonly string[], pos: string, open: string): void => {
  const { lines } = g;
  for (const a of [level, level + 1]) {
    const d = int(g.dims[a]!);
    lines.push(`${open}for (let t${a} = 0; t${a} < ${d}; t${a} += ${int(TILE)}) {`);
    lines.push(`${open}const e${a} = t${a} + ${int(TILE)} < ${d} ? t${a} + ${int(TILE)} : ${d};`);
  }
  lines.push(`${open}for (let i${level} = t${level}; i${level} < e${level}; i${level}++) {`);
  emitLevel(g, level, base, pos, undefined);
  lines.push(`${open}}`, `${open}}`, `${open}}`);
};

/**
 * Generates the loop for `spec`.
 * @example genLoop({ shape: [4], reads: [], members: [], stores: [], scalars: 0 }).params // []
 */
export const genLoop = (spec: LoopSpec): KernelText => {
  const params = [
    ...spec.stores.flatMap((_, k) => [`o${k}`, `oo${k}`]),
    ...spec.reads.flatMap((_, r) => [`r${r}`, `ro${r}`]),
    ...Array.from({ length: spec.scalars }, (_, s) => `s${s}`),
  ];
  const tag = `// ${spec.stores.map((s) => s.dtype).join(",")} | ${spec.reads.map((r) => r.dtype).join(",")}`;
  if (spec.shape.some((d) => d === 0)) return { params, body: `${tag}\n` };
  const g = planLoop(spec, tag);
  emitLevel(
    g,
    -1,
    g.walks.map((w, r) => `ro${r} + ${int(w.offset)}`),
    "0",
    undefined,
  );
  return { params, body: g.lines.join("\n") + "\n" };
};
