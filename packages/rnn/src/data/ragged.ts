/**
 * @file Reading ragged input: a list of sequences of different lengths (token ids, feature
 * vectors, or `[T_i, ...features]` tensors) checked once and turned into a reader that copies any
 * sample's steps into a padded buffer. Every refusal names the op, the argument (`seqs[3]`,
 * `dataset[3].inputs`), the sample index, what arrived and what to change.
 *
 * Everything is checked up front, element by element, before any batch is built: a bad id in
 * sample 5,000 is reported when `batches` is called, not halfway through an epoch.
 */
import * as T from "@rewind/tensor";
import { isTracer } from "@rewind/autodiff";
import { describeArg } from "@rewind/tensor/internal/check";

/**
 * One sequence of a ragged batch: token ids (numbers, e.g. `[4, 9, 2]` or an `Int32Array`),
 * feature vectors (arrays of numbers, one per step, e.g. `[[0.1, 2], [0.3, 1]]`), or a tensor of
 * shape `[T_i, ...features]`.
 */
export type Sequence = ArrayLike<number> | ReadonlyArray<ArrayLike<number>> | T.Tensor;

/** How a list of sequences is written; every sample of one list must use the same form. */
type Kind = "ids" | "vectors" | "tensor";

const KIND_TEXT: Readonly<Record<Kind, string>> = {
  ids: "an array of numbers (token ids)",
  vectors: "an array of feature vectors",
  tensor: "a tensor",
};

/** A checked ragged list: each sample's length, the per-step shape and dtype, and a copier. */
export interface Ragged {
  /** Each sample's number of steps, before any truncation. */
  readonly lengths: readonly number[];
  /** The shape of one step: `[]` for token ids, `[F]` for feature vectors, `[...features]` for tensors. */
  readonly features: readonly number[];
  /** The dtype the padded tensor has. */
  readonly dtype: T.DType;
  /**
   * Copies steps `[from, from + count)` of sample `i` into `dst` starting at element `at`
   * (converted to `dtype`; the values were checked when the list was read).
   */
  readonly copy: (i: number, from: number, count: number, dst: T.WritableTypedArray, at: number) => void;
}

/** Who is reading, for messages: the op, and the argument name of sample i (`seqs[i]`). */
export interface RaggedSource {
  readonly op: string;
  readonly argOf: (i: number) => string;
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

const isArrayLike = (x: unknown): x is ArrayLike<unknown> =>
  Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView));

const refuse = (
  src: RaggedSource,
  i: number,
  detail: string,
  fix: string,
  tag: "ValueError" | "DTypeError" = "ValueError",
): never => T.fail({ _tag: tag, op: src.op, arg: src.argOf(i), detail, fix });

/** Why `v` cannot be stored in `dtype` ("" when it can). */
const valueProblem = (v: unknown, dtype: T.DType): string => {
  if (typeof v !== "number") return `is ${describeArg(v)}, not a number`;
  if (dtype === "int32") {
    if (!Number.isInteger(v)) return `is ${describeArg(v)}, not an integer`;
    if (v < INT32_MIN || v > INT32_MAX) return `is ${v}, outside the int32 range`;
  }
  if (dtype === "bool" && v !== 0 && v !== 1) return `is ${describeArg(v)}, not 0 or 1`;
  return "";
};

const valueFix = (dtype: T.DType): string =>
  dtype === "int32"
    ? 'token ids must be integers; for real-valued sequences pass dtype: "float32" (or "float64")'
    : dtype === "bool"
      ? "a bool sequence holds 0 and 1 only"
      : "pass numbers";

