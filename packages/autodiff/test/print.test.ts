/**
 * @file Seeing graphs: printGraph's exact text (constants, literals, explicit broadcasts and
 * reshapes, nested scan bodies indented) and toDot's nodes, edges and clusters.
 */
import { describe, expect, it } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "../src/index.js";
import type { Value } from "../src/index.js";

const lines = (...ls: string[]): string => ls.join("\n");

describe("printGraph", () => {
  it("prints a small function one equation per line, with its explicit broadcasts and reshapes", () => {
    const f = (x: Value, w: Value) => A.sum(A.tanh(A.add(A.matmul(x, w), 1)));
    expect(A.printGraph(A.makeGraph(f)(T.zeros([2, 3]), T.zeros([3])))).toBe(
      lines(
        "{ lambda ; a:f32[2,3] b:f32[3]. let",
        "    c:f32[3,1] = reshape[shape=[3,1]] b",
        "    d:f32[2,1] = matmul a c",
        "    e:f32[2] = reshape[shape=[2]] d",
        "    f:f32[2] = broadcastTo[shape=[2]] 1.0:f32",
        "    g:f32[2] = add e f",
        "    h:f32[2] = tanh g",
        "    i:f32[] = sum[axes=[0]] h",
        "  in (i) }",
      ),
    );
  });

  it("lists captured constants before the semicolon and explicit dtype conversions", () => {
    const c = T.tensor([1, 2], "float64");
    expect(A.printGraph(A.makeGraph((x: Value) => A.mul(x, c))(T.zeros([2], "int32")))).toBe(
      lines(
        "{ lambda a:f64[2] ; b:i32[2]. let",
        '    c:f64[2] = convert[dtype="float64"] b',
        "    d:f64[2] = mul c a",
        "  in (d) }",
      ),
    );
  });

  it("prints nested scan bodies indented under their equation", () => {
    const inner = (c: Value, y: Value) => [A.add(c, y), c] as const;
    const outer = (c: Value, x: Value) => [A.scan(inner, c, x)[0], A.mul(c, 2)] as const;
    const g = A.makeGraph((h: Value, xs: Value) => A.scan(outer, h, xs))(T.zeros([]), T.zeros([3, 2]));
    expect(A.printGraph(g)).toBe(
      lines(
        "{ lambda ; a:f32[] b:f32[3,2]. let",
        "    c:f32[] d:f32[3] = scan[length=3 reverse=false consts=0 carry=1 policy=all] a b",
        "      body =",
        "        { lambda ; a:f32[] b:f32[2]. let",
        "            c:f32[] d:f32[2] = scan[length=2 reverse=false consts=0 carry=1 policy=all] a b",
        "              body =",
        "                { lambda ; a:f32[] b:f32[]. let",
        "                    c:f32[] = add a b",
        "                  in (c, a) }",
        "            e:f32[] = mul a 2.0:f32",
        "          in (c, e) }",
        "  in (c, d) }",
      ),
    );
  });

  it("graphKey is equal for structurally equal graphs, different otherwise", () => {
    const g1 = A.makeGraph((x: Value) => A.exp(x))(T.zeros([2])).graph;
    const g2 = A.makeGraph((x: Value) => A.exp(x))(T.ones([2])).graph;
    const g3 = A.makeGraph((x: Value) => A.log(x))(T.zeros([2])).graph;
    expect(A.graphKey(g1)).toBe(A.graphKey(g2));
    expect(A.graphKey(g1)).not.toBe(A.graphKey(g3));
  });
});

describe("toDot", () => {
  const g = A.makeGraph((h: Value, xs: Value) =>
    A.scan((c: Value, x: Value) => [A.tanh(A.add(c, x)), c] as const, h, xs),
  )(T.zeros([2]), T.zeros([3, 2]));
  const dot = A.toDot(g);

  it("is a digraph with inputs as ellipses, equations as boxes and labelled outputs", () => {
    expect(dot.startsWith("digraph G {\n")).toBe(true);
    expect(dot.endsWith("\n}")).toBe(true);
    expect(dot).toContain('n0 [shape=ellipse, label="f32[2]"];');
    expect(dot).toContain('n1 [shape=ellipse, label="f32[3,2]"];');
    expect(dot).toContain('n2 [shape=box, label="scan"];');
    expect(dot).toContain('n0 -> n2 [label="f32[2]"];');
    expect(dot).toMatch(/\[shape=ellipse, style=bold, label="out 1"\];/);
  });

  it("draws the scan body as a dashed cluster holding its own equations", () => {
    const cluster = /subgraph (cluster_\d+) \{\n\s+label="scan body"; style=dashed;\n([\s\S]*?)\n {2}\}/.exec(dot);
    expect(cluster).not.toBeNull();
    const [, id, body] = cluster!;
    expect(body).toContain(`${id}_n`);
    expect(body).toMatch(/label="add"/);
    expect(body).toMatch(/label="tanh"/);
    // Body nodes are prefixed by the cluster id, so they never collide with outer node ids.
    expect(body!.split("\n").every((l) => l.trim().startsWith(`${id}_`) || l.trim() === "")).toBe(true);
  });
});
