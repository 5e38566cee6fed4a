/**
 * @file Reading the dataset of `batches`: either a list of sequences, or a list of records whose
 * fields are sequences (padded per batch) and numbers (one per sample, e.g. a label). Every
 * sample is checked once, up front, and every refusal names the sample index and the field.
 */
import * as T from "@rewind/tensor";
import { describeArg } from "@rewind/tensor/internal/check";
import { checkOptions } from "../util.js";
import { checkPadValue, readRagged, readScalars, type Ragged, type Sequence } from "./ragged.js";

/** A sample made of named fields: sequences (padded per batch) and numbers (stacked into `[B]`). */
export type SampleRecord = { readonly [field: string]: Sequence | number };

/** One sample of a dataset: a sequence, or a record of sequences and numbers. */
export type Sample = Sequence | SampleRecord;

/** A sequence field of the dataset, read. */
export interface SequenceField {
  /** The field's name; undefined when each sample is a sequence. */
  readonly name: string | undefined;
  readonly ragged: Ragged;
  readonly padValue: number;
}

/** A number field of the dataset, read. */
export interface NumberField {
  readonly name: string;
  /** The field's values at `rows`, as a `[rows.length]` tensor. */
  readonly take: (rows: readonly number[]) => T.Tensor;
}

/** The dataset, checked: its sequence fields and number fields. */
export interface DatasetRead {
  /** True when each sample is a record (the batch's `data` is a record of the same fields). */
  readonly records: boolean;
  readonly sequences: readonly SequenceField[];
  readonly numbers: readonly NumberField[];
}

/** A per-field setting: one value for every field, or a record by field name. */
export type PerField<V> = V | Readonly<Record<string, V>>;

/** What reading needs from the options. */
export interface DatasetSettings {
  readonly padValue: PerField<number> | undefined;
  readonly dtype: PerField<T.DType> | undefined;
  readonly allowEmpty: boolean;
}

/**
 * True for a value `readRagged` reads as one sequence (an array, a typed array or a tensor).
 * @example isSequence([1, 2]) // true
 */
export const isSequence = (x: unknown): boolean =>
  Array.isArray(x) || (ArrayBuffer.isView(x) && !(x instanceof DataView)) || T.isTensor(x);

const isRecord = (x: unknown): x is Readonly<Record<string, unknown>> =>
  typeof x === "object" && x !== null && !isSequence(x);

const badDataset = (op: string, arg: string, detail: string, fix: string): never =>
  T.fail({ _tag: "ValueError", op, arg, detail, fix });

/** The setting of `field` from a per-field option (its record keys checked against `fields`). */
const settingOf = <V>(
  op: string,
  arg: string,
  value: PerField<V> | undefined,
  field: string | undefined,
  fields: readonly string[] | undefined,
  isValue: (x: unknown) => boolean,
): V | undefined => {
  if (value === undefined || isValue(value)) return value as V | undefined;
  if (fields === undefined)
    return badDataset(
      op,
      arg,
      `${arg} is ${describeArg(value)}, but per-field values need samples that are records`,
      `pass one value for the whole dataset`,
    );
  checkOptions(op, arg, value, fields);
  const v = (value as Readonly<Record<string, V>>)[field!];
  if (v !== undefined && !isValue(v))
    badDataset(op, `${arg}.${field}`, `${arg}.${field} is ${describeArg(v)}`, `pass a valid value or leave it out`);
  return v;
};

const isNumber = (x: unknown): boolean => typeof x === "number";

/**
 * Checks and reads a dataset of sequences or of records (fields from the first sample; every
 * other sample must have exactly those fields, of the same kinds).
 * @example readDataset("batches", [{ ids: [1, 2], label: 0 }], { padValue: 0, dtype: undefined, allowEmpty: false })
 */
export const readDataset = (op: string, dataset: readonly unknown[], s: DatasetSettings): DatasetRead => {
  if (!Array.isArray(dataset) || dataset.length === 0)
    badDataset(
      op,
      "dataset",
      Array.isArray(dataset) ? "dataset is empty: there is nothing to batch" : `dataset is ${describeArg(dataset)}`,
      "pass an array of samples: sequences, or records of sequences and numbers",
    );
  const first: unknown = dataset[0];
  if (!isRecord(first)) {
    const pad = settingOf(op, "options.padValue", s.padValue, undefined, undefined, isNumber);
    const dtype = settingOf(op, "options.dtype", s.dtype, undefined, undefined, T.isDType);
    const ragged = readRagged({ op, argOf: (i) => `dataset[${i}]` }, dataset, dtype, s.allowEmpty);
    checkPadValue(op, "options.padValue", pad ?? 0, ragged.dtype);
    return { records: false, sequences: [{ name: undefined, ragged, padValue: pad ?? 0 }], numbers: [] };
  }
  const fields = Object.keys(first);
  if (fields.length === 0)
    badDataset(op, "dataset[0]", "sample 0 is a record without fields", "give each sample at least one field");
  dataset.forEach((x: unknown, i) => {
    const sample = isRecord(x) ? x : undefined;
    if (sample === undefined)
      badDataset(
        op,
        `dataset[${i}]`,
        `sample ${i} is ${describeArg(x)} but sample 0 is a record`,
        `give every sample the fields ${fields.join(", ")}`,
      );
    const keys = Object.keys(sample!);
    const missing = fields.find((f) => !Object.prototype.hasOwnProperty.call(sample, f));
    const extra = keys.find((k) => !fields.includes(k));
    if (missing !== undefined || extra !== undefined)
      badDataset(
        op,
        `dataset[${i}]`,
        `sample ${i} ` +
          (missing !== undefined ? `has no field "${missing}"` : `has a field "${extra}" that sample 0 lacks`),
        `give every sample the same fields as sample 0: ${fields.join(", ")}`,
      );
  });
  const sequences: SequenceField[] = [];
  const numbers: NumberField[] = [];
  const seqNames = fields.filter((f) => !isNumber(first[f]));
  for (const name of fields) {
    const values = dataset.map((x) => (x as Readonly<Record<string, unknown>>)[name]);
    const dtype = settingOf(op, "options.dtype", s.dtype, name, fields, T.isDType);
    const src = { op, argOf: (i: number) => `dataset[${i}].${name}` };
    if (isNumber(first[name])) {
      numbers.push({ name, take: readScalars(src, values, dtype ?? "int32") });
      continue;
    }
    const pad = settingOf(op, "options.padValue", s.padValue, name, seqNames, isNumber) ?? 0;
    const ragged = readRagged(src, values, dtype, s.allowEmpty);
    checkPadValue(op, "options.padValue", pad, ragged.dtype);
    sequences.push({ name, ragged, padValue: pad });
  }
  return { records: true, sequences, numbers };
};
