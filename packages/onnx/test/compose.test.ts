/**
 * @file Random programs: a chain of ops drawn by fast-check over random shapes, exported and run
 * in ONNX Runtime, agrees with Rewind (the lowerings compose, whatever feeds what).
 */
import { fc, test } from "@fast-check/vitest";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import { Values } from "./cases.js";
import { checkExport } from "./helpers.js";

type Op = (x: Value, y: Value) => Value;
const OPS: ReadonlyArray<readonly [string, Op]> = [
  ["tanh", (x) => A.tanh(x)],
  ["sigmoid", (x) => A.sigmoid(x)],
  ["add y", (x, y) => A.add(x, y)],
  ["mul y", (x, y) => A.mul(x, y)],
  ["max y", (x, y) => A.maximum(x, y)],
  ["where", (x, y) => A.where(A.greater(x, y), x, A.neg(y))],
  ["softmax", (x) => A.softmax(x, -1)],
  ["logSumExp", (x) => A.broadcastTo(A.logSumExp(x, { axis: -1, keepDims: true }), x.shape)],
  ["flip", (x) => A.flip(x, 0)],
  ["cumsum", (x) => A.cumsum(x, { axis: 0 })],
  ["matmul yᵀ·x", (x, y) => A.matmul(A.transpose(y, [1, 0]), x)],
  ["mean broadcast", (x) => A.sub(x, A.mean(x, { axis: 0, keepDims: true }))],
];

test.prop(
  [
    fc.integer({ min: 1, max: 4 }),
    fc.array(fc.integer({ min: 0, max: OPS.length - 1 }), { minLength: 1, maxLength: 6 }),
    fc.constantFrom("float32" as const, "float64" as const),
    fc.integer(),
  ],
  { numRuns: 12 },
)("a random chain of ops exports and agrees with Rewind", async (n, picks, dtype, seed) => {
  const f = (x: Value, y: Value) => picks.reduce((acc, i) => OPS[i]![1](acc, y), x);
  const v = new Values(seed);
  await checkExport(f, [v.t([n, n], dtype), v.t([n, n], dtype)]);
});
