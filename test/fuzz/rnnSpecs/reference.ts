/**
 * @file Float64 references for the rnn fuzz suite, written with plain JavaScript numbers (no
 * Rewind op): the step equations of every built-in cell, and what `rnn` means for one sample
 * (its valid prefix read forward or backward, padding outputs zero, the carry frozen after).
 */
import * as T from "@rewind/tensor";

/** One sample's state: h, and c for the LSTM family. */
export interface State {
  readonly h: number[];
  readonly c?: number[];
}

/** A reference step of one sample: `(params, state, x) → state'` (the output is `state'.h`). */
export type RefStep = (p: Readonly<Record<string, T.Tensor>>, s: State, x: readonly number[]) => State;

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

/** `W v (+ b)` for a `[rows, cols]` weight. */
const matvec = (w: T.Tensor, v: readonly number[], b?: T.Tensor): number[] => {
  const [rows, cols] = w.shape as [number, number];
  return Array.from({ length: rows }, (_, r) => {
    let acc = b === undefined ? 0 : b.data[r]!;
    for (let k = 0; k < cols; k++) acc += w.data[r * cols + k]! * v[k]!;
    return acc;
  });
};

const add = (a: readonly number[], b: readonly number[]): number[] => a.map((x, i) => x + b[i]!);
const gate = (v: readonly number[], g: number, h: number): number[] => v.slice(g * h, (g + 1) * h);

/** Layer norm over the whole vector: γ ⊙ (a − mean) / √(var + ε) + β, biased variance. */
const layerNorm = (a: readonly number[], gain: T.Tensor, shift: T.Tensor, eps = 1e-5): number[] => {
  const mean = a.reduce((s, x) => s + x, 0) / a.length;
  const variance = a.reduce((s, x) => s + (x - mean) ** 2, 0) / a.length;
  return a.map((x, i) => gain.data[i]! * ((x - mean) / Math.sqrt(variance + eps)) + shift.data[i]!);
};

const elman =
  (act: (v: number) => number): RefStep =>
  (p, s, x) => ({
    h: add(matvec(p["weight_ih"]!, x, p["bias_ih"]), matvec(p["weight_hh"]!, s.h, p["bias_hh"])).map(act),
  });

const lstmFrom =
  (
    gates: (p: Readonly<Record<string, T.Tensor>>, s: State, x: readonly number[]) => number[],
    peephole: boolean,
    ln: boolean,
  ): RefStep =>
  (p, s, x) => {
    const h = s.h.length;
    const z = gates(p, s, x);
    const c = s.c!;
    const peek = (name: string, v: readonly number[]): number[] =>
      peephole ? v.map((ci, j) => p[name]!.data[j]! * ci) : v.map(() => 0);
    const i = add(gate(z, 0, h), peek("weight_ci", c)).map(sigmoid);
    const f = add(gate(z, 1, h), peek("weight_cf", c)).map(sigmoid);
    const g = gate(z, 2, h).map(Math.tanh);
    const cNext = c.map((cj, j) => f[j]! * cj + i[j]! * g[j]!);
    const o = add(gate(z, 3, h), peek("weight_co", cNext)).map(sigmoid);
    const squash = ln ? layerNorm(cNext, p["ln_c_weight"]!, p["ln_c_bias"]!) : cNext;
    return { h: o.map((oj, j) => oj * Math.tanh(squash[j]!)), c: cNext };
  };

const torchGates = (p: Readonly<Record<string, T.Tensor>>, s: State, x: readonly number[]): number[] =>
  add(matvec(p["weight_ih"]!, x, p["bias_ih"]), matvec(p["weight_hh"]!, s.h, p["bias_hh"]));

