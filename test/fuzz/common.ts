/**
 * @file The machinery the per-package fuzz suites share, on top of `contract.ts`: a `Spec` per
 * export (valid-argument generator, reference check, hostile values per argument slot, targeted
 * cases), `runSpec` to run one, small tensor arbitraries, and a float64 comparison.
 *
 * A spec's hostile values come in two kinds. `reject` values are wrong in type or range for their
 * slot (null where a tensor goes, 1.5 where an axis goes, `{ keepDims: "yes" }` as options), and
 * the call must throw a library error naming the op. `tolerate` values are legal but unusual
 * (`undefined` for an optional argument); the call may return, and then the spec's reference
 * check applies as for any valid call.
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";
import { callClean, expectRejectedError, type FuzzLedger, type Outcome } from "./contract.js";
import { beginMisspelt, misspell, verifyMisspelt, withTypo, type ErrorClass } from "./options.js";

/** A value to substitute into one argument slot, with a label for failure messages. */
export interface Hostile {
  readonly label: string;
  readonly value: unknown;
  /** Further checks of the error a rejected value threw (a misspelt key's class and suggestion). */
  readonly verify?: (e: Error) => void;
  /** Set on misspelt-key values: a slot that rejects `unknownOption` must hold at least one. */
  readonly misspelt?: true;
}

/** What one argument position is fuzzed with. */
export interface Slot {
  readonly reject?: readonly Hostile[];
  readonly tolerate?: readonly Hostile[];
}

/** How one export is fuzzed. Every field is optional, but a spec must define at least one. */
export interface Spec {
  /** Op names an error message may use (default: the export's own name). */
  readonly names?: readonly string[];
  /** Valid-typed argument lists; each call must return or throw a library error. */
  readonly valid?: fc.Arbitrary<unknown[]>;
  /** Checks a valid (or tolerated) call against a reference; throws on a wrong answer. */
  readonly check?: (args: readonly unknown[], out: Outcome<unknown>) => void;
  /** Hostile values per argument position, substituted into valid argument lists. */
  readonly slots?: readonly Slot[];
  /** Targeted cases (constants, classes, special behaviour); returns how many it ran. */
  readonly cases?: () => number;
  /** fast-check runs for `valid` (default 40). */
  readonly runs?: number;
  /**
   * How to call the export with an argument list (default `f(...args)`). Transforms use it to
   * call what they return: `grad` takes `[f, options, x]` and runs `grad(f, options)(x)`.
   */
  readonly invoke?: (f: (...args: unknown[]) => unknown, args: readonly unknown[]) => unknown;
}

/** Runs `f` on argument lists; the autodiff suite passes one that also traces under jit. */
export type Caller = (f: (...args: unknown[]) => unknown, args: readonly unknown[]) => unknown;

const directCall: Caller = (f, args) => f(...args);

const show = (v: unknown): string => {
  if (T.isTensor(v)) return `${v.dtype}${T.formatShape(v.shape)}`;
  try {
    return (
      JSON.stringify(v, (_k, x: unknown) =>
        typeof x === "number" && !Number.isFinite(x) ? String(x) : typeof x === "bigint" ? `${x}n` : x,
      ) ?? String(v)
    );
  } catch {
    return String(v);
  }
};

/** A compact rendering of an argument list for failure messages. */
export const showArgs = (args: readonly unknown[]): string => `(${args.map(show).join(", ")})`;

/**
 * Runs one spec against `f` and records its cases under `entry`: the valid property, then every
 * hostile value of every slot substituted into a few valid argument lists.
 */
