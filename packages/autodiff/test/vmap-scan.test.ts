/**
 * @file scan under vmap batches as a scan: per-example gradients of a recurrent loss equal the
 * loop of single-example gradients (1e-12, float64) with every scan option (reverse, unroll,
 * remat policies, truncate), eager and jitted (where the scan passes run), and the batched graph
 * holds one loop whatever the number of examples.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { ScanOptions, Value } from "../src/index.js";
import { floats, Rng } from "./vmapLaw.js";

interface Params {
  readonly wx: Value;
  readonly wh: Value;
  readonly b: Value;
  readonly wo: Value;
}

const row = (x: Value, i: number): Value => A.reshape(A.take(x, [i], 0), x.shape.slice(1));

/** An Elman RNN over one sequence xs [T, in], read out at every step, against targets ys [T]. */
const rnnLoss =
  (opts: ScanOptions) =>
  (p: Params, xs: Value, ys: Value): Value => {
    const h0 = A.zerosLike(p.b);
    const [hT, outs] = A.scan(
      (h: Value, x: Value) => {
        const h1 = A.tanh(A.add(A.add(A.matmul(x, p.wx), A.matmul(h, p.wh)), p.b));
        return [h1, A.sum(A.mul(h1, p.wo))] as const;
      },
      h0,
      xs,
      opts,
    );
    return A.add(A.sum(A.square(A.sub(outs, ys))), A.sum(A.square(hT)));
  };

const rng = new Rng(21);
const params: Params = {
  wx: floats(rng, [3, 4], "float64", -0.5, 0.5),
  wh: floats(rng, [4, 4], "float64", -0.5, 0.5),
  b: floats(rng, [4], "float64", -0.5, 0.5),
  wo: floats(rng, [4], "float64", -0.5, 0.5),
};
const B = 5;
const xs = floats(rng, [B, 6, 3], "float64");
const ys = floats(rng, [B, 6], "float64");

const expectClose = (a: Value, e: Value, tol: number): void => {
  expect(a.shape).toEqual(e.shape);
  const ad = (a as T.Tensor).data;
  (e as T.Tensor).data.forEach((x, i) => expect(Math.abs(ad[i]! - x)).toBeLessThanOrEqual(tol));
};

const options: ReadonlyArray<readonly [string, ScanOptions]> = [
  ["default", {}],
  ["reverse", { reverse: true }],
  ["unroll 2", { unroll: 2 }],
  ["remat carries", { remat: "carries" }],
  ["remat every 2", { remat: { every: 2 } }],
  ["truncate 2", { truncate: 2 }],
];

describe("vmap(grad(f)) through scan equals the loop of single-example gradients", () => {
  for (const [name, opts] of options) {
    for (const mode of ["eager", "jit"] as const) {
      it(`${name}, ${mode}`, () => {
        const perEx = A.vmap(A.grad(rnnLoss(opts)), { inAxes: [null, 0, 0] });
        const got = (mode === "jit" ? A.jit(perEx) : perEx)(params, xs, ys);
        for (let i = 0; i < B; i++) {
          const want = A.grad(rnnLoss(opts))(params, row(xs, i), row(ys, i));
          for (const k of ["wx", "wh", "b", "wo"] as const) expectClose(row(got[k], i), want[k], 1e-12);
        }
      });
    }
  }

  it("per-example values of a scan over shared xs with batched parameters (an ensemble)", () => {
    const stacked: Params = {
      wx: A.stack([params.wx, A.mul(params.wx, 2)]),
      wh: A.stack([params.wh, A.neg(params.wh)]),
      b: A.stack([params.b, params.b]),
      wo: A.stack([params.wo, A.mul(params.wo, 0.5)]),
    };
    const x0 = row(xs, 0);
    const y0 = row(ys, 0);
    const got = A.vmap(rnnLoss({}), { inAxes: [0, null, null] })(stacked, x0, y0);
    const want = [0, 1].map((m) =>
      rnnLoss({})(
        { wx: row(stacked.wx, m), wh: row(stacked.wh, m), b: row(stacked.b, m), wo: row(stacked.wo, m) },
        x0,
        y0,
      ),
    );
    expect(Array.from((got as T.Tensor).data)).toEqual(want.map((v) => (v as T.Tensor).data[0]));
  });

  it("the batched program is one scan whatever the number of examples", () => {
    const graphOf = (n: number) =>
      A.makeGraph(A.vmap(A.grad(rnnLoss({})), { inAxes: [null, 0, 0] }))(
        params,
        floats(rng, [n, 6, 3], "float64"),
        floats(rng, [n, 6], "float64"),
      ).graph;
    const scans = (g: A.Graph) => g.eqns.filter((e) => e.prim.name === "scan").size;
    expect(scans(graphOf(7))).toBe(2); // the forward scan and its VJP's reverse scan
    expect(graphOf(7).eqns.size).toBe(graphOf(2).eqns.size);
  });
});
