/**
 * @file Per-example gradients of the LSTM workload on Rewind, the two ways a user gets them:
 * `jit(vmap(valueAndGrad(loss of one example)))` (one batched program), and a loop of B calls of
 * the jitted single-example step (what one writes without `vmap`). Each example's loss is the
 * workload's loss on a batch of one, so the B per-example gradients average to the batch
 * gradient of the LSTM section.
 */
import * as T from "@rewind/tensor";
import { jit, reshape, valueAndGrad, vmap, type Value } from "@rewind/autodiff";
import { LSTM, l2, type LstmData } from "./data.js";
import { lstmLoss, rewindLstmParts, type LstmModel, type StepContestant } from "./rewind.js";

const { T: STEPS, IN } = LSTM;

/** One example's loss: `x` [T, IN], `y` [1], run as a batch of one. */
const exampleLoss = (m: LstmModel, x: Value, y: Value): Value =>
  lstmLoss(reshape(x, [1, STEPS, IN]), reshape(y, [1, 1]))(m);

/** The model's six leaves in the order every contestant reports them. */
const leaves = (g: LstmModel): T.Tensor[] =>
  [g.cell.weight_ih, g.cell.weight_hh, g.cell.bias_ih, g.cell.bias_hh, g.w, g.b] as T.Tensor[];

/** `x`'s example `i` along axis 0, as its own tensor. */
const row = (x: T.Tensor, i: number): T.Tensor => {
  const [n, ...rest] = x.shape;
  const size = x.data.length / n!;
  return T.fromDataOrThrow(x.data.slice(i * size, (i + 1) * size), rest, x.dtype);
};

/**
 * Loss (mean of the per-example losses) and, per parameter, the L2 norm of the B stacked
 * per-example gradients: a check that sees every example's gradient, not only their mean.
 */
const summary = (losses: readonly number[], perExample: ReadonlyArray<readonly T.Tensor[]>) => ({
  loss: losses.reduce((a, b) => a + b, 0) / losses.length,
  gradNorms: perExample[0]!.map((_, k) => Math.hypot(...perExample.map((g) => l2(g[k]!.data)))),
});

/**
 * Per-example LSTM gradients on Rewind: `"vmap"` (one jitted vmapped program) or `"loop"` (B calls
 * of the jitted single-example step).
 * @example rewindPerExample(makeLstmData(), "vmap").run()
 */
export const rewindPerExample = (d: LstmData, mode: "vmap" | "loop"): StepContestant => {
  const { model, xs, ys } = rewindLstmParts(d);
  const perExample = valueAndGrad(exampleLoss);
  if (mode === "vmap") {
    const step = jit(vmap(perExample, { inAxes: [null, 0, 0] }));
    return {
      name: "Rewind jit(vmap(valueAndGrad))",
      run: () => void step(model, xs, ys),
      check: () => {
        const [losses, g] = step(model, xs, ys) as [T.Tensor, LstmModel];
        const stacked = leaves(g);
        return summary(
          Array.from(losses.data),
          Array.from({ length: LSTM.B }, (_, i) => stacked.map((t) => row(t, i))),
        );
      },
    };
  }
  const one = jit(perExample);
  const rows = Array.from({ length: LSTM.B }, (_, i) => [row(xs, i), row(ys, i)] as const);
  const all = () => rows.map(([x, y]) => one(model, x, y) as [T.Tensor, LstmModel]);
  return {
    name: `Rewind loop of ${LSTM.B} jit(valueAndGrad) calls`,
    run: () => void all(),
    check: () => {
      const results = all();
      return summary(
        results.map(([l]) => l.data[0]!),
        results.map(([, g]) => leaves(g)),
      );
    },
  };
};
