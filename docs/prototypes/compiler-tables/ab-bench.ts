/**
 * @file Times the bench/peers training steps (jit of valueAndGrad: LSTM, GRU, min-char-rnn in
 * float64 and float32) and a jitted take/addAt step on one checkout of Rewind, printing one JSON
 * line of per-call medians and minimums (ms). Run it alternately on two checkouts, in fresh processes (two
 * copies of the library in one process disturb each other's timings), so load from elsewhere on
 * the machine hits both alike:
 *
 *   for i in 1 2 3; do for r in /tmp/b-base /tmp/b-wt; do
 *     node --import tsx docs/prototypes/compiler-tables/ab-bench.ts $r; done; done
 */
import type { Value } from "@rewind/autodiff";
import { CHAR, LSTM, makeCharData, makeLstmData, oneHotRows } from "../../../bench/peers/data.js";

type Mods = {
  T: typeof import("@rewind/tensor");
  A: typeof import("@rewind/autodiff");
  R: typeof import("@rewind/rnn");
};
const load = async (root: string): Promise<Mods> => ({
  T: (await import(`${root}/packages/tensor/src/index.ts`)) as Mods["T"],
  A: (await import(`${root}/packages/autodiff/src/index.ts`)) as Mods["A"],
  R: (await import(`${root}/packages/rnn/src/index.ts`)) as Mods["R"],
});

const steps = ({ T, A, R }: Mods): Record<string, () => void> => {
  const t = (d: ArrayLike<number>, shape: number[], dtype: "float32" | "float64" = "float32") =>
    T.fromDataOrThrow(Array.from(d), shape, dtype);
  const d = makeLstmData();
  const { B, T: len, IN, H } = LSTM;
  const xs = t(d.xs, [B, len, IN]);
  const ys = t(d.ys, [B, 1]);
  const w = t(d.w, [1, H]);
  const b = t(d.b, [1]);
  const rnnStep = (cell: typeof R.lstm | typeof R.gru, gates: number) => {
    const m = {
      cell: {
        weight_ih: t(d.wIh.subarray(0, gates * H * IN), [gates * H, IN]),
        weight_hh: t(d.wHh.subarray(0, gates * H * H), [gates * H, H]),
        bias_ih: t(d.bIh.subarray(0, gates * H), [gates * H]),
        bias_hh: t(d.bHh.subarray(0, gates * H), [gates * H]),
      },
      w,
      b,
    };
    const f = A.jit(
      A.valueAndGrad((p: typeof m) => {
        const { finalCarry } = R.rnn(cell as typeof R.lstm, p.cell, xs);
        const h = (finalCarry as { h?: unknown }).h ?? finalCarry;
        return A.mean(A.square(A.sub(A.add(A.matmul(h as never, A.transpose(p.w)), p.b), ys)));
      }),
    );
    return () => void f(m);
  };
  const char = (dtype: "float32" | "float64") => {
    const c = makeCharData();
    const { V, H: h, T: n } = CHAR;
    const m = {
      cell: {
        weight_ih: t(c.wxh, [h, V], dtype),
        weight_hh: t(c.whh, [h, h], dtype),
        bias_ih: t(c.bh, [h], dtype),
        bias_hh: T.zeros([h], dtype),
      },
      why: t(c.why, [V, h], dtype),
      by: t(c.by, [V], dtype),
    };
    const inputs = t(oneHotRows(c.inputs, V), [1, n, V], dtype);
    const targets = t(oneHotRows(c.targets, V), [1, n, V], dtype);
    const f = A.jit(
      A.valueAndGrad((p: typeof m) => {
        const { outputs } = R.rnn(R.elmanTanh, p.cell, inputs);
        const logits = A.add(A.matmul(outputs, A.transpose(p.why)), p.by);
        return A.neg(A.sum(A.mul(targets, A.logSoftmax(logits, -1))));
      }),
    );
    return () => void f(m);
  };
  const emb = t(
    Array.from({ length: 1000 * 64 }, (_, i) => Math.sin(i)),
    [1000, 64],
  );
  const ids = T.fromDataOrThrow(
    Array.from({ length: 256 }, (_, i) => (i * 37) % 1000),
    [256],
    "int32",
  );
  const take = A.jit(A.valueAndGrad((e: Value) => A.sum(A.tanh(A.take(e, ids, 0)))));
  return {
    lstm: rnnStep(R.lstm, 4),
    gru: rnnStep(R.gru, 3),
    "char f64": char("float64"),
    "char f32": char("float32"),
    "take+addAt": () => void take(emb),
  };
};

const root = process.argv[2]!;
const side = steps(await load(root));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const result: Record<string, string> = {};
for (const [name, f] of Object.entries(side)) {
  for (let i = 0; i < 20; i++) f(); // warm up: compile, tier up
  const samples: number[] = [];
  for (let r = 0; r < 15; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) f();
    samples.push((performance.now() - t0) / 5);
  }
  result[name] = `${median(samples).toFixed(3)} (min ${Math.min(...samples).toFixed(3)})`;
}
console.log(JSON.stringify({ root, ...result }));
