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
 * bytes, and allocates only what the file's size implies: the header is read by its schema
 * (safetensorsHeader.ts), so nothing but entries and metadata strings is built and every limit
 * (rank, tensor count, metadata entries, nesting) is checked while reading; a tensor's buffer is
 * allocated only after every byte range has been checked against the file. Every failure is a
 * `DecodeError` naming what is wrong and where. Decoded tensors own fresh copies of their bytes
 * (copied as bytes, so every NaN payload survives), so the caller may reuse the input buffer.
 */
import * as E from "fp-ts/lib/Either.js";
import { allocate, byteSize } from "./DType.js";
import { fail, type TensorError } from "./errors.js";
import { bytesOf, checkTensor } from "./check.js";
import { JsonFailure, quoteKey as quote } from "./jsonCursor.js";
import {
  codeOf,
  FORBIDDEN_KEYS,
  HeaderProblem,
  MAX_METADATA_ENTRIES,
  MAX_RANK,
  MAX_TENSORS,
  METADATA_KEY,
  readHeader,
  type Entry,
} from "./safetensorsHeader.js";
import { fromBuffer, type Tensor } from "./Tensor.js";

export { MAX_METADATA_ENTRIES, MAX_RANK, MAX_TENSORS } from "./safetensorsHeader.js";

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
  /** The tensors by name, in the order of the file's header. */
  readonly tensors: ReadonlyMap<string, Tensor>;
  /** The header's `__metadata__` entries (string to string); empty when the file has none. */
  readonly metadata: ReadonlyMap<string, string>;
}

/**
 * Headers larger than this are refused (the limit of the reference Rust implementation).
 * @example MAX_HEADER_BYTES // 100_000_000
 */
export const MAX_HEADER_BYTES = 100_000_000;

/** Whether this machine stores numbers little-endian, as the format does (then bytes copy as they are). */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * Copies elements of `width` bytes from `src` to `dst` as bytes, never through JavaScript numbers
 * (reading a float32 into a number quiets a signalling NaN: 0x7fa00001 would come back as
 * 0x7fe00001), swapping the byte order on a big-endian machine.
 */
const copyElements = (dst: Uint8Array, src: Uint8Array, width: number): void => {
  if (LITTLE_ENDIAN || width === 1) {
    dst.set(src);
    return;
  }
  for (let i = 0; i < src.length; i += width) for (let j = 0; j < width; j++) dst[i + j] = src[i + width - 1 - j]!;
};

/** The bytes of a tensor's buffer (a view, no copy). */
const bytesOfData = (t: Tensor): Uint8Array => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);

const writeElements = (out: Uint8Array, at: number, t: Tensor): void => {
  const { data } = t;
  if (t.dtype !== "bool") {
    copyElements(out.subarray(at, at + data.byteLength), bytesOfData(t), byteSize[t.dtype]);
    return;
  }
  // Any nonzero byte of a bool buffer is true; the format allows only 0 and 1.
  for (let i = 0; i < data.length; i++) out[at + i] = data[i] === 0 ? 0 : 1;
};

const encodeFail = (arg: string, detail: string, fix: string): never =>
  fail({ _tag: "ValueError", op: "safetensors.encode", arg, detail, fix });

/**
 * Serialises named tensors (and optional string metadata) as a safetensors file. Deterministic:
 * tensors are laid out by element size, largest first, then by name, so every tensor starts at
 * a multiple of its element size; the header lists `__metadata__` first and tensors in layout
 * order, and is padded with spaces to a multiple of 8 bytes.
 * @throws TensorException for a non-tensor value, a name `__metadata__`, `__proto__`,
 * `constructor` or `prototype`, a metadata value that is not a string, or more than `decode`
 * reads (a rank above MAX_RANK, more than MAX_TENSORS tensors or MAX_METADATA_ENTRIES entries).
 * @example
 * const bytes = encode({ w: tensor([[1, 2], [3, 4]]) }, { format: "pt" });
 * E.isRight(decode(bytes)) // true
 */
