/**
 * @file A layered layout of a graph view, top to bottom, with nested bodies laid out first and
 * placed inside their node (so a scan is a box holding its body). The usual steps of a layered
 * (Sugiyama-style) drawing, kept simple:
 * 1. ranks: longest path from the inputs; nodes that read no variable (inputs, constants) are
 *    then pulled down to just above their first reader, and the outputs share the last rank;
 * 2. an edge spanning several ranks is cut by one dummy point per rank it crosses, so edges are
 *    routed around nodes instead of through them;
 * 3. order within a rank and x positions (placement.ts), lining edges up with the ports they
 *    attach to: a scan's edges attach to its body's inputs and outputs.
 * Pure: sizes come from character counts, so it runs without a DOM (and in tests).
 */
import type { GraphView, NodeView, RefView } from "../protocol.js";
import { placePoints, type Link } from "./placement.js";

/** What a box shows. */
export type BoxKind = "input" | "op" | "scan" | "output";

/** A node, placed: `x`, `y` are its top-left corner in its graph's coordinates. */
export interface Box {
  readonly kind: BoxKind;
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  readonly label: string;
  readonly detail: string;
  /** The full text (tooltip): params and types. */
  readonly title: string;
  readonly op?: string;
  readonly reverse?: boolean;
  /** A nested body, drawn at (x + BODY_PAD, y + HEADER). */
  readonly body?: GraphLayout;
}

/** An edge as a polyline: the source's bottom, the dummy points it passes, the target's top. */
export interface EdgePath {
  readonly points: ReadonlyArray<readonly [number, number]>;
}

/** A laid-out graph. */
export interface GraphLayout {
  readonly width: number;
  readonly height: number;
  readonly boxes: readonly Box[];
  readonly edges: readonly EdgePath[];
  /** The input boxes, in the graph's input order (where a parent's edges end). */
  readonly ins: readonly Box[];
  /** The output boxes, in output order (where a parent's edges start). */
  readonly outs: readonly Box[];
}

/** Sizes in SVG units (the renderer uses an 11px monospace font: about 6.6 units a character). */
export const METRICS = {
  charW: 6.7,
  nodeH: 34,
  padX: 9,
  gapX: 16,
  dummyGapX: 5,
  dummyW: 2,
  gapY: 30,
  bodyPad: 12,
  header: 26,
  margin: 10,
} as const;

type Item = Omit<Box, "x" | "y">;

const textW = (...lines: string[]): number =>
  Math.max(...lines.map((l) => l.length)) * METRICS.charW + 2 * METRICS.padX;

const short = (s: string, n: number): string => (s.length <= n ? s : `${s.slice(0, n - 1)}…`);

/** The box of an equation; a node with a body is laid out recursively and wraps it. */
const itemOfNode = (n: NodeView, literals: readonly string[], avalOf: (r: RefView) => string): Item => {
  const outs = n.outputs.length <= 2 ? n.outputs.map((o) => o.aval).join(" ") : `${n.outputs.length} outputs`;
  const title = `${n.op}${n.params ? ` [${n.params}]` : ""}\n(${n.inputs.map(avalOf).join(", ")}) → (${n.outputs.map((o) => o.aval).join(", ")})`;
  if (n.body !== undefined) {
    const body = layoutGraph(n.body);
    const label =
      n.op === "scan"
        ? `scan${n.reverse ? " reverse=true" : ""} × ${n.length ?? "?"}${n.reverse ? "  (BPTT)" : ""}`
        : n.op;
    return {
      kind: "scan",
      op: n.op,
      label,
      detail: "",
      title,
      body,
      w: Math.max(body.width + 2 * METRICS.bodyPad, textW(label)),
      h: body.height + METRICS.header + METRICS.bodyPad,
      ...(n.reverse === undefined ? {} : { reverse: n.reverse }),
    };
  }
  const detail = literals.length > 0 ? `${short(outs, 22)} · ${literals.join(" ")}` : short(outs, 28);
  return { kind: "op", op: n.op, label: n.op, detail, title, w: textW(n.op, detail), h: METRICS.nodeH };
};

