/**
 * @file Snapshots for issue 15's pass pipeline (docs/prototypes/passes/README.md, step 1): the
 * graph `jit` builds for a corpus of scans, recorded before scan's rewrites moved out of tracing
 * into named passes, must stay byte-identical after the move. A pass that an entry point forgot
 * to run, or runs in another order, shows up here as a graph diff instead of a rare bit flip.
 *
 * The corpus: every built-in cell × { "all", "carries", every 4, unroll 2, truncate 3 } × { the
 * forward loss, valueAndGrad of it }, plus an embedding lookup, a scan nested in a scan body and
 * a scan that reads only constants in its body, all as `jit(f).graphFor(...)`; and the README
 * example's loss, printed, as the graph jit runs.
 *
 * The fixture holds each graphKey's SHA-256 (the texts are ~1 MB together). To see a difference,
 * run with `PASSES_SNAPSHOT_DUMP=<dir>`, which writes every graph's text there. To record a new
 * present (only when a change of graphs is intended and explained in its commit), run with
 * `PASSES_SNAPSHOT_UPDATE=1`.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import { JIT_PIPELINE, optimize } from "../packages/autodiff/src/passes/index.js";
import { lstm, manyToOne, rnn, type Cell, type TorchCellParams } from "@rewind/rnn";
import { BUILTIN_CELLS } from "./builtinCells.js";

const here = dirname(fileURLToPath(import.meta.url));
const keysFile = join(here, "passes-snapshot", "graph-keys.json");
const readmeFile = join(here, "passes-snapshot", "readme-loss.txt");
const update = process.env["PASSES_SNAPSHOT_UPDATE"] === "1";
const dump = process.env["PASSES_SNAPSHOT_DUMP"];

type Fn = (...args: unknown[]) => unknown;
const sha = (text: string): string => createHash("sha256").update(text).digest("hex");
const sumSquares = (v: Value): Value => A.sum(A.square(v));

const [batch, steps, inSize, hidden] = [3, 9, 5, 4];
const cells = BUILTIN_CELLS as ReadonlyArray<readonly [string, Cell<unknown, unknown>]>;
const policies: ReadonlyArray<readonly [string, object]> = [
  ["all", { remat: "all" }],
  ["carries", { remat: "carries" }],
  ["every4", { remat: { every: 4 } }],
  ["unroll2", { unroll: 2 }],
  ["truncate3", { truncate: 3 }],
];

/** Every corpus entry: a name, a function and its arguments. */
const corpus = (): Array<readonly [string, Fn, readonly unknown[]]> => {
  const entries: Array<readonly [string, Fn, readonly unknown[]]> = [];
  const xs = T.random.normal(T.random.key(2), [batch, steps, inSize], "float64");
  cells.forEach(([name, cell], c) => {
    const params = cell.init(T.random.key(10 + c), { inputSize: inSize, hiddenSize: hidden }, { dtype: "float64" });
    for (const [policy, opts] of policies) {
      const loss = (p: unknown, x: Value): Value => sumSquares(rnn(cell, p, x, opts).outputs);
      entries.push([`${name}/${policy}/f`, loss as Fn, [params, xs]]);
      entries.push([`${name}/${policy}/valueAndGrad`, A.valueAndGrad(loss, { argnums: [0, 1] }) as Fn, [params, xs]]);
    }
  });
  // An embedding: take(table, ids_t) inside the loop.
  const ids = T.fromDataOrThrow([0, 3, 6, 3, 1, 1, 2, 5, 0, 6, 6, 4], [4, 3], "int32");
  const u = T.random.normal(T.random.key(3), [hidden, hidden], "float64");
  const embed = (table: Value): Value =>
    sumSquares(
      A.scan(
        (h: Value, id: Value): [Value, Value] => {
          const next = A.tanh(A.add(A.take(table, id, 0), A.matmul(h, u)));
          return [next, next];
        },
        T.zeros([3, hidden], "float64"),
        ids,
      )[1],
    );
  const table = T.random.normal(T.random.key(4), [7, hidden], "float64");
  entries.push(["embedding/f", embed as Fn, [table]]);
  entries.push(["embedding/valueAndGrad", A.valueAndGrad(embed) as Fn, [table]]);
  // A scan in a scan body: per outer step, an inner scan over the step's B rows projects each row.
  const nested = (wIn: Value, h0: Value, x: Value): Value =>
    sumSquares(
      A.scan(
        (h: Value, xt: Value): [Value, Value] => {
          const [inner] = A.scan(
            (g: Value, row: Value): [Value, null] => [A.tanh(A.add(g, A.matmul(row, wIn))), null],
            h,
            A.reshape(xt, [batch, 1, inSize]),
          );
          return [inner, A.exp(inner)];
        },
        h0,
        x,
      )[1],
    );
  const nargs = [
    T.random.normal(T.random.key(5), [inSize, hidden], "float64"),
    T.random.normal(T.random.key(6), [1, hidden], "float64"),
    T.random.normal(T.random.key(7), [steps, batch, inSize], "float64"),
  ];
  entries.push(["nested/f", nested as Fn, nargs]);
  entries.push(["nested/valueAndGrad", A.valueAndGrad(nested, { argnums: [0, 1, 2] }) as Fn, nargs]);
  // A body with work that reads only constants (hoisted, then x·Wᵀ lifted).
  const invariant = (wv: Value, h0: Value, x: Value): Value =>
    sumSquares(
      A.scan(
        (h: Value, xt: Value): [Value, Value] => {
          const next = A.tanh(A.add(A.matmul(xt, A.transpose(wv)), A.matmul(h, A.exp(A.mul(u, 0.1)))));
          return [next, next];
        },
        h0,
        x,
      )[1],
    );
  const iargs = [
    T.random.normal(T.random.key(8), [hidden, inSize], "float64"),
    T.random.normal(T.random.key(9), [batch, hidden], "float64"),
    T.random.normal(T.random.key(10), [steps, batch, inSize], "float64"),
  ];
  entries.push(["invariant/f", invariant as Fn, iargs]);
  entries.push(["invariant/valueAndGrad", A.valueAndGrad(invariant, { argnums: [0, 1, 2] }) as Fn, iargs]);
  return entries;
};

