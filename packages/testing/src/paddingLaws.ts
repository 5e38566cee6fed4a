/**
 * @file The padding laws: padding never changes a result or a gradient. A padded sample gives the
 * outputs (on its valid steps), final carry and gradients of the same sample run alone without
 * padding; its outputs past its length are zero; the gradient with respect to padded inputs is
 * exactly zero; one sample's loss does not reach another sample; and the same holds for a
 * bidirectional layer, whose backward direction must reverse only each valid prefix.
 *
 * With a key, the sample run alone gets the noise rows it had in its batch (`rowNoiseCell`), so
 * both runs see the same dropout masks.
 */
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { bidirectional, type AnyCell, type Bidirectional, type RnnResult } from "@rewind/rnn";
import {
  checkCellCase,
  defaultLengths,
  dimsOf,
  randomLike,
  rowNoiseCell,
  rowOf,
  samples,
  steps,
  type CellCase,
} from "./cellCase.js";
import { outcome, rnnRun, type CellLawCheckOptions, type Outcome, type Run } from "./cellLawSetup.js";
import { expectClose, expectSameOutcome, expectZero, type LawCheck } from "./lawKit.js";

/** How to run a padded batch and each of its samples alone. */
interface PaddingSetup {
  readonly law: string;
  /** The instance, with lengths, as messages show it. */
  readonly c: CellCase;
  readonly params: unknown;
  readonly init: unknown;
  readonly padded: Run;
  readonly alone: (b: number) => Run;
}

const zerosLike = (tree: unknown): unknown => A.treeMap((x) => T.zeros(x.shape, x.dtype), tree);

/** Sample b's valid steps and final carry, out of a run over the whole padded batch. */
const sampleOf =
  (run: Run, b: number, len: number, timeMajor: boolean): Run =>
  (p, init, xs) => {
    const r: RnnResult<unknown> = run(p, init, xs);
    return { outputs: steps(samples(r.outputs, timeMajor, b), timeMajor, 0, len), finalCarry: rowOf(r.finalCarry, b) };
  };

const checkPadding = (s: PaddingSetup, o: CellLawCheckOptions): void => {
  const { law, c } = s;
  const check: LawCheck = { law, instance: c, options: o };
  const { batch, time } = dimsOf(c);
  const lengths = c.lengths!;
  const tm = c.timeMajor;
  const args = [s.params, s.init, c.xs] as const;
  const whole = outcome(s.padded, c, args);
  lengths.forEach((len, b) => {
    if (len === time) return;
    expectZero(
      law,
      c,
      `outputs of sample ${b} past its length ${len}`,
      steps(samples(whole.outputs, tm, b), tm, len, time),
      "outputs",
    );
    if (whole.grad.xs !== null) {
      expectZero(
        law,
        c,
        `the gradient w.r.t. sample ${b}'s padded inputs (steps ${len}..${time - 1})`,
        steps(samples(whole.grad.xs as A.Value, tm, b), tm, len, time),
        "grad.xs",
      );
    }
  });
  lengths.forEach((len, b) => {
    const mine: Outcome = outcome(sampleOf(s.padded, b, len, tm), c, args);
    const xsAlone = steps(samples(c.xs, tm, b), tm, 0, len);
    const alone: Outcome = outcome(s.alone(b), c, [s.params, rowOf(s.init, b), xsAlone]);
    const what = `sample ${b} (length ${len}) in the padded batch vs alone without padding`;
    for (const key of ["outputs", "finalCarry", "loss"] as const) expectClose(check, what, mine[key], alone[key], key);
    expectClose(check, what, mine.grad.params, alone.grad.params, "grad.params");
    expectClose(check, what, rowOf(mine.grad.initialCarry, b), alone.grad.initialCarry, "grad.initialCarry");
    if (mine.grad.xs !== null) {
      const gx = mine.grad.xs as A.Value;
      expectClose(check, what, steps(samples(gx, tm, b), tm, 0, len), alone.grad.xs, "grad.xs");
      if (len < time)
        expectZero(
          law,
          c,
          `the gradient of sample ${b}'s loss w.r.t. its padded inputs`,
          steps(samples(gx, tm, b), tm, len, time),
          "grad.xs",
        );
    }
    for (let other = 0; other < batch; other++) {
      if (other === b) continue;
      const why = `sample ${b}'s loss must not depend on sample ${other}`;
      const carryGrad = rowOf(mine.grad.initialCarry, other);
      expectClose(check, why, carryGrad, zerosLike(carryGrad), "grad.initialCarry");
      if (mine.grad.xs !== null) {
        const g = samples(mine.grad.xs as A.Value, tm, other);
        expectClose(check, why, g, T.zeros(g.shape, g.dtype), "grad.xs");
      }
    }
  });
};

