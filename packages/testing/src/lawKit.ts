/**
 * @file The one toolkit every law checks with (the scan laws of laws.ts, the function laws of
 * functionLaws.ts and the RNN laws of rnnLaws.ts and paddingLaws.ts): the default tolerances, the
 * violation message, and the comparisons that throw it.
 *
 * The laws compare two computations of the same mathematics in float64 (scan vs the unrolled
 * loop, remat vs storing everything, jit vs eager, ...), which may differ only by rounding: a few
 * ulps per operation, so about 1e-15 relative for the problems the laws draw. One set of defaults
 * (rtol 1e-10, atol 1e-12) leaves five orders of magnitude for rounding to accumulate and still
 * fails a wrong gradient by many more. Finite differences are `checkGrads`' job, with its own
 * (necessarily looser) tolerances.
 */
import fc from "fast-check";
import * as T from "@rewind/tensor";
import type * as A from "@rewind/autodiff";
import { describeCase, type CellCase } from "./cellCase.js";
import { closeWithPaths } from "./matchers.js";
import { testingError } from "./failure.js";
import type { LawOptions } from "./lawOptions.js";

/**
 * The default tolerances of every law's comparisons ("equal up to rounding" in float64).
 * @example closeWithPaths(a, b, LAW_TOLERANCES, "grad").pass
 */
export const LAW_TOLERANCES: Readonly<Required<LawOptions>> = Object.freeze({ rtol: 1e-10, atol: 1e-12 });

/**
 * A law's tolerances: the caller's `rtol`/`atol` where given, `LAW_TOLERANCES` otherwise.
 * @example lawTolerances({ rtol: 1e-7 }) // { rtol: 1e-7, atol: 1e-12 }
 */
export const lawTolerances = (o: LawOptions): Required<LawOptions> => ({
  rtol: o.rtol ?? LAW_TOLERANCES.rtol,
  atol: o.atol ?? LAW_TOLERANCES.atol,
});

/**
 * What a violation names: a description as is, an RNN law's case by `describeCase`, and anything
 * else (a scan problem) by fast-check's printer.
 * @example const instance: LawInstance = "jit of f"
 */
export type LawInstance = string | CellCase | object;

const isCellCase = (x: object): x is CellCase => "cell" in x && "xs" in x && "params" in x;

/**
 * The text a violation message uses for `instance`.
 * @example describeInstance("matmul") // "matmul"
 */
export const describeInstance = (instance: LawInstance): string =>
  typeof instance === "string" ? instance : isCellCase(instance) ? describeCase(instance) : fc.stringify(instance);

/**
 * Throws the law's error: the law, the instance it failed on and what differed.
 * @example violation("padding", c, "outputs past length 2 are not zero")
 */
export const violation = (law: string, instance: LawInstance, detail: string): never => {
  throw testingError({
    _tag: "TestFailure",
    op: law,
    detail: `${law} law violated for ${describeInstance(instance)}:\n  ${detail}`,
  });
};

/**
 * What every comparison of one law check shares: the law, the instance it runs on (both for the
 * violation message) and the law's options (whose tolerances the comparison uses).
 * @example const check: LawCheck = { law: "invariance", instance: c, options: o };
 */
export interface LawCheck {
  readonly law: string;
  readonly instance: LawInstance;
  readonly options: LawOptions;
}

/**
 * Throws a violation of `check.law` unless `actual` and `expected` are close (the law's
 * tolerances where `check.options` sets none, or exact ones such as `{ rtol: 0, atol: 0 }`);
 * `what` names the two computations, `label` starts the pytree path in the message.
 * @example expectClose({ law: "BPTT", instance: c, options: {} }, "rnn vs loop", a.grad, b.grad, "grad")
 */
export const expectClose = (
  check: LawCheck,
  what: string,
  actual: unknown,
  expected: unknown,
  label = "value",
): void => {
  // Only the tolerances: the options are the whole law's (scan, sizes, ...), which closeWithPaths refuses.
  const r = closeWithPaths(actual, expected, lawTolerances(check.options), label);
  if (!r.pass) violation(check.law, check.instance, `${what}: ${r.message}`);
};

/**
 * Throws a violation unless every element of `v` is exactly zero (NaN included): padding
 * outputs and gradients.
 * @example expectZero("padding", c, "outputs past the length", tail, "outputs")
 */
export const expectZero = (law: string, instance: LawInstance, what: string, v: A.Value, label: string): void => {
  const r = closeWithPaths(v, T.zeros(v.shape, v.dtype), { rtol: 0, atol: 0, equalNan: false }, label);
  if (!r.pass) violation(law, instance, `${what} must be exactly zero: ${r.message}`);
};

/**
 * The fields two outcomes of a law are compared on, in this order, so that the message names
 * the earliest difference (a wrong value before the gradient it causes).
 */
const OUTCOME_FIELDS = ["outputs", "finalCarry", "loss", "grad"] as const;

/**
 * Compares two outcomes (outputs, then final carry where there is one, loss, gradients) and
 * throws a violation at the first field that differs.
 * @example expectSameOutcome("reverse", c, "rnn vs flipped", mine, theirs, {})
 */
export const expectSameOutcome = (
  law: string,
  instance: LawInstance,
  what: string,
  actual: Partial<Record<(typeof OUTCOME_FIELDS)[number], unknown>>,
  expected: Partial<Record<(typeof OUTCOME_FIELDS)[number], unknown>>,
  o: LawOptions,
): void => {
  for (const key of OUTCOME_FIELDS)
    if (key in expected || key in actual)
      expectClose({ law, instance, options: o }, what, actual[key], expected[key], key);
};

/**
 * Throws a violation unless two scalars agree up to the law's tolerances, relative to the larger
 * of 1 and their magnitudes (inner products of random directions, which may be near zero).
 * @example expectCloseScalar("VJP/JVP adjointness", "f", 1.0000000000001, 1, {}, (a, b, d) => `${a} vs ${b} (${d})`)
 */
export const expectCloseScalar = (
  law: string,
  instance: LawInstance,
  lhs: number,
  rhs: number,
  o: LawOptions,
  detail: (lhs: number, rhs: number, diff: number) => string,
): void => {
  const { rtol, atol } = lawTolerances(o);
  const diff = Math.abs(lhs - rhs);
  if (!(diff <= atol + rtol * Math.max(1, Math.abs(lhs), Math.abs(rhs))))
    violation(law, instance, detail(lhs, rhs, diff));
};
