/**
 * @file Random programs: a chain of ops drawn by fast-check over random shapes, exported and run
 * in ONNX Runtime, agrees with Rewind (the lowerings compose, whatever feeds what); and the
 * model stores only the tensors its outputs depend on.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import type * as T from "@rewind/tensor";
import { onnx } from "../src/proto.js";
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

describe("the model's stored tensors", () => {
  it("leave out a captured constant and a baked argument that no output depends on", async () => {
    const v = new Values(3);
    const [x, unusedWeight, used, unread] = [v.t([2, 3]), v.t([2, 3]), v.t([2, 3]), v.t([3])];
    // f computes with `unusedWeight` (a closure) and `unread` (an argument) but returns neither's
    // result; `used` is closed over and read.
    const f = (x: Value, p: Value) => {
      A.add(x, unusedWeight);
      A.mul(p, 2);
      return A.add(A.take(x, [1, 0], 0), used);
    };
    const bytes = await checkExport(f, [x, unread], { bake: [1] });
    const stored = (onnx.ModelProto.decode(bytes).graph?.initializer ?? []).map((t) => Array.from(t.rawData ?? []));
    const bytesOf = (t: T.Tensor): number[] =>
      Array.from(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    // Stored: `used` and the gather's indices; not the unread constant, not the baked argument.
    expect(stored).toContainEqual(bytesOf(used));
    expect(stored).not.toContainEqual(bytesOf(unusedWeight));
    expect(stored).not.toContainEqual(bytesOf(unread));
    expect(stored).toHaveLength(2);
  });
});
