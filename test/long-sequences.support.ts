/**
 * @file The LSTM problem shared by long-sequences.test.ts and its memory-measuring child process:
 * small sizes (batch 2, 4 inputs, 8 hidden) so that T = 10,000 steps of BPTT take seconds.
 */
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import { lstm, manyToOne, type LstmCarry, type TorchCellParams } from "@rewind/rnn";

export const BATCH = 2;
export const INPUTS = 4;
export const HIDDEN = 8;
/** Bytes of one float32 LSTM carry (h and c, each [BATCH, HIDDEN]): what remat "carries" stores per step. */
export const CARRY_BYTES = 2 * BATCH * HIDDEN * 4;

/** The LSTM's parameters (float32 unless asked), always drawn from the same key. */
export const lstmParams = (dtype: "float32" | "float64" = "float32"): TorchCellParams =>
  lstm.init(T.random.key(0), { inputSize: INPUTS, hiddenSize: HIDDEN }, { dtype });

/** A time-major input sequence `[length, batch, INPUTS]` (batch `BATCH` unless given). */
export const sequence = (length: number, dtype: "float32" | "float64" = "float32", batch = BATCH): T.Tensor =>
  T.random.normal(T.random.key(1), [length, batch, INPUTS], dtype);

/** The LSTM step as a scan body with no per-step output. */
export const lastStateStep = (p: TorchCellParams) => {
  const step = lstm.step(p);
  return (c: LstmCarry, x: A.Value): readonly [LstmCarry, null] => [step(c, x)[0], null];
};

/**
 * A many-to-one loss (sequence classification) over `xs`: the LSTM run by `scan` with no per-step
 * output, so what the forward pass keeps for the gradient is the scan's residuals and little else,
 * exactly what the remat policy governs and `estimateScanResiduals` predicts.
 */
export const manyToOneLoss =
  (xs: T.Tensor, opts: A.ScanOptions) =>
  (p: TorchCellParams): A.Value => {
    const [final] = A.scan(lastStateStep(p), lstm.initialCarry(xs.shape[1]!, p), xs, opts);
    return A.add(A.sum(A.square(final.h)), A.sum(final.c));
  };

/** The same loss through @rewind/rnn's `manyToOne` (time-major xs), which reads the last output. */
export const rnnManyToOneLoss =
  (xs: T.Tensor, opts: A.ScanOptions) =>
  (p: TorchCellParams): A.Value => {
    const { output, finalCarry } = manyToOne(lstm, p, xs, { timeMajor: true, remat: opts.remat ?? "all" });
    return A.add(A.sum(A.square(output)), A.sum(finalCarry.c));
  };
