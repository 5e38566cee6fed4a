/**
 * @file `scan` exports as one ONNX `Scan` with its body as a subgraph: forward and reverse,
 * several carries and ys, captured constants, a scan without xs, nested scans; the model's size
 * does not depend on the sequence length.
 */
import { describe, expect, it } from "vitest";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import type { DType } from "@rewind/tensor";
import { onnx } from "../src/proto.js";
import { toOnnx } from "../src/index.js";
import { Values } from "./cases.js";
import { checkExport } from "./helpers.js";

const v = new Values(7);
const W = v.t([3, 3], "float64", -0.5, 0.5);

/** h' = tanh(h W + x + bias) with W captured; ys = (h', sum of h'). */
const step = (bias: Value) => (h: Value, x: Value) => {
  const n = A.tanh(A.add(A.add(A.matmul(h, A.astype(W, h.dtype)), x), bias));
  return [n, [n, A.sum(n, { axis: -1 })]] as const;
};

const opTypes = (bytes: Uint8Array): string[] =>
  (onnx.ModelProto.decode(bytes).graph?.node ?? []).map((n) => n.opType ?? "");

describe("scan", () => {
  for (const dtype of ["float32", "float64"] as DType[]) {
    for (const reverse of [false, true]) {
      it(`exports as an ONNX Scan (${dtype}, reverse: ${reverse}) and agrees with Rewind`, async () => {
        const f = (h: Value, xs: Value, bias: Value) => A.scan(step(bias), h, xs, { reverse });
        const args = [v.t([2, 3], dtype), v.t([5, 2, 3], dtype), v.t([3], dtype)];
        const bytes = await checkExport(f, args);
        expect(opTypes(bytes)).toContain("Scan");
      });
    }
  }

  it("with several carries, no xs (a length), and a nested scan", async () => {
    const inner = (c: Value, x: Value) => [A.add(c, x), A.mul(c, x)] as const;
    const f = (a: Value, b: Value, xs: Value) =>
      A.scan(
        ([p, q]: readonly [Value, Value]) => {
          const [s, ys] = A.scan(inner, p, xs);
          return [[A.add(q, A.sum(ys, { axis: 0 })), A.mul(s, 0.5)] as const, A.neg(s)] as const;
        },
        [a, b] as const,
        null,
        { length: 4 },
      );
    await checkExport(f, [v.t([2], "float64"), v.t([2], "float64"), v.t([3, 2], "float64")]);
  });

  it("customVjp and remat closing over constants, inside a scan body", async () => {
    const scale = v.t([3], "float64");
    const g = A.customVjp(
      (x: Value) => A.mul(A.tanh(x), scale),
      (x: Value) => [A.mul(A.tanh(x), scale), x] as const,
      (_x, ct) => [ct],
    );
    const r = A.remat((x: Value) => A.exp(A.mul(x, scale)));
    const f = (h: Value, xs: Value) => A.scan((c: Value, x: Value) => [g(A.add(c, x)), r(x)] as const, h, xs);
    await checkExport(f, [v.t([2, 3], "float64"), v.t([4, 2, 3], "float64")]);
  });

  it("exports a gradient through scan (the VJP's reverse scan with its accumulators)", async () => {
    const loss = (w: Value, h: Value, xs: Value) =>
      A.sum(A.scan((c: Value, x: Value) => [A.tanh(A.add(A.matmul(c, w), x)), A.sum(c)] as const, h, xs)[1]);
    const args = [v.t([3, 3], "float64", -0.5, 0.5), v.t([2, 3], "float64"), v.t([5, 2, 3], "float64")];
    const bytes = await checkExport(A.grad(loss, { argnums: [0, 1, 2] }), args);
    expect(opTypes(bytes).filter((o) => o === "Scan").length).toBeGreaterThanOrEqual(2);
  });

  it("gives a model whose size does not depend on the sequence length", () => {
    const f = (h: Value, xs: Value, bias: Value) => A.scan(step(bias), h, xs);
    const size = (t: number) => toOnnx(f, [v.t([2, 3]), v.t([t, 2, 3]), v.t([3])]).length;
    // Both lengths are one-byte varints in the input's type, so any growth would be the body's.
    expect(size(100)).toBe(size(4));
  });
});
