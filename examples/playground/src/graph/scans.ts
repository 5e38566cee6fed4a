/**
 * @file Finding the scans of a graph view (for the model view's caption and its checks).
 */
import type { GraphView, NodeView } from "../protocol.js";

/**
 * Every scan in a view, outermost first, with its depth (0 = top level).
 * @example scansOf(gradientView).some((s) => s.node.reverse) // the gradient holds a reverse scan
 */
export const scansOf = (view: GraphView, depth = 0): Array<{ readonly node: NodeView; readonly depth: number }> =>
  view.nodes.flatMap((n) => [
    ...(n.op === "scan" ? [{ node: n, depth }] : []),
    ...(n.body ? scansOf(n.body, depth + 1) : []),
  ]);

/**
 * Number of equations in a view, nested bodies included.
 * @example countNodes(view) // 74
 */
export const countNodes = (view: GraphView): number =>
  view.nodes.reduce((n, x) => n + 1 + (x.body ? countNodes(x.body) : 0), 0);