/** The reference step of each built-in cell, by name. */
export const REFERENCE_STEPS: Readonly<Record<string, RefStep>> = {
  elmanTanh: elman(Math.tanh),
  elmanRelu: elman((v) => Math.max(v, 0)),
  gru: (p, s, x) => {
    const h = s.h.length;
    const xi = matvec(p["weight_ih"]!, x, p["bias_ih"]);
    const hh = matvec(p["weight_hh"]!, s.h, p["bias_hh"]);
    const r = add(gate(xi, 0, h), gate(hh, 0, h)).map(sigmoid);
    const z = add(gate(xi, 1, h), gate(hh, 1, h)).map(sigmoid);
    const n = gate(xi, 2, h).map((v, j) => Math.tanh(v + r[j]! * gate(hh, 2, h)[j]!));
    return { h: n.map((nj, j) => (1 - z[j]!) * nj + z[j]! * s.h[j]!) };
  },
  lstm: lstmFrom(torchGates, false, false),
  peepholeLstm: lstmFrom(torchGates, true, false),
  layerNormLstm: lstmFrom(
    (p, s, x) =>
      add(
        layerNorm(matvec(p["weight_ih"]!, x), p["ln_ih_weight"]!, p["ln_ih_bias"]!),
        layerNorm(matvec(p["weight_hh"]!, s.h), p["ln_hh_weight"]!, p["ln_hh_bias"]!),
      ),
    false,
    true,
  ),
  mgu: (p, s, x) => {
    const f = add(matvec(p["weight_if"]!, x, p["bias_f"]), matvec(p["weight_hf"]!, s.h)).map(sigmoid);
    const fh = s.h.map((v, j) => f[j]! * v);
    const n = add(matvec(p["weight_in"]!, x, p["bias_n"]), matvec(p["weight_hn"]!, fh)).map(Math.tanh);
    return { h: s.h.map((v, j) => v + f[j]! * (n[j]! - v)) };
  },
  // Feng et al. 2024, §3: gates from x_t only.
  minGru: (p, s, x) => {
    const h = s.h.length;
    const g = matvec(p["weight"]!, x, p["bias"]);
    const z = gate(g, 0, h).map(sigmoid);
    const candidate = gate(g, 1, h);
    return { h: s.h.map((v, j) => (1 - z[j]!) * v + z[j]! * candidate[j]!) };
  },
  minLstm: (p, s, x) => {
    const h = s.h.length;
    const g = matvec(p["weight"]!, x, p["bias"]);
    const [f, i] = [gate(g, 0, h).map(sigmoid), gate(g, 1, h).map(sigmoid)];
    const candidate = gate(g, 2, h);
    return { h: s.h.map((v, j) => (f[j]! / (f[j]! + i[j]!)) * v + (i[j]! / (f[j]! + i[j]!)) * candidate[j]!) };
  },
};

/** The hidden size of built-in cell parameters (rows of the recurrent weight). */
export const hiddenOfParams = (p: Readonly<Record<string, T.Tensor>>): number =>
  (p["weight_hh"] ?? p["weight_hf"])!.shape[1]!;

/** True for cells whose carry is `{ h, c }` (minLstm's is h alone). */
export const hasCellState = (name: string): boolean => name.toLowerCase().includes("lstm") && name !== "minLstm";

/**
 * What `rnn` computes for one sample: its first `length` steps of `xs` (`[T][F]`), read backward
 * when `reverse`, outputs written back where they were read and zero elsewhere; the final state
 * is the state after the last step read.
 */
export const referenceSequence = (
  step: RefStep,
  p: Readonly<Record<string, T.Tensor>>,
  init: State,
  xs: readonly (readonly number[])[],
  length: number,
  reverse: boolean,
): { outputs: number[][]; final: State } => {
  const hidden = init.h.length;
  const outputs = xs.map(() => new Array<number>(hidden).fill(0));
  let s = init;
  for (let k = 0; k < length; k++) {
    const t = reverse ? length - 1 - k : k;
    s = step(p, s, xs[t]!);
    outputs[t] = [...s.h];
  }
  return { outputs, final: s };
};

/** Row `[b, t, :]` of a `[B, T, F]` tensor (or `[t, b, :]` of a time-major one) as numbers. */
export const rowAt = (x: T.Tensor, b: number, t: number, timeMajor: boolean): number[] => {
  const [, d1, f] = x.shape as [number, number, number];
  const [i, j] = timeMajor ? [t, b] : [b, t];
  const at = (i * d1 + j) * f;
  return Array.from(x.data.subarray(at, at + f) as ArrayLike<number>);
};

/** Row b of a `[B, H]` tensor. */
export const rowOf = (x: T.Tensor, b: number): number[] => {
  const h = x.shape[1]!;
  return Array.from(x.data.subarray(b * h, (b + 1) * h) as ArrayLike<number>);
};

/** Builds a tensor of `shape` from a function of the flat index (for references). */
export const build = (shape: readonly number[], at: (i: number) => number): T.Tensor =>
  T.fromDataOrThrow(
    Array.from({ length: T.sizeOf(shape) }, (_, i) => at(i)),
    shape,
    "float64",
  );