export const runSpec = (entry: string, f: unknown, spec: Spec, ledger: FuzzLedger, call: Caller = directCall): void => {
  const names = spec.names ?? [entry.split(".").pop()!];
  const exported = f as (...args: unknown[]) => unknown;
  const invoke = spec.invoke;
  const fn = invoke === undefined ? exported : (...args: unknown[]) => invoke(exported, args);
  let cases = 0;
  if (spec.valid !== undefined) {
    const runs = spec.runs ?? 40;
    let returnedCount = 0;
    fc.assert(
      fc.property(spec.valid, (args) => {
        const out = callClean(names, () => call(fn, args));
        if (out.ok) returnedCount++;
        spec.check?.(args, out);
      }),
      { numRuns: runs },
    );
    // A generator whose calls are nearly all refused would check the references on nothing.
    if (returnedCount < runs / 4)
      throw new Error(
        `${entry}: only ${returnedCount} of ${runs} valid-argument calls returned; the generator is too hostile to test answers`,
      );
    cases += runs;
  }
  if (spec.slots !== undefined) {
    if (spec.valid === undefined) throw new Error(`${entry}: slots need a valid generator to substitute into`);
    const bases = fc.sample(spec.valid, { numRuns: 3, seed: 7 });
    spec.slots.forEach((slot, i) => {
      // An options slot (one that refuses an unknown key) must also refuse realistic typos of its own keys.
      if (slot.reject?.includes(unknownOption) === true && !slot.reject.some((h) => h.misspelt === true)) {
        throw new Error(
          `${entry}: argument ${i} is an options slot (it rejects ${unknownOption.label}) but has no misspelt-key case (add ...misspelt(keys, …))`,
        );
      }
      for (const base of bases) {
        for (const h of slot.reject ?? []) {
          const args = [...base];
          while (args.length <= i) args.push(undefined);
          args[i] = h.value;
          try {
            if (h.misspelt === true) beginMisspelt();
            const error = expectRejectedError(names, () => call(fn, args));
            h.verify?.(error);
          } catch (e) {
            throw new Error(`${entry}: argument ${i} = ${h.label} in ${showArgs(args)}: ${(e as Error).message}`, {
              cause: e,
            });
          }
          cases++;
        }
        for (const h of slot.tolerate ?? []) {
          const args = [...base];
          args[i] = h.value;
          try {
            spec.check?.(
              args,
              callClean(names, () => call(fn, args)),
            );
          } catch (e) {
            throw new Error(`${entry}: argument ${i} = ${h.label} in ${showArgs(args)}: ${(e as Error).message}`, {
              cause: e,
            });
          }
          cases++;
        }
      }
    });
  }
  if (spec.cases !== undefined) cases += spec.cases();
  if (cases === 0) throw new Error(`${entry}: the spec ran no case`);
  ledger.record(entry, cases);
};

// ---------------------------------------------------------------------------------------------
// Hostile values by slot kind.

const h = (label: string, value: unknown): Hostile => ({ label, value });

/** Values that are not tensors, including forged tensor-like records. */
export const notTensor: readonly Hostile[] = [
  h("null", null),
  h("undefined", undefined),
  h('"x"', "x"),
  h("true", true),
  h("{}", {}),
  h("[]", []),
  h("[1, 2]", [1, 2]),
  h("ragged [[1], [2, 3]]", [[1], [2, 3]]),
  h("a function", () => 1),
  h("a record with a plain-array buffer", { dtype: "float32", shape: [2], data: [1, 2] }),
  h("a record with an unknown dtype", { dtype: "float16", shape: [1], data: Float32Array.of(1) }),
  h("a record whose buffer is too short", { dtype: "float32", shape: [3], data: Float32Array.of(1) }),
  h("a record whose buffer class mismatches its dtype", { dtype: "int32", shape: [1], data: Float64Array.of(1.5) }),
  h("a record with a fractional dimension", { dtype: "float32", shape: [1.5], data: Float32Array.of(1) }),
  // Passes `instanceof Float32Array`, but every typed-array getter throws a TypeError on it.
  h("a record whose buffer only inherits from Float32Array.prototype", {
    dtype: "float32",
    shape: [0],
    data: Object.create(Float32Array.prototype) as unknown,
  }),
];

/** `notTensor` minus what a tensor-or-number slot accepts (numbers are legal there). */
export const notOperand: readonly Hostile[] = [...notTensor, h("a bigint", 3n)];

/** Values that are not integers (for axes, counts, lengths, offsets). */
export const notInteger: readonly Hostile[] = [
  h("1.5", 1.5),
  h("NaN", NaN),
  h("Infinity", Infinity),
  h("-Infinity", -Infinity),
  h('"0"', "0"),
  h("null", null),
  h("true", true),
  h("{}", {}),
  h("[0]", [0]),
  h("2**53 + 2", 2 ** 53 + 2),
];

