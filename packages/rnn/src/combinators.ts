/**
 * @file Cell combinators: functions from cells (and layers) to cells. Each result is an ordinary
 * cell, so combinators nest freely and a user's `defineCell` cell goes anywhere a built-in one
 * does. Parameters and carries of a composite are plain trees of its parts' (an array for
 * `stack`, `{ input, cell }` for `mapInput`, …), so `grad` returns gradients in the same shape.
 *
 * Dropout never draws inside the loop: a cell's `noise(key, batch, params)` draws one step's
 * Bernoulli keep masks, `rnn(…, { key })` calls it once per step outside the scan, and the step
 * reads its masks from `noise`. Without a key there is no noise and dropout is the identity.
 * Composites nest their parts' noise in a tree of the same shape as their parameters.
 */
import * as T from "@rewind/tensor";
import type { Key } from "@rewind/tensor";
import { add, type Value } from "@rewind/autodiff";
import type { Cell, CellSizes } from "./Cell.js";
import type { TensorInitCell } from "./tensorInit.js";
import { checkCell } from "./custom.js";
import { contextOf } from "./context.js";
import type { Layer, TensorInitLayer } from "./layers.js";
import type { AnyContextCell, StackCell } from "./combinatorTypes.js";
import { checkOptions, checkSizesObject } from "./util.js";
import { mapInputSequence, mapOutputSequence, residualSequence, stackSequence } from "./combinatorSequences.js";
import { applyMask, checkRate, inputSizeOf, keepMask, optional } from "./dropoutKit.js";

// Input dropout and the input-size helper live in their own files; their public names stay here.
export { inputSizeOf } from "./dropoutKit.js";
export { dropout } from "./dropout.js";

export type { AnyCell, AnyContextCell, InitParamsOf, StackCell, StackContext } from "./combinatorTypes.js";

const paramsError = (op: string, detail: string, fix: string): never =>
  T.fail({ _tag: "ValueError", op, arg: "params", detail, fix });

const STACK_KEYS: readonly string[] = ["dropout"];

/** The noise of `stack`: each layer's own noise and the mask after each layer but the last. */
interface StackNoise {
  readonly cells: readonly unknown[];
  readonly masks: ReadonlyArray<Value | null>;
}

/**
 * Stacks cells: layer k reads layer k−1's output, and the stack outputs the last layer's.
 * Parameters and carry are arrays with one entry per layer; layer k > 0 is initialised with the
 * previous layer's `outputSize` as its `inputSize` (use `withSizes` for per-layer hidden sizes).
 * `dropout` drops each layer's outputs except the last's, when `rnn` is given a key. When every
 * layer has a `sequence` form, so has the stack (for `rnn(…, { mode: "parallel" })`).
 * @throws TensorException for an empty or non-cell list, or a rate outside [0, 1).
 * @example
 * const deep = stack([lstm, lstm], { dropout: 0.2 })
 * const ps = deep.init(random.key(0), { inputSize: 8, hiddenSize: 32 }) // [lstmParams, lstmParams]
 * rnn(deep, ps, xs, { key: random.key(1) }) // dropout on; without key: off
 */
