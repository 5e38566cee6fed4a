/**
 * @file The LSTM training run that the strict-CSP tests compare across engines: `jit(valueAndGrad)`
 * of an LSTM + linear readout, then clipped Adam applied eagerly (the playground's split), in
 * float32 at sizes where the compiler emits WebAssembly SIMD loops and in-place products (gates
 * of 8 × 128 elements, 8 × 32 × 128 products) so that every fallback has something to replace.
 * Imported by csp.test.ts (the reference, on an unrestricted engine) and by child.ts (run in a
 * child process whose engine refuses code generation).
 */
import * as T from "@rewind/tensor";
import type { Key, Tensor } from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import { linear, lstm, rnn, type LinearParams, type TorchCellParams } from "@rewind/rnn";
import { adam, applyUpdates, chain, clipByGlobalNorm } from "@rewind/optim";

interface Params {
  readonly cell: TorchCellParams;
  readonly out: LinearParams;
}
const [B, TIME, IN, H, OUT] = [8, 10, 16, 32, 4];
const readout = linear(OUT);
const lossOf = (p: Params, xs: Value, ys: Value): Value =>
  A.mean(A.square(A.sub(readout.apply(p.out)(rnn(lstm, p.cell, xs).outputs), ys)));

/** What a run produced: every leaf's bits, and what compiling the step's graph gives on this engine. */
export interface RunResult {
  /** Each loss and each final parameter as `dtype[shape]:hex`. */
  readonly bits: readonly string[];
  /** `compileGraph` of the traced step: its SIMD loop count, or the message it threw (`"not asked"` without `compileAfter`). */
  readonly compiled: { readonly simdKernels: number } | { readonly refused: string } | "not asked";
}

const hex = (t: Tensor): string => {
  const d = t.data;
  let s = "";
  const bytes = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return `${t.dtype}[${t.shape.join(",")}]:${s}`;
};

/**
 * `steps` training steps from a fixed seed; then, with `compileAfter`, `compileGraph` of the step
 * (left out where the program opted out of code generation: it would probe the engine).
 * @example trainLstm(3, true).bits.length // 3 losses + 6 parameters
 */
export const trainLstm = (steps: number, compileAfter: boolean): RunResult => {
  const [k1, k2, kData] = T.random.split(T.random.key(14), 3) as [Key, Key, Key];
  let p: Params = { cell: lstm.init(k1, { inputSize: IN, hiddenSize: H }), out: readout.init(k2, H) };
  const opt = chain(clipByGlobalNorm(1), adam({ learningRate: 1e-2 }));
  let s = opt.init(p);
  const lossAndGrad = A.jit(A.valueAndGrad(lossOf) as (p: Params, xs: Tensor, ys: Tensor) => [Tensor, Params]);
  const losses: Tensor[] = [];
  let batch: [Tensor, Tensor] = [T.zeros([B, TIME, IN]), T.zeros([B, TIME, OUT])];
  for (let i = 0; i < steps; i++) {
    const [kx, ky] = T.random.split(T.random.foldIn(kData, i), 2) as [Key, Key];
    batch = [T.random.normal(kx, [B, TIME, IN]), T.random.normal(ky, [B, TIME, OUT])];
    const [l, g] = lossAndGrad(p, ...batch);
    const [u, s2] = opt.update(g, s, p);
    [p, s] = [applyUpdates(p, u), s2];
    losses.push(l);
  }
  let compiled: RunResult["compiled"] = "not asked";
  if (compileAfter) {
    try {
      compiled = { simdKernels: A.compileGraph(lossAndGrad.graphFor(p, ...batch).graph).simdKernels };
    } catch (e) {
      compiled = { refused: e instanceof Error ? e.message : String(e) };
    }
  }
  return { bits: [...losses, ...A.treeLeaves(p)].map((l) => hex(l as Tensor)), compiled };
};
