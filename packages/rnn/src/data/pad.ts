/**
 * @file `padSequences` and `unpadSequences`: ragged sequences to one `[B, T, ...features]`
 * tensor with per-sample `lengths` and a `[B, T]` mask, and back.
 *
 * Nothing is ever truncated silently: a sequence longer than `maxLength` is refused unless the
 * call says which end to cut (`truncating`). Padding goes after the valid steps by default, which
 * is what `rnn`'s `lengths` assume (see `PadOptions.padding` for "pre").
 */
import * as T from "@rewind/tensor";
import { check, flag, intAtLeast, keysOf, oneOf, optional, rule } from "@rewind/tensor/internal/check";
import { isTracer, reshape, slice, type Value } from "@rewind/autodiff";
import { validateLengths } from "../lengths.js";
import { checkOptions, checkValue } from "../util.js";
import { checkPadValue, readRagged, type Ragged, type Sequence } from "./ragged.js";

/** Which end of a sequence padding (or truncation) applies to. */
export type Side = "pre" | "post";

/** Options of `padSequences` (and, per field, of `batches`). */
export interface PadOptions {
  /**
   * The padded length T. Without it, T is the longest sequence. A longer sequence is refused
   * unless `truncating` says which end to cut: padding never truncates silently.
   */
  readonly maxLength?: number;
  /** The value written at padded positions (default 0); must fit the dtype (an integer for int32). */
  readonly padValue?: number;
  /**
   * Where the padding goes: `"post"` (default) puts each sequence's valid steps first, as `rnn`'s
   * `lengths` assume. `"pre"` puts them last (Keras' default): such a batch must NOT be given to
   * `rnn` with `lengths` (they would mark its first steps, the padding, as valid). Run it without
   * `lengths` (the cell then reads the leading padding) and use the returned `mask`, which marks
   * the steps that really hold data, in the losses and reductions; `lengths` still counts them.
   */
  readonly padding?: Side;
  /**
   * Cut sequences longer than `maxLength`: `"post"` keeps the first `maxLength` steps, `"pre"`
   * the last ones. Without it, such a sequence is an error naming its index.
   */
  readonly truncating?: Side;
  /** The dtype of `xs` (default: int32 for token ids, float32 for feature vectors, the tensors' own). */
  readonly dtype?: T.DType;
  /** Accept sequences of 0 steps (default false: an empty sequence is usually a data bug). */
  readonly allowEmpty?: boolean;
}

/** The keys of `PadOptions`. */
export const PAD_OPTION_KEYS = keysOf<PadOptions>({
  maxLength: true,
  padValue: true,
  padding: true,
  truncating: true,
  dtype: true,
  allowEmpty: true,
});

/** A padded batch of sequences. */
export interface PaddedSequences {
  /** `[B, T, ...features]`: the sequences, padded (int32 `[B, T]` for token ids). */
  readonly xs: T.Tensor;
  /** int32 `[B]`: each sample's number of valid steps (after truncation). */
  readonly lengths: T.Tensor;
  /** bool `[B, T]`: true where `xs` holds a sample's data, false on padding. */
  readonly mask: T.Tensor;
}

const sideRule = optional(oneOf(["pre", "post"]));
const lengthRule = optional(intAtLeast(1));
const numberRule = rule("a number", (x) => x === undefined || typeof x === "number", "pass a number");
const dtypeRule = rule(
  "a dtype",
  (x) => x === undefined || T.isDType(x),
  'pass "int32", "float32", "float64" or "bool"',
);

/** `PadOptions` with its defaults, checked. */
export interface ReadPadOptions {
  readonly maxLength: number | undefined;
  readonly padValue: number;
  readonly padding: Side;
  readonly truncating: Side | undefined;
  readonly dtype: T.DType | undefined;
  readonly allowEmpty: boolean;
}

/**
 * Checks the values of pad options (their keys are checked by the caller) and fills in defaults.
 * @example readPadOptions("padSequences", "options", { maxLength: 8 })
 */
