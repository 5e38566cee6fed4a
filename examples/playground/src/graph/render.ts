/**
 * @file Draws a laid-out graph as SVG: inputs and outputs as rounded pills, equations as boxes
 * coloured by kind (matrix products, nonlinearities, shape moves, the rest), a scan as a dashed
 * frame holding its body — blue when it runs forward, orange when it runs in reverse (the
 * gradient's BPTT loop). Every box has a tooltip with the equation's parameters and types.
 */
import { svg } from "../dom.js";
import { layoutGraph, METRICS, type Box, type EdgePath, type GraphLayout } from "./layout.js";
import type { GraphView } from "../protocol.js";

const NONLINEAR = new Set([
  "tanh",
  "sigmoid",
  "exp",
  "log",
  "logistic",
  "relu",
  "max",
  "softmax",
  "logSoftmax",
  "sqrt",
  "rsqrt",
  "pow",
  "square",
]);
const SHAPE = new Set([
  "transpose",
  "reshape",
  "broadcastTo",
  "slice",
  "unslice",
  "concat",
  "pad",
  "flip",
  "expandDims",
  "squeeze",
  "stack",
  "take",
  "gather",
]);

/** The CSS class of an equation's box: its family of primitives. */
const familyOf = (op: string | undefined): string =>
  op === "matmul"
    ? "op-matmul"
    : op !== undefined && NONLINEAR.has(op)
      ? "op-nonlinear"
      : op !== undefined && SHAPE.has(op)
        ? "op-shape"
        : "op-other";

const pathOf = (e: EdgePath): string => {
  const [first, ...rest] = e.points;
  if (first === undefined) return "";
  let d = `M${first[0].toFixed(1)},${first[1].toFixed(1)}`;
  let prev = first;
  for (const p of rest) {
    const dy = (p[1] - prev[1]) / 2;
    d += ` C${prev[0].toFixed(1)},${(prev[1] + dy).toFixed(1)} ${p[0].toFixed(1)},${(p[1] - dy).toFixed(1)} ${p[0].toFixed(1)},${p[1].toFixed(1)}`;
    prev = p;
  }
  return d;
};

const drawBox = (b: Box, arrow: string): SVGGElement => {
  const g = svg("g", {
    class: `node node-${b.kind}${b.kind === "op" ? ` ${familyOf(b.op)}` : ""}${b.kind === "scan" ? (b.reverse ? " scan scan-reverse" : " scan scan-forward") : ""}`,
    "data-op": b.op ?? b.kind,
    ...(b.reverse === undefined ? {} : { "data-reverse": String(b.reverse) }),
    transform: `translate(${b.x.toFixed(1)},${b.y.toFixed(1)})`,
  });
  g.append(svg("title", {}, b.title));
  const round = b.kind === "input" || b.kind === "output" ? b.h / 2 : 4;
  g.append(svg("rect", { width: b.w.toFixed(1), height: b.h.toFixed(1), rx: String(round), class: "box" }));
  if (b.kind === "scan" && b.body !== undefined) {
    g.append(svg("text", { x: "10", y: "17", class: "scan-label" }, b.label));
    const inner = drawLayout(b.body, arrow);
    inner.setAttribute("transform", `translate(${METRICS.bodyPad},${METRICS.header})`);
    g.append(inner);
  } else {
    g.append(svg("text", { x: (b.w / 2).toFixed(1), y: "14", class: "label", "text-anchor": "middle" }, b.label));
    g.append(svg("text", { x: (b.w / 2).toFixed(1), y: "27", class: "detail", "text-anchor": "middle" }, b.detail));
  }
  return g;
};

const drawLayout = (layout: GraphLayout, arrow: string): SVGGElement => {
  const g = svg("g", { class: "graph" });
  const edges = svg("g", { class: "edges" });
  for (const e of layout.edges) edges.append(svg("path", { d: pathOf(e), "marker-end": `url(#${arrow})` }));
  g.append(edges);
  for (const b of layout.boxes) g.append(drawBox(b, arrow));
  return g;
};

/** Marker ids must be unique in the document: a marker inside a hidden SVG would not draw in another. */
let svgCount = 0;

/**
 * An `<svg>` of the graph view at its natural size (1 unit = 1 CSS pixel); CSS may scale it down.
 * @example container.append(renderGraph(graphs.gradient))
 */
export const renderGraph = (view: GraphView): SVGSVGElement => {
  const layout = layoutGraph(view);
  const root = svg("svg", {
    class: "graph-svg",
    width: layout.width.toFixed(0),
    height: layout.height.toFixed(0),
    viewBox: `0 0 ${layout.width.toFixed(0)} ${layout.height.toFixed(0)}`,
    role: "img",
  });
  const arrow = `arrow-${svgCount++}`;
  const marker = svg("marker", {
    id: arrow,
    viewBox: "0 0 8 8",
    refX: "7",
    refY: "4",
    markerWidth: "7",
    markerHeight: "7",
    orient: "auto-start-reverse",
  });
  marker.append(svg("path", { d: "M0,0 L8,4 L0,8 z", class: "arrow-head" }));
  const defs = svg("defs", {});
  defs.append(marker);
  root.append(defs, drawLayout(layout, arrow));
  return root;
};
