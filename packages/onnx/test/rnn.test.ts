/**
 * @file The built-in cells run over sequences by @rewind/rnn (Elman, LSTM, GRU; with and without
 * lengths, bidirectional, stacked), exported and compared with ONNX Runtime. Parameters are graph
 * inputs except where the test bakes them.
 */
import { describe, expect, it } from "vitest";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import { bidirectional, elmanTanh, gru, lstm, manyToMany, rnn, stack, type Cell } from "@rewind/rnn";
import { fromDataOrThrow, random, type DType } from "@rewind/tensor";
import { onnx } from "../src/proto.js";
import { Values } from "./cases.js";
import { checkExport } from "./helpers.js";

const SIZES = { inputSize: 3, hiddenSize: 4 };
const lengthsOf = (xs: readonly number[]) => fromDataOrThrow(xs, [xs.length], "int32");
const CELLS: ReadonlyArray<readonly [string, Cell<any, any>]> = [
  ["elmanTanh", elmanTanh],
  ["lstm", lstm],
  ["gru", gru],
];

describe("rnn over the built-in cells", () => {
  for (const dtype of ["float32", "float64"] as DType[]) {
    for (const [name, cell] of CELLS) {
      it(`${name} (${dtype}), with and without lengths`, async () => {
        const params = cell.init(random.key(1), SIZES, { dtype: dtype as "float32" });
        const xs = new Values(2).t([3, 5, 3], dtype);
        await checkExport((p: unknown, x: Value) => rnn(cell, p, x), [params, xs]);
        const f = (p: unknown, x: Value, lengths: Value) => rnn(cell, p, x, { lengths });
        await checkExport(f, [params, xs, lengthsOf([5, 2, 0])]);
      });
    }
  }

  it("manyToMany GRU with a linear readout and lengths", async () => {
    const params = gru.init(random.key(7), SIZES, { dtype: "float64" });
    const w = new Values(8).t([4, 6], "float64");
    const f = (p: typeof params, x: Value, lengths: Value) =>
      manyToMany(gru, p, x, { lengths, readout: (y: Value) => A.matmul(y, w) });
    await checkExport(f, [params, new Values(9).t([3, 5, 3], "float64"), lengthsOf([5, 1, 3])]);
  });

  it("bidirectional LSTM with lengths", async () => {
    const bi = bidirectional(lstm, lstm, { merge: "concat" });
    const params = bi.init(random.key(3), SIZES, { dtype: "float64" });
    const f = (p: typeof params, x: Value, lengths: Value) => bi.apply(p, x, { lengths });
    await checkExport(f, [params, new Values(4).t([3, 5, 3], "float64"), lengthsOf([5, 3, 1])]);
  });

  it("the gradient of an LSTM loss with lengths (training steps export too)", async () => {
    const params = lstm.init(random.key(11), SIZES, { dtype: "float64" });
    const loss = (p: typeof params, x: Value, lengths: Value) => A.sum(A.square(rnn(lstm, p, x, { lengths }).outputs));
    await checkExport(A.grad(loss), [params, new Values(12).t([2, 4, 3], "float64"), lengthsOf([4, 2])]);
  });

  it("stacked LSTM over GRU, reversed, with lengths, parameters baked into the model", async () => {
    const deep = stack([lstm, gru]);
    const params = deep.init(random.key(5), SIZES);
    const f = (p: typeof params, x: Value, lengths: Value) => rnn(deep, p, x, { lengths, reverse: true });
    const bytes = await checkExport(f, [params, new Values(6).t([2, 4, 3]), lengthsOf([4, 2])], { bake: [0] });
    const graph = onnx.ModelProto.decode(bytes).graph!;
    expect(graph.input?.map((i) => i.name)).toEqual(["arg1", "arg2"]);
    expect(graph.initializer?.length).toBeGreaterThanOrEqual(8);
  });
});
