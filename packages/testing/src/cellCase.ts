/**
 * @file Instances for the RNN laws: a cell with float64 parameters, a batch of sequences, an
 * initial carry, optional lengths and dropout key, a layout and a direction (`CellCase`), how to
 * build one from a seed or draw one with fast-check, and the slicing helpers the laws share.
 *
 * Everything here is written with plain slices, flips and concatenations so the laws never lean
 * on the code they check (`rnn`'s own `reverseValid` and masks are not used).
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";
import { keysOf } from "@rewind/tensor/internal/check";
import * as A from "@rewind/autodiff";
import { checkCell, type AnyCell, type CellSizes } from "@rewind/rnn";
import { arbRaggedBatch } from "./arbitraries.js";
import { readout } from "./scanProblems.js";
import { checkInt, checkOptions, invalid } from "./args.js";
import { testingError } from "./failure.js";

/** Throws unless `o` is an options object of `known` keys with a `sizes` object, naming `fn`. */
const checkSizesOption = (fn: string, o: unknown, known: readonly string[]): void => {
  checkOptions(fn, "o", o, known, false);
  const sizes = (o as { sizes?: unknown }).sizes;
  if (typeof sizes !== "object" || sizes === null)
    invalid(fn, "o.sizes", `must be { inputSize, hiddenSize, … }, got ${String(sizes)}`);
};

/**
 * Throws unless `c` is a `CellCase` (what `cellCase` / `arbCellCase` build), naming `fn`.
 * @example checkCellCase("cellLawChecks.padding", c)
 */
export const checkCellCase = (fn: string, c: unknown): void => {
  const r = c as Partial<CellCase> | null;
  if (
    typeof r !== "object" ||
    r === null ||
    typeof r.cell !== "object" ||
    !T.isTensor(r.xs) ||
    typeof r.timeMajor !== "boolean" ||
    typeof r.reverse !== "boolean"
  ) {
    invalid(fn, "c", `must be a CellCase built by cellCase or arbCellCase, got ${r === null ? "null" : typeof r}`);
  }
};

/**
 * One instance of the RNN laws. `xs` is in the case's layout (`[T, B, ...]` when `timeMajor`).
 * @example const c: CellCase = cellCase(lstm, { sizes: { inputSize: 2, hiddenSize: 3 }, lengths: [4, 0] })
 */
export interface CellCase {
  /** The cell under test. */
  readonly cell: AnyCell;
  /** float64 parameters of `cell`. */
  readonly params: unknown;
  /** float64 inputs, `[B, T, ...]` (or `[T, B, ...]` with `timeMajor`). */
  readonly xs: T.Tensor;
  /** Random by default, so the gradient with respect to it is exercised. */
  readonly initialCarry: unknown;
  /** Valid steps per sample, or none (every sample has all T steps and `rnn` gets no lengths). */
  readonly lengths?: readonly number[];
  /** Turns on the cell's noise (dropout); compared runs always share it. */
  readonly key?: T.Key;
  /** `xs` and outputs are time-major, `[T, B, ...]`. */
  readonly timeMajor: boolean;
  /** Sequences are read from their end (`rnn`'s `reverse`). */
  readonly reverse: boolean;
  /** The sizes the parameters were made for (lets a law init more parameters, e.g. a second direction). */
  readonly sizes?: CellSizes & Readonly<Record<string, unknown>>;
}

/**
 * How `cellCase` builds an instance; everything not given is drawn from `seed`.
 * @example
 * cellCase(gru, { sizes: { inputSize: 2, hiddenSize: 3 }, seed: 4, batch: 2, time: 6 } satisfies CellCaseOptions)
 */
export interface CellCaseOptions {
  /** Sizes passed to `cell.init` (extra fields reach a custom cell's init). */
  readonly sizes: CellSizes & Readonly<Record<string, unknown>>;
  /** Only float64: the laws compare to 1e-10 and take finite differences. */
  readonly dtype?: "float64";
  /** Seed of the parameters, inputs and initial carry (default 0). */
  readonly seed?: number;
  /** Default 3. */
  readonly batch?: number;
  /** Default 5. */
  readonly time?: number;
  /** Use these parameters instead of `cell.init` (their float leaves must be float64). */
  readonly params?: unknown;
  /** Inputs, batch-major `[B, T, ...]` (they set batch and time). Default: N(0, 1) `[B, T, inputSize]`. */
  readonly xs?: T.Tensor;
  /** Valid lengths (default none). */
  readonly lengths?: readonly number[] | T.Tensor;
  /** A key that turns on the cell's noise (dropout); default none. */
  readonly key?: T.Key;
  /** Lay `xs` out time-major (default false). */
  readonly timeMajor?: boolean;
  /** Read sequences from their end (default false). */
  readonly reverse?: boolean;
  /** "random" (default): N(0, 0.25) leaves shaped like the cell's; "cell": `cell.initialCarry` as is. */
  readonly initialCarry?: "random" | "cell";
}