/** Ranks by longest path, then sources pulled down to just above their first reader. */
const rankItems = (
  count: number,
  preds: readonly number[][],
  succs: readonly number[][],
  isOutput: (i: number) => boolean,
): number[] => {
  const rank = new Array<number>(count).fill(0);
  // Items are in topological order (inputs, equations in traced order, outputs).
  for (let i = 0; i < count; i++) for (const p of preds[i]!) rank[i] = Math.max(rank[i]!, rank[p]! + 1);
  for (let i = count - 1; i >= 0; i--) {
    if (preds[i]!.length === 0 && succs[i]!.length > 0)
      rank[i] = Math.max(0, Math.min(...succs[i]!.map((s) => rank[s]!)) - 1);
  }
  const last = Math.max(0, ...rank.map((r, i) => (isOutput(i) ? r : r + 1)));
  return rank.map((r, i) => (isOutput(i) ? last : r));
};

/** Where an edge attaches to an item: x relative to its centre, y relative to its top. */
interface Port {
  readonly dx: number;
  readonly dy: number;
}

/** The port of a box of a nested body, seen from the item holding it (top or bottom of that box). */
const bodyPort = (it: Item, b: Box | undefined, bottom: boolean): Port =>
  b === undefined
    ? { dx: 0, dy: bottom ? it.h : 0 }
    : { dx: METRICS.bodyPad + b.x + b.w / 2 - it.w / 2, dy: METRICS.header + b.y + (bottom ? b.h : 0) };

/**
 * Lays out a graph view; boxes and edges are in the graph's own coordinates, (0, 0) top-left.
 * An edge into a scan ends at the body input it feeds, and an edge out of a scan starts at the
 * body output it comes from, so the drawing shows which outer value becomes which loop variable.
 * @example layoutGraph(view).boxes.filter((b) => b.kind === "scan").length // 1 for an rnn's loss
 */
