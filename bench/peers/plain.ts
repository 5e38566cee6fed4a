/**
 * @file min-char-rnn's forward and backward pass by hand, in Float64Array loops, with no
 * framework: the floor for framework overhead on this workload.
 *
 * It follows Karpathy's numpy `lossFun` (https://gist.github.com/karpathy/d4dee566867f8291f086)
 * operation for operation, including its dense products with the one-hot input (`Wxh · x` and
 * `dhraw ⊗ x` over all V entries), so it does the same arithmetic as the frameworks, which
 * multiply by one-hot rows too; the only liberty is the max-subtraction in the softmax, for
 * stability. Buffers are allocated once and reused, as a careful hand-written loop would.
 *
 *     h_t = tanh(Wxh x_t + Whh h_{t−1} + bh)     y_t = Why h_t + by     p_t = softmax(y_t)
 *     loss = Σ_t −log p_t[target_t]
 */
import { CHAR, l2, type CharData, type StepCheck } from "./data.js";
import type { StepContestant } from "./rewind.js";

/**
 * The hand-written training step; returns the loss and fills the gradient buffers.
 * @example const s = plainChar(makeCharData()); s.run()
 */
export const plainChar = (d: CharData): StepContestant => {
  const { V, H, T } = CHAR;
  const f64 = (x: Float32Array): Float64Array => Float64Array.from(x);
  const Wxh = f64(d.wxh); // [H, V]
  const Whh = f64(d.whh); // [H, H]
  const Why = f64(d.why); // [V, H]
  const bh = f64(d.bh);
  const by = f64(d.by);
  const inputs = d.inputs;
  const targets = d.targets;
  // Activations: hs holds h_{-1} = 0 in row 0 and h_t in row t + 1; ps holds p_t; xs one-hot x_t.
  const xs = new Float64Array(T * V);
  const hs = new Float64Array((T + 1) * H);
  const ps = new Float64Array(T * V);
  // Gradients and scratch.
  const dWxh = new Float64Array(H * V);
  const dWhh = new Float64Array(H * H);
  const dWhy = new Float64Array(V * H);
  const dbh = new Float64Array(H);
  const dby = new Float64Array(V);
  const dh = new Float64Array(H);
  const dhraw = new Float64Array(H);
  const dhnext = new Float64Array(H);
  const dy = new Float64Array(V);

  const lossFun = (): number => {
    let loss = 0;
    xs.fill(0);
    hs.fill(0, 0, H);
    // ---- forward
    for (let t = 0; t < T; t++) {
      const xo = t * V;
      xs[xo + inputs[t]!] = 1;
      const hp = t * H; // h_{t−1}
      const ho = (t + 1) * H; // h_t
      for (let i = 0; i < H; i++) {
        let s = bh[i]!;
        const wr = i * V;
        for (let j = 0; j < V; j++) s += Wxh[wr + j]! * xs[xo + j]!;
        const ur = i * H;
        for (let j = 0; j < H; j++) s += Whh[ur + j]! * hs[hp + j]!;
        hs[ho + i] = Math.tanh(s);
      }
      const po = t * V;
      let max = -Infinity;
      for (let k = 0; k < V; k++) {
        let s = by[k]!;
        const wr = k * H;
        for (let j = 0; j < H; j++) s += Why[wr + j]! * hs[ho + j]!;
        ps[po + k] = s;
        if (s > max) max = s;
      }
      let z = 0;
      for (let k = 0; k < V; k++) z += ps[po + k] = Math.exp(ps[po + k]! - max);
      for (let k = 0; k < V; k++) ps[po + k] = ps[po + k]! / z;
      loss -= Math.log(ps[po + targets[t]!]!);
    }
    // ---- backward
    dWxh.fill(0);
    dWhh.fill(0);
    dWhy.fill(0);
    dbh.fill(0);
    dby.fill(0);
    dhnext.fill(0);
    for (let t = T - 1; t >= 0; t--) {
      const po = t * V;
      const ho = (t + 1) * H;
      const hp = t * H;
      const xo = t * V;
      for (let k = 0; k < V; k++) dy[k] = ps[po + k]!;
      dy[targets[t]!] = dy[targets[t]!]! - 1;
      for (let k = 0; k < V; k++) {
        const g = dy[k]!;
        const wr = k * H;
        for (let j = 0; j < H; j++) dWhy[wr + j] = dWhy[wr + j]! + g * hs[ho + j]!;
        dby[k] = dby[k]! + g;
      }
      for (let j = 0; j < H; j++) dh[j] = dhnext[j]!;
      for (let k = 0; k < V; k++) {
        const g = dy[k]!;
        const wr = k * H;
        for (let j = 0; j < H; j++) dh[j] = dh[j]! + Why[wr + j]! * g;
      }
      for (let i = 0; i < H; i++) {
        const hv = hs[ho + i]!;
        dhraw[i] = (1 - hv * hv) * dh[i]!;
      }
      for (let i = 0; i < H; i++) {
        const g = dhraw[i]!;
        dbh[i] = dbh[i]! + g;
        const wr = i * V;
        for (let j = 0; j < V; j++) dWxh[wr + j] = dWxh[wr + j]! + g * xs[xo + j]!;
        const ur = i * H;
        for (let j = 0; j < H; j++) dWhh[ur + j] = dWhh[ur + j]! + g * hs[hp + j]!;
      }
      dhnext.fill(0);
      for (let i = 0; i < H; i++) {
        const g = dhraw[i]!;
        const ur = i * H;
        for (let j = 0; j < H; j++) dhnext[j] = dhnext[j]! + Whh[ur + j]! * g;
      }
    }
    return loss;
  };

  return {
    name: "plain TypeScript f64 (no framework)",
    run: () => void lossFun(),
    check: (): StepCheck => ({ loss: lossFun(), gradNorms: [dWxh, dWhh, dWhy, dbh, dby].map(l2) }),
  };
};