/** Integers far outside any axis range. */
export const hugeAxes: readonly Hostile[] = [h("2**40", 2 ** 40), h("-(2**40)", -(2 ** 40))];

/** Everything an axis slot must reject. */
export const notAxis: readonly Hostile[] = [...notInteger, ...hugeAxes];

/** Everything an optional axis slot must reject (undefined is legal there). */
export const notAxisOrList: readonly Hostile[] = [
  ...notAxis.filter((x) => x.label !== "[0]"),
  h("[1.5]", [1.5]),
  h('["0"]', ["0"]),
  h("[0, 0] (repeated)", [0, 0]),
];

/** Values that are not shapes (lists of non-negative integers a tensor can hold). */
export const notShape: readonly Hostile[] = [
  h("null", null),
  h('"x"', "x"),
  h("5", 5),
  h("{}", {}),
  h("[1.5]", [1.5]),
  h("[-2]", [-2]),
  h("[NaN]", [NaN]),
  h("[Infinity]", [Infinity]),
  h('["2"]', ["2"]),
  h("[[2]]", [[2]]),
  h("[2**31] (too many elements)", [2 ** 31]),
  h("[2**40, 2**40] (too many elements)", [2 ** 40, 2 ** 40]),
];

/** Values that are not dtypes. */
export const notDType: readonly Hostile[] = [
  h('"float16"', "float16"),
  h('"int64"', "int64"),
  h('""', ""),
  h("5", 5),
  h("null", null),
  h("{}", {}),
];

/** Values that are not functions. */
export const notFunction: readonly Hostile[] = [
  h("null", null),
  h("undefined", undefined),
  h("5", 5),
  h('"f"', "f"),
  h("{}", {}),
  h("[]", []),
];

/** Values that are not an options object at all. */
export const notOptionsObject: readonly Hostile[] = [
  h('"x"', "x"),
  h("5", 5),
  h("true", true),
  h("null", null),
  h("[]", []),
  h("a function", () => ({})),
];

/** Options objects with option `key` set to each of `values`. */
export const badOption = (key: string, values: readonly Hostile[]): Hostile[] =>
  values.map((v) => h(`{ ${key}: ${v.label} }`, { [key]: v.value }));

/** An options object with a key the op does not know (a typo must not be ignored silently). */
export const unknownOption: Hostile = h("{ bogus: 1 }", { bogus: 1 });

/**
 * Misspelt-key values for an options slot whose keys are `known`: one per key, that key's typo
 * (`misspell`) in `base` (a valid options object, default `{}`), wrapped by `wrap` when the slot
 * holds the options inside something else (slice's `[spec]`). Each must be refused with `error`
 * (the package's exception class), its message naming the typo and suggesting the key.
 * @example misspelt(["axis", "keepDims"], { error: TensorException, names: ["sum"] })
 */
export const misspelt = (
  known: readonly string[],
  o: {
    readonly error: ErrorClass;
    readonly names: readonly string[];
    readonly base?: Readonly<Record<string, unknown>>;
    readonly wrap?: (options: Record<string, unknown>) => unknown;
  },
): Hostile[] =>
  known.map((key) => {
    const typo = misspell(key, known);
    const options = withTypo(o.base ?? {}, key, typo);
    return {
      label: `{ ${typo}: … } (misspelt ${key})`,
      value: o.wrap === undefined ? options : o.wrap(options),
      misspelt: true,
      verify: (e: Error) => verifyMisspelt(e, o.error, o.names, typo, key, known),
    };
  });

/** Values that are not booleans. */
export const notBoolean: readonly Hostile[] = [h('"yes"', "yes"), h("1", 1), h("null", null), h("{}", {})];

/** A legal `undefined` for an optional slot. */
export const omitted: Hostile = h("undefined (omitted)", undefined);

// ---------------------------------------------------------------------------------------------
// Tensor arbitraries: small shapes (size-0 axes and scalars included), every dtype, edge values.

/** Every dtype. */
export const arbDType: fc.Arbitrary<T.DType> = fc.constantFrom<T.DType>("float32", "float64", "int32", "bool");