export const stack = <const Cs extends readonly AnyContextCell[]>(
  cells: Cs,
  opts: { readonly dropout?: number } = {},
): StackCell<Cs> => {
  if (!Array.isArray(cells) || cells.length === 0) {
    T.fail({
      _tag: "ValueError",
      op: "stack",
      arg: "cells",
      detail: `expected a non-empty array of cells, got ${Array.isArray(cells) ? "[]" : typeof cells}`,
      fix: "pass e.g. stack([lstm, lstm])",
    });
  }
  const parts = cells.map((c, k) => checkCell("stack", `cells[${k}]`, c as Cell<unknown, unknown, unknown>));
  checkOptions("stack", "options", opts, STACK_KEYS);
  const rate = checkRate("stack", "options.dropout", opts.dropout ?? 0);
  const n = parts.length;
  const name = `stack([${parts.map((c) => c.name).join(", ")}])`;
  const asList = (op: string, ps: unknown, what: string): readonly unknown[] => {
    if (!Array.isArray(ps) || ps.length !== n) {
      paramsError(
        op,
        `${what} must be an array of ${n} (one per layer), got ${Array.isArray(ps) ? `${ps.length}` : typeof ps}`,
        `pass the array ${name}.${what === "params" ? "init" : "initialCarry"} returned`,
      );
    }
    return ps as readonly unknown[];
  };
  // Masks go between layers only, so a one-layer stack has no dropout of its own.
  const hasNoise = (rate > 0 && n > 1) || parts.some((c) => c.noise !== undefined);
  const sequence = stackSequence(parts, asList, name);
  const reads = parts.some((c) => c.checkContext !== undefined);
  const cell: Cell<readonly unknown[], readonly unknown[], unknown> = {
    name,
    init: (key, sizes, options) => {
      checkSizesObject(`${name}.init`, sizes);
      const keys = T.random.split(key, n);
      const ps: unknown[] = [];
      let inputSize = sizes.inputSize;
      parts.forEach((c, k) => {
        const p = c.init(keys[k]!, { ...sizes, inputSize }, options);
        ps.push(p);
        inputSize = c.outputSize(p);
      });
      return ps;
    },
    initialCarry: (batch, ps) =>
      asList(`${name}.initialCarry`, ps, "params").map((p, k) => parts[k]!.initialCarry(batch, p)),
    step: (ps, ctx) => {
      const list = asList(`${name}.step`, ps, "params");
      // Every layer that reads a context reads the same one (e.g. attention layers over one memory).
      const steps = parts.map((c, k) => c.step(list[k], c.checkContext === undefined ? undefined : ctx));
      return (carry, x, noise) => {
        const cs = asList(`${name}.step`, carry, "carry");
        const nz = noise as StackNoise | undefined;
        const next: unknown[] = [];
        let h = x;
        steps.forEach((s, k) => {
          const [c, y] = s(cs[k], h, nz?.cells[k] ?? undefined);
          next.push(c);
          const mask = nz?.masks[k];
          h = mask === undefined || mask === null ? y : applyMask(`${name}.step`, y, mask, rate);
        });
        return [next, h];
      };
    },
    outputSize: (ps) => parts[n - 1]!.outputSize(asList(`${name}.outputSize`, ps, "params")[n - 1]),
    inputSize: (ps) => inputSizeOf("stack", parts[0]!, asList(`${name}.inputSize`, ps, "params")[0]),
    ...optional("sequence", sequence),
    ...(reads
      ? {
          checkContext: (op: string, ctx: unknown, batch: number, ps: readonly unknown[]) => {
            const list = asList(`${name}.checkContext`, ps, "params");
            parts.forEach((c, k) => c.checkContext?.(op, ctx, batch, list[k]));
          },
        }
      : {}),
    ...(hasNoise
      ? {
          noise: (key: Key, batch: number, ps: readonly unknown[]): StackNoise => {
            const list = asList(`${name}.noise`, ps, "params");
            const keys = T.random.split(key, 2 * n);
            return {
              cells: parts.map((c, k) => c.noise?.(keys[k]!, batch, list[k]) ?? null),
              masks: parts.map((c, k) =>
                rate > 0 && k < n - 1 ? keepMask(keys[n + k]!, rate, batch, c.outputSize(list[k])) : null,
              ),
            };
          },
        }
      : {}),
  };
  // Each entry of init's array is that layer's own init result, hence StackCell's init type.
  return cell as unknown as StackCell<Cs>;
};

/**
 * A residual connection around `cell`: `y = x + cell(x)`, with the cell's own parameters, carry
 * noise and (if it has one) sequence form. The cell must output as many features as it reads.
 * @throws TensorException when outputSize ≠ inputSize (at init, and at step for given params).
 * @example
 * const block = residual(gru)
 * const p = block.init(random.key(0), { inputSize: 16, hiddenSize: 16 })
 */
export const residual = <P, C, X = undefined>(cell: Cell<P, C, X>): Cell<P, C, X> => {
  const inner = checkCell("residual", "cell", cell);
  const name = `residual(${inner.name})`;
  const mismatch = (shapes: readonly (readonly number[])[], inputSize: number, outputSize: number): never =>
    T.fail({
      _tag: "ShapeError",
      op: name,
      arg: "cell",
      shapes,
      detail:
        "x + cell(x) needs outputSize = inputSize, " +
        `but the cell reads ${inputSize} features and outputs ${outputSize}`,
      fix: `set hiddenSize to ${inputSize} (or wrap the cell with mapOutput(cell, linear(${inputSize})))`,
    });
  return {
    name,
    init: (key, sizes, options) => {
      checkSizesObject(`${name}.init`, sizes);
      const p = inner.init(key, sizes, options);
      const out = inner.outputSize(p);
      if (out !== sizes.inputSize) mismatch([[sizes.inputSize], [out]], sizes.inputSize, out);
      return p;
    },
    initialCarry: (batch, p) => inner.initialCarry(batch, p),
    ...optional("checkContext", inner.checkContext),
    step: (p, ctx) => {
      const s = inner.step(p, ctx);
      return (carry, x, noise) => {
        const [next, y] = s(carry, x, noise);
        if (!T.shapesEqual(x.shape, y.shape)) mismatch([x.shape, y.shape], x.shape[1] ?? 0, y.shape[1] ?? 0);
        return [next, add(x, y)];
      };
    },
    outputSize: (p) => inner.outputSize(p),
    // The input width equals the output width, so it is known even when the cell does not say.
    inputSize: (p) => inner.outputSize(p),
    ...(inner.noise === undefined ? {} : { noise: inner.noise }),
    ...optional("sequence", residualSequence(inner, mismatch)),
  };
};

