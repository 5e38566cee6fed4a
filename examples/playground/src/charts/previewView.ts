/**
 * @file What the model produces while it learns: a list of sampled names, a block of sampled
 * text, or a forecast chart (the true wave, the one-step predictions while the model reads it,
 * and the free run on its own outputs).
 */
import { el, svg } from "../dom.js";
import type { Preview } from "../protocol.js";
import { framed, linearScale, polyline, type Frame } from "./kit.js";

const FRAME: Frame = { width: 560, height: 230, left: 40, right: 12, top: 10, bottom: 32 };

const forecastChart = (p: Extract<Preview, { kind: "forecast" }>): HTMLElement => {
  const all = [...p.truth, ...p.teacherForced, ...p.freeRun].filter(Number.isFinite);
  const lim = Math.max(1, ...all.map(Math.abs)) * 1.05;
  const x = linearScale(0, p.truth.length, FRAME.left, FRAME.width - FRAME.right, 6);
  const y = linearScale(-lim, lim, FRAME.height - FRAME.bottom, FRAME.top, 4);
  const root = framed(FRAME, x, y, "step");
  // Value i of each series is the prediction of (or truth at) step i + 1.
  const line = (values: readonly number[], first: number): Array<readonly [number, number]> =>
    values.map((v, i) => [x.at(first + i + 1), y.at(v)]);
  const cx = x.at(p.context + 0.5).toFixed(1);
  root.append(
    svg("line", {
      x1: cx,
      x2: cx,
      y1: String(FRAME.top),
      y2: String(FRAME.height - FRAME.bottom),
      class: "context-line",
    }),
    svg("path", { d: polyline(line(p.truth, 0)), class: "truth" }),
    svg("path", { d: polyline(line(p.teacherForced, 0)), class: "teacher" }),
    svg("path", { d: polyline(line(p.freeRun, p.context)), class: "free" }),
  );
  const legend = el(
    "div",
    { class: "legend" },
    el("span", { class: "l-truth" }, "true wave"),
    el("span", { class: "l-teacher" }, "one-step prediction"),
    el("span", { class: "l-free" }, "free run"),
  );
  return el("div", { class: "chart forecast" }, root, legend);
};

/**
 * Shows a preview in `host` and its title and note in their elements; `host.dataset.step` tells
 * which step it is from.
 * @example showPreview(byId("preview", HTMLDivElement), title, note, 120, preview)
 */
export const showPreview = (
  host: HTMLElement,
  title: HTMLElement,
  note: HTMLElement,
  step: number,
  p: Preview,
): void => {
  title.textContent = `${p.title}, step ${step}`;
  note.textContent = p.note;
  host.dataset["step"] = String(step);
  host.dataset["kind"] = p.kind;
  if (p.kind === "forecast") {
    host.replaceChildren(forecastChart(p));
  } else if (p.lines.length > 1 && p.lines.every((l) => l.length < 24)) {
    host.replaceChildren(el("ol", { id: "samples" }, ...p.lines.map((l) => el("li", { class: "sample" }, l))));
  } else {
    host.replaceChildren(el("pre", { id: "samples", class: "sample" }, p.lines.join("\n")));
  }
};
