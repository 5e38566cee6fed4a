/**
 * @file Building and mutating safetensors bytes for the hostile-file tests, an independent
 * reference reading of what a file says (to check every successful decode against), a CRC-32 of
 * our own (to seal hand-made checkpoints the way version 2 of the format does), and the ledger
 * that records how many files and mutations ran.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { crc32 } from "node:zlib";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { formatTensorError, validateTensor, type Tensor, type TensorError } from "@rewind/tensor";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const utf8 = new TextEncoder();

/** A safetensors file from header text (any text at all, written as UTF-8) and data bytes. */
export const file = (
  header: string | Uint8Array,
  data: Uint8Array = new Uint8Array(0),
  declared?: bigint,
): Uint8Array => {
  const h = typeof header === "string" ? utf8.encode(header) : header;
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, declared ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
};

/** The declared header length, the header bytes and the data bytes of a well-formed file. */
export const parts = (
  bytes: Uint8Array,
): { readonly n: number; readonly header: string; readonly data: Uint8Array } => {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  return { n, header: new TextDecoder().decode(bytes.subarray(8, 8 + n)), data: bytes.subarray(8 + n) };
};

/** Byte-level damage, with positions reduced modulo the file (or the region) when applied. */
export type Mutation =
  | { readonly kind: "truncate"; readonly at: number }
  | { readonly kind: "flip"; readonly region: Region; readonly bits: readonly number[] }
  | {
      readonly kind: "splice";
      readonly region: Region;
      readonly at: number;
      readonly remove: number;
      readonly insert: Uint8Array;
    }
  | { readonly kind: "overwrite"; readonly region: Region; readonly at: number; readonly bytes: Uint8Array };
/** Where a mutation lands: the 8-byte length, the header JSON, or anywhere. */
export type Region = "length" | "header" | "anywhere";

