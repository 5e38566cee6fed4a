/**
 * @file The safetensors file format (https://github.com/huggingface/safetensors): encode and a
 * hostile-input-proof decode.
 *
 * Layout: an 8-byte little-endian u64 `N`, then `N` bytes of UTF-8 JSON mapping each tensor name
 * to `{ "dtype", "shape", "data_offsets": [begin, end] }` (offsets relative to the byte buffer)
 * plus an optional `"__metadata__": { string: string }`, then the byte buffer: little-endian,
 * row-major tensors that cover it exactly, with no holes and no overlaps.
 *
 * `decode` treats its input as hostile. It never throws, never loops beyond one pass over the
 * bytes, and allocates only what the file's size implies (a tensor's buffer is allocated only
 * after its byte range has been checked against the file). Every failure is a `DecodeError`
 * naming what is wrong and where. Decoded tensors own fresh copies of their bytes, so the caller
 * may reuse the input buffer.
 */
import * as E from "fp-ts/lib/Either.js";
import { allocate, byteSize, type DType } from "./DType.js";
import { fail, type TensorError } from "./errors.js";
import { isJsonObject, parseStrictJson, type JsonValue } from "./strictJson.js";
import { checkTensor } from "./check.js";
import { fromBuffer, type Tensor } from "./Tensor.js";

// TextEncoder/TextDecoder are globals in every supported runtime (Node ≥ 20, browsers), but the
// package compiles with `lib: ["ES2022"]` and no ambient types, so declare the part we use.
declare const TextEncoder: new () => { encode(input: string): Uint8Array };
declare const TextDecoder: new (
  label: string,
  options: { fatal: boolean; ignoreBOM: boolean },
) => { decode(input: Uint8Array): string };

/**
 * The contents of a safetensors file: named tensors and string metadata, in file order.
 * @example
 * const file = decode(bytes);
 * if (E.isRight(file)) file.right.tensors.get("weight_ih");
 */
export interface SafetensorsContents {
  readonly tensors: ReadonlyMap<string, Tensor>;
  readonly metadata: ReadonlyMap<string, string>;
}

/**
 * Headers larger than this are refused (the limit of the reference Rust implementation).
 * @example MAX_HEADER_BYTES // 100_000_000
 */
export const MAX_HEADER_BYTES = 100_000_000;

const METADATA_KEY = "__metadata__";
/** Keys that would be dangerous if a consumer ever copied the header into a plain object. */
const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

const toCode: Readonly<Record<DType, string>> = { float32: "F32", float64: "F64", int32: "I32", bool: "BOOL" };
const fromCode: ReadonlyMap<string, DType> = new Map(Object.entries(toCode).map(([dt, code]) => [code, dt as DType]));
/** The dtypes of the format we recognise but cannot hold in a tensor. */
const UNSUPPORTED_CODES: ReadonlySet<string> = new Set([
  "F16", "BF16", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64",
  "I8", "U8", "I16", "U16", "U32", "I64", "U64",
]);
const SUPPORTED = "F32, F64, I32, BOOL";

const writeElements = (view: DataView, at: number, t: Tensor): void => {
  const { data } = t;
  const n = data.length;
  switch (t.dtype) {
    case "float32":
      for (let i = 0; i < n; i++) view.setFloat32(at + 4 * i, data[i]!, true);
      return;
    case "float64":
      for (let i = 0; i < n; i++) view.setFloat64(at + 8 * i, data[i]!, true);
      return;
    case "int32":
      for (let i = 0; i < n; i++) view.setInt32(at + 4 * i, data[i]!, true);
      return;
    case "bool":
      for (let i = 0; i < n; i++) view.setUint8(at + i, data[i] === 0 ? 0 : 1);
      return;
  }
};

const encodeFail = (arg: string, detail: string, fix: string): never =>
  fail({ _tag: "ValueError", op: "safetensors.encode", arg, detail, fix });

