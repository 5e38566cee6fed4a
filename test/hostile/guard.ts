/**
 * @file The contract every hostile-file case is held to, checked around each single call:
 * it returns in bounded time, allocates no more than a small multiple of the input's size (so a
 * header that lies about a length cannot make the reader allocate what it claims), leaves the
 * caller's arguments exactly as they were, and leaves the built-in prototypes untouched (no key
 * added, removed or replaced on Object.prototype and friends; `({}).polluted` stays undefined).
 * Exceptions of any kind are failures: every entry point tested here returns `Either`.
 */
import { endianness } from "node:os";

/** The decoders are checked against typed-array views of the file, which assume little-endian. */
if (endianness() !== "LE") throw new Error("the hostile-file tests read reference values little-endian");

const PROTOTYPES: ReadonlyArray<readonly [string, object]> = [
  ["Object", Object.prototype],
  ["Array", Array.prototype],
  ["Function", Function.prototype],
  ["Map", Map.prototype],
  ["Set", Set.prototype],
  ["String", String.prototype],
  ["Number", Number.prototype],
  ["Uint8Array", Object.getPrototypeOf(Uint8Array.prototype) as object],
];

/** Every own property of every guarded prototype: key and value (or accessor pair). */
const snapshot = (): Map<string, unknown> => {
  const out = new Map<string, unknown>();
  for (const [name, proto] of PROTOTYPES) {
    for (const key of Reflect.ownKeys(proto)) {
      // Accessors as plain function values (compared by identity, never called), not as methods.
      const d: { value?: unknown; get?: () => unknown; set?: (v: unknown) => void } = Object.getOwnPropertyDescriptor(
        proto,
        key,
      )!;
      out.set(`${name}.${String(key)}`, "value" in d ? d.value : [d.get, d.set]);
    }
    out.set(`${name}.[[Prototype]]`, Object.getPrototypeOf(proto));
  }
  return out;
};

const PRISTINE = snapshot();
const PRISTINE_KEYS = PROTOTYPES.map(([, proto]) => Reflect.ownKeys(proto));
const PROBES = ["polluted", "pwned", "isAdmin", "dtype", "shape", "data_offsets", "kind", "children"];
let checks = 0;

/** Compares every property's value and accessors with the snapshot (slower: every 64th check). */
const assertValuesPristine = (where: string): void => {
  const now = snapshot();
  for (const [k, v] of now) {
    const before = PRISTINE.get(k);
    const same =
      Array.isArray(v) && Array.isArray(before) ? v[0] === before[0] && v[1] === before[1] : Object.is(v, before);
    if (!same) throw new Error(`${where}: prototype pollution: ${k} was replaced`);
  }
};

/**
 * Throws if a guarded prototype gained or lost a key, if `({})` shows one of the probe keys, or
 * (every 64th call, and whenever `full`) if any property's value or accessor was replaced.
 */
export const assertPrototypesPristine = (where: string, full = false): void => {
  PROTOTYPES.forEach(([name, proto], i) => {
    const keys = Reflect.ownKeys(proto);
    const before = PRISTINE_KEYS[i]!;
    if (keys.length !== before.length || keys.some((k, j) => k !== before[j])) {
      const added = keys.filter((k) => !before.includes(k)).map(String);
      throw new Error(
        `${where}: prototype pollution: ${added.length > 0 ? `${name}.${added.join(", ")} was added` : `${name} lost or reordered keys`}`,
      );
    }
  });
  const probe = {} as Record<string, unknown>;
  for (const p of PROBES) if (probe[p] !== undefined) throw new Error(`${where}: ({}).${p} is ${String(probe[p])}`);
  if (full || ++checks % 64 === 0) assertValuesPristine(where);
};

// Every constructor through which code can allocate a byte buffer.
const BUFFER_CONSTRUCTORS = [
  "ArrayBuffer",
  "SharedArrayBuffer",
  "Uint8Array",
  "Uint8ClampedArray",
  "Int8Array",
  "Uint16Array",
  "Int16Array",
  "Uint32Array",
  "Int32Array",
  "Float32Array",
  "Float64Array",
  "BigInt64Array",
  "BigUint64Array",
  "DataView",
] as const;

/** What one guarded call cost. */
export interface Cost {
  readonly ms: number;
  /** Bytes requested from the buffer constructors (views over existing buffers count nothing). */
  readonly allocated: number;
}

/**
 * Runs `f`, counting the bytes requested from every typed-array and ArrayBuffer constructor
 * (replaced by counting proxies for the duration of the call; the library looks the globals up
 * at call time) and the wall time.
 */
export const metered = <T>(f: () => T): { readonly value: T; readonly cost: Cost } => {
  const g = globalThis as unknown as Record<string, unknown>;
  const originals = BUFFER_CONSTRUCTORS.map((name) => [name, g[name]] as const);
  const RealArrayBuffer = ArrayBuffer;
  let allocated = 0;
  for (const [name, ctor] of originals) {
    const C = ctor as { new (...args: unknown[]): unknown; BYTES_PER_ELEMENT?: number };
    const proxy: unknown = new Proxy(C, {
      construct(target, args, newTarget) {
        const [a] = args as [unknown];
        const width = target.BYTES_PER_ELEMENT ?? 1;
        if (typeof a === "number") allocated += a * width;
        else if (
          typeof a === "object" &&
          a !== null &&
          !(a instanceof RealArrayBuffer) &&
          !ArrayBuffer.isView(a) &&
          "length" in a
        ) {
          allocated += Number(a.length) * width;
        } else if (ArrayBuffer.isView(a) && name !== "DataView")
          allocated += (a as unknown as { length: number }).length * width;
        return Reflect.construct(target, args, newTarget === proxy ? target : newTarget) as object;
      },
    });
    g[name] = proxy;
  }
  const t0 = performance.now();
  try {
    const value = f();
    return { value, cost: { ms: performance.now() - t0, allocated } };
  } finally {
    for (const [name, ctor] of originals) g[name] = ctor;
  }
};

/** Generous: a hang or a quadratic blow-up is orders of magnitude slower; a busy 2-core box is not. */
export const MAX_MS = 5000;

/**
 * Runs one hostile case: `f` must not throw, must return within MAX_MS, must allocate at most
 * `factor` × the input's length (+ 64 KiB of fixed overhead), must leave `input` byte for byte
 * unchanged, and must leave the prototypes pristine.
 */
export const guarded = <T>(where: string, input: Uint8Array, f: () => T, factor = 3): T => {
  const before = input.slice();
  let out: { value: T; cost: Cost };
  try {
    out = metered(f);
  } catch (e) {
    throw new Error(
      `${where}: threw instead of returning a Left: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`,
      { cause: e },
    );
  }
  const { ms, allocated } = out.cost;
  if (ms > MAX_MS) throw new Error(`${where}: took ${ms.toFixed(0)} ms on ${input.length} bytes`);
  const budget = factor * input.length + 65536;
  if (allocated > budget)
    throw new Error(`${where}: allocated ${allocated} bytes for a ${input.length}-byte input (budget ${budget})`);
  if (input.length !== before.length || input.some((b, i) => b !== before[i]))
    throw new Error(`${where}: the input bytes were modified`);
  assertPrototypesPristine(where);
  return out.value;
};