const region = fc.constantFrom<Region>("length", "header", "header", "anywhere");
/** Random damage: truncation, 1–8 flipped bits, a splice (delete and/or insert) or an overwrite. */
export const arbMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("flip" as const), region, bits: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }) }),
  fc.record({
    kind: fc.constant("splice" as const),
    region,
    at: fc.nat(),
    remove: fc.nat({ max: 12 }),
    insert: fc.uint8Array({ maxLength: 12 }),
  }),
  fc.record({
    kind: fc.constant("overwrite" as const),
    region,
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
);

/** A position in `region` of `bytes` from an arbitrary natural number. */
const place = (bytes: Uint8Array, r: Region, k: number): number => {
  const headerEnd = Math.min(bytes.length, 8 + parts(bytes).n);
  const [lo, hi] = r === "length" ? [0, 8] : r === "header" && headerEnd > 8 ? [8, headerEnd] : [0, bytes.length];
  return lo + (k % Math.max(1, hi - lo));
};

/** `bytes` with the damage applied (a fresh array; the input is not touched). */
export const mutate = (bytes: Uint8Array, m: Mutation): Uint8Array => {
  switch (m.kind) {
    case "truncate":
      return bytes.slice(0, m.at % bytes.length);
    case "flip": {
      const out = bytes.slice();
      for (const b of m.bits) {
        const at = place(bytes, m.region, Math.floor(b / 8));
        out[at]! ^= 1 << (b % 8);
      }
      return out;
    }
    case "splice": {
      const at = place(bytes, m.region, m.at);
      const out = new Uint8Array(bytes.length - Math.min(m.remove, bytes.length - at) + m.insert.length);
      out.set(bytes.subarray(0, at));
      out.set(m.insert, at);
      out.set(bytes.subarray(at + m.remove), at + m.insert.length);
      return out;
    }
    case "overwrite": {
      const out = bytes.slice();
      const at = place(bytes, m.region, m.at);
      out.set(m.bytes.subarray(0, out.length - at), at);
      return out;
    }
  }
};

const CODES: Readonly<Record<string, [Tensor["dtype"], number]>> = {
  F32: ["float32", 4],
  F64: ["float64", 8],
  I32: ["int32", 4],
  BOOL: ["bool", 1],
};

/** The elements `[begin, end)` of the data section say, read through a typed-array view of a copy. */
const elements = (data: Uint8Array, code: string, begin: number, end: number): ArrayLike<number> => {
  const copy = data.slice(begin, end).buffer;
  return code === "F32"
    ? new Float32Array(copy)
    : code === "F64"
      ? new Float64Array(copy)
      : code === "I32"
        ? new Int32Array(copy)
        : new Uint8Array(copy);
};

/**
 * Checks a successful decode against what the bytes say, read independently: `JSON.parse` of the
 * header (a successful strict parse means there was nothing for the two parsers to disagree on),
 * every listed tensor present with its dtype, its shape (never −0) and element
 * for element the values at its offsets (NaN matching NaN, −0 only −0), the metadata strings,
 * and each tensor a valid, frozen tensor owning a fresh buffer.
 */
export const expectAsBytesSay = (
  bytes: Uint8Array,
  decoded: { tensors: ReadonlyMap<string, Tensor>; metadata: ReadonlyMap<string, string> },
): void => {
  const { header, data } = parts(bytes);
  const json = JSON.parse(header) as Record<string, unknown>;
  const names = Object.keys(json).filter((k) => k !== "__metadata__");
  const fail = (what: string): never => {
    throw new Error(`decoded, but ${what} (header ${header.slice(0, 200)})`);
  };
  // Sorted: JSON.parse puts integer-like keys ("0", "12") first, the header need not.
  if ([...decoded.tensors.keys()].sort().join("\u0000") !== [...names].sort().join("\u0000"))
    fail(`the names ${[...decoded.tensors.keys()].join(",")} are not the header's ${names.join(",")}`);
  for (const name of names) {
    if (["__proto__", "constructor", "prototype"].includes(name)) fail(`the reserved name ${name} was accepted`);
    const info = json[name] as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const t = decoded.tensors.get(name)!;
    const [dtype] = CODES[info.dtype] ?? fail(`dtype ${info.dtype} was accepted`);
    if (t.dtype !== dtype) fail(`${name} has dtype ${t.dtype}, the header says ${info.dtype}`);
    if (t.shape.length !== info.shape.length || t.shape.some((d, i) => d !== info.shape[i] || Object.is(d, -0)))
      fail(`${name} has shape [${t.shape.join(",")}], the header says [${info.shape.join(",")}]`);
    const want = elements(data, info.dtype, info.data_offsets[0], info.data_offsets[1]);
    if (t.data.length !== want.length) fail(`${name} has ${t.data.length} elements, its bytes hold ${want.length}`);
    for (let i = 0; i < want.length; i++) {
      const [a, b] = [t.data[i]!, want[i]!];
      if (!Object.is(a, b)) fail(`${name}[${i}] is ${a}, its bytes say ${b}`);
    }
    if (E.isLeft(validateTensor(t)) || !Object.isFrozen(t) || t.data.buffer === bytes.buffer)
      fail(`${name} is not a valid, frozen tensor with its own buffer`);
  }
  const meta = json["__metadata__"];
  const want = meta === undefined || meta === null ? [] : Object.entries(meta as Record<string, string>).sort();
  if (JSON.stringify([...decoded.metadata].sort()) !== JSON.stringify(want))
    fail(`the metadata ${JSON.stringify([...decoded.metadata])} is not the header's`);
};

/**
 * Checks a `Left` is a clear library error: the expected tag and op, a message that starts with
 * the op and says something (no "undefined", "NaN" or "[object Object]" standing in for a value),
 * and stays short even for megabyte-long hostile names.
 */
export const expectClearError = (error: TensorError, op: string, tags: readonly string[] = ["DecodeError"]): string => {
  const message = formatTensorError(error);
  if (!tags.includes(error._tag) || error.op !== op)
    throw new Error(`expected a ${tags.join("/")} from ${op}, got ${error._tag} from ${error.op}: ${message}`);
  if (!message.startsWith(`${op}: `) || message.length < op.length + 12)
    throw new Error(`an unclear message: ${message}`);
  if (/\bundefined\b|\[object Object\]/.test(message))
    throw new Error(`a message with a placeholder for a value: ${message}`);
  if (message.length > 4000) throw new Error(`a ${message.length}-character message`);
  return message;
};

// A bitwise CRC-32 (IEEE, reflected, polynomial 0xEDB88320), written independently of the library's table-driven one.
export const crcBits = (bytes: Uint8Array): number => {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return (c ^ 0xffffffff) >>> 0;
};

/**
 * Seals a checkpoint header by format version 2: the CRC-32 of the whole file with the digits
 * of `"checksum":"crc32:00000000"` as zeros, written into those digits. The header text must
 * hold that entry exactly once.
 */
export const sealV2 = (header: string, data: Uint8Array): Uint8Array => {
  const placeholder = '"checksum":"crc32:00000000"';
  const at = header.indexOf(placeholder);
  if (at < 0 || header.indexOf(placeholder, at + 1) >= 0)
    throw new Error("sealV2: the header needs exactly one checksum placeholder");
  const bytes = file(header, data);
  // Node's zlib CRC (the same IEEE CRC-32, checked against crcBits below) for speed: the memory suite seals 20 MB files.
  const digits = crc32(bytes).toString(16).padStart(8, "0");
  const pos = 8 + utf8.encode(header.slice(0, at)).length + placeholder.length - 9;
  bytes.set(utf8.encode(digits), pos);
  return bytes;
};

/** The known CRC-32 check value, so the sealing above is itself tested (and zlib's agrees with ours). */
export const CRC_CHECK =
  crcBits(utf8.encode("123456789")) === 0xcbf43926 &&
  crc32(utf8.encode("123456789")) === 0xcbf43926 &&
  crc32(utf8.encode("rewind")) === crcBits(utf8.encode("rewind"));

const PARTS = ["safetensors", "checkpoint", "torch"] as const;
const CACHE = join(ROOT, "node_modules", ".cache", "fuzz");

/** Counts base files and mutated inputs for one test file, and writes the combined figure. */
export class HostileLedger {
  private readonly files = new Set<string>();
  private mutations = 0;
  private targeted = 0;
  constructor(readonly part: (typeof PARTS)[number]) {}
  file(id: string): void {
    this.files.add(id);
  }
  mutation(n = 1): void {
    this.mutations += n;
  }
  case(n = 1): void {
    this.targeted += n;
  }
  /**
   * Writes this part's counts, then (if all parts have run at least once with this seed) the sum
   * to node_modules/.cache/fuzz/hostile-files.json. Parts run in parallel workers; each rewrites
   * the sum from every part file, so the last to finish writes the complete total.
   */
  write(): { files: number; mutations: number; targeted: number } {
    const own = { files: this.files.size, mutations: this.mutations, targeted: this.targeted };
    mkdirSync(join(CACHE, "hostile-files"), { recursive: true });
    writeFileSync(join(CACHE, "hostile-files", `${this.part}.json`), JSON.stringify(own));
    const all = PARTS.map((p) => {
      try {
        return JSON.parse(readFileSync(join(CACHE, "hostile-files", `${p}.json`), "utf8")) as typeof own;
      } catch {
        return undefined;
      }
    });
    if (all.every((x) => x !== undefined)) {
      const sum = (k: keyof typeof own): number => all.reduce((s, x) => s + x[k], 0);
      const tmp = join(CACHE, `hostile-files.${process.pid}.tmp`);
      writeFileSync(
        tmp,
        JSON.stringify(
          {
            files: sum("files"),
            mutations: sum("mutations"),
            targeted: sum("targeted"),
            parts: Object.fromEntries(PARTS.map((p, i) => [p, all[i]])),
          },
          null,
          2,
        ),
      );
      renameSync(tmp, join(CACHE, "hostile-files.json"));
    }
    return own;
  }
}
