/**
 * @file Reading a safetensors header by its schema. The structure is fixed — an object of
 * tensor entries `{ "dtype": string, "shape": [int…], "data_offsets": [int, int] }` plus an
 * optional `"__metadata__"` object of strings — so the reader walks the JSON text with a
 * `JsonCursor` and builds only that: a list of entries and a map of strings. Anything else is
 * refused at its first character, and the limits (rank, tensor count, metadata entries, nesting)
 * are checked as each item is read. A hostile header therefore costs about what its entries would
 * cost if they were real, whatever it holds: a shape of a million empty objects is refused at the
 * first `{`, a rank-ten-million shape at its 65th dimension, the 100,001st tensor before it is read.
 */
import { byteSize, type DType } from "./DType.js";
import { JsonCursor, quoteKey } from "./jsonCursor.js";

/**
 * Shapes of more dimensions are refused (NumPy's and PyTorch's limit is 64 too).
 * @example MAX_RANK // 64
 */
export const MAX_RANK = 64;
/**
 * Headers listing more tensors are refused. Real checkpoints hold hundreds to a few tens of
 * thousands; each tensor costs a few hundred bytes of bookkeeping however small it is.
 * @example MAX_TENSORS // 100000
 */
export const MAX_TENSORS = 100_000;
/**
 * `__metadata__` objects of more entries are refused (real files hold a handful).
 * @example MAX_METADATA_ENTRIES // 10000
 */
export const MAX_METADATA_ENTRIES = 10_000;
/** The deepest nesting of arrays and objects anywhere in a header (a valid one nests 3 deep). */
export const MAX_NESTING = 8;

/** A semantic problem with the header (its JSON is fine so far): caught by `decode`. */
export class HeaderProblem extends Error {
  constructor(readonly detail: string) {
    super(detail);
  }
}
const problem = (detail: string): never => {
  throw new HeaderProblem(detail);
};

/** Keys that would be dangerous if a consumer ever copied the header into a plain object. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);
export const METADATA_KEY = "__metadata__";

const toCode: Readonly<Record<DType, string>> = { float32: "F32", float64: "F64", int32: "I32", bool: "BOOL" };
/** The format's code of each dtype this package holds. */
export const codeOf = (dtype: DType): string => toCode[dtype];
const fromCode: ReadonlyMap<string, DType> = new Map(Object.entries(toCode).map(([dt, code]) => [code, dt as DType]));
/** The dtypes of the format we recognise but cannot hold in a tensor. */
const UNSUPPORTED_CODES: ReadonlySet<string> = new Set([
  "F16",
  "BF16",
  "F8_E4M3",
  "F8_E5M2",
  "F8_E8M0",
  "F6_E2M3",
  "F6_E3M2",
  "F4",
  "C64",
  "I8",
  "U8",
  "I16",
  "U16",
  "U32",
  "I64",
  "U64",
]);
const SUPPORTED = "F32, F64, I32, BOOL";