export const readPadOptions = (op: string, arg: string, o: PadOptions): ReadPadOptions => ({
  maxLength: check(op, `${arg}.maxLength`, o.maxLength, lengthRule),
  padValue: check(op, `${arg}.padValue`, o.padValue, numberRule) ?? 0,
  padding: check(op, `${arg}.padding`, o.padding, sideRule) ?? "post",
  truncating: check(op, `${arg}.truncating`, o.truncating, sideRule),
  dtype: check(op, `${arg}.dtype`, o.dtype, dtypeRule),
  allowEmpty: check(op, `${arg}.allowEmpty`, o.allowEmpty, flag) ?? false,
});

/**
 * Throws, naming the sample, when sample `i` (of `length` steps) does not fit `steps` and no
 * truncation was asked for; `why` says where the limit comes from, `raise` how to lift it.
 * @example refuseTooLong("padSequences", "seqs[2]", 2, 12, 10, "maxLength 10", "raise maxLength")
 */
export const refuseTooLong = (
  op: string,
  arg: string,
  i: number,
  length: number,
  steps: number,
  why: string,
  raise: string,
): never =>
  T.fail({
    _tag: "ValueError",
    op,
    arg,
    detail: `sample ${i} has ${length} steps, more than ${why}; ${op} never truncates silently`,
    fix:
      `pass truncating: "post" (keep the first ${steps} steps) or "pre" (keep the last ${steps}), ` +
      `${raise}, or drop the sample`,
  });

/**
 * Pads the samples `rows` of a checked ragged list to `steps` (truncating as `o` says; the caller
 * has refused what does not fit).
 * @example fill(ragged, [0, 2], 8, { padValue: 0, padding: "post", truncating: undefined })
 */
export const fill = (
  r: Ragged,
  rows: readonly number[],
  steps: number,
  o: Pick<ReadPadOptions, "padValue" | "padding" | "truncating">,
): PaddedSequences => {
  const batch = rows.length;
  const f = r.features.length === 0 ? 1 : T.sizeOf(r.features);
  const xs = T.allocate(r.dtype, batch * steps * f);
  if (o.padValue !== 0) (xs as Float64Array).fill(o.padValue);
  const lengths = new Int32Array(batch);
  const mask = new Uint8Array(batch * steps);
  rows.forEach((i, b) => {
    const length = r.lengths[i]!;
    const keep = Math.min(length, steps);
    const from = o.truncating === "pre" ? length - keep : 0;
    const start = o.padding === "pre" ? steps - keep : 0;
    r.copy(i, from, keep, xs, (b * steps + start) * f);
    lengths[b] = keep;
    mask.fill(1, b * steps + start, b * steps + start + keep);
  });
  return {
    xs: T.fromBuffer(r.dtype, [batch, steps, ...r.features], xs),
    lengths: T.fromBuffer("int32", [batch], lengths),
    mask: T.fromBuffer("bool", [batch, steps], mask),
  };
};

/**
 * Pads ragged sequences into one batch: token ids (arrays of numbers) become int32 `[B, T]`,
 * feature vectors (arrays of arrays) float32 `[B, T, F]`, tensors `[T_i, ...features]` become
 * `[B, T, ...features]` of their dtype; `lengths` counts each sample's valid steps and `mask`
 * marks them. T is `maxLength`, or the longest sequence. A sequence longer than `maxLength` is
 * refused unless `truncating` is given — never cut silently. With `padding: "pre"` the valid steps
 * come last: do not pass such a batch's `lengths` to `rnn` (see `PadOptions.padding`).
 * @throws TensorException naming the argument and the sample index: empty sequences (unless
 * `allowEmpty`), a sequence longer than `maxLength`, mixed forms, feature sizes or dtypes,
 * non-integer token ids, a `padValue` the dtype cannot hold.
 * @example
 * const { xs, lengths, mask } = padSequences([[5, 3, 8], [2]]);
 * // xs int32 [[5, 3, 8], [2, 0, 0]], lengths [3, 1], mask [[true, true, true], [true, false, false]]
 */