/** The kind and per-step shape of one sample, or undefined for an empty array (no step to look at). */
const formOf = (src: RaggedSource, i: number, s: unknown): { kind: Kind; features: number[]; length: number } => {
  if (isTracer(s))
    refuse(
      src,
      i,
      `sample ${i} is a traced value; ${src.op} prepares concrete data`,
      `call ${src.op} outside grad/jit/scan and pass the padded tensors in`,
    );
  if (T.isTensor(s)) {
    if (s.shape.length === 0)
      refuse(
        src,
        i,
        `sample ${i} is a rank-0 tensor; a sequence needs a time axis`,
        "pass a tensor of shape [steps, ...features], e.g. reshape(x, [1]) for one step",
      );
    return { kind: "tensor", features: s.shape.slice(1), length: s.shape[0]! };
  }
  if (!isArrayLike(s))
    return refuse(
      src,
      i,
      `sample ${i} is ${describeArg(s)}; a sequence is an array of token ids, an array of feature vectors, ` +
        "or a tensor [steps, ...features]",
      "pass every sample in one of those forms",
    );
  const first = s.length > 0 ? s[0] : undefined;
  if (first === undefined || typeof first === "number") return { kind: "ids", features: [], length: s.length };
  if (isArrayLike(first)) return { kind: "vectors", features: [first.length], length: s.length };
  return refuse(
    src,
    i,
    `step 0 of sample ${i} is ${describeArg(first)}; a step is a number (a token id) or an array of numbers`,
    "pass token ids as numbers, or feature vectors as arrays of numbers",
  );
};

/** Checks every element of sample i (ids or vectors) against `dtype` and the feature size. */
const checkElements = (
  src: RaggedSource,
  i: number,
  s: ArrayLike<unknown>,
  kind: Kind,
  f: number,
  dtype: T.DType,
): void => {
  for (let t = 0; t < s.length; t++) {
    const step = s[t];
    if (kind === "ids") {
      const p = valueProblem(step, dtype);
      if (p !== "") refuse(src, i, `step ${t} of sample ${i} ${p}`, valueFix(dtype));
      continue;
    }
    if (!isArrayLike(step) || step.length !== f)
      refuse(
        src,
        i,
        `step ${t} of sample ${i} is ${isArrayLike(step) ? `a vector of ${step.length} features` : describeArg(step)}` +
          `, but steps have ${f} features (step 0 of the first sample that has steps)`,
        `give every step the same ${f} features`,
      );
    const v = step as ArrayLike<unknown>;
    for (let j = 0; j < f; j++) {
      const p = valueProblem(v[j], dtype);
      if (p !== "") refuse(src, i, `feature ${j} of step ${t} of sample ${i} ${p}`, valueFix(dtype));
    }
  }
};

/** Checks that tensor sample i converts to `dtype` without changing a value. */
const checkTensorValues = (src: RaggedSource, i: number, s: T.Tensor, dtype: T.DType): void => {
  if (s.dtype === dtype || T.isFloating(dtype) || (dtype === "int32" && s.dtype === "bool")) return;
  const per = Math.max(1, T.sizeOf(s.shape.slice(1)));
  for (let k = 0; k < s.data.length; k++) {
    const p = valueProblem(s.data[k], dtype);
    if (p !== "")
      refuse(
        src,
        i,
        `sample ${i} (${s.dtype}) converted to ${dtype}: element ${k % per} of step ${Math.floor(k / per)} ${p}`,
        valueFix(dtype),
      );
  }
};

/**
 * Reads and checks a ragged list: one form for all samples, one per-step shape, one dtype (for
 * tensors, unless `dtype` converts them), values that fit the dtype, and no empty sequence unless
 * `allowEmpty`.
 * @example readRagged({ op: "padSequences", argOf: (i) => `seqs[${i}]` }, [[1, 2], [3]], undefined, false)
 */