/** Shapes of rank 0–`maxRank` with axes 0–`maxDim` (so size-0 axes and scalars are common). */
export const arbShape = (maxRank = 3, maxDim = 3, minRank = 0): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 0, max: maxDim }), { minLength: minRank, maxLength: maxRank });

/** Shapes without size-0 axes. */
export const arbShapeNonEmpty = (maxRank = 3, maxDim = 3, minRank = 0): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: minRank, maxLength: maxRank });

/** Elements for `dtype`: edge values (NaN, ±Inf, ±0) mixed with ordinary ones. */
export const arbElement = (dtype: T.DType): fc.Arbitrary<number> => {
  if (dtype === "bool") return fc.constantFrom(0, 1);
  if (dtype === "int32") return fc.oneof(fc.integer({ min: -5, max: 5 }), fc.constantFrom(-2147483648, 2147483647));
  const round = dtype === "float32" ? Math.fround : (x: number) => x;
  return fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, -0, 0, 1, -1, 0.5, 1e-30) },
    { weight: 4, arbitrary: fc.double({ min: -8, max: 8, noNaN: true }).map(round) },
  );
};

/** A tensor of `shape` and `dtype`, filled with `arbElement` values (or `elements`). */
export const arbTensorOf = (
  shape: readonly number[],
  dtype: T.DType,
  elements: fc.Arbitrary<number> = arbElement(dtype),
): fc.Arbitrary<T.Tensor> => {
  const n = shape.reduce((a, d) => a * d, 1);
  return fc.array(elements, { minLength: n, maxLength: n }).map((data) => T.fromDataOrThrow(data, shape, dtype));
};

/** A tensor of a random small shape and dtype (each can be fixed by an arbitrary). */
export const arbTensor = (
  opts: {
    shape?: fc.Arbitrary<number[]>;
    dtype?: fc.Arbitrary<T.DType>;
    elements?: (d: T.DType) => fc.Arbitrary<number>;
  } = {},
): fc.Arbitrary<T.Tensor> =>
  fc
    .tuple(opts.shape ?? arbShape(), opts.dtype ?? arbDType)
    .chain(([s, d]) => arbTensorOf(s, d, (opts.elements ?? arbElement)(d)));

/** Float tensors only. */
export const arbFloatTensor = (shape: fc.Arbitrary<number[]> = arbShape()): fc.Arbitrary<T.Tensor> =>
  arbTensor({ shape, dtype: fc.constantFrom<T.DType>("float32", "float64") });

/** An axis for a rank-`rank` tensor, negative or not (rank ≥ 1). */
export const arbAxis = (rank: number): fc.Arbitrary<number> => fc.integer({ min: -rank, max: rank - 1 });

/**
 * `n` shapes that broadcast together: a full shape, then per operand a suffix of it with some
 * axes set to 1; with `mismatch`, sometimes one axis of one operand is changed so they do not.
 */
export const arbBroadcastShapes = (n: number, maxRank = 3, mismatch = true): fc.Arbitrary<number[][]> =>
  arbShape(maxRank).chain((full) => {
    const operand = fc
      .tuple(
        fc.integer({ min: 0, max: full.length }),
        fc.array(fc.boolean(), { minLength: full.length, maxLength: full.length }),
      )
      .map(([rank, ones]) => full.slice(full.length - rank).map((d, i) => (ones[full.length - rank + i]! ? 1 : d)));
    const shapes = fc.array(operand, { minLength: n, maxLength: n });
    if (!mismatch) return shapes;
    // One in five draws bumps an axis of one operand by 2, which never broadcasts with a size ≠ 1.
    return fc.tuple(shapes, fc.nat(4), fc.nat(n - 1), fc.nat(2)).map(([ss, roll, which, axis]) => {
      const s = ss[which]!;
      if (roll !== 0 || s.length === 0) return ss;
      const copy = ss.map((x) => [...x]);
      const a = axis % s.length;
      copy[which]![a] = s[a]! + 2;
      return copy;
    });
  });

/** The NumPy broadcast of shapes, or undefined when they do not broadcast. */
export const broadcastOf = (...shapes: ReadonlyArray<readonly number[]>): number[] | undefined => {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const j = rank - s.length + i;
      if (out[j] === 1) out[j] = s[i]!;
      else if (s[i] !== 1 && s[i] !== out[j]) return undefined;
    }
  }
  return out;
};