/** Parameters of `mapInput(cell, layer)`. */
export interface MapInputParams<Q, P> {
  /** The layer's parameters, applied to each step's input before the cell. */
  readonly input: Q;
  /** The wrapped cell's parameters. */
  readonly cell: P;
}

/** Parameters of `mapOutput(cell, layer)`. */
export interface MapOutputParams<P, Q> {
  /** The wrapped cell's parameters. */
  readonly cell: P;
  /** The layer's parameters, applied to each step's output after the cell. */
  readonly output: Q;
}

const checkLayer = <Q>(op: string, layer: Layer<Q>): Layer<Q> => {
  const l = layer as unknown as Record<string, unknown> | null;
  if (
    typeof l !== "object" ||
    l === null ||
    typeof l["init"] !== "function" ||
    typeof l["apply"] !== "function" ||
    typeof l["outputSize"] !== "function"
  ) {
    T.fail({
      _tag: "ValueError",
      op,
      arg: "layer",
      detail: "expected a layer ({ name, init, apply, outputSize })",
      fix: "pass e.g. linear(10) or embedding(vocab, dim)",
    });
  }
  return layer;
};

const checkKeys = (op: string, p: unknown, keys: readonly string[]): Record<string, unknown> => {
  if (typeof p !== "object" || p === null || keys.some((k) => !(k in p))) {
    paramsError(
      op,
      `params must be an object with keys ${keys.join(", ")}`,
      "pass the parameters this cell's init returned",
    );
  }
  return p as Record<string, unknown>;
};

/**
 * Puts a layer in front of a cell: each step reads `layer(x_t)` (e.g. an embedding of token ids).
 * Parameters are `{ input, cell }`; the cell is initialised for the layer's output width.
 * @example
 * const charRnn = mapInput(lstm, embedding(65, 16))  // xs: int32 ids [B, T, 1]
 * const p = charRnn.init(random.key(0), { inputSize: 1, hiddenSize: 64 })
 */
export function mapInput<P, C, Q, X = undefined>(
  cell: TensorInitCell<P, C, X>,
  layer: TensorInitLayer<Q>,
): TensorInitCell<MapInputParams<Q, P>, C, X>;
export function mapInput<P, C, Q, X = undefined>(
  cell: Cell<P, C, X>,
  layer: Layer<Q>,
): Cell<MapInputParams<Q, P>, C, X>;
export function mapInput<P, C, Q, X = undefined>(
  cell: Cell<P, C, X>,
  layer: Layer<Q>,
): Cell<MapInputParams<Q, P>, C, X> {
  const inner = checkCell("mapInput", "cell", cell);
  const front = checkLayer("mapInput", layer);
  const name = `mapInput(${inner.name}, ${front.name})`;
  const parts = (p: MapInputParams<Q, P>): MapInputParams<Q, P> =>
    checkKeys(name, p, ["input", "cell"]) as unknown as MapInputParams<Q, P>;
  return {
    name,
    init: (key, sizes, options) => {
      checkSizesObject(`${name}.init`, sizes);
      const [kIn, kCell] = T.random.split(key, 2) as [Key, Key];
      const input = front.init(kIn, sizes.inputSize, options);
      return { input, cell: inner.init(kCell, { ...sizes, inputSize: front.outputSize(input) }, options) };
    },
    initialCarry: (batch, p) => inner.initialCarry(batch, parts(p).cell),
    ...contextOf(inner, (p: MapInputParams<Q, P>) => parts(p).cell),
    step: (p, ctx) => {
      const { input, cell: q } = parts(p);
      const f = front.apply(input);
      const s = inner.step(q, ctx);
      return (carry, x, noise) => s(carry, f(x), noise);
    },
    ...optional(
      "sequence",
      mapInputSequence(inner, (p: MapInputParams<Q, P>) => [front.apply(parts(p).input), parts(p).cell] as const),
    ),
    outputSize: (p) => inner.outputSize(parts(p).cell),
    inputSize: (p) =>
      front.inputSize?.(parts(p).input) ??
      T.fail({
        _tag: "ValueError",
        op: name,
        arg: "layer",
        detail: `${front.name} does not read feature vectors (e.g. token ids), so its input cannot be dropped`,
        fix: "drop the layer's outputs instead: mapInput(dropout(cell, rate), layer)",
      }),
    ...(inner.noise === undefined
      ? {}
      : { noise: (key: Key, batch: number, p: MapInputParams<Q, P>) => inner.noise!(key, batch, parts(p).cell) }),
  };
}