/**
 * Serialises named tensors (and optional string metadata) as a safetensors file. Deterministic:
 * tensors are laid out by element size, largest first, then by name, so every tensor starts at
 * a multiple of its element size; the header lists `__metadata__` first and tensors in layout
 * order, and is padded with spaces to a multiple of 8 bytes.
 * @throws TensorException for a non-tensor value, a name `__metadata__`, `__proto__`,
 * `constructor` or `prototype`, or a metadata value that is not a string.
 * @example
 * const bytes = encode({ w: tensor([[1, 2], [3, 4]]) }, { format: "pt" });
 * E.isRight(decode(bytes)) // true
 */
export const encode = (
  tensors: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array => {
  const isRecord = (x: unknown): boolean => typeof x === "object" && x !== null && !Array.isArray(x) && !(x instanceof Map);
  if (!(tensors instanceof Map) && !isRecord(tensors)) encodeFail("tensors", "expected a Map or an object of named tensors", "pass { name: tensor, ... }");
  if (metadata !== undefined && !isRecord(metadata)) encodeFail("metadata", "expected an object of string values", 'pass { key: "value" } (or omit it)');
  const entries: [string, Tensor][] = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  for (const [name, t] of entries) {
    if (typeof name !== "string") encodeFail("tensors", `a Map key is a ${typeof name}, not a string`, "name tensors with strings");
    if (name === METADATA_KEY || FORBIDDEN_KEYS.has(name)) {
      encodeFail("tensors", `the name ${JSON.stringify(name)} is reserved`, "rename the tensor");
    }
    checkTensor("safetensors.encode", `tensors[${JSON.stringify(name)}]`, t);
  }
  entries.sort(([a, ta], [b, tb]) => byteSize[tb.dtype] - byteSize[ta.dtype] || (a < b ? -1 : a > b ? 1 : 0));

  const parts: string[] = [];
  const metaEntries = metadata === undefined ? [] : Object.entries(metadata);
  if (metadata !== undefined) {
    for (const [k, v] of metaEntries) {
      if (typeof v !== "string") encodeFail(`metadata[${JSON.stringify(k)}]`, `value is a ${typeof v}`, "metadata values must be strings");
      if (FORBIDDEN_KEYS.has(k)) encodeFail("metadata", `the key ${JSON.stringify(k)} is reserved`, "rename the key");
    }
    metaEntries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${metaEntries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`);
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const [name, t] of entries) {
    const bytes = t.data.length * byteSize[t.dtype];
    offsets.push(offset);
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${toCode[t.dtype]}","shape":[${t.shape.join(",")}],"data_offsets":[${offset},${offset + bytes}]}`,
    );
    offset += bytes;
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerLength % 0x100000000, true);
  view.setUint32(4, Math.floor(headerLength / 0x100000000), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  entries.forEach(([, t], i) => writeElements(view, 8 + headerLength + offsets[i]!, t));
  return out;
};

/** Thrown inside `decode` only, and always caught there. */
class DecodeFailure {
  constructor(readonly detail: string) {}
}
const reject = (detail: string): never => {
  throw new DecodeFailure(detail);
};

/** A short description of a header value for messages (long strings and arrays are cut). */
const describe = (v: JsonValue | undefined): string => {
  if (v === undefined) return "nothing";
  if (isJsonObject(v)) return "an object";
  const text = Array.isArray(v) && v.some((x) => isJsonObject(x) || Array.isArray(x)) ? "a nested array" : JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

/** A name as messages show it: quoted, and cut so a hostile megabyte-long name stays readable. */
const quote = (name: string): string => JSON.stringify(name.length > 60 ? `${name.slice(0, 57)}...` : name);

interface Entry {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

/** Validates one tensor's header entry against the size of the byte buffer. */
const readEntry = (name: string, info: JsonValue, bufferLength: number): Entry => {
  const where = `tensor ${quote(name)}`;
  if (FORBIDDEN_KEYS.has(name)) reject(`${where}: the name is not allowed in a header`);
  if (!isJsonObject(info)) return reject(`${where}: expected an object { dtype, shape, data_offsets }, got ${describe(info)}`);
  for (const k of info.keys()) {
    if (k !== "dtype" && k !== "shape" && k !== "data_offsets") reject(`${where}: unknown field ${quote(k)}`);
  }
  const code = info.get("dtype");
  if (typeof code !== "string") return reject(`${where}: "dtype" must be a string, got ${describe(code)}`);
  const dtype = fromCode.get(code);
  if (dtype === undefined) {
    return reject(
      UNSUPPORTED_CODES.has(code)
        ? `${where}: dtype ${code} is not supported (supported: ${SUPPORTED}); convert it before saving`
        : `${where}: unknown dtype ${quote(code)} (supported: ${SUPPORTED})`,
    );
  }
  const shape = info.get("shape");
  if (!Array.isArray(shape) || !shape.every((d): d is number => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)) {
    return reject(`${where}: "shape" must be an array of non-negative integers, got ${describe(shape)}`);
  }
  const offsets = info.get("data_offsets");
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((d): d is number => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)
  ) {
    return reject(`${where}: "data_offsets" must be two non-negative integers [begin, end], got ${describe(offsets)}`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) return reject(`${where}: data_offsets [${begin}, ${end}] are reversed`);
  if (end > bufferLength) {
    return reject(`${where}: data_offsets [${begin}, ${end}] run past the end of the ${bufferLength}-byte data buffer`);
  }
  // Multiply with an early exit, so a shape like [1e15, 1e15] cannot overflow into a wrong match.
  let size = shape.includes(0) ? 0 : 1;
  for (const d of shape) {
    if (size === 0) break;
    size *= d;
    if (size * byteSize[dtype] > bufferLength) {
      return reject(`${where}: shape [${shape.join(", ")}] of ${code} needs more bytes than the ${bufferLength}-byte data buffer holds`);
    }
  }
  // An empty tensor's other dims must still multiply to a countable number: [2^32, 2^32, 0]
  // describes nothing this package can index (and the reference reader refuses it too).
  if (size === 0) {
    let product = 1;
    for (const d of shape) {
      if (d !== 0) product *= d;
      if (product > Number.MAX_SAFE_INTEGER) {
        return reject(`${where}: shape [${shape.join(", ")}] has dimensions whose product passes 2^53`);
      }
    }
  }
  const needed = size * byteSize[dtype];
  if (end - begin !== needed) {
    return reject(
      `${where}: shape [${shape.join(", ")}] of ${code} needs ${needed} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`,
    );
  }
  // `+ 0` turns a "-0" dimension into 0, so shapes compare and print as they should.
  return { name, dtype, shape: Object.freeze(shape.map((d) => d + 0)), begin, end };
};

/** Copies one tensor's bytes out of the file into a fresh buffer. */
const readTensor = (bytes: Uint8Array, dataStart: number, e: Entry): Tensor => {
  const view = new DataView(bytes.buffer, bytes.byteOffset + dataStart + e.begin, e.end - e.begin);
  const n = (e.end - e.begin) / byteSize[e.dtype];
  const out = allocate(e.dtype, n);
  switch (e.dtype) {
    case "float32":
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
      break;
    case "float64":
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
      break;
    case "int32":
      for (let i = 0; i < n; i++) out[i] = view.getInt32(4 * i, true);
      break;
    case "bool":
      for (let i = 0; i < n; i++) {
        const b = view.getUint8(i);
        if (b > 1) reject(`tensor ${quote(e.name)}: BOOL element ${i} is the byte ${b}, not 0 or 1`);
        out[i] = b;
      }
      break;
  }
  return fromBuffer(e.dtype, e.shape, out);
};

const readMetadata = (value: JsonValue): Map<string, string> => {
  const out = new Map<string, string>();
  if (value === null) return out;
  if (!isJsonObject(value)) return reject(`"__metadata__" must be an object of strings, got ${describe(value)}`);
  for (const [k, v] of value) {
    if (FORBIDDEN_KEYS.has(k)) reject(`"__metadata__": the key ${quote(k)} is not allowed`);
    if (typeof v !== "string") reject(`"__metadata__": the value of ${quote(k)} must be a string, got ${describe(v)}`);
    out.set(k, v as string);
  }
  return out;
};

const decodeOrThrow = (bytes: Uint8Array): SafetensorsContents => {
  if (!(bytes instanceof Uint8Array)) return reject("expected a Uint8Array of file contents");
  if (bytes.length < 8) return reject(`the file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const lengthView = new DataView(bytes.buffer, bytes.byteOffset, 8);
  const headerLength = lengthView.getUint32(0, true) + lengthView.getUint32(4, true) * 0x100000000;
  if (headerLength > MAX_HEADER_BYTES) {
    // Printed from the exact u64: above 2^53 the number `headerLength` is only an approximation.
    return reject(`the header length ${lengthView.getBigUint64(0, true)} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  }
  if (headerLength > bytes.length - 8) {
    return reject(`the header length ${headerLength} is larger than the ${bytes.length - 8} bytes after the length field`);
  }
  let text: string;
  try {
    // ignoreBOM keeps a byte-order mark in the text, where the JSON parser rejects it.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    return reject("the header is not valid UTF-8");
  }
  const parsed = parseStrictJson(text, { maxDepth: 8 });
  if (E.isLeft(parsed)) return reject(`the header is not valid JSON: ${parsed.left.message} at character ${parsed.left.offset}`);
  const header = parsed.right;
  if (!isJsonObject(header)) return reject(`the header must be a JSON object, got ${describe(header)}`);

  const dataStart = 8 + headerLength;
  const bufferLength = bytes.length - dataStart;
  let metadata = new Map<string, string>();
  const entries: Entry[] = [];
  for (const [name, info] of header) {
    if (name === METADATA_KEY) metadata = readMetadata(info);
    else entries.push(readEntry(name, info, bufferLength));
  }

  // The byte ranges, in order, must tile [0, bufferLength) exactly.
  const ordered = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const e of ordered) {
    if (e.begin < covered) {
      reject(`tensor ${quote(e.name)}: data_offsets [${e.begin}, ${e.end}] overlap another tensor's bytes (which end at ${covered})`);
    }
    if (e.begin > covered) {
      reject(`tensor ${quote(e.name)}: data_offsets [${e.begin}, ${e.end}] leave a hole: bytes [${covered}, ${e.begin}) belong to no tensor`);
    }
    covered = e.end;
  }
  if (covered !== bufferLength) {
    reject(`the data buffer has ${bufferLength} bytes but the tensors cover only [0, ${covered}): ${bufferLength - covered} trailing bytes belong to no tensor`);
  }

  const tensors = new Map<string, Tensor>();
  for (const e of entries) tensors.set(e.name, readTensor(bytes, dataStart, e));
  return { tensors, metadata };
};

/**
 * Reads a safetensors file. The bytes are treated as hostile: a `Left` `DecodeError` names what
 * is wrong and where (truncation, oversized or non-UTF-8 or non-JSON header, duplicate or
 * forbidden keys, unsupported dtypes such as F16/BF16/I64, bad shapes, offsets that are out of
 * range, reversed, overlapping or leave holes, sizes that disagree with shapes, BOOL bytes other
 * than 0/1, non-string metadata). Supported dtypes: F32, F64, I32, BOOL. Never throws.
 * @example
 * const file = decode(encode({ b: tensor([0.5, -1]) }));
 * E.isRight(file) && file.right.tensors.get("b")?.shape // [2]
 */
export const decode = (bytes: Uint8Array): E.Either<TensorError, SafetensorsContents> => {
  try {
    return E.right(decodeOrThrow(bytes));
  } catch (e) {
    if (e instanceof DecodeFailure) return E.left({ _tag: "DecodeError", op: "safetensors.decode", detail: e.detail });
    throw e;
  }
};
