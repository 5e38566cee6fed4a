import wabtInit from "wabt";
import fs from "node:fs";
const wabt = await wabtInit();
const mod = wabt.parseWat("gates.wat", fs.readFileSync("gates.wat", "utf8"), { simd: true });
const { buffer } = mod.toBinary({});
const { instance } = await WebAssembly.instantiate(buffer);
const { gates, mem } = instance.exports;
const B = 32,
  H = 128,
  T = 50;
const heap = new Float32Array(mem.buffer);
const pre = new Float32Array(B * 4 * H).map(() => (Math.random() - 0.5) * 8),
  c = new Float32Array(B * H).map(() => Math.random() - 0.5);
// JS reference (the compiled code's arithmetic)
const fr = Math.fround,
  sig = (v) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));
const outs = Array.from({ length: 7 }, () => new Float32Array(B * H));
const js = () => {
  for (let b = 0; b < B; b++)
    for (let j = 0; j < H; j++) {
      const r = b * 4 * H,
        k = b * H + j;
      const i = fr(sig(pre[r + j])),
        f = fr(sig(pre[r + H + j])),
        g = fr(Math.tanh(pre[r + 2 * H + j])),
        o = fr(sig(pre[r + 3 * H + j]));
      const cn = fr(fr(f * c[k]) + fr(i * g)),
        t = fr(Math.tanh(cn));
      outs[0][k] = i;
      outs[1][k] = f;
      outs[2][k] = g;
      outs[3][k] = cn;
      outs[4][k] = o;
      outs[5][k] = t;
      outs[6][k] = fr(o * t);
    }
};
const P = 0,
  C = P + B * 4 * H * 4,
  O = C + B * H * 4,
  S = B * H * 4;
const wasm = () => {
  heap.set(pre, P / 4);
  heap.set(c, C / 4);
  gates(P, C, O, O + S, O + 2 * S, O + 3 * S, O + 4 * S, O + 5 * S, O + 6 * S, B, H);
  for (let q = 0; q < 7; q++) outs[q].set(heap.subarray((O + q * S) / 4, (O + (q + 1) * S) / 4));
};
const time = (f) => {
  for (let w = 0; w < 200; w++) f();
  const t0 = performance.now();
  for (let r = 0; r < 20; r++) for (let s = 0; s < T; s++) f();
  return (performance.now() - t0) / 20;
};
js();
const ref = outs.map((o) => o.slice());
wasm();
let worst = 0;
for (let q = 0; q < 7; q++)
  for (let k = 0; k < B * H; k++) {
    const a = outs[q][k],
      b = ref[q][k];
    const ulp = Math.abs(a - b) / Math.max(Math.abs(b) * 2 ** -23, 2 ** -149);
    worst = Math.max(worst, ulp);
  }
console.log("worst ulp difference vs JS", worst.toFixed(2));
console.log(
  "JS gates, 50 steps:",
  time(js).toFixed(2),
  "ms;  WASM SIMD gates (incl. copies in/out), 50 steps:",
  time(wasm).toFixed(2),
  "ms",
);
for (let q = 0; q < 7; q++) {
  let w = 0,
    at = 0;
  for (let k = 0; k < B * H; k++) {
    const a = outs[q][k],
      b = ref[q][k];
    const ulp = Math.abs(a - b) / Math.max(Math.abs(b) * 2 ** -23, 2 ** -149);
    if (ulp > w) {
      w = ulp;
      at = k;
    }
  }
  console.log("out", q, "worst", w.toFixed(1), "at", ref[q][at], outs[q][at]);
}