export const encode = (
  tensors: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array => {
  const isRecord = (x: unknown): boolean =>
    typeof x === "object" && x !== null && !Array.isArray(x) && !(x instanceof Map);
  if (!(tensors instanceof Map) && !isRecord(tensors))
    encodeFail("tensors", "expected a Map or an object of named tensors", "pass { name: tensor, ... }");
  if (metadata !== undefined && !isRecord(metadata))
    encodeFail("metadata", "expected an object of string values", 'pass { key: "value" } (or omit it)');
  const entries: [string, Tensor][] =
    tensors instanceof Map
      ? [...(tensors as ReadonlyMap<string, Tensor>).entries()]
      : Object.entries(tensors as Readonly<Record<string, Tensor>>);
  for (const [name, t] of entries) {
    if (typeof name !== "string")
      encodeFail("tensors", `a Map key is a ${typeof name}, not a string`, "name tensors with strings");
    if (name === METADATA_KEY || FORBIDDEN_KEYS.has(name)) {
      encodeFail("tensors", `the name ${JSON.stringify(name)} is reserved`, "rename the tensor");
    }
    checkTensor("safetensors.encode", `tensors[${JSON.stringify(name)}]`, t);
    // What decode refuses is not written: a file this writes, this reads.
    if (t.shape.length > MAX_RANK)
      encodeFail(
        `tensors[${quote(name)}]`,
        `a tensor of rank ${t.shape.length} (the limit is ${MAX_RANK})`,
        `reshape it to ${MAX_RANK} dimensions or fewer`,
      );
  }
  if (entries.length > MAX_TENSORS)
    encodeFail(
      "tensors",
      `${entries.length} tensors (a file holds at most ${MAX_TENSORS})`,
      "split them over several files",
    );
  entries.sort(([a, ta], [b, tb]) => byteSize[tb.dtype] - byteSize[ta.dtype] || (a < b ? -1 : a > b ? 1 : 0));

  const parts: string[] = [];
  const metaEntries = metadata === undefined ? [] : Object.entries(metadata);
  if (metadata !== undefined) {
    for (const [k, v] of metaEntries) {
      if (typeof v !== "string")
        encodeFail(`metadata[${JSON.stringify(k)}]`, `value is a ${typeof v}`, "metadata values must be strings");
      if (FORBIDDEN_KEYS.has(k)) encodeFail("metadata", `the key ${JSON.stringify(k)} is reserved`, "rename the key");
    }
    if (metaEntries.length > MAX_METADATA_ENTRIES)
      encodeFail(
        "metadata",
        `${metaEntries.length} entries (a file holds at most ${MAX_METADATA_ENTRIES})`,
        "merge them, e.g. into one JSON string",
      );
    metaEntries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    parts.push(
      `${JSON.stringify(METADATA_KEY)}:{${metaEntries
        .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
        .join(",")}}`,
    );
  }
  let offset = 0;
  const offsets: number[] = [];
  for (const [name, t] of entries) {
    const bytes = t.data.length * byteSize[t.dtype];
    offsets.push(offset);
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${codeOf(t.dtype)}","shape":[${t.shape.join(",")}],` +
        `"data_offsets":[${offset},${offset + bytes}]}`,
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
  entries.forEach(([, t], i) => writeElements(out, 8 + headerLength + offsets[i]!, t));
  return out;
};

/** Thrown inside `decode` only, and always caught there. */
class DecodeFailure extends Error {
  constructor(readonly detail: string) {
    super(detail);
  }
}
const reject = (detail: string): never => {
  throw new DecodeFailure(detail);
};

/** Copies one tensor's bytes out of the file into a fresh buffer (bytes, not numbers: NaN payloads survive). */
const readTensor = (bytes: Uint8Array, dataStart: number, e: Entry): Tensor => {
  const src = bytes.subarray(dataStart + e.begin, dataStart + e.end);
  const out = allocate(e.dtype, src.length / byteSize[e.dtype]);
  if (e.dtype === "bool") {
    for (let i = 0; i < src.length; i++) {
      const b = src[i]!;
      if (b > 1) reject(`tensor ${quote(e.name)}: BOOL element ${i} is the byte ${b}, not 0 or 1`);
    }
  }
  copyElements(new Uint8Array(out.buffer, out.byteOffset, out.byteLength), src, byteSize[e.dtype]);
  return fromBuffer(e.dtype, e.shape, out);
};

const decodeOrThrow = (input: Uint8Array): SafetensorsContents => {
  // A brand check, not `instanceof`: an object that merely inherits from Uint8Array.prototype
  // throws on every typed-array getter. The view is rebuilt from the intrinsic getters, so
  // own properties shadowing `length` or `buffer` change nothing.
  const bytes = bytesOf(input);
  if (bytes === undefined) return reject("expected a Uint8Array of file contents");
  if (bytes.length < 8) return reject(`the file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const lengthView = new DataView(bytes.buffer, bytes.byteOffset, 8);
  const headerLength = lengthView.getUint32(0, true) + lengthView.getUint32(4, true) * 0x100000000;
  if (headerLength > MAX_HEADER_BYTES) {
    // Printed from the exact u64: above 2^53 the number `headerLength` is only an approximation.
    return reject(
      `the header length ${lengthView.getBigUint64(0, true)} exceeds the limit of ${MAX_HEADER_BYTES} bytes`,
    );
  }
  if (headerLength > bytes.length - 8) {
    return reject(
      `the header length ${headerLength} is larger than the ${bytes.length - 8} bytes after the length field`,
    );
  }
  let text: string;
  try {
    // ignoreBOM keeps a byte-order mark in the text, where the JSON reader rejects it.
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    return reject("the header is not valid UTF-8");
  }
  const dataStart = 8 + headerLength;
  const bufferLength = bytes.length - dataStart;
  let header: ReturnType<typeof readHeader>;
  try {
    header = readHeader(text, bufferLength);
  } catch (e) {
    if (e instanceof JsonFailure) return reject(`the header is not valid JSON: ${e.message} at character ${e.offset}`);
    if (e instanceof HeaderProblem) return reject(e.detail);
    throw e;
  }
  const { entries, metadata } = header;

  // The byte ranges, in order, must tile [0, bufferLength) exactly.
  const ordered = [...entries.values()].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const e of ordered) {
    if (e.begin < covered) {
      reject(
        `tensor ${quote(e.name)}: data_offsets [${e.begin}, ${e.end}] ` +
          `overlap another tensor's bytes (which end at ${covered})`,
      );
    }
    if (e.begin > covered) {
      reject(
        `tensor ${quote(e.name)}: data_offsets [${e.begin}, ${e.end}] leave a hole: bytes [${covered}, ${e.begin}) ` +
          `belong to no tensor`,
      );
    }
    covered = e.end;
  }
  if (covered !== bufferLength) {
    reject(
      `the data buffer has ${bufferLength} bytes but the tensors cover only [0, ${covered}): ` +
        `${bufferLength - covered} trailing bytes belong to no tensor`,
    );
  }

  const tensors = new Map<string, Tensor>();
  for (const e of entries.values()) tensors.set(e.name, readTensor(bytes, dataStart, e));
  return { tensors, metadata };
};