const withLengths = (c: CellCase): CellCase => {
  const { batch, time } = dimsOf(c);
  return c.lengths === undefined ? { ...c, lengths: defaultLengths(batch, time) } : c;
};

/**
 * Padding law for `rnn`: on the case's lengths (default: a mix with 0 and T), each sample in the
 * padded batch equals the sample alone (outputs on its valid steps, final carry, gradients w.r.t.
 * params, its initial carry and its valid inputs); outputs past a length are zero; gradients
 * w.r.t. padded inputs are exactly zero; no sample's loss reaches another sample; and lengths
 * all equal to T give what no lengths give.
 * @example paddingCheck(cellCase(lstm, { sizes: { inputSize: 2, hiddenSize: 3 }, lengths: [5, 0, 2] }))
 */
export const paddingCheck = (c0: CellCase, o: CellLawCheckOptions = {}): void => {
  checkCellCase("cellLawChecks.padding", c0);
  const c = withLengths(c0);
  const { batch, time } = dimsOf(c);
  checkPadding(
    {
      law: "padding",
      c,
      params: c.params,
      init: c.initialCarry,
      padded: rnnRun(c, o),
      alone: (b) => {
        const { lengths: _lengths, ...rest } = c;
        return rnnRun({ ...rest, cell: rowNoiseCell(c.cell, batch, b) }, o);
      },
    },
    o,
  );
  const { lengths: _lengths, ...none } = c;
  const full = { ...c, lengths: Array.from({ length: batch }, () => time) };
  expectSameOutcome(
    "padding",
    full,
    "lengths all T vs no lengths",
    outcome(rnnRun(full, o), full),
    outcome(rnnRun(none, o), none),
    o,
  );
};

/**
 * Bidirectional padding law: `bidirectional(cell, cell)` on a padded batch equals the layer on
 * each unpadded sequence alone (merged outputs, both final carries, gradients), with zero outputs
 * and exactly zero input gradients on padding. The reverse direction's parameters are drawn
 * from the case's sizes (or reuse the forward ones) and its initial carry is random too.
 * @example bidirectionalPaddingCheck(cellCase(gru, { sizes: { inputSize: 2, hiddenSize: 3 }, lengths: [4, 1, 0] }))
 */
export const bidirectionalPaddingCheck = (c0: CellCase, o: CellLawCheckOptions = {}): void => {
  checkCellCase("cellLawChecks.bidirectionalPadding", c0);
  const impl = o.bidirectional ?? bidirectional;
  const c1 = withLengths(c0);
  const { batch } = dimsOf(c1);
  const cell: AnyCell = c1.cell;
  const bi = impl(cell, cell);
  // The backward direction gets its own parameters; any fixed key will do.
  const k = T.random.key(0x5eed);
  const reverse: unknown = c1.sizes === undefined ? c1.params : cell.init(k, c1.sizes, { dtype: "float64" });
  const params = { forward: c1.params, reverse };
  const init = { forward: c1.initialCarry, reverse: randomLike(c1.initialCarry, T.random.foldIn(k, 1), 0.5) };
  const c: CellCase = { ...c1, cell: { ...cell, name: bi.name }, reverse: false };

  const apply =
    (layer: Bidirectional<unknown, unknown, unknown, unknown>, lengths: boolean): Run =>
    (p, i, xs) =>
      layer.apply(p as { forward: unknown; reverse: unknown }, xs, {
        timeMajor: c.timeMajor,
        initialCarry: i as Record<string, unknown>,
        ...(lengths ? { lengths: c.lengths! } : {}),
        ...(c.key === undefined ? {} : { key: c.key }),
      });
  checkPadding(
    {
      law: "bidirectional padding",
      c,
      params,
      init,
      padded: apply(bi, true),
      alone: (b) => apply(impl(rowNoiseCell(cell, batch, b), rowNoiseCell(cell, batch, b)), false),
    },
    o,
  );
};
