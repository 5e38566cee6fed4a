/**
 * @file The sequence-data laws (issue 22): what padding, batching and masking must never change.
 *
 * - maskedLoss: a masked loss and its gradient are invariant to the padding values (exactly) and
 *   to extra padding (up to rounding); the gradient on padding is exactly 0; in float64 the
 *   gradient matches finite differences.
 * - unpadPad: `unpadSequences(padSequences(x)) = x` (truncated as asked), bit for bit, and the
 *   padded tensor holds `padValue` exactly where the mask is false.
 * - batchCoverage: an epoch holds every sample exactly once (at most once with `dropLast`, less
 *   than a batch short per bucket), each batch holds its samples' data, the same key gives the
 *   same batches bit for bit, bucket bounds are respected and padding fractions are true.
 * - paddedRnn: a batch padded by `padSequences` through `rnn` with its lengths equals each
 *   sample run alone (outputs, final carries, and gradients w.r.t. the parameters).
 *
 * Tolerances: the caller's, else `LAW_TOLERANCES` in float64 and `FLOAT32_TOLERANCES` in
 * float32 (comparisons that must be exact use 0).
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import {
  batches as rewindBatches,
  maskedSum,
  padSequences as rewindPad,
  rnn as rewindRnn,
  unpadSequences as rewindUnpad,
  type PaddedSequences,
  type RnnResult,
} from "@rewind/rnn";
import { keysOf } from "@rewind/tensor/internal/check";
import { checkOptions, checkInt, invalid } from "./args.js";
import { checkGrads } from "./checkGrads.js";
import { expectClose, expectZero, LAW_TOLERANCES, violation, type LawCheck } from "./lawKit.js";
import type { LawOptions } from "./lawOptions.js";
import type { RnnImpl } from "./cellLawSetup.js";
import {
  arbBatchCoverageCase,
  arbMaskedLossCase,
  arbPaddedRnnCase,
  arbUnpadPadCase,
  junk,
  keptRows,
  repad,
  type BatchCoverageCase,
  type LawDType,
  type MaskedLossCase,
  type PaddedRnnCase,
  type UnpadPadCase,
} from "./sequenceCases.js";
import { checkBatchCoverage } from "./batchLaw.js";

/** Tolerances of the sequence laws' float32 comparisons (rounding of float32 sums in another order). */
export const FLOAT32_TOLERANCES: Readonly<Required<LawOptions>> = Object.freeze({ rtol: 1e-5, atol: 1e-6 });

/**
 * Options of the sequence laws: tolerances and the implementations under test (default Rewind's).
 * @example sequenceLawChecks.unpadPad(c, { padSequences: myPad } satisfies SequenceLawOptions)
 */
export interface SequenceLawOptions extends LawOptions {
  /** The `padSequences` under test. */
  readonly padSequences?: typeof rewindPad;
  /** The `unpadSequences` under test. */
  readonly unpadSequences?: (ys: T.Tensor, lengths: A.Value | readonly number[], o?: object) => T.Tensor[];
  /** The `batches` under test. */
  readonly batches?: typeof rewindBatches;
  /** The `rnn` under test. */
  readonly rnn?: RnnImpl;
}

const LAW_KEYS = keysOf<SequenceLawOptions>({
  rtol: true,
  atol: true,
  padSequences: true,
  unpadSequences: true,
  batches: true,
  rnn: true,
});

/** The law's tolerances for values of `dtype`. */
export const tolerancesFor = (dtype: T.DType, o: LawOptions): LawOptions => {
  const d = dtype === "float32" ? FLOAT32_TOLERANCES : LAW_TOLERANCES;
  return { rtol: o.rtol ?? d.rtol, atol: o.atol ?? d.atol };
};

const EXACT: LawOptions = { rtol: 0, atol: 0 };

/** Steps `[lo, hi)` of a batch-major value. */
const stepsOf = (x: A.Value, lo: number, hi: number): A.Value => A.slice(x, [null, { start: lo, stop: hi }]);

/** Every padded position of `g` (steps at and past each sample's length) must be exactly 0. */
const expectZeroPadding = (law: string, c: string, g: A.Value, lengths: readonly number[], what: string): void =>
  lengths.forEach((n, b) => {
    const row = A.slice(g, [{ start: b, stop: b + 1 }, { start: n }]);
    expectZero(law, c, `${what} of sample ${b} on its padding (steps ${n}..)`, row, "grad");
  });

