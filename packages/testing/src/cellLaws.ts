/**
 * @file The RNN laws as one-liners for any cell — a built-in one, a combinator's result or a
 * user's own — and as fast-check properties over random padded batches.
 *
 *     cellLaws(myCell, { sizes: { inputSize: 3, hiddenSize: 4 } })   // throws on the first violation
 *
 * `cellLaws` runs every law in several configurations (layout × direction × lengths, and for a
 * cell with noise, with and without a dropout key) chosen so every pair of settings meets; the
 * laws themselves live in rnnLaws.ts and paddingLaws.ts and take one `CellCase` each
 * (`cellLawChecks`), which is what the properties draw.
 *
 * Dropout: compared runs always share the noise. The laws take `rnn`'s contract to be that, with
 * a key, loop step s (in reading order, whichever the direction) gets the noise drawn from
 * `split(key, T)[s]` — the only order under which both the reverse law and the padding law can
 * hold with a key — and a sample run alone gets the noise rows it had in its batch.
 */
import * as T from "@rewind/tensor";
import { checkCell, type AnyCell, type Cell } from "@rewind/rnn";
import { checkOptions, invalid, showValue } from "./args.js";
import { keysOf } from "@rewind/tensor/internal/check";
import { CELL_CASE_KEYS, cellCase, defaultLengths, type CellCase, type CellCaseOptions } from "./cellCase.js";
import { CELL_LAW_CHECK_KEYS, defaultStack, guarded, pick, type CellLawCheckOptions } from "./cellLawSetup.js";
import { bidirectionalPaddingCheck, paddingCheck } from "./paddingLaws.js";
import { bpttCheck, invarianceCheck, reverseCheck, stackingCheck } from "./rnnLaws.js";
import { vmapCellCheck } from "./cellVmapLaw.js";
import { parallelCellCheck, parallelSkipReason } from "./cellParallelLaw.js";

/**
 * The RNN laws, by name.
 * @example cellLaws(gru, { sizes, laws: ["padding", "stacking"] satisfies CellLawName[] })
 */
export type CellLawName =
  "bptt" | "reverse" | "invariance" | "padding" | "bidirectionalPadding" | "stacking" | "vmap" | "parallel";

/**
 * Every RNN law, in the order `cellLaws` runs them.
 * @example cellLawNames.length // 8
 */
export const cellLawNames: readonly CellLawName[] = [
  "bptt",
  "reverse",
  "invariance",
  "padding",
  "bidirectionalPadding",
  "stacking",
  "vmap",
  "parallel",
];

/**
 * `o` when it is a plain object of `CellLawCheckOptions` keys (the checks themselves also get
 * `cellLaws`' wider options).
 */
const checkedOptions = (law: CellLawName, o: CellLawCheckOptions): CellLawCheckOptions => {
  checkOptions(`cellLawChecks.${law}`, "o", o, CELL_LAW_CHECK_KEYS);
  return o;
};

/**
 * One check per law on one instance; each throws an `Error` naming the law, the case and the
 * first differing pytree path. `stacking` takes the stack's case and its two layers.
 * @example cellLawChecks.padding(cellCase(lstm, { sizes: { inputSize: 2, hiddenSize: 3 }, lengths: [5, 0, 3] }))
 */
