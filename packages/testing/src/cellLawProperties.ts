/**
 * @file The RNN laws as fast-check properties over random padded batches (`cellLawProperties`),
 * beside `cellLaws`' fixed configurations (cellLaws.ts).
 */
import fc from "fast-check";
import { checkCell, type AnyCell, type Cell } from "@rewind/rnn";
import { checkOptions } from "./args.js";
import { ARB_CELL_CASE_KEYS, arbCellCase, type ArbCellCaseOptions, type CellCase } from "./cellCase.js";
import { CELL_LAW_CHECK_KEYS, defaultStack, guarded, pick, type CellLawCheckOptions } from "./cellLawSetup.js";
import { bidirectionalPaddingCheck, paddingCheck } from "./paddingLaws.js";
import { bpttCheck, invarianceCheck, reverseCheck, stackingCheck } from "./rnnLaws.js";
import { vmapCellCheck } from "./cellVmapLaw.js";
import { parallelCellCheck } from "./cellParallelLaw.js";

/**
 * Options of `cellLawProperties`: the bounds of the drawn cases and the checks' options.
 * @example
 * cellLawProperties(lstm, { sizes: { inputSize: 2, hiddenSize: 3 }, maxTime: 4 } satisfies CellLawPropertyOptions)
 */
export interface CellLawPropertyOptions extends ArbCellCaseOptions, CellLawCheckOptions {}

/** The keys of `CellLawPropertyOptions`. */
const CELL_LAW_PROPERTY_KEYS: readonly string[] = [...ARB_CELL_CASE_KEYS, ...CELL_LAW_CHECK_KEYS];

/**
 * fast-check properties of each RNN law for `cell` over random padded batches (`arbRaggedBatch`:
 * random B, T and lengths in [0, T]), seeds, layouts, directions and keys; `all` runs every
 * law on each drawn case except stacking, whose cases are drawn for `stack([cell, stackWith ??
 * cell])` (`stacking`, unkeyed), and parallel for a cell without a sequence form (to which it
 * does not apply). Use with `fc.assert`, or draw the cases yourself with `arbCellCase` for
 * `test.prop`.
 * @example fc.assert(cellLawProperties(gru, { sizes: { inputSize: 2, hiddenSize: 3 } }).padding, { numRuns: 5 })
 */
export const cellLawProperties = <P, C>(cell: Cell<P, C>, o: CellLawPropertyOptions) => {
  checkCell("cellLawProperties", "cell", cell);
  checkOptions("cellLawProperties", "o", o, CELL_LAW_PROPERTY_KEYS, false);
  const any = cell as AnyCell;
  // arbCellCase gets its own options only (it refuses the checks' ones).
  const cases = pick(o, ARB_CELL_CASE_KEYS) as ArbCellCaseOptions;
  const arb = arbCellCase(any, cases);
  const padded = arbCellCase(any, { ...cases, lengths: true });
  const unkeyed = arbCellCase(any, { ...cases, key: false });
  const layers = [any, o.stackWith ?? any] as const;
  const stacked = arbCellCase((o.stack ?? defaultStack)(layers), { ...cases, key: false });
  const parallel = typeof any.sequence === "function";
  const check = (law: string, f: (c: CellCase) => void) => (c: CellCase) => guarded(law, c, () => f(c));
  return {
    /** The BPTT law on random cases (see `cellLawChecks.bptt`). */
    bptt: fc.property(
      arb,
      check("BPTT", (c) => bpttCheck(c, o)),
    ),
    /** The reverse law on random cases. */
    reverse: fc.property(
      arb,
      check("reverse", (c) => reverseCheck(c, o)),
    ),
    /** The invariance law on random cases. */
    invariance: fc.property(
      arb,
      check("invariance", (c) => invarianceCheck(c, o)),
    ),
    /** The padding law on random padded cases. */
    padding: fc.property(
      padded,
      check("padding", (c) => paddingCheck(c, o)),
    ),
    /** The bidirectional padding law on random padded cases. */
    bidirectionalPadding: fc.property(
      padded,
      check("bidirectional padding", (c) => bidirectionalPaddingCheck(c, o)),
    ),
    /** The stacking law on random cases of `stack([cell, stackWith ?? cell])`, unkeyed. */
    stacking: fc.property(
      stacked,
      check("stacking", (c) => stackingCheck(c, layers, o)),
    ),
    /** The vmap law on random cases. */
    vmap: fc.property(
      arb,
      check("vmap", (c) => vmapCellCheck(c, o)),
    ),
    /**
     * The parallel law on random unkeyed cases; for a cell without a sequence form it fails on its
     * first case with the reason, rather than pass without checking anything.
     */
    parallel: fc.property(
      unkeyed,
      check("parallel", (c) => parallelCellCheck(c, o)),
    ),
    /** Every law but stacking on each drawn case (parallel only for a cell with a sequence form). */
    all: fc.property(
      arb,
      check("every", (c) => {
        bpttCheck(c, o);
        reverseCheck(c, o);
        invarianceCheck(c, o);
        vmapCellCheck(c, o);
        if (parallel) parallelCellCheck(c, o);
        if (c.lengths !== undefined) {
          paddingCheck(c, o);
          bidirectionalPaddingCheck(c, o);
        }
      }),
    ),
  };
};