/** The keys of `CellCaseOptions`. */
export const CELL_CASE_KEYS = keysOf<CellCaseOptions>({
  sizes: true,
  dtype: true,
  seed: true,
  batch: true,
  time: true,
  params: true,
  xs: true,
  lengths: true,
  key: true,
  timeMajor: true,
  reverse: true,
  initialCarry: true,
});

const fail = (detail: string): never => {
  throw testingError({ _tag: "TestArgumentError", op: "cell laws", detail: `cell laws: ${detail}` });
};

/**
 * The numbers of concrete lengths, checked against the batch and time.
 * @example lengthsOf(tensor([3, 0], "int32"), 2, 4) // [3, 0]
 */
export const lengthsOf = (
  lengths: readonly number[] | T.Tensor | undefined,
  batch: number,
  time: number,
): readonly number[] | undefined => {
  if (lengths === undefined) return undefined;
  const ns = T.isTensor(lengths) ? Array.from(lengths.data as ArrayLike<number>) : [...lengths];
  if (ns.length !== batch || ns.some((n) => !Number.isInteger(n) || n < 0 || n > time)) {
    fail(`lengths [${ns.join(", ")}] must be ${batch} integers in [0, ${time}]`);
  }
  return ns;
};

const checkFloat64 = (what: string, tree: unknown): void => {
  for (const [path, leaf] of A.treeLeavesWithPaths(tree)) {
    if (T.isFloating(leaf.dtype) && leaf.dtype !== "float64") {
      fail(
        `${what}${path === "<root>" ? "" : path} is ${leaf.dtype}; ` +
          `the laws need float64 (init with { dtype: "float64" })`,
      );
    }
  }
};

/**
 * N(0, scale²) float64 leaves shaped like the float leaves of `tree` (others kept).
 * @example randomLike(lstm.initialCarry(2, p), random.key(0), 0.5) // random { h, c }
 */
export const randomLike = <U>(tree: U, key: T.Key, scale: number): U => {
  const [leaves, def] = A.treeFlatten(tree);
  const keys = T.random.split(key, Math.max(1, leaves.length));
  return A.treeUnflatten<U>(
    def,
    leaves.map((l, i) => (T.isFloating(l.dtype) ? T.mul(T.random.normal(keys[i]!, l.shape, "float64"), scale) : l)),
  );
};

/**
 * Batch-major `[B, T, ...]` ⇄ time-major `[T, B, ...]`.
 * @example swapLeading(zeros([2, 5, 3])).shape // [5, 2, 3]
 */
export const swapLeading = (x: A.Value): A.Value =>
  A.transpose(
    x,
    x.shape.map((_, i) => (i < 2 ? 1 - i : i)),
  );

/**
 * Lengths with 0, T and values in between: [mid, T, 0, random…] (as far as the batch allows).
 * @example defaultLengths(3, 5) // e.g. [2, 5, 0]
 */
export const defaultLengths = (batch: number, time: number, seed = 0): readonly number[] => {
  checkInt("defaultLengths", "batch", batch, 0);
  checkInt("defaultLengths", "time", time, 0);
  checkInt("defaultLengths", "seed", seed, 0);
  const bits = T.random.randomBits(T.random.key(seed + 1), [Math.max(1, batch)]).data;
  return Array.from({ length: batch }, (_, b) =>
    b === 1
      ? time
      : b === 2
        ? 0
        : b === 0 && time >= 2
          ? 1 + ((bits[0]! >>> 0) % (time - 1))
          : (bits[b]! >>> 0) % (time + 1),
  );
};

/**
 * Builds a law instance for `cell`: float64 parameters from `cell.init`, N(0, 1) inputs and a
 * random initial carry, all from `seed`, unless given.
 * @throws Error for non-float64 parameters or bad lengths.
 * @example cellCase(lstm, { sizes: { inputSize: 2, hiddenSize: 3 }, lengths: [5, 0, 2], reverse: true })
 */
