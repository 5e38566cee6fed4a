/**
 * @file Input-projection lifting: a scan body's `x_t · W` and embedding lookups run once over all
 * steps before the loop (policy "all" only), with unchanged float32 values, gradients equal to the
 * unrolled loop's, and an embedding gradient that is one scatter-add instead of one per step.
 * Also the reverse scan's accumulators (passes/accumulate.ts): weight and bias gradients are reduced
 * after the loop, so under "all" the reverse scan carries only the hidden state's cotangent.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Eqn, Graph, Value } from "../src/index.js";

const [steps, batch, inSize, hidden] = [6, 3, 4, 5];
const rand = (shape: number[], seed: number, dtype: "float32" | "float64" = "float64"): T.Tensor =>
  T.astype(T.random.normal(T.random.key(seed), shape), dtype);

/** Every equation of a graph and of the graphs nested in it, with the depth it sits at. */
const allEqns = (g: Graph, depth = 0): Array<{ eqn: Eqn; depth: number }> =>
  g.eqns
    .toArray()
    .flatMap((eqn) => [
      { eqn, depth },
      ...(eqn.prim.subgraphs?.(eqn.params as never) ?? []).flatMap(([, sub]) => allEqns(sub, depth + 1)),
    ]);

type Params = { w: Value; u: Value; b: Value };
const step =
  (p: Params) =>
  (h: Value, x: Value): [Value, Value] => {
    const next = A.tanh(A.add(A.add(A.matmul(x, p.w), p.b), A.matmul(h, p.u)));
    return [next, next];
  };
const params = (dtype: "float32" | "float64"): Params => ({
  w: rand([inSize, hidden], 1, dtype),
  u: rand([hidden, hidden], 2, dtype),
  b: rand([hidden], 3, dtype),
});
const xs = (dtype: "float32" | "float64") => rand([steps, batch, inSize], 4, dtype);
const h0 = (dtype: "float32" | "float64") => rand([batch, hidden], 5, dtype);

const scanLoss =
  (remat: "all" | "carries") =>
  (p: Params, h: Value, x: Value): Value =>
    A.sum(A.square(A.scan(step(p), h, x, { remat })[1]));
const unrolledLoss = (p: Params, h: Value, x: Value): Value => {
  let carry = h;
  let total: Value = T.scalar(0, "float64");
  for (let t = 0; t < steps; t++) {
    const [next] = step(p)(carry, A.reshape(A.slice(x, [{ start: t, stop: t + 1 }]), [batch, inSize]));
    carry = next;
    total = A.add(total, A.sum(A.square(next)));
  }
  return total;
};