export const cellLawChecks = {
  /** `rnn` equals the unrolled loop (values and gradients), and its gradients match finite differences. */
  bptt: (c: CellCase, o: CellLawCheckOptions = {}): void => bpttCheck(c, checkedOptions("bptt", o)),
  /** `reverse: r` equals flipping each valid prefix, running with `reverse: ¬r` and flipping back. */
  reverse: (c: CellCase, o: CellLawCheckOptions = {}): void => reverseCheck(c, checkedOptions("reverse", o)),
  /** Checkpoint policies, `unroll`, `truncate` ≥ T and `jit` change neither values nor gradients. */
  invariance: (c: CellCase, o: CellLawCheckOptions = {}): void => invarianceCheck(c, checkedOptions("invariance", o)),
  /** Each sample of a padded batch equals the sample run alone; padding gets zero outputs and gradients. */
  padding: (c: CellCase, o: CellLawCheckOptions = {}): void => paddingCheck(c, checkedOptions("padding", o)),
  /** The padding law for `bidirectional(cell, cell)`. */
  bidirectionalPadding: (c: CellCase, o: CellLawCheckOptions = {}): void =>
    bidirectionalPaddingCheck(c, checkedOptions("bidirectionalPadding", o)),
  /** `stack([a, b])` equals running `a`, then `b` over a's outputs (values and gradients). */
  stacking: (c: CellCase, layers: readonly [AnyCell, AnyCell], o: CellLawCheckOptions = {}): void =>
    stackingCheck(c, layers, checkedOptions("stacking", o)),
  /** `vmap` over the samples of `rnn` on one sequence equals `rnn` over the batch; `jit` of it is bit-identical. */
  vmap: (c: CellCase, o: CellLawCheckOptions = {}): void => vmapCellCheck(c, checkedOptions("vmap", o)),
  /**
   * For a cell with a `sequence` form: `rnn` in mode "parallel" equals mode "sequential" (values
   * and gradients, float64 and float32), and `jit` of it is bit-identical; refuses other cells.
   */
  parallel: (c: CellCase, o: CellLawCheckOptions = {}): void => parallelCellCheck(c, checkedOptions("parallel", o)),
};

/**
 * What `cellLaws` ran: the laws checked (in at least one configuration) and the selected laws it
 * did not, each with the reason (a law that does not apply to the cell, or no configuration that
 * it runs in), so a skipped law is never mistaken for a passing one.
 * @example const { ran, skipped } = cellLawsReport(lstm, { sizes }) // skipped: [{ law: "parallel", … }]
 */
export interface CellLawsReport {
  /** The laws that ran, in `cellLawNames` order. */
  readonly ran: readonly CellLawName[];
  /** The selected laws that did not run, and why. */
  readonly skipped: readonly SkippedLaw[];
}

/**
 * A law `cellLaws` did not run, and why.
 * @example const s: SkippedLaw = { law: "parallel", reason: "lstm has no sequence form (only step)" }
 */
export interface SkippedLaw {
  /** The law. */
  readonly law: CellLawName;
  /** Why it did not run: it does not apply to the cell, or no configuration runs it. */
  readonly reason: string;
}

/**
 * One configuration `cellLaws` runs the laws in.
 * @example const cfg: CellLawConfig = { timeMajor: true, reverse: false, lengths: true, key: false }
 */
export interface CellLawConfig {
  /** Lay the case out time-major. */
  readonly timeMajor: boolean;
  /** Read sequences from their end. */
  readonly reverse: boolean;
  /** Pad the batch, with per-sample lengths. */
  readonly lengths: boolean;
  /** Turn the cell's noise on with a dropout key. */
  readonly key: boolean;
}

/**
 * The configurations `cellLaws` uses: the four layout × direction × lengths settings in which
 * every pair meets; for a cell with noise, all eight, with the key on in half of them so that it
 * too meets every other setting (a 2⁴⁻¹ design).
 * @example cellLawConfigs(false).length // 4
 */
export const cellLawConfigs = (noisy: boolean): readonly CellLawConfig[] => {
  if (typeof noisy !== "boolean") invalid("cellLawConfigs", "noisy", `must be true or false, got ${String(noisy)}`);
  const all: CellLawConfig[] = [];
  for (const timeMajor of [false, true]) {
    for (const reverse of [false, true]) {
      for (const lengths of [true, false]) {
        const parity = (Number(timeMajor) + Number(reverse) + Number(lengths)) % 2 === 1;
        if (noisy) all.push({ timeMajor, reverse, lengths, key: parity });
        else if (parity) all.push({ timeMajor, reverse, lengths, key: false });
      }
    }
  }
  return all;
};