export const cellCase = (cell: AnyCell, o: CellCaseOptions): CellCase => {
  checkCell("cellCase", "cell", cell);
  checkSizesOption("cellCase", o, CELL_CASE_KEYS);
  checkInt("cellCase", "o.batch", o.batch, 0);
  checkInt("cellCase", "o.time", o.time, 0);
  if (o.xs !== undefined && !T.isTensor(o.xs)) invalid("cellCase", "o.xs", "must be a tensor [batch, time, ...]");
  if ((o.dtype ?? "float64") !== "float64") fail(`dtype must be "float64", got ${String(o.dtype)}`);
  const [kp, kx, kc] = T.random.split(T.random.key(o.seed ?? 0), 3) as [T.Key, T.Key, T.Key];
  // `unknown`, not the `any` of an AnyCell's parameters: the laws only pass them back to the cell.
  const params: unknown = o.params ?? cell.init(kp, o.sizes, { dtype: "float64" });
  checkFloat64(`params of ${cell.name}`, params);
  const batchMajor = o.xs ?? T.random.normal(kx, [o.batch ?? 3, o.time ?? 5, o.sizes.inputSize], "float64");
  if (batchMajor.shape.length < 2) fail(`xs must be [batch, time, ...], got [${batchMajor.shape.join(", ")}]`);
  checkFloat64("xs", batchMajor);
  const [batch, time] = batchMajor.shape as [number, number];
  const timeMajor = o.timeMajor ?? false;
  const zero: unknown = cell.initialCarry(batch, params);
  const initialCarry = (o.initialCarry ?? "random") === "random" ? randomLike(zero, kc, 0.5) : zero;
  const lengths = lengthsOf(o.lengths, batch, time);
  const c: CellCase = {
    cell,
    params,
    xs: timeMajor ? (swapLeading(batchMajor) as T.Tensor) : batchMajor,
    initialCarry,
    ...(lengths === undefined ? {} : { lengths }),
    ...(o.key === undefined ? {} : { key: o.key }),
    timeMajor,
    reverse: o.reverse ?? false,
    sizes: o.sizes,
  };
  // fast-check prints counterexamples with this instead of dumping buffers.
  return { ...c, [fc.toStringMethod]: () => describeCase(c) } as CellCase;
};

/**
 * A short description of a case for messages: cell, sizes, layout, direction, lengths, key.
 * @example describeCase(c) // "lstm (B 3, T 5, batch-major, reverse, lengths [2, 5, 0], keyed)"
 */
export const describeCase = (
  c: Pick<CellCase, "cell" | "xs" | "timeMajor" | "reverse" | "lengths" | "key">,
): string => {
  checkCellCase("describeCase", c);
  const { batch: b, time: t } = dimsOf(c);
  const parts = [`B ${b}, T ${t}`, c.timeMajor ? "time-major" : "batch-major", c.reverse ? "reverse" : "forward"];
  if (c.lengths !== undefined) parts.push(`lengths [${c.lengths.join(", ")}]`);
  if (c.key !== undefined) parts.push(`keyed [${c.key.words.join(", ")}]`);
  return `${c.cell.name} (${parts.join(", ")})`;
};

/**
 * Batch and time of a case.
 * @example dimsOf(c) // { batch: 3, time: 5 }
 */
export const dimsOf = (c: Pick<CellCase, "xs" | "timeMajor">): { readonly batch: number; readonly time: number } =>
  c.timeMajor ? { batch: c.xs.shape[1]!, time: c.xs.shape[0]! } : { batch: c.xs.shape[0]!, time: c.xs.shape[1]! };

/** Slice specs picking `[lo, hi)` on the batch or time axis of a `[B, T, ...]`/`[T, B, ...]` value. */
const along = (axis: "batch" | "time", timeMajor: boolean, lo: number, hi: number): Array<A.SliceSpec | null> => {
  const index = (axis === "batch") === timeMajor ? 1 : 0;
  return index === 0 ? [{ start: lo, stop: hi }] : [null, { start: lo, stop: hi }];
};

/**
 * Samples `[lo, hi)` of a sequence value in either layout.
 * @example samples(xs, false, 1).shape // [1, T, F]
 */
export const samples = (x: A.Value, timeMajor: boolean, lo: number, hi = lo + 1): A.Value =>
  A.slice(x, along("batch", timeMajor, lo, hi));

/**
 * Steps `[lo, hi)` of a sequence value in either layout.
 * @example steps(xs, true, 0, 2).shape // [2, B, F]
 */
export const steps = (x: A.Value, timeMajor: boolean, lo: number, hi: number): A.Value =>
  A.slice(x, along("time", timeMajor, lo, hi));

/**
 * Row `b` (kept as a batch of one) of every leaf of a carry-like tree whose leaves are `[B, ...]`.
 * @example rowOf({ h, c }, 2) // { h: [1, H], c: [1, H] }
 */
export const rowOf = <U>(tree: U, b: number): U => A.treeMap((l) => A.slice(l, [{ start: b, stop: b + 1 }]), tree);

/**
 * Reverses each sample's first `lengths[b]` steps (all steps without lengths), leaving padding in
 * place, by slicing each sample and flipping its prefix: the law's own flip, not `reverseValid`.
 * @example flipValid(xs, [2, 3], false) // sample 0: x1 x0 x2…, sample 1: x2 x1 x0 x3…
 */