/** The README example's loss (examples/readme/main.ts) and its parameters. */
const readmeExample = () => {
  const xs = T.random.normal(T.random.key(1), [2, 4, 3], "float64");
  const targets = T.tensor([[0.5], [-0.5]], "float64");
  const [kCell, kOut] = T.random.split(T.random.key(0));
  const params = {
    cell: lstm.init(kCell!, { inputSize: 3, hiddenSize: 8 }, { dtype: "float64" }),
    readout: T.random.normal(kOut!, [8, 1], "float64"),
  };
  const loss = (p: { cell: TorchCellParams; readout: Value }): Value => {
    const { output } = manyToOne(lstm, p.cell, xs, { lengths: [4, 2] });
    return A.mean(A.square(A.sub(A.matmul(output, p.readout), targets)));
  };
  return { loss, params };
};

describe("the graphs jit builds (snapshot of the present, issue 15 step 1)", () => {
  it("jit(f).graphFor(...) has the recorded graphKey for every corpus entry", () => {
    const got: Record<string, string> = {};
    const texts: Record<string, string> = {};
    for (const [name, f, args] of corpus()) {
      const key = A.graphKey(A.jit(f).graphFor(...args).graph);
      texts[name] = key;
      got[name] = sha(key);
    }
    if (dump !== undefined) {
      mkdirSync(dump, { recursive: true });
      for (const [name, text] of Object.entries(texts))
        writeFileSync(join(dump, `${name.replace(/\//g, "__")}.txt`), text);
    }
    if (update) {
      mkdirSync(dirname(keysFile), { recursive: true });
      writeFileSync(keysFile, `${JSON.stringify(got, null, 2)}\n`);
    }
    const want = JSON.parse(readFileSync(keysFile, "utf8")) as Record<string, string>;
    expect(Object.keys(got).length).toBe(cells.length * policies.length * 2 + 6);
    expect(got).toEqual(want);
  });

  it("the passes are idempotent: jit's pipeline changes nothing on a graph it already rewrote", () => {
    for (const [name, f, args] of corpus()) {
      for (const graph of [A.jit(f).graphFor(...args).graph, A.makeGraph(f, { optimize: true })(...args).graph]) {
        const again = optimize(graph, JIT_PIPELINE);
        expect(
          again.log.map((r) => r.changed),
          name,
        ).toEqual(JIT_PIPELINE.map(() => 0));
        expect(A.graphKey(again.graph), name).toBe(A.graphKey(graph));
      }
    }
  });

  it("the README example's loss, printed as the graph jit runs", () => {
    const { loss, params } = readmeExample();
    const text = A.printGraph(A.jit(loss).graphFor(params));
    if (update) writeFileSync(readmeFile, `${text}\n`);
    expect(`${text}\n`).toBe(readFileSync(readmeFile, "utf8"));
    // Not vacuous: the x-projection is a [T·B, in] matmul before the loop.
    expect(text).toContain("f64[8,3]");
  });
});