export const padSequences = (seqs: readonly Sequence[], options: PadOptions = {}): PaddedSequences => {
  const op = "padSequences";
  checkOptions(op, "options", options, PAD_OPTION_KEYS);
  const o = readPadOptions(op, "options", options);
  if (!Array.isArray(seqs) || seqs.length === 0)
    T.fail({
      _tag: "ValueError",
      op,
      arg: "seqs",
      detail: Array.isArray(seqs) ? "seqs is empty: there is no sample to pad" : "seqs must be an array of sequences",
      fix: "pass an array of at least one sequence (token ids, feature vectors or [steps, ...features] tensors)",
    });
  const r = readRagged({ op, argOf: (i) => `seqs[${i}]` }, seqs, o.dtype, o.allowEmpty);
  checkPadValue(op, "options.padValue", o.padValue, r.dtype);
  const steps = o.maxLength ?? Math.max(...r.lengths);
  if (o.truncating === undefined)
    r.lengths.forEach(
      (n, i) =>
        n > steps && refuseTooLong(op, `seqs[${i}]`, i, n, steps, `maxLength ${steps}`, `raise maxLength to ${n}`),
    );
  return fill(
    r,
    r.lengths.map((_, i) => i),
    steps,
    o,
  );
};

/** Options of `unpadSequences`. */
export interface UnpadOptions {
  /** Where the batch holds its padding: `"post"` (default) or `"pre"`, as given to `padSequences`. */
  readonly padding?: Side;
}

/**
 * The inverse of `padSequences`: each sample's valid steps of a batch-major `[B, T, ...]` value,
 * as a list of `[lengths[b], ...]` values (so `unpadSequences(padSequences(seqs))` gives the
 * sequences back as tensors). Works on traced values too (e.g. `rnn` outputs inside `grad`), but
 * `lengths` must be concrete: the result's shapes depend on them.
 * @throws TensorException for a `ys` without batch and time axes, or lengths that do not fit it.
 * @example
 * const { xs, lengths } = padSequences([[1, 2, 3], [4]]);
 * unpadSequences(xs, lengths) // [int32 [1, 2, 3], int32 [4]]
 */
export function unpadSequences(ys: T.Tensor, lengths: Value | readonly number[], options?: UnpadOptions): T.Tensor[];
export function unpadSequences(ys: Value, lengths: Value | readonly number[], options?: UnpadOptions): Value[];
export function unpadSequences(ys: Value, lengths: Value | readonly number[], options: UnpadOptions = {}): Value[] {
  const op = "unpadSequences";
  checkValue(op, "ys", ys);
  checkOptions(op, "options", options, keysOf<UnpadOptions>({ padding: true }));
  const padding = check(op, "options.padding", options.padding, sideRule) ?? "post";
  if (ys.shape.length < 2)
    T.fail({
      _tag: "ShapeError",
      op,
      arg: "ys",
      shapes: [ys.shape],
      detail: `ys must be batch-major [batch, time, ...], got a rank-${ys.shape.length} value`,
      fix: "pass a padded batch such as padSequences(...).xs or rnn(...).outputs (swap the axes of time-major values)",
    });
  const [batch, time] = ys.shape as [number, number];
  const len = validateLengths(op, lengths, batch, time);
  if (isTracer(len))
    T.fail({
      _tag: "ValueError",
      op,
      arg: "lengths",
      detail: "lengths is a traced value, but the shapes of the unpadded sequences depend on its numbers",
      fix: "pass the concrete lengths (e.g. padSequences(...).lengths, computed outside grad/jit)",
    });
  const rest = ys.shape.slice(2);
  return Array.from((len as T.Tensor).data, (n, b) => {
    const start = padding === "pre" ? time - n : 0;
    return reshape(
      slice(ys, [
        { start: b, stop: b + 1 },
        { start, stop: start + n },
      ]),
      [n, ...rest],
    );
  });
}
