/**
 * @file The vmap law for a cell: running the cell on one sequence (`rnn` on a batch of one) and
 * batching that with `vmap` over the case's samples equals `rnn` over the batch — outputs, final
 * carry, loss and gradients (w.r.t. params, initial carry and xs) — and `jit` of the vmapped run
 * gives the same bits as eager. Lengths are a batched int32 argument, so each sample keeps its
 * own; with a key, each sample gets the noise rows it had in its batch, picked by its (batched)
 * index, so both sides see the same dropout masks.
 */
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { rnn, type AnyCell, type RnnResult } from "@rewind/rnn";
import { checkCellCase, dimsOf, type CellCase } from "./cellCase.js";
import { outcome, rnnOptions, rnnRun, type CellLawCheckOptions, type RnnImpl, type Run } from "./cellLawSetup.js";
import { expectClose, expectSameOutcome, type LawCheck } from "./lawKit.js";

/** `cell` whose noise for a batch of one is row `index` (a traced int32 scalar) of a batch of `batch`'s. */
const indexedNoiseCell = (cell: AnyCell, batch: number, index: A.Value): AnyCell => {
  const noise = cell.noise;
  if (noise === undefined) return cell;
  const row = A.reshape(index, [1]);
  return {
    ...cell,
    noise: (key: T.Key, _one: number, p: unknown) => A.treeMap((l) => A.take(l, row, 0), noise(key, batch, p)),
  };
};

/**
 * Vmap law for a cell: `vmap` over the samples of `rnn` on one sequence equals `rnn` over the
 * batch (values and gradients), and `jit` of it equals it bit for bit. The `vmap` and `rnn` under
 * test come from `o` (default Rewind's own).
 * @example vmapCellCheck(cellCase(gru, { sizes: { inputSize: 2, hiddenSize: 3 }, lengths: [4, 0, 2] }))
 */
export const vmapCellCheck = (c: CellCase, o: CellLawCheckOptions = {}): void => {
  checkCellCase("cellLawChecks.vmap", c);
  const impl: RnnImpl = o.rnn ?? rnn;
  const vmap = o.vmap ?? A.vmap;
  const { batch, time } = dimsOf(c);
  const axis = c.timeMajor ? 1 : 0;
  const lengths = T.fromDataOrThrow(c.lengths ?? Array.from({ length: batch }, () => time), [batch], "int32");
  const index = T.arange(0, batch, 1, "int32");
  const one = (p: unknown, init: unknown, x: A.Value, len: A.Value, i: A.Value): RnnResult<unknown> => {
    const cell = c.key === undefined ? c.cell : indexedNoiseCell(c.cell, batch, i);
    const carry = A.treeMap((l) => A.expandDims(l, 0), init);
    const extra = c.lengths === undefined ? {} : { lengths: A.reshape(len, [1]) };
    const r = impl(cell, p, A.expandDims(x, axis), rnnOptions(c, carry, extra));
    return { outputs: A.squeeze(r.outputs, axis), finalCarry: A.treeMap((l) => A.squeeze(l, 0), r.finalCarry) };
  };
  const batched = vmap(one, { inAxes: [null, 0, axis, 0, 0], outAxes: { outputs: axis, finalCarry: 0 } });
  const vmapped: Run = (p, init, xs) => batched(p, init, xs, lengths, index);
  const what = "vmap of rnn on one sequence vs rnn over the batch";
  expectSameOutcome("vmap", c, what, outcome(vmapped, c), outcome(rnnRun(c, o), c), o);
  const check: LawCheck = { law: "vmap", instance: c, options: { rtol: 0, atol: 0 } };
  const args = [c.params, c.initialCarry, c.xs, lengths, index] as const;
  expectClose(check, "jit(vmap(…)) vs vmap(…), bit for bit", (o.jit ?? A.jit)(batched)(...args), batched(...args));
};