/**
 * Reads a safetensors file. The bytes are treated as hostile: a `Left` `DecodeError` names what
 * is wrong and where (truncation, oversized or non-UTF-8 or non-JSON header, duplicate or
 * forbidden keys, unsupported dtypes such as F16/BF16/I64, bad shapes, offsets that are out of
 * range, reversed, overlapping or leave holes, sizes that disagree with shapes, BOOL bytes other
 * than 0/1, non-string metadata) or passes a limit (a rank above MAX_RANK = 64, more than
 * MAX_TENSORS = 100,000 tensors or MAX_METADATA_ENTRIES = 10,000 metadata entries, nesting
 * deeper than 8), checked while the header is read. Supported dtypes: F32, F64, I32, BOOL. The
 * input must be a genuine `Uint8Array` (a Node `Buffer` is one). Never throws.
 * @example
 * const file = decode(encode({ b: tensor([0.5, -1]) }));
 * E.isRight(file) && file.right.tensors.get("b")?.shape // [2]
 */
export const decode = (bytes: Uint8Array): E.Either<TensorError, SafetensorsContents> => {
  try {
    return E.right(decodeOrThrow(bytes));
  } catch (e) {
    if (e instanceof DecodeFailure)
      return E.left({ _tag: "DecodeError", op: "safetensors.decode", detail: e.detail, fix: "" });
    throw e;
  }
};