export const layoutGraph = (view: GraphView): GraphLayout => {
  const avals = new Map<number, string>();
  view.inputs.forEach((v) => avals.set(v.id, v.aval));
  view.nodes.forEach((n) => n.outputs.forEach((o) => avals.set(o.id, o.aval)));
  const avalOf = (r: RefView): string => (r.kind === "literal" ? r.text : (avals.get(r.id) ?? "?"));

  const items: Item[] = [
    ...view.inputs.map((v, i): Item => {
      const label = v.name ?? `in ${i}`;
      return {
        kind: "input",
        label,
        detail: v.aval,
        title: `input ${label}: ${v.aval}`,
        w: textW(label, v.aval),
        h: METRICS.nodeH,
      };
    }),
    ...view.nodes.map((n) =>
      itemOfNode(
        n,
        n.inputs.flatMap((r) => (r.kind === "literal" ? [r.text] : [])),
        avalOf,
      ),
    ),
    ...view.outputs.map((r, i): Item => {
      const label = short(view.outputNames[i] ?? `out ${i}`, 34);
      return {
        kind: "output",
        label,
        detail: avalOf(r),
        title: `output ${view.outputNames[i] ?? i}: ${avalOf(r)}`,
        w: textW(label, avalOf(r)),
        h: METRICS.nodeH,
      };
    }),
  ];
  // Who produces each variable: the item and which of its outputs.
  const producer = new Map<number, readonly [number, number]>();
  view.inputs.forEach((v, i) => producer.set(v.id, [i, 0]));
  view.nodes.forEach((n, k) => n.outputs.forEach((o, j) => producer.set(o.id, [view.inputs.length + k, j])));
  const firstOutput = view.inputs.length + view.nodes.length;
  const reads: RefView[][] = [
    ...view.inputs.map(() => []),
    ...view.nodes.map((n) => [...n.inputs]),
    ...view.outputs.map((r) => [r]),
  ];

  // Connections between items, grouped by (producer, consumer), with the ports of each.
  const groups = new Map<string, { u: number; v: number; ports: Array<readonly [Port, Port]> }>();
  reads.forEach((refs, v) =>
    refs.forEach((r, k) => {
      const from = r.kind === "var" ? producer.get(r.id) : undefined;
      if (from === undefined) return;
      const [u, j] = from;
      const key = `${u}>${v}`;
      const group = groups.get(key) ?? { u, v, ports: [] };
      group.ports.push([
        bodyPort(items[u]!, items[u]!.body?.outs[j], true),
        bodyPort(items[v]!, items[v]!.body?.ins[k], false),
      ]);
      groups.set(key, group);
    }),
  );
  const preds: number[][] = items.map(() => []);
  const succs: number[][] = items.map(() => []);
  for (const { u, v } of groups.values()) {
    preds[v]!.push(u);
    succs[u]!.push(v);
  }
  const rank = rankItems(items.length, preds, succs, (i) => i >= firstOutput);

  // Points: the items, then one dummy per rank crossed by a long edge.
  const pRank = [...rank];
  const pW = items.map((it) => it.w);
  const links: Link[] = [];
  const chains: Array<{ readonly points: number[]; readonly ports: ReadonlyArray<readonly [Port, Port]> }> = [];
  const meanDx = (ps: readonly Port[]): number => ps.reduce((a, p) => a + p.dx, 0) / ps.length;
  for (const { u, v, ports } of groups.values()) {
    const points = [u];
    for (let r = rank[u]! + 1; r < rank[v]!; r++) {
      pRank.push(r);
      pW.push(METRICS.dummyW);
      points.push(pRank.length - 1);
    }
    points.push(v);
    for (let i = 0; i + 1 < points.length; i++) {
      links.push({
        from: points[i]!,
        to: points[i + 1]!,
        fromOffset: i === 0 ? meanDx(ports.map(([a]) => a)) : 0,
        toOffset: i + 2 === points.length ? meanDx(ports.map(([, b]) => b)) : 0,
      });
    }
    chains.push({ points, ports });
  }
  const isDummy = (p: number): boolean => p >= items.length;
  const { x, layers } = placePoints(
    { rank: pRank, width: pW, dummy: pRank.map((_, p) => isDummy(p)), links },
    { box: METRICS.gapX, dummy: METRICS.dummyGapX },
  );
  const maxRank = layers.length - 1;

  // y: each rank as tall as its tallest box; boxes centred in their rank.
  const rankH = layers.map((l) => Math.max(8, ...l.filter((p) => !isDummy(p)).map((p) => items[p]!.h)));
  const rankTop: number[] = [];
  rankH.forEach((_, r) => rankTop.push(r === 0 ? METRICS.margin : rankTop[r - 1]! + rankH[r - 1]! + METRICS.gapY));
  const cx = (p: number): number => x[p]! + METRICS.margin;
  const top = (p: number): number => rankTop[pRank[p]!]! + (isDummy(p) ? 0 : (rankH[pRank[p]!]! - items[p]!.h) / 2);

  const boxes: Box[] = items.map((it, p) => ({ ...it, x: cx(p) - it.w / 2, y: top(p) }));
  const edges: EdgePath[] = chains.flatMap(({ points, ports }) => {
    const through = points.slice(1, -1).flatMap((d): Array<readonly [number, number]> => [
      [cx(d), rankTop[pRank[d]!]!],
      [cx(d), rankTop[pRank[d]!]! + rankH[pRank[d]!]!],
    ]);
    const u = points[0]!;
    const v = points[points.length - 1]!;
    const distinct = new Map(ports.map(([a, b]) => [`${a.dx},${a.dy},${b.dx},${b.dy}`, [a, b] as const]));
    return [...distinct.values()].map(([a, b]) => ({
      points: [[cx(u) + a.dx, top(u) + a.dy] as const, ...through, [cx(v) + b.dx, top(v) + b.dy] as const],
    }));
  });
  const width = Math.max(...boxes.map((b) => b.x + b.w)) + METRICS.margin;
  const height = rankTop[maxRank]! + rankH[maxRank]! + METRICS.margin;
  return {
    width,
    height,
    boxes,
    edges,
    ins: boxes.slice(0, view.inputs.length),
    outs: boxes.slice(firstOutput),
  };
};