const maskedLossCheck = (c: MaskedLossCase, o: SequenceLawOptions = {}): void => {
  const op = "sequenceLawChecks.maskedLoss";
  checkOptions(op, "o", o, LAW_KEYS);
  if (!T.isTensor(c.predictions) || !T.isFloating(c.predictions.dtype) || c.predictions.shape.length < 2)
    invalid(op, "c.predictions", "must be a float tensor [batch, time, ...]");
  if (
    !T.isTensor(c.targets) ||
    c.targets.shape[0] !== c.predictions.shape[0] ||
    c.targets.shape[1] !== c.predictions.shape[1]
  )
    invalid(op, "c.targets", "must be a tensor with the predictions' batch and time axes");
  const [batch, time] = c.predictions.shape as [number, number];
  if (
    !Array.isArray(c.lengths) ||
    c.lengths.length !== batch ||
    !c.lengths.every((n) => Number.isSafeInteger(n) && n >= 0 && n <= time)
  )
    invalid(op, "c.lengths", `must be ${batch} integers in [0, ${time}]`);
  checkInt(op, "c.extraSteps", c.extraSteps, 0, 64);
  const law = "maskedLoss";
  const name =
    `${c.name} on ${c.predictions.dtype}${T.formatShape(c.predictions.shape)}, ` + `lengths [${c.lengths.join(", ")}]`;
  const len = T.fromDataOrThrow(c.lengths, [batch], "int32");
  const run = (p: T.Tensor, t: T.Tensor) => {
    const f = (x: A.Value) => c.loss(x, t, len);
    return { value: f(p), grad: A.grad(f)(p) };
  };
  const key = c.key ?? T.random.key(0);
  const [kp, kt, kp2, kt2] = T.random.split(key, 4) as [T.Key, T.Key, T.Key, T.Key];
  const finite = c.finitePadding ?? false;
  const base = run(c.predictions, c.targets);
  expectZeroPadding(law, name, base.grad, c.lengths, "the gradient");

  const other = run(
    repad(c.predictions, c.lengths, 0, junk(kp, c.predictions.dtype, finite)),
    repad(c.targets, c.lengths, 0, junk(kt, c.targets.dtype, finite)),
  );
  const same: LawCheck = { law, instance: name, options: EXACT };
  expectClose(same, "other padding values vs the case's", other.value, base.value, "loss");
  expectClose(same, "other padding values vs the case's", other.grad, base.grad, "grad");

  const extra = c.extraSteps ?? 2;
  const longer = run(
    repad(c.predictions, c.lengths, extra, junk(kp2, c.predictions.dtype, finite)),
    repad(c.targets, c.lengths, extra, junk(kt2, c.targets.dtype, finite)),
  );
  const close: LawCheck = { law, instance: name, options: tolerancesFor(c.predictions.dtype, o) };
  const what = `${extra} more padded steps vs the case's`;
  expectClose(close, what, longer.value, base.value, "loss");
  expectClose(close, what, stepsOf(longer.grad, 0, time), base.grad, "grad");
  expectZeroPadding(law, name, longer.grad, c.lengths, "the gradient with extra padding");

  if (c.predictions.dtype === "float64") {
    try {
      checkGrads((p: A.Value) => c.loss(p, c.targets, len), [c.predictions], { modes: ["rev"] });
    } catch (e) {
      violation(law, name, `the gradient vs central finite differences: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
};

const unpadPadCheck = (c: UnpadPadCase, o: SequenceLawOptions = {}): void => {
  const op = "sequenceLawChecks.unpadPad";
  checkOptions(op, "o", o, LAW_KEYS);
  if (!Array.isArray(c.seqs)) invalid(op, "c.seqs", "must be an array of sequences");
  const pad = o.padSequences ?? rewindPad;
  const unpad = o.unpadSequences ?? rewindUnpad;
  const opts = c.options ?? {};
  const padding = opts.padding ?? "post";
  const name = `${c.seqs.length} sequences padded with ${JSON.stringify(opts)}`;
  const law = "unpad ∘ pad";
  const p: PaddedSequences = pad(c.seqs, opts);
  const back = unpad(p.xs, p.lengths, { padding });
  const check: LawCheck = { law, instance: name, options: EXACT };
  const steps = p.xs.shape[1]!;
  if (back.length !== c.seqs.length) violation(law, name, `unpad gave ${back.length} sequences for ${c.seqs.length}`);
  const longest = Math.max(...c.seqs.map((s) => (T.isTensor(s) ? s.shape[0]! : s.length)));
  if (steps !== (opts.maxLength ?? longest))
    violation(
      law,
      name,
      `the batch has ${steps} steps; maxLength or the longest sequence says ${opts.maxLength ?? longest}`,
    );
  // Only an explicit truncation may shorten a sequence.
  const limit = opts.truncating === undefined ? Infinity : steps;
  c.seqs.forEach((s, i) => {
    const want = keptRows(s, limit, opts.truncating, p.xs.dtype, p.xs.shape.slice(2));
    expectClose(check, `sequence ${i} after unpad ∘ pad vs the sequence itself`, back[i], want, `seqs[${i}]`);
  });
  const fill = T.fromDataOrThrow([opts.padValue ?? 0], [], p.xs.dtype);
  const expected = A.where(A.reshape(p.mask, [...p.mask.shape, ...p.xs.shape.slice(2).map(() => 1)]), p.xs, fill);
  expectClose(check, "the padded tensor vs padValue wherever the mask is false", p.xs, expected, "xs");
  const lengths = Array.from(p.lengths.data);
  const mask = lengths.map((n) =>
    Array.from({ length: steps }, (_, t) => ((padding === "pre" ? t >= steps - n : t < n) ? 1 : 0)),
  );
  expectClose(
    check,
    "the mask vs the lengths",
    p.mask,
    T.fromDataOrThrow(mask.flat(), [lengths.length, steps], "bool"),
    "mask",
  );
};

const paddedRnnCheck = (c: PaddedRnnCase, o: SequenceLawOptions = {}): void => {
  const op = "sequenceLawChecks.paddedRnn";
  checkOptions(op, "o", o, LAW_KEYS);
  if (!Array.isArray(c.seqs) || c.seqs.length === 0 || !c.seqs.every((s) => T.isTensor(s) && s.shape.length === 2))
    invalid(op, "c.seqs", "must be a non-empty array of [steps, inputSize] tensors");
  const run: RnnImpl = o.rnn ?? rewindRnn;
  const pad = o.padSequences ?? rewindPad;
  const unpad = o.unpadSequences ?? rewindUnpad;
  const law = "paddedRnn";
  const dtype = c.seqs[0]!.dtype;
  const name =
    `${c.cell.name} on ${c.seqs.length} ${dtype} sequences ` +
    `of lengths [${c.seqs.map((s) => s.shape[0]).join(", ")}]`;
  const { xs, lengths } = pad(c.seqs, { allowEmpty: true });
  const sq = (tree: unknown): A.Value =>
    A.treeLeaves(tree).reduce<A.Value>((s, l) => A.add(s, A.sum(A.square(l))), T.zeros([], dtype));
  const padded = (p: unknown) => {
    const r: RnnResult<unknown> = run(c.cell, p, xs, { lengths });
    return {
      outputs: r.outputs,
      finalCarry: r.finalCarry,
      loss: A.add(A.sum(maskedSum(A.square(r.outputs), lengths)), sq(r.finalCarry)),
    };
  };
  const alone = (p: unknown, b: number) => {
    const r: RnnResult<unknown> = run(c.cell, p, A.expandDims(c.seqs[b]!, 0));
    return {
      outputs: A.squeeze(r.outputs, 0),
      finalCarry: r.finalCarry,
      loss: A.add(A.sum(A.square(r.outputs)), sq(r.finalCarry)),
    };
  };
  const check: LawCheck = { law, instance: name, options: tolerancesFor(dtype, o) };
  const whole = padded(c.params);
  const pieces = unpad(whole.outputs as T.Tensor, lengths);
  c.seqs.forEach((_, b) => {
    const one = alone(c.params, b);
    const what = `sample ${b} in the padded batch vs alone`;
    expectClose(check, what, pieces[b], one.outputs, "outputs");
    expectClose(
      check,
      what,
      A.treeMap((l) => A.slice(l, [{ start: b, stop: b + 1 }]), whole.finalCarry),
      one.finalCarry,
      "finalCarry",
    );
  });
  const g = A.grad((p: unknown) => padded(p).loss)(c.params);
  const gAlone = c.seqs
    .map((_, b) => A.grad((p: unknown) => alone(p, b).loss)(c.params))
    .reduce((a, x) => A.treeMap((u, v) => A.add(u, v), a, x));
  expectClose(check, "grad of the padded batch's loss vs the sum of each sample's alone", g, gAlone, "grad.params");
};

/**
 * One check per sequence-data law on one instance; each throws a `RewindError` (TestFailure)
 * naming the law, the instance and the first difference.
 * @example sequenceLawChecks.unpadPad({ seqs: [[1, 2, 3], [4]], options: { padding: "pre", maxLength: 4 } })
 */
export const sequenceLawChecks = {
  /** A masked loss and its gradient ignore padding values and extra padding; finite differences in float64. */
  maskedLoss: maskedLossCheck,
  /** `unpadSequences(padSequences(x)) = x`, and the padded tensor and mask agree with the lengths. */
  unpadPad: unpadPadCheck,
  /** `batches` covers every sample once per epoch, deterministically, with true data and padding fractions. */
  batchCoverage: (c: BatchCoverageCase, o: SequenceLawOptions = {}): void => {
    checkOptions("sequenceLawChecks.batchCoverage", "o", o, LAW_KEYS);
    checkBatchCoverage(c, o.batches ?? rewindBatches, o.unpadSequences ?? rewindUnpad);
  },
  /** A padded batch through `rnn` with lengths equals each sample run alone. */
  paddedRnn: paddedRnnCheck,
};

/**
 * Options of `sequenceLawProperties`: the dtype and bounds of the drawn cases, the cell of the
 * paddedRnn law (default `gru`), and the checks' options.
 * @example sequenceLawProperties({ dtype: "float32", maxTime: 5 } satisfies SequenceLawPropertyOptions)
 */
export interface SequenceLawPropertyOptions extends SequenceLawOptions {
  /** The float dtype of the drawn data (default float64). */
  readonly dtype?: LawDType;
  /** Largest batch drawn (default 4). */
  readonly maxBatch?: number;
  /** Longest sequence drawn (default 6). */
  readonly maxTime?: number;
  /** The cell of the paddedRnn law (default `gru`). */
  readonly cell?: PaddedRnnCase["cell"];
}

/**
 * fast-check properties of each sequence-data law over random instances (built-in masked losses,
 * ragged ids / vectors / tensors, datasets of sequences and records with every grouping, ragged
 * batches for a cell), in the dtype asked for. Use with `fc.assert`.
 * @example fc.assert(sequenceLawProperties({ dtype: "float32" }).maskedLoss, { numRuns: 20 })
 */
export const sequenceLawProperties = (o: SequenceLawPropertyOptions = {}) => {
  const op = "sequenceLawProperties";
  checkOptions(op, "o", o, [...LAW_KEYS, "dtype", "maxBatch", "maxTime", "cell"]);
  if (o.dtype !== undefined && o.dtype !== "float32" && o.dtype !== "float64")
    invalid(op, "o.dtype", `must be "float32" or "float64", got ${String(o.dtype)}`);
  checkInt(op, "o.maxBatch", o.maxBatch, 1, 64);
  checkInt(op, "o.maxTime", o.maxTime, 1, 256);
  const { dtype = "float64", maxBatch = 4, maxTime = 6, cell, ...checks } = o;
  const bounds = { dtype, maxBatch, maxTime };
  return {
    /** The maskedLoss law on a random built-in loss and batch. */
    maskedLoss: fc.property(arbMaskedLossCase(bounds), (c) => maskedLossCheck(c, checks)),
    /** The unpadPad law on a random ragged list and pad options. */
    unpadPad: fc.property(arbUnpadPadCase(bounds), (c) => unpadPadCheck(c, checks)),
    /** The batchCoverage law on a random dataset and batching options. */
    batchCoverage: fc.property(arbBatchCoverageCase(bounds), (c) => sequenceLawChecks.batchCoverage(c, checks)),
    /** The paddedRnn law on random ragged sequences. */
    paddedRnn: fc.property(arbPaddedRnnCase({ ...bounds, ...(cell === undefined ? {} : { cell }) }), (c) =>
      paddedRnnCheck(c, checks),
    ),
  };
};