/** Reads element `outIdx` of an output of `outShape` from an operand of `shape` broadcast to it. */
export const broadcastRead = (data: ArrayLike<number>, shape: readonly number[], outIdx: readonly number[]): number => {
  const lead = outIdx.length - shape.length;
  return data[
    ravel(
      shape.map((d, a) => (d === 1 ? 0 : outIdx[lead + a]!)),
      shape,
    )
  ]!;
};

// ---------------------------------------------------------------------------------------------
// Naive float64 references and comparison.

/** Row-major multi-index of flat position `i` in `shape`. */
export const unravel = (i: number, shape: readonly number[]): number[] => {
  const idx = new Array<number>(shape.length).fill(0);
  for (let a = shape.length - 1, r = i; a >= 0; a--) {
    idx[a] = r % shape[a]!;
    r = Math.floor(r / shape[a]!);
  }
  return idx;
};

/** Flat row-major position of a multi-index in `shape`. */
export const ravel = (idx: readonly number[], shape: readonly number[]): number =>
  idx.reduce((p, v, a) => p * shape[a]! + v, 0);

/** Number of elements of a shape. */
export const size = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);

/** Stores `v` the way a `dtype` buffer would (float32 rounds, int32 wraps, bool is nonzero). */
export const store = (dtype: T.DType, v: number): number =>
  dtype === "float32" ? Math.fround(v) : dtype === "int32" ? v | 0 : dtype === "bool" ? (v !== 0 ? 1 : 0) : v;

/** What a reference says a call must produce. */
export interface Expected {
  readonly dtype: T.DType;
  readonly shape: readonly number[];
  /** Flat row-major values, already stored in `dtype` (or within tolerance of it). */
  readonly values: ArrayLike<number>;
}

/** Tolerances of a comparison: relative, and absolute (for values that cancel to near 0). */
export interface Tol {
  readonly rtol?: number;
  readonly atol?: number;
}

const close = (got: number, want: number, dtype: T.DType, tol: Tol): boolean => {
  if (Number.isNaN(want)) return Number.isNaN(got);
  if (got === want) return true;
  if (!Number.isFinite(want) || !Number.isFinite(got) || dtype === "int32" || dtype === "bool") return false;
  return Math.abs(got - want) <= (tol.atol ?? 0) + (tol.rtol ?? 0) * Math.abs(want);
};

/**
 * Throws unless `got` is a tensor of the expected dtype, shape and values (NaN matches NaN;
 * exact by default, since most kernels compute in float64 and round once).
 */
export const expectTensor = (got: unknown, want: Expected, tol: Tol = {}, what = "result"): void => {
  if (!T.isTensor(got)) throw new Error(`${what}: expected a tensor, got ${show(got)}`);
  if (got.dtype !== want.dtype || !T.shapesEqual(got.shape, want.shape)) {
    throw new Error(
      `${what}: expected ${want.dtype}${T.formatShape(want.shape)}, got ${got.dtype}${T.formatShape(got.shape)}`,
    );
  }
  if (got.data.length !== want.values.length)
    throw new Error(`${what}: buffer has ${got.data.length} elements, expected ${want.values.length}`);
  for (let i = 0; i < want.values.length; i++) {
    if (!close(got.data[i]!, want.values[i]!, want.dtype, tol)) {
      throw new Error(
        `${what}: element ${i} (${show(unravel(i, want.shape))}) is ${got.data[i]}, expected ${want.values[i]}`,
      );
    }
  }
};

/** Throws unless `out` returned; gives the value. */
export const returned = <A>(out: Outcome<A>, what: string): A => {
  if (!out.ok) throw new Error(`${what}: expected a result, got a library error: ${out.error.message}`);
  return out.value;
};

/** Throws unless `out` is a library error (its message already names the op: `callClean` checked). */
export const rejected = (out: Outcome<unknown>, what: string): void => {
  if (out.ok) throw new Error(`${what}: expected a library error, but the call returned ${show(out.value)}`);
};

/** Counts assertions in hand-written case lists. */
export const countCases = (checks: ReadonlyArray<() => void>): number => {
  checks.forEach((c) => c());
  return checks.length;
};