/**
 * Options of `cellLaws` and the one-law entry points: how to build instances (sizes, seed, batch,
 * time, parameters), which laws and configurations to run, tolerances and implementations.
 * @example
 * cellLaws(lstm, { sizes: { inputSize: 2, hiddenSize: 3 }, seed: 1, batch: 2, time: 4 } satisfies CellLawsOptions)
 */
export interface CellLawsOptions
  extends CellLawCheckOptions, Omit<CellCaseOptions, "timeMajor" | "reverse" | "key" | "lengths"> {
  /** Lengths for the padded configurations (default: a mix with 0 and T). */
  readonly lengths?: readonly number[];
  /** The dropout key of the keyed configurations (default: derived from the seed). */
  readonly key?: T.Key;
  /** Which laws (default all); an empty list or an unknown name is refused, so a typo cannot skip every law. */
  readonly laws?: readonly CellLawName[];
  /** Which configurations (default `cellLawConfigs(cell has noise)`). */
  readonly configs?: readonly CellLawConfig[];
}

/** `cellCase`'s options that `cellLaws` passes on (each configuration sets layout, direction, lengths and key). */
const CASE_KEYS = CELL_CASE_KEYS.filter(
  (k: string) => k !== "timeMajor" && k !== "reverse" && k !== "key" && k !== "lengths",
);

/** The keys of `CellLawsOptions`. */
const CELL_LAWS_KEYS: readonly string[] = [
  ...CELL_LAW_CHECK_KEYS,
  ...CASE_KEYS,
  ...keysOf<Pick<CellLawsOptions, "lengths" | "key" | "laws" | "configs">>({
    lengths: true,
    key: true,
    laws: true,
    configs: true,
  }),
];

/**
 * Runs every applicable RNN law on `cell` in every configuration and throws an `Error` naming the
 * law, the cell, the configuration and the first differing path at the first violation: BPTT
 * (rnn = unrolled loop = finite differences), reverse, invariance (remat, unroll, truncate
 * ≥ T, jit), padding, bidirectional padding, stacking (`stack([cell, stackWith ?? cell])`,
 * unkeyed), vmap (`vmap` of one sequence = `rnn` over the batch) and, for a cell with a
 * `sequence` form, parallel (mode "parallel" = mode "sequential", float64 and float32, eager and
 * jitted). A cell with noise runs keyed and unkeyed. A law that does not apply is skipped (by
 * default, parallel for a cell with only `step`): `cellLawsReport` runs the same checks and
 * returns which laws ran and which were skipped and why.
 * @throws Error on the first violation, or when the cell cannot run (with the law and case); an
 * argument error when `o.laws` names a law that does not apply to the cell.
 * @example cellLaws(myCell, { sizes: { inputSize: 3, hiddenSize: 4 } })
 */
export const cellLaws = <P, C>(cell: Cell<P, C>, o: CellLawsOptions): void => {
  cellLawsReport(cell, o);
};

/**
 * `cellLaws`, returning what it checked: the laws that ran and the selected ones skipped, each
 * with the reason, so that a law which does not apply is never taken for one that passed.
 * @throws Error as `cellLaws` does.
 * @example
 * const { ran, skipped } = cellLawsReport(lstm, { sizes: { inputSize: 2, hiddenSize: 3 } })
 * // skipped: [{ law: "parallel", reason: "lstm has no sequence form (only step)" }]
 */
