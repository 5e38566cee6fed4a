/**
 * @file The parallel law for a cell with a `sequence` form: `rnn(…, { mode: "parallel" })`
 * equals `rnn(…, { mode: "sequential" })` — outputs, final carry, loss and gradients (w.r.t.
 * params, initial carry and xs) — in float64 and in float32, with the case's lengths, layout and
 * direction; and `jit` of the parallel run (values and gradients) gives the eager bits.
 *
 * Tolerances: the two modes are the same mathematics summed in another order (a parallel scan or
 * one kernel pass against a loop of steps), so they agree to rounding: `LAW_TOLERANCES` in
 * float64 and `FLOAT32_TOLERANCES` in float32, as the sequence and vmap laws use; the caller's
 * `rtol`/`atol` replace both. In float32 each leaf is compared normwise — both sides divided by
 * the largest magnitude of the sequential leaf — because a rounding error of either mode scales
 * with a leaf's largest entries: a gradient entry of 0.02 beside entries of 5 carries their
 * absolute error (measured on lru: both modes 5e-6 from float64 there, elementwise 3e-4 apart).
 * jit against eager is exact, as every jit law of the project.
 * Parallel mode draws no dropout noise (`rnn` refuses a key there), so the law runs unkeyed.
 */
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { checkCellCase, type CellCase } from "./cellCase.js";
import { outcome, rnnRun, type CellLawCheckOptions, type Outcome } from "./cellLawSetup.js";
import { expectSameOutcome } from "./lawKit.js";
import { tolerancesFor } from "./sequenceLaws.js";
import { invalid } from "./args.js";

/**
 * Why the parallel law does not apply to `cell`, or undefined when it does (it has a sequence form).
 * @example parallelSkipReason(lstm) // "lstm has no sequence form (only step)"
 */
export const parallelSkipReason = (cell: { readonly name: string; readonly sequence?: unknown }): string | undefined =>
  typeof cell.sequence === "function" ? undefined : `${cell.name} has no sequence form (only step)`;

/** The case with its float leaves (parameters, initial carry, xs) cast to `dtype`. */
const castCase = (c: CellCase, dtype: "float32" | "float64"): CellCase => {
  const cast = <U>(tree: U): U => A.treeMap((l) => (T.isFloating(l.dtype) ? T.astype(l as T.Tensor, dtype) : l), tree);
  return { ...c, params: cast(c.params), initialCarry: cast(c.initialCarry), xs: cast(c.xs) };
};

/** Both outcomes with every leaf divided by the largest magnitude of the reference's leaf (1 if it is all 0). */
const normwise = (actual: Outcome, reference: Outcome): [Outcome, Outcome] => {
  const [refLeaves, def] = A.treeFlatten(reference);
  const actualLeaves = A.treeFlatten(actual)[0];
  // Outcomes of other structures or shapes are compared as they are, so the message names the difference.
  const sameShapes =
    actualLeaves.length === refLeaves.length &&
    actualLeaves.every((l, i) => T.shapesEqual((l as T.Tensor).shape, (refLeaves[i] as T.Tensor).shape));
  if (!sameShapes) return [actual, reference];
  const scales = refLeaves.map((r) => Math.max(...Array.from((r as T.Tensor).data, Math.abs), 0) || 1);
  const scaled = (o: Outcome): Outcome =>
    A.treeUnflatten<Outcome>(
      def,
      A.treeFlatten(o)[0].map((l, i) => T.div(l as T.Tensor, scales[i]!)),
    );
  return [scaled(actual), scaled(reference)];
};

/**
 * Parallel law: for a cell with a `sequence` form, `rnn` in mode "parallel" equals mode
 * "sequential" (values and gradients, float64 and float32), and `jit` of the parallel run equals
 * it bit for bit. The `rnn` and `jit` under test come from `o` (default Rewind's own).
 * @throws Error naming the law, the case, the dtype and the first differing path; an argument
 * error for a cell without a sequence form (the law does not apply to it).
 * @example parallelCellCheck(cellCase(minGru, { sizes: { inputSize: 2, hiddenSize: 3 }, lengths: [4, 0, 2] }))
 */
export const parallelCellCheck = (c: CellCase, o: CellLawCheckOptions = {}): void => {
  checkCellCase("cellLawChecks.parallel", c);
  const skip = parallelSkipReason(c.cell);
  if (skip !== undefined)
    invalid(
      "cellLawChecks.parallel",
      "c",
      `is a case of a cell the parallel law does not apply to: ${skip}; ` +
        "run it on a cell with a sequence form (minGru, minLstm, defineCell({ …, sequence }))",
    );
  const { key: _key, ...unkeyed } = c;
  const jit = o.jit ?? A.jit;
  for (const dtype of ["float64", "float32"] as const) {
    const d = dtype === "float64" ? unkeyed : castCase(unkeyed, dtype);
    const parallel = rnnRun(d, o, { mode: "parallel" });
    const eager = outcome(parallel, d);
    const what = `mode "parallel" vs mode "sequential", ${dtype}`;
    const tolerances = tolerancesFor(dtype, o);
    const sequential = outcome(rnnRun(d, o, { mode: "sequential" }), d);
    if (dtype === "float64") expectSameOutcome("parallel", d, what, eager, sequential, tolerances);
    else expectSameOutcome("parallel", d, `${what}, normwise per leaf`, ...normwise(eager, sequential), tolerances);
    const jitted = jit((p: unknown, init: unknown, xs: A.Value): Outcome => outcome(parallel, d, [p, init, xs]));
    const compiled = jitted(d.params, d.initialCarry, d.xs);
    expectSameOutcome("parallel", d, `jit of mode "parallel" vs eager, ${dtype}, bit for bit`, compiled, eager, {
      rtol: 0,
      atol: 0,
    });
  }
};
