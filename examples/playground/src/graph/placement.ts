/**
 * @file Ordering and horizontal placement of a layered graph's points (boxes and the dummy points
 * of long edges). Order within a rank comes from barycenter sweeps, down and up. Then each point
 * wants the mean x of its neighbours (through the ports its links attach to), and the closest
 * placement that keeps the rank's order and spacing is an isotonic regression
 * (pool-adjacent-violators), swept down and up a few times.
 */
import { isotonic } from "./isotonic.js";

/** A link between two points; the offsets are where it attaches, relative to each point's centre. */
export interface Link {
  readonly from: number;
  readonly to: number;
  readonly fromOffset: number;
  readonly toOffset: number;
}

/** The points to place: rank, width and whether each is a dummy, and the links (from a lower rank to a higher one). */
export interface Points {
  readonly rank: readonly number[];
  readonly width: readonly number[];
  readonly dummy: readonly boolean[];
  readonly links: readonly Link[];
}

/** Spacing between neighbours in a rank: wide between boxes, narrow next to an edge's dummy point. */
export interface Spacing {
  readonly box: number;
  readonly dummy: number;
}

/**
 * The x of each point's centre (the leftmost edge of the drawing at 0 or more), and the ranks as
 * ordered lists of points.
 * @example placePoints({ rank: [0, 1], width: [40, 40], dummy: [false, false], links: [...] }, { box: 16, dummy: 5 }).x
 */
export const placePoints = (g: Points, spacing: Spacing): { readonly x: number[]; readonly layers: number[][] } => {
  const n = g.rank.length;
  const ins: Link[][] = Array.from({ length: n }, () => []);
  const outs: Link[][] = Array.from({ length: n }, () => []);
  for (const l of g.links) {
    ins[l.to]!.push(l);
    outs[l.from]!.push(l);
  }

  const maxRank = Math.max(0, ...g.rank);
  const layers: number[][] = Array.from({ length: maxRank + 1 }, () => []);
  g.rank.forEach((r, p) => layers[r]!.push(p));
  const pos = new Array<number>(n).fill(0);
  layers.forEach((l) => l.forEach((p, i) => (pos[p] = i)));
  const sweep = (r: number, neighbours: (p: number) => number[]): void => {
    const bc = new Map(
      layers[r]!.map((p) => {
        const nb = neighbours(p);
        return [p, nb.length === 0 ? pos[p]! : nb.reduce((s, q) => s + pos[q]!, 0) / nb.length];
      }),
    );
    layers[r]!.sort((a, b) => bc.get(a)! - bc.get(b)!);
    layers[r]!.forEach((p, i) => (pos[p] = i));
  };
  for (let it = 0; it < 6; it++) {
    for (let r = 1; r <= maxRank; r++) sweep(r, (p) => ins[p]!.map((l) => l.from));
    for (let r = maxRank - 1; r >= 0; r--) sweep(r, (p) => outs[p]!.map((l) => l.to));
  }

  const x = new Array<number>(n).fill(0);
  const gap = (a: number, b: number): number =>
    (g.width[a]! + g.width[b]!) / 2 + (g.dummy[a] || g.dummy[b] ? spacing.dummy : spacing.box);
  const place = (layer: readonly number[], desired: (p: number) => number): void => {
    const offsets = new Array<number>(layer.length).fill(0);
    for (let i = 1; i < layer.length; i++) offsets[i] = offsets[i - 1]! + gap(layer[i - 1]!, layer[i]!);
    const fit = isotonic(
      layer.map((p, i) => desired(p) - offsets[i]!),
      layer.map((p) => (g.dummy[p] ? 0.5 : 1)),
    );
    layer.forEach((p, i) => (x[p] = fit[i]! + offsets[i]!));
  };
  // Where a point would sit to line up with a neighbour's port: from above, and from below.
  const fromAbove = (l: Link): number => x[l.from]! + l.fromOffset - l.toOffset;
  const fromBelow = (l: Link): number => x[l.to]! + l.toOffset - l.fromOffset;
  const mean = (xs: readonly number[], own: number): number =>
    xs.length === 0 ? own : xs.reduce((a, b) => a + b, 0) / xs.length;
  layers.forEach((l) => place(l, () => 0));
  for (let it = 0; it < 8; it++) {
    for (let r = 1; r <= maxRank; r++) place(layers[r]!, (p) => mean(ins[p]!.map(fromAbove), x[p]!));
    for (let r = maxRank - 1; r >= 0; r--) place(layers[r]!, (p) => mean(outs[p]!.map(fromBelow), x[p]!));
  }
  for (let r = 0; r <= maxRank; r++)
    place(layers[r]!, (p) => mean([...ins[p]!.map(fromAbove), ...outs[p]!.map(fromBelow)], x[p]!));
  const left = Math.min(...x.map((v, p) => v - g.width[p]! / 2));
  return { x: x.map((v) => v - left), layers };
};