/** One tensor's entry, checked against the size of the data buffer. */
export interface Entry {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

/** What a header says: its entries by name in file order, and its metadata. */
export interface Header {
  readonly entries: ReadonlyMap<string, Entry>;
  readonly metadata: ReadonlyMap<string, string>;
}

/** A shape for messages: at most 64 dimensions (the rank limit), so never long. */
const shapeText = (shape: readonly number[]): string => `[${shape.join(", ")}]`;

/**
 * Reads the integer array of a field (`shape`: up to MAX_RANK dims; `data_offsets`: two).
 * Each element is checked as it is read; anything but a non-negative safe integer refuses the
 * field, quoting it (after checking its syntax, so invalid JSON is reported as such).
 */
const readInts = (c: JsonCursor, where: string, field: "shape" | "data_offsets"): number[] => {
  c.space();
  const start = c.at;
  const max = field === "shape" ? MAX_RANK : 2;
  const refuse = (): never => {
    c.at = start;
    c.skipValue(MAX_NESTING, 2);
    const want = field === "shape" ? "an array of non-negative integers" : "two non-negative integers [begin, end]";
    return problem(`${where}: "${field}" must be ${want}, got ${c.snippet(start)}`);
  };
  if (!c.take("[")) return refuse();
  const out: number[] = [];
  if (c.take("]")) return field === "shape" ? out : refuse();
  for (;;) {
    const ch = c.peek();
    if (ch !== "-" && !(ch >= "0" && ch <= "9")) return refuse();
    const d = c.number();
    if (!(Number.isSafeInteger(d) && d >= 0)) return refuse();
    if (out.length === max) {
      return field === "shape"
        ? problem(`${where}: "shape" has more than ${MAX_RANK} dimensions (the limit is ${MAX_RANK})`)
        : refuse();
    }
    // `+ 0` turns a "-0" dimension into 0, so shapes compare and print as they should.
    out.push(d + 0);
    if (c.take("]")) return out.length === max || field === "shape" ? out : refuse();
    c.expect(",", "',' or ']' in an array");
  }
};

/** Reads a string field, or refuses the value (quoting it). */
const readString = (c: JsonCursor, what: string): string => {
  if (c.peek() === '"') return c.string();
  const start = c.at;
  c.skipValue(MAX_NESTING, 2);
  return problem(`${what} must be a string, got ${c.snippet(start)}`);
};

const dtypeOf = (where: string, code: string): DType => {
  const dtype = fromCode.get(code);
  if (dtype !== undefined) return dtype;
  return problem(
    UNSUPPORTED_CODES.has(code)
      ? `${where}: dtype ${code} is not supported (supported: ${SUPPORTED}); convert it before saving`
      : `${where}: unknown dtype ${quoteKey(code)} (supported: ${SUPPORTED})`,
  );
};

/** Checks an entry's shape and offsets against each other and the data buffer's size. */
const checkSizes = (
  where: string,
  dtype: DType,
  shape: readonly number[],
  begin: number,
  end: number,
  bufferLength: number,
): void => {
  const code = toCode[dtype];
  if (begin > end) problem(`${where}: data_offsets [${begin}, ${end}] are reversed`);
  if (end > bufferLength)
    problem(`${where}: data_offsets [${begin}, ${end}] run past the end of the ${bufferLength}-byte data buffer`);
  // Multiply with an early exit, so a shape like [1e15, 1e15] cannot overflow into a wrong match.
  let size = shape.includes(0) ? 0 : 1;
  for (const d of shape) {
    if (size === 0) break;
    size *= d;
    if (size * byteSize[dtype] > bufferLength) {
      problem(
        `${where}: shape ${shapeText(shape)} of ${code} needs more bytes than the ${bufferLength}-byte data buffer ` +
          `holds`,
      );
    }
  }
  // An empty tensor's other dims must still multiply to a countable number: [2^32, 2^32, 0]
  // describes nothing this package can index (and the reference reader refuses it too).
  if (size === 0) {
    let product = 1;
    for (const d of shape) {
      if (d !== 0) product *= d;
      if (product > Number.MAX_SAFE_INTEGER)
        problem(`${where}: shape ${shapeText(shape)} has dimensions whose product passes 2^53`);
    }
  }
  const needed = size * byteSize[dtype];
  if (end - begin !== needed) {
    problem(
      `${where}: shape ${shapeText(shape)} of ${code} needs ${needed} bytes ` +
        `but data_offsets [${begin}, ${end}] span ${end - begin}`,
    );
  }
};

/** Reads one tensor's entry (the cursor just past the name's colon). */
const readEntry = (c: JsonCursor, name: string, bufferLength: number): Entry => {
  const where = `tensor ${quoteKey(name)}`;
  if (FORBIDDEN_KEYS.has(name)) problem(`${where}: the name is not allowed in a header`);
  c.space();
  const start = c.at;
  if (!c.take("{")) {
    c.skipValue(MAX_NESTING, 1);
    return problem(`${where}: expected an object { dtype, shape, data_offsets }, got ${c.snippet(start)}`);
  }
  let dtype: DType | undefined;
  let shape: number[] | undefined;
  let offsets: number[] | undefined;
  if (!c.take("}")) {
    for (;;) {
      c.space();
      const keyAt = c.at;
      const k = c.string();
      const seen =
        k === "dtype"
          ? dtype
          : k === "shape"
            ? shape
            : k === "data_offsets"
              ? offsets
              : problem(`${where}: unknown field ${quoteKey(k)}`);
      if (seen !== undefined) c.fail(`duplicate key ${quoteKey(k)}`, keyAt);
      c.expect(":", "':' after an object key");
      if (k === "dtype") dtype = dtypeOf(where, readString(c, `${where}: "dtype"`));
      else if (k === "shape") shape = readInts(c, where, "shape");
      else offsets = readInts(c, where, "data_offsets");
      if (c.take("}")) break;
      c.expect(",", "',' or '}' in an object");
    }
  }
  if (dtype === undefined) return problem(`${where}: "dtype" must be a string, got nothing`);
  if (shape === undefined) return problem(`${where}: "shape" must be an array of non-negative integers, got nothing`);
  if (offsets === undefined)
    return problem(`${where}: "data_offsets" must be two non-negative integers [begin, end], got nothing`);
  const [begin, end] = offsets as [number, number];
  checkSizes(where, dtype, shape, begin, end, bufferLength);
  // A right-sized copy: an array grown by push keeps room for 17 elements (150 bytes for one dim).
  return { name, dtype, shape: Object.freeze(shape.slice()), begin, end };
};

/** Refuses a `__metadata__` key that is not allowed, or one past the entry limit of `out`. */
const vetMetadataKey =
  (out: ReadonlyMap<string, string>) =>
  (k: string): void => {
    if (FORBIDDEN_KEYS.has(k)) problem(`"__metadata__": the key ${quoteKey(k)} is not allowed`);
    if (out.size === MAX_METADATA_ENTRIES)
      problem(`"__metadata__" has more than ${MAX_METADATA_ENTRIES} entries (the limit)`);
  };

/** Reads `__metadata__`: null, or an object of strings. */
const readMetadata = (c: JsonCursor): Map<string, string> => {
  const out = new Map<string, string>();
  c.space();
  const start = c.at;
  if (c.peek() === "n" && c.literal() === null) return out;
  c.at = start;
  if (!c.take("{")) {
    c.skipValue(MAX_NESTING, 1);
    return problem(`"__metadata__" must be an object of strings, got ${c.snippet(start)}`);
  }
  if (c.take("}")) return out;
  const vet = vetMetadataKey(out);
  for (;;) {
    const k = c.objectKey(out, vet);
    out.set(k, readString(c, `"__metadata__": the value of ${quoteKey(k)}`));
    if (c.take("}")) return out;
    c.expect(",", "',' or '}' in an object");
  }
};

/**
 * Reads a header's text by the schema, checking every entry against the `bufferLength`-byte
 * data buffer. Throws `JsonFailure` (not JSON, or JSON nested past MAX_NESTING) or
 * `HeaderProblem` (JSON, but not a header this package accepts); the caller turns both into a
 * `DecodeError`.
 * @example readHeader('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4).entries[0].shape // [1]
 */
export const readHeader = (text: string, bufferLength: number): Header => {
  const c = new JsonCursor(text);
  c.space();
  const start = c.at;
  if (!c.take("{")) {
    c.skipValue(MAX_NESTING);
    if (!c.atEnd()) c.fail(`unexpected ${c.describeChar()} after the JSON value`);
    return problem(`the header must be a JSON object, got ${c.snippet(start)}`);
  }
  const entries = new Map<string, Entry>();
  let metadata: Map<string, string> | undefined;
  const seen = { has: (name: string) => entries.has(name) || (name === METADATA_KEY && metadata !== undefined) };
  if (!c.take("}")) {
    for (;;) {
      const name = c.objectKey(seen);
      if (name === METADATA_KEY) metadata = readMetadata(c);
      else if (entries.size === MAX_TENSORS) problem(`the header lists more than ${MAX_TENSORS} tensors (the limit)`);
      else entries.set(name, readEntry(c, name, bufferLength));
      if (c.take("}")) break;
      c.expect(",", "',' or '}' in an object");
    }
  }
  if (!c.atEnd()) c.fail(`unexpected ${c.describeChar()} after the JSON value`);
  return { entries, metadata: metadata ?? new Map() };
};
