/**
 * @file The adding problem (Hochreiter & Schmidhuber 1997), generated from a key.
 */
import { fromDataOrThrow, random, type Key, type Tensor } from "@rewind/tensor";

/**
 * `batch` sequences of `time` steps, each step `[value, marker]` with values uniform in [0, 1);
 * exactly two markers per sequence, one in each half; the target is the sum of the two marked
 * values. Returns xs `[batch, time, 2]` and ys `[batch]` (float32).
 * @example addingProblem(random.key(0), 32, 50).xs.shape // [32, 50, 2]
 */
export const addingProblem = (key: Key, batch: number, time: number): { xs: Tensor; ys: Tensor } => {
  const [kValues, kMarks] = random.split(key, 2) as [Key, Key];
  const values = random.uniform(kValues, [batch, time], { dtype: "float64" }).data;
  const marks = random.uniform(kMarks, [batch, 2], { dtype: "float64" }).data;
  const half = Math.floor(time / 2);
  const xs = new Float32Array(batch * time * 2);
  const ys = new Float32Array(batch);
  for (let b = 0; b < batch; b++) {
    const first = Math.floor(marks[2 * b]! * half);
    const second = half + Math.floor(marks[2 * b + 1]! * (time - half));
    for (let t = 0; t < time; t++) xs[(b * time + t) * 2] = values[b * time + t]!;
    for (const t of [first, second]) xs[(b * time + t) * 2 + 1] = 1;
    ys[b] = values[b * time + first]! + values[b * time + second]!;
  }
  return { xs: fromDataOrThrow(xs, [batch, time, 2], "float32"), ys: fromDataOrThrow(ys, [batch], "float32") };
};