describe("scan input lifting", () => {
  it("leaves x_t · W in the loop as written in makeGraph(f): lifting is a pass, not part of tracing", () => {
    const { graph } = A.makeGraph(scanLoss("all"))(params("float32"), h0("float32"), xs("float32"));
    const matmuls = allEqns(graph).filter(({ eqn }) => eqn.prim.name === "matmul");
    expect(matmuls.map(({ depth, eqn }) => [depth, eqn.inputs[0]!.aval.shape])).toEqual([
      [1, [batch, inSize]],
      [1, [batch, hidden]],
    ]);
  });

  it("moves x_t · W out of the loop as one [T·B, in] · [in, out] matmul (makeGraph(f, { optimize: true }))", () => {
    const { graph } = A.makeGraph(scanLoss("all"), { optimize: true })(params("float32"), h0("float32"), xs("float32"));
    const eqns = allEqns(graph);
    const matmuls = eqns.filter(({ eqn }) => eqn.prim.name === "matmul");
    expect(matmuls.filter(({ depth }) => depth === 0).map(({ eqn }) => eqn.inputs[0]!.aval.shape)).toEqual([
      [steps * batch, inSize],
    ]);
    expect(matmuls.filter(({ depth }) => depth === 1).map(({ eqn }) => eqn.inputs[0]!.aval.shape)).toEqual([
      [batch, hidden],
    ]);
  });

  it("leaves the loop as written under the 'carries' policy (its memory bound stores no stacked projections)", () => {
    const { graph } = A.makeGraph(scanLoss("carries"))(params("float32"), h0("float32"), xs("float32"));
    expect(allEqns(graph).filter(({ eqn, depth }) => eqn.prim.name === "matmul" && depth === 1)).toHaveLength(2);
  });

  it("changes no float32 value: lifted and unlifted forward passes agree bit for bit", () => {
    const lifted = scanLoss("all")(params("float32"), h0("float32"), xs("float32")) as T.Tensor;
    const plain = scanLoss("carries")(params("float32"), h0("float32"), xs("float32")) as T.Tensor;
    expect(Array.from(lifted.data)).toEqual(Array.from(plain.data));
  });

  it("gives the unrolled loop's gradients, and dW comes from one matmul contracting over T·B", () => {
    const args = [params("float64"), h0("float64"), xs("float64")] as const;
    const [gLift, gh] = A.grad(scanLoss("all"), { argnums: [0, 1] })(...args) as [Params, T.Tensor];
    const [gRef, ghRef] = A.grad(unrolledLoss, { argnums: [0, 1] })(...args) as [Params, T.Tensor];
    for (const key of ["w", "u", "b"] as const) {
      const [a, b] = [gLift[key] as T.Tensor, gRef[key] as T.Tensor];
      a.data.forEach((v, i) => expect(v).toBeCloseTo(b.data[i]!, 12));
    }
    gh.data.forEach((v, i) => expect(v).toBeCloseTo(ghRef.data[i]!, 12));
    const { graph } = A.makeGraph(A.grad(scanLoss("all")))(...args);
    const outside = allEqns(graph).filter(({ eqn, depth }) => eqn.prim.name === "matmul" && depth === 0);
    expect(outside.some(({ eqn }) => eqn.inputs[0]!.aval.shape.join() === `${inSize},${steps * batch}`)).toBe(true);
  });

  it("turns an embedding inside the loop into one lookup, and its gradient into one scatter-add", () => {
    const vocab = 7;
    const ids = T.fromDataOrThrow([0, 3, 6, 3, 1, 1, 2, 5, 0, 6, 6, 4], [4, 3], "int32");
    const table = rand([vocab, hidden], 6);
    const u = rand([hidden, hidden], 7);
    const embedStep =
      (emb: Value) =>
      (h: Value, id: Value): [Value, Value] => {
        const next = A.tanh(A.add(A.take(emb, id, 0), A.matmul(h, u)));
        return [next, next];
      };
    const loss = (emb: Value) => A.sum(A.square(A.scan(embedStep(emb), rand([3, hidden], 8), ids)[1]));
    const unrolled = (emb: Value) => {
      let h: Value = rand([3, hidden], 8);
      let total: Value = T.scalar(0, "float64");
      for (let t = 0; t < 4; t++) {
        [h] = embedStep(emb)(h, A.reshape(A.slice(ids, [{ start: t, stop: t + 1 }]), [3]));
        total = A.add(total, A.sum(A.square(h)));
      }
      return total;
    };
    const g = A.grad(loss)(table);
    const ref = A.grad(unrolled)(table);
    g.data.forEach((v, i) => expect(v).toBeCloseTo(ref.data[i]!, 12));
    const scatters = allEqns(A.makeGraph(A.grad(loss))(table).graph).filter(({ eqn }) => eqn.prim.name === "addAt");
    expect(scatters.map(({ depth }) => depth)).toEqual([0]);
  });

  it("reduces weight gradients after the reverse scan: it carries only dh, and dU is one matmul over T·B", () => {
    const args = [params("float64"), h0("float64"), xs("float64")] as const;
    const { graph } = A.makeGraph(A.grad(scanLoss("all")))(...args);
    const scans = allEqns(graph).filter(({ eqn }) => eqn.prim.name === "scan");
    const reverse = scans.find(({ eqn }) => (eqn.params as { reverse: boolean }).reverse)!;
    expect((reverse.eqn.params as { numCarry: number }).numCarry).toBe(1);
    const outside = allEqns(graph).filter(({ eqn, depth }) => eqn.prim.name === "matmul" && depth === 0);
    expect(outside.some(({ eqn }) => eqn.inputs[0]!.aval.shape.join() === `${hidden},${steps * batch}`)).toBe(true);
    // Under "carries" the accumulators stay in the loop (stacking their increments would break its memory bound).
    const carries = allEqns(A.makeGraph(A.grad(scanLoss("carries")))(...args).graph).filter(
      ({ eqn }) => eqn.prim.name === "scan" && (eqn.params as { reverse: boolean }).reverse,
    );
    expect((carries[0]!.eqn.params as { numCarry: number }).numCarry).toBeGreaterThan(1);
  });
});