export const readRagged = (
  src: RaggedSource,
  seqs: readonly unknown[],
  dtype: T.DType | undefined,
  allowEmpty: boolean,
): Ragged => {
  const forms = seqs.map((s, i) => formOf(src, i, s));
  // The first sample with steps fixes the form; an empty array has no form of its own.
  const ref = forms.findIndex((f) => f.kind === "tensor" || f.length > 0);
  const kind: Kind = ref < 0 ? "ids" : forms[ref]!.kind;
  const features = ref < 0 ? [] : forms[ref]!.features;
  forms.forEach((f, i) => {
    if (f.length === 0 && !allowEmpty)
      refuse(
        src,
        i,
        `sample ${i} is empty (0 steps)`,
        "drop it, give it at least one step (e.g. an unknown-word token), or pass allowEmpty: true " +
          "(rnn then keeps its initial carry and gives zero outputs)",
      );
    const emptyArray = f.kind !== "tensor" && f.length === 0;
    if (!emptyArray && f.kind !== kind)
      refuse(
        src,
        i,
        `sample ${i} is ${KIND_TEXT[f.kind]} but sample ${ref} is ${KIND_TEXT[kind]}`,
        "give every sample the same form",
      );
    if (!emptyArray && !T.shapesEqual(f.features, features))
      refuse(
        src,
        i,
        `sample ${i} has steps of shape ${T.formatShape(f.features)} but sample ${ref} has ${T.formatShape(features)}`,
        "give every sample the same features per step (mixed feature sizes cannot share one padded tensor)",
        "ValueError",
      );
  });
  const tensors = seqs as readonly T.Tensor[];
  if (kind === "tensor" && dtype === undefined) {
    const first = forms[ref]!.kind === "tensor" ? tensors[ref]!.dtype : "float32";
    tensors.forEach((s, i) => {
      if (T.isTensor(s) && s.dtype !== first)
        refuse(
          src,
          i,
          `sample ${i} is ${s.dtype} but sample ${ref} is ${first} (mixed dtypes)`,
          `convert them to one dtype with astype, or pass dtype: "${first}" to convert every sample`,
          "DTypeError",
        );
    });
  }
  const out: T.DType = dtype ?? (kind === "tensor" ? tensors[ref]!.dtype : kind === "ids" ? "int32" : "float32");
  const f = features.length === 0 ? 1 : T.sizeOf(features);
  // An empty array among tensors (allowEmpty) has no values to check or copy.
  if (kind === "tensor") tensors.forEach((s, i) => T.isTensor(s) && checkTensorValues(src, i, s, out));
  else seqs.forEach((s, i) => checkElements(src, i, s as ArrayLike<unknown>, kind, features[0] ?? 1, out));
  return { lengths: forms.map((x) => x.length), features, dtype: out, copy: copier(kind, seqs, f, out) };
};

const copier = (kind: Kind, seqs: readonly unknown[], f: number, dtype: T.DType): Ragged["copy"] => {
  const toBool = dtype === "bool";
  if (kind === "tensor")
    return (i, from, count, dst, at) => {
      if (count === 0) return;
      const data = (seqs[i] as T.Tensor).data;
      if (!toBool) dst.set(data.subarray(from * f, (from + count) * f), at);
      else for (let k = 0; k < count * f; k++) dst[at + k] = data[from * f + k] !== 0 ? 1 : 0;
    };
  if (kind === "ids")
    return (i, from, count, dst, at) => {
      const s = seqs[i] as ArrayLike<number>;
      for (let k = 0; k < count; k++) dst[at + k] = s[from + k]!;
    };
  return (i, from, count, dst, at) => {
    const s = seqs[i] as ReadonlyArray<ArrayLike<number>>;
    for (let k = 0; k < count; k++) {
      const v = s[from + k]!;
      for (let j = 0; j < f; j++) dst[at + k * f + j] = v[j]!;
    }
  };
};

/**
 * Throws unless `padValue` can be stored in `dtype` (an integer for int32, 0 or 1 for bool).
 * @example checkPadValue("padSequences", "options.padValue", 0.5, "int32") // throws
 */
export const checkPadValue = (op: string, arg: string, padValue: number, dtype: T.DType): void => {
  const p = valueProblem(padValue, dtype);
  if (p !== "")
    T.fail({
      _tag: "ValueError",
      op,
      arg,
      detail: `${arg} ${p}, so it cannot fill a ${dtype} tensor`,
      fix: dtype === "int32" ? "pass an integer (e.g. the padding token's id, often 0)" : valueFix(dtype),
    });
};

/**
 * Reads one number per sample (a label, a target value) into a `[B]`-ready buffer reader,
 * checking each value against `dtype`; messages name `src.argOf(i)` and the sample.
 * @example readScalars({ op: "batches", argOf: (i) => `dataset[${i}].label` }, [0, 1, 1], "int32")
 */
export const readScalars = (
  src: RaggedSource,
  values: readonly unknown[],
  dtype: T.DType,
): ((rows: readonly number[]) => T.Tensor) => {
  values.forEach((v, i) => {
    const p = valueProblem(v, dtype);
    if (p !== "") refuse(src, i, `sample ${i}'s value ${p}`, valueFix(dtype));
  });
  return (rows) => {
    const out = T.allocate(dtype, rows.length);
    rows.forEach((i, b) => (out[b] = values[i] as number));
    return T.fromBuffer(dtype, [rows.length], out);
  };
};