export const flipValid = (x: A.Value, lengths: readonly number[] | undefined, timeMajor: boolean): A.Value => {
  const { batch, time } = dimsOf({ xs: x as T.Tensor, timeMajor });
  const timeAxis = timeMajor ? 0 : 1;
  if (time === 0) return x;
  const rows = Array.from({ length: batch }, (_, b) => {
    const row = samples(x, timeMajor, b);
    const len = lengths?.[b] ?? time;
    if (len === 0) return row;
    const flipped = A.flip(steps(row, timeMajor, 0, len), timeAxis);
    return len === time ? flipped : A.concat([flipped, steps(row, timeMajor, len, time)], timeAxis);
  });
  return rows.length === 1 ? rows[0]! : A.concat(rows, timeMajor ? 1 : 0);
};

/**
 * The cell, except that its noise for a batch of one is row `b` of the noise it draws for
 * `batch` samples, so a sample run alone sees exactly the dropout masks it saw in its batch
 * (noise leaves must be `[batch, ...]`, as dropout masks are).
 * @example rnn(rowNoiseCell(cell, 3, 1), p, sampleOneXs, { key }) // sample 1's masks from a batch of 3
 */
export const rowNoiseCell = (cell: AnyCell, batch: number, b: number): AnyCell => {
  const noise = cell.noise;
  if (noise === undefined) return cell;
  return { ...cell, noise: (key: T.Key, _one: number, p: unknown) => rowOf(noise(key, batch, p), b) };
};

/**
 * The fixed scalar every law differentiates: `readout` of outputs and final carry, whose
 * cotangent differs per element and per leaf.
 * @example lossOf(rnn(gru, p, xs)) // a float64 scalar
 */
export const lossOf = (r: { readonly outputs: A.Value; readonly finalCarry: unknown }): A.Value =>
  readout([r.outputs, r.finalCarry]);

/**
 * Bounds of `arbCellCase`.
 * @example
 * arbCellCase(lstm, { sizes: { inputSize: 2, hiddenSize: 3 }, maxBatch: 3, maxTime: 5 } satisfies ArbCellCaseOptions)
 */
export interface ArbCellCaseOptions {
  /** Sizes passed to `cell.init` (extra fields reach a custom cell's init). */
  readonly sizes: CellSizes & Readonly<Record<string, unknown>>;
  /** Default 3. */
  readonly maxBatch?: number;
  /** Default 0 (an empty sequence is a case too). */
  readonly minTime?: number;
  /** Default 5. */
  readonly maxTime?: number;
  /** Fix the layout (random when omitted). */
  readonly timeMajor?: boolean;
  /** Fix the direction (random when omitted). */
  readonly reverse?: boolean;
  /** Draw lengths always / never (default: either). */
  readonly lengths?: boolean;
  /** Draw a dropout key always / never (default: either when the cell has noise, else never). */
  readonly key?: boolean;
}

/** The keys of `ArbCellCaseOptions`. */
export const ARB_CELL_CASE_KEYS = keysOf<ArbCellCaseOptions>({
  sizes: true,
  maxBatch: true,
  minTime: true,
  maxTime: true,
  timeMajor: true,
  reverse: true,
  lengths: true,
  key: true,
});

/**
 * Random law instances for `cell`: a padded batch from `arbRaggedBatch` (lengths in [0, T], T
 * from minTime), parameters and initial carry from a drawn seed, a layout, a direction and
 * (for cells with noise) a key.
 * @example
 * test.prop([arbCellCase(gru, { sizes: { inputSize: 2, hiddenSize: 3 } })])("padding", (c) =>
 *   cellLawChecks.padding(c),
 * )
 */
export const arbCellCase = (cell: AnyCell, o: ArbCellCaseOptions): fc.Arbitrary<CellCase> => {
  checkCell("arbCellCase", "cell", cell);
  checkSizesOption("arbCellCase", o, ARB_CELL_CASE_KEYS);
  const flag = (fixed: boolean | undefined): fc.Arbitrary<boolean> =>
    fixed === undefined ? fc.boolean() : fc.constant(fixed);
  return fc
    .record({
      batch: arbRaggedBatch({
        maxBatch: o.maxBatch ?? 3,
        minTime: o.minTime ?? 0,
        maxTime: o.maxTime ?? 5,
        features: o.sizes.inputSize,
        min: -2,
        max: 2,
      }),
      seed: fc.nat({ max: 1_000_000 }),
      timeMajor: flag(o.timeMajor),
      reverse: flag(o.reverse),
      withLengths: flag(o.lengths),
      withKey: cell.noise === undefined ? fc.constant(false) : flag(o.key),
    })
    .map(({ batch, seed, timeMajor, reverse, withLengths, withKey }) =>
      cellCase(cell, {
        sizes: o.sizes,
        seed,
        xs: batch.data,
        timeMajor,
        reverse,
        ...(withLengths ? { lengths: batch.lengths } : {}),
        ...(withKey ? { key: T.random.key(seed + 7) } : {}),
      }),
    );
};
