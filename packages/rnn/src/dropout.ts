/**
 * @file Input dropout as a combinator. It never draws inside the loop: its `noise(key, batch,
 * params)` draws one step's keep mask, `rnn(…, { key })` calls it once per step outside the scan,
 * and the step reads the mask from `noise`. Without a key there is no noise and it is the cell.
 */
import * as T from "@rewind/tensor";
import type { Key } from "@rewind/tensor";
import type { Value } from "@rewind/autodiff";
import type { Cell } from "./Cell.js";
import { checkCell } from "./custom.js";
import { applyMask, checkRate, inputSizeOf, keepMask, optional } from "./dropoutKit.js";

/** The noise of `dropout`: this step's input keep mask and the inner cell's own noise. */
interface DropoutNoise {
  readonly mask: Value | null;
  readonly inner: unknown;
}

/**
 * Input dropout: each step's x_t has units zeroed with probability `rate` and the rest scaled by
 * 1/(1 − rate), with fresh masks per step from `rnn`'s key. Parameters and carry are the cell's;
 * its own noise (e.g. a stack's dropout) still applies. Without a key it is the cell itself, so
 * it keeps the cell's `sequence` form: parallel mode runs without a key (dropout off).
 * @throws TensorException for a rate outside [0, 1).
 * @example
 * const cell = dropout(lstm, 0.3)
 * rnn(cell, lstm.init(random.key(0), { inputSize: 8, hiddenSize: 16 }), xs, { key: random.key(1) })
 */
export const dropout = <P, C, X = undefined>(cell: Cell<P, C, X>, rate: number): Cell<P, C, X> => {
  const inner = checkCell("dropout", "cell", cell);
  const r = checkRate("dropout", "rate", rate);
  const name = `dropout(${inner.name}, ${r})`;
  return {
    name,
    init: (key, sizes, options) => inner.init(key, sizes, options),
    initialCarry: (batch, p) => inner.initialCarry(batch, p),
    ...optional("checkContext", inner.checkContext),
    step: (p, ctx) => {
      const s = inner.step(p, ctx);
      return (carry, x, noise) => {
        const nz = noise as DropoutNoise | undefined;
        if (nz === undefined) return s(carry, x);
        const dropped = nz.mask === null ? x : applyMask(`${name}.step`, x, nz.mask, r);
        return s(carry, dropped, nz.inner ?? undefined);
      };
    },
    outputSize: (p) => inner.outputSize(p),
    inputSize: (p) => inputSizeOf(name, inner, p),
    ...optional("sequence", inner.sequence),
    noise: (key, batch, p): DropoutNoise => {
      const [kMask, kInner] = T.random.split(key, 2) as [Key, Key];
      return {
        mask: r > 0 ? keepMask(kMask, r, batch, inputSizeOf(name, inner, p)) : null,
        inner: inner.noise?.(kInner, batch, p) ?? null,
      };
    },
  };
};