export const cellLawsReport = <P, C>(cell: Cell<P, C>, o: CellLawsOptions): CellLawsReport => {
  checkCell("cellLaws", "cell", cell);
  checkOptions("cellLaws", "o", o, CELL_LAWS_KEYS, false);
  if (typeof o.sizes !== "object" || o.sizes === null)
    invalid("cellLaws", "o.sizes", `must be { inputSize, hiddenSize, … }, got ${String(o.sizes)}`);
  const any = cell as AnyCell;
  // An empty or misspelt selection would run nothing and pass: refuse it.
  const selected: unknown = o.laws;
  if (
    selected !== undefined &&
    (!Array.isArray(selected) ||
      selected.length === 0 ||
      !selected.every((l) => cellLawNames.includes(l as CellLawName)))
  ) {
    invalid(
      "cellLaws",
      "o.laws",
      `must be a non-empty array of ${cellLawNames.join(", ")}, got ${showValue(selected)}`,
    );
  }
  // A law the user asked for by name that cannot apply is refused, not skipped in silence.
  const noParallel = parallelSkipReason(any);
  if (noParallel !== undefined && Array.isArray(selected) && selected.includes("parallel"))
    invalid("cellLaws", "o.laws", `asks for the parallel law, which does not apply: ${noParallel}; drop "parallel"`);
  const flags = ["timeMajor", "reverse", "lengths", "key"] as const;
  const configsGiven: unknown = o.configs;
  // Keys first, so `{ revrse: true }` is named as a typo rather than as a missing flag.
  if (Array.isArray(configsGiven))
    configsGiven.forEach((c: unknown, i) => checkOptions("cellLaws", `o.configs[${i}]`, c, flags, false));
  if (
    configsGiven !== undefined &&
    (!Array.isArray(configsGiven) ||
      configsGiven.length === 0 ||
      !configsGiven.every(
        (c) =>
          typeof c === "object" &&
          c !== null &&
          flags.every((f) => typeof (c as Record<string, unknown>)[f] === "boolean"),
      ))
  ) {
    invalid("cellLaws", "o.configs", "must be a non-empty array of { timeMajor, reverse, lengths, key } booleans");
  }
  const laws = new Set(o.laws ?? cellLawNames.filter((l) => l !== "parallel" || noParallel === undefined));
  const ran = new Set<CellLawName>();
  const run = (law: CellLawName, name: string, c: CellCase, check: () => void): void => {
    guarded(name, c, check);
    ran.add(law);
  };
  const configs = o.configs ?? cellLawConfigs(any.noise !== undefined);
  const seed = o.seed ?? 0;
  const key = o.key ?? T.random.key(seed + 7919);
  const given = o.lengths;
  // cellCase gets its own options only (it refuses the others); each configuration sets the rest.
  const base = pick(o, CASE_KEYS) as Omit<CellCaseOptions, "timeMajor" | "reverse" | "key" | "lengths">;
  const batch = o.xs?.shape[0] ?? o.batch ?? 3;
  const time = o.xs?.shape[1] ?? o.time ?? 5;
  const doneBi = new Set<string>();
  const doneStack = new Set<string>();
  const doneParallel = new Set<string>();
  for (const cfg of configs) {
    // The stack's case draws its own parameters: given ones belong to the single cell.
    const build = (target: AnyCell, ownParams: boolean): CellCase => {
      const { params: _p, ...unparametrised } = base;
      return cellCase(target, {
        ...(ownParams ? base : unparametrised),
        timeMajor: cfg.timeMajor,
        reverse: cfg.reverse,
        ...(cfg.lengths ? { lengths: given ?? defaultLengths(batch, time, seed) } : {}),
        ...(cfg.key ? { key } : {}),
      });
    };
    const c = build(any, true);
    if (laws.has("bptt")) run("bptt", "BPTT", c, () => bpttCheck(c, o));
    if (laws.has("reverse")) run("reverse", "reverse", c, () => reverseCheck(c, o));
    if (laws.has("invariance")) run("invariance", "invariance", c, () => invarianceCheck(c, o));
    if (cfg.lengths && laws.has("padding")) run("padding", "padding", c, () => paddingCheck(c, o));
    const biKey = `${cfg.timeMajor}/${cfg.key}`;
    if (cfg.lengths && laws.has("bidirectionalPadding") && !doneBi.has(biKey)) {
      doneBi.add(biKey);
      run("bidirectionalPadding", "bidirectional padding", c, () => bidirectionalPaddingCheck(c, o));
    }
    const stackKey = `${cfg.timeMajor}/${cfg.reverse}/${cfg.lengths}`;
    if (laws.has("stacking") && !doneStack.has(stackKey)) {
      doneStack.add(stackKey);
      const layers = [any, o.stackWith ?? any] as const;
      const sc = build((o.stack ?? defaultStack)(layers), false);
      const { key: _key, ...unkeyed } = sc;
      run("stacking", "stacking", unkeyed, () => stackingCheck(unkeyed, layers, o));
    }
    if (laws.has("vmap")) run("vmap", "vmap", c, () => vmapCellCheck(c, o));
    // Parallel mode draws no noise, so keyed and unkeyed configurations are one run of this law.
    if (laws.has("parallel") && !doneParallel.has(stackKey)) {
      doneParallel.add(stackKey);
      run("parallel", "parallel", c, () => parallelCellCheck(c, o));
    }
  }
  const skipped = cellLawNames
    .filter((l) => !ran.has(l) && (o.laws === undefined || laws.has(l)))
    .map((law) => ({
      law,
      reason:
        law === "parallel" && noParallel !== undefined
          ? noParallel
          : law === "padding" || law === "bidirectionalPadding"
            ? "no configuration has lengths"
            : "no configuration ran it",
    }));
  return { ran: cellLawNames.filter((l) => ran.has(l)), skipped };
};