/**
 * Puts a layer after a cell: each step outputs `layer(y_t)` (e.g. a linear readout); the carry
 * is the cell's. Parameters are `{ cell, output }`; the layer is initialised for the cell's width.
 * @example
 * const tagger = mapOutput(gru, linear(10))
 * const p = tagger.init(random.key(0), { inputSize: 8, hiddenSize: 32 }) // outputs [B, T, 10]
 */
export function mapOutput<P, C, Q, X = undefined>(
  cell: TensorInitCell<P, C, X>,
  layer: TensorInitLayer<Q>,
): TensorInitCell<MapOutputParams<P, Q>, C, X>;
export function mapOutput<P, C, Q, X = undefined>(
  cell: Cell<P, C, X>,
  layer: Layer<Q>,
): Cell<MapOutputParams<P, Q>, C, X>;
export function mapOutput<P, C, Q, X = undefined>(
  cell: Cell<P, C, X>,
  layer: Layer<Q>,
): Cell<MapOutputParams<P, Q>, C, X> {
  const inner = checkCell("mapOutput", "cell", cell);
  const back = checkLayer("mapOutput", layer);
  const name = `mapOutput(${inner.name}, ${back.name})`;
  const parts = (p: MapOutputParams<P, Q>): MapOutputParams<P, Q> =>
    checkKeys(name, p, ["cell", "output"]) as unknown as MapOutputParams<P, Q>;
  return {
    name,
    init: (key, sizes, options) => {
      const [kCell, kOut] = T.random.split(key, 2) as [Key, Key];
      const p = inner.init(kCell, sizes, options);
      return { cell: p, output: back.init(kOut, inner.outputSize(p), options) };
    },
    initialCarry: (batch, p) => inner.initialCarry(batch, parts(p).cell),
    ...contextOf(inner, (p: MapOutputParams<P, Q>) => parts(p).cell),
    step: (p, ctx) => {
      const { cell: q, output } = parts(p);
      const s = inner.step(q, ctx);
      const g = back.apply(output);
      return (carry, x, noise) => {
        const [next, y] = s(carry, x, noise);
        return [next, g(y)];
      };
    },
    ...optional(
      "sequence",
      mapOutputSequence(inner, (p: MapOutputParams<P, Q>) => [parts(p).cell, back.apply(parts(p).output)] as const),
    ),
    outputSize: (p) => back.outputSize(parts(p).output),
    inputSize: (p) => inputSizeOf(name, inner, parts(p).cell),
    ...(inner.noise === undefined
      ? {}
      : { noise: (key: Key, batch: number, p: MapOutputParams<P, Q>) => inner.noise!(key, batch, parts(p).cell) }),
  };
}

/**
 * Overrides some of the sizes a cell is initialised with, e.g. a per-layer hidden size in a
 * `stack` (whose layers otherwise share `hiddenSize`). Everything else is the cell's (its
 * `sequence` form included).
 * @example stack([withSizes(lstm, { hiddenSize: 64 }), withSizes(gru, { hiddenSize: 32 })])
 */
export const withSizes = <P, C, X = undefined>(
  cell: Cell<P, C, X>,
  sizes: Partial<CellSizes> & Record<string, unknown>,
): Cell<P, C, X> => {
  const inner = checkCell("withSizes", "cell", cell);
  if (typeof sizes !== "object" || sizes === null) {
    T.fail({
      _tag: "ValueError",
      op: "withSizes",
      arg: "sizes",
      detail: `expected an object of sizes, got ${String(sizes)}`,
      fix: "pass e.g. { hiddenSize: 64 }",
    });
  }
  return {
    ...inner,
    name: `withSizes(${inner.name}, ${JSON.stringify(sizes)})`,
    init: (key, s, options) => inner.init(key, { ...s, ...sizes }, options),
  };
};
