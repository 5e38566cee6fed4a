/**
 * @file The model view: the traced loss and its gradient, each as an SVG drawing (scan bodies
 * nested inside their scan) or as `printGraph` text, on two tabs, with a caption that reads the
 * scans off the graphs — the forward loss holds one forward scan whose body is the cell step,
 * and the gradient adds a reverse scan over the step's VJP: backpropagation through time.
 */
import { byId, el } from "../dom.js";
import type { GraphView, ModelGraphs } from "../protocol.js";
import { renderGraph } from "./render.js";
import { countNodes, scansOf } from "./scans.js";

/** The view's controls. */
export interface ModelView {
  /** Draws new graphs (a new model). */
  readonly show: (graphs: ModelGraphs) => void;
}

const scanWords = (view: GraphView): string => {
  const scans = scansOf(view);
  const forward = scans.filter((s) => s.node.reverse === false).length;
  const reverse = scans.filter((s) => s.node.reverse === true).length;
  return [
    forward > 0 ? `${forward} forward scan${forward > 1 ? "s" : ""}` : "",
    reverse > 0 ? `${reverse} reverse scan${reverse > 1 ? "s" : ""}` : "",
  ]
    .filter(Boolean)
    .join(" and ");
};

/**
 * Wires the model view to the page's elements (#tab-forward, #tab-gradient, #graph-forward,
 * #graph-gradient, #as-text, #full-size, #model-caption).
 * @example createModelView().show(graphs)
 */
export const createModelView = (): ModelView => {
  const tabs = { forward: byId("tab-forward", HTMLButtonElement), gradient: byId("tab-gradient", HTMLButtonElement) };
  const panels = { forward: byId("graph-forward", HTMLDivElement), gradient: byId("graph-gradient", HTMLDivElement) };
  const asText = byId("as-text", HTMLInputElement);
  const fullSize = byId("full-size", HTMLInputElement);
  const caption = byId("model-caption", HTMLParagraphElement);
  let current: ModelGraphs | undefined;

  const select = (which: "forward" | "gradient"): void => {
    for (const k of ["forward", "gradient"] as const) {
      tabs[k].setAttribute("aria-selected", String(k === which));
      panels[k].hidden = k !== which;
    }
  };
  const draw = (): void => {
    if (current === undefined) return;
    const g = current;
    for (const [k, view, text] of [
      ["forward", g.forward, g.forwardText],
      ["gradient", g.gradient, g.gradientText],
    ] as const) {
      panels[k].classList.toggle("fit", !fullSize.checked);
      panels[k].replaceChildren(asText.checked ? el("pre", { class: "graph-text" }, text) : renderGraph(view));
    }
  };
  tabs.forward.addEventListener("click", () => select("forward"));
  tabs.gradient.addEventListener("click", () => select("gradient"));
  asText.addEventListener("change", draw);
  fullSize.addEventListener("change", draw);

  return {
    show: (graphs) => {
      current = graphs;
      caption.textContent =
        `Traced on ${graphs.tracedOn}. The loss (${countNodes(graphs.forward)} equations) runs ${scanWords(graphs.forward)} whose body is one cell step. ` +
        `Its gradient (${countNodes(graphs.gradient)} equations) runs ${scanWords(graphs.gradient)}: the forward pass saves what the backward pass needs, ` +
        `and the reverse scan (orange) walks the steps from last to first through the cell's vector-Jacobian product — backpropagation through time is a reverse scan. ` +
        "Hover a box for its parameters and types.";
      draw();
    },
  };
};