/**
 * The BPTT law alone, in every configuration (see `cellLaws`).
 * @example bpttLawForCell(gru, { sizes: { inputSize: 2, hiddenSize: 3 }, order: 2 })
 */
export const bpttLawForCell = <P, C>(cell: Cell<P, C>, o: CellLawsOptions): void =>
  cellLaws(cell, { ...o, laws: ["bptt"] });

/**
 * The reverse law alone, in every configuration (see `cellLaws`).
 * @example reverseLawForCell(lstm, { sizes: { inputSize: 2, hiddenSize: 3 } })
 */
export const reverseLawForCell = <P, C>(cell: Cell<P, C>, o: CellLawsOptions): void =>
  cellLaws(cell, { ...o, laws: ["reverse"] });

/**
 * Checkpoint/unroll/truncate/jit invariance alone, in every configuration (see `cellLaws`).
 * @example invarianceLawForCell(mgu, { sizes: { inputSize: 2, hiddenSize: 3 }, segments: [2] })
 */
export const invarianceLawForCell = <P, C>(cell: Cell<P, C>, o: CellLawsOptions): void =>
  cellLaws(cell, { ...o, laws: ["invariance"] });

/**
 * The padding law alone, in every padded configuration (see `cellLaws`).
 * @example paddingLaw(lstm, { sizes: { inputSize: 2, hiddenSize: 3 }, lengths: [5, 0, 2] })
 */
export const paddingLaw = <P, C>(cell: Cell<P, C>, o: CellLawsOptions): void =>
  cellLaws(cell, { ...o, laws: ["padding"] });

/**
 * The bidirectional padding law alone: `bidirectional(cell, cell)` on a padded batch equals it on
 * each unpadded sequence (see `cellLaws`).
 * @example bidirectionalPaddingLaw(gru, { sizes: { inputSize: 2, hiddenSize: 3 } })
 */
export const bidirectionalPaddingLaw = <P, C>(cell: Cell<P, C>, o: CellLawsOptions): void =>
  cellLaws(cell, { ...o, laws: ["bidirectionalPadding"] });

/**
 * The parallel law alone, for a cell with a `sequence` form (see `cellLaws`).
 * @example parallelLawForCell(minGru, { sizes: { inputSize: 2, hiddenSize: 3 } })
 */
export const parallelLawForCell = <P, C>(cell: Cell<P, C>, o: CellLawsOptions): void => {
  cellLaws(cell, { ...o, laws: ["parallel"] });
};

/**
 * The stacking law alone: `stack([a, b])` equals running `a` then `b` by hand (see `cellLaws`).
 * @example stackingLaw(lstm, gru, { sizes: { inputSize: 2, hiddenSize: 3 } })
 */
export const stackingLaw = <PA, CA, PB, CB>(a: Cell<PA, CA>, b: Cell<PB, CB>, o: CellLawsOptions): void =>
  cellLaws(a, { ...o, stackWith: b as AnyCell, laws: ["stacking"] });
