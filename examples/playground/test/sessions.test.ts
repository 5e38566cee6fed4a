/**
 * @file Every task with every cell builds, traces its loss and gradient (one forward scan whose
 * body is the cell step; the gradient adds one reverse scan), and trains; the graph layout keeps
 * boxes apart and scan bodies inside their scans.
 */
import { describe, expect, it } from "vitest";
import { layoutGraph, METRICS, type GraphLayout } from "../src/graph/layout.js";
import { countNodes, scansOf } from "../src/graph/scans.js";
import type { CellName, TaskName } from "../src/protocol.js";
import { sessionFor } from "../src/tasks/index.js";
import { data } from "./data.js";

const tasks: readonly TaskName[] = ["names", "moby", "sine"];
const cells: readonly CellName[] = ["rnn", "lstm", "gru"];

/** Every box of a layout and of the bodies inside it. */
const checkLayout = (l: GraphLayout, where: string): void => {
  // Boxes in the same row must not overlap: sort each row by x and compare neighbours.
  const rows = new Map<number, Array<{ x: number; w: number; label: string }>>();
  for (const b of l.boxes) rows.set(Math.round(b.y + b.h / 2), [...(rows.get(Math.round(b.y + b.h / 2)) ?? []), b]);
  for (const row of rows.values()) {
    const sorted = [...row].sort((a, b) => a.x - b.x);
    sorted
      .slice(1)
      .forEach((b, i) =>
        expect(b.x, `${where}: ${sorted[i]!.label} overlaps ${b.label}`).toBeGreaterThanOrEqual(
          sorted[i]!.x + sorted[i]!.w,
        ),
      );
  }
  for (const b of l.boxes) {
    expect(b.x + b.w, where).toBeLessThanOrEqual(l.width);
    expect(b.y + b.h, where).toBeLessThanOrEqual(l.height);
    if (b.body !== undefined) {
      expect(b.w, `${where}: scan narrower than its body`).toBeGreaterThanOrEqual(b.body.width + 2 * METRICS.bodyPad);
      expect(b.h, `${where}: scan shorter than its body`).toBeGreaterThanOrEqual(b.body.height + METRICS.header);
      checkLayout(b.body, `${where} > ${b.label}`);
    }
  }
  for (const e of l.edges)
    for (const [x, y] of e.points) expect(Number.isFinite(x) && Number.isFinite(y), where).toBe(true);
};

describe("sessions", () => {
  for (const task of tasks) {
    for (const cell of cells) {
      it(`${task} with ${cell}: the loss holds one forward scan; its gradient adds one reverse scan; steps run`, () => {
        const s = sessionFor({ task, cell, hidden: 8, seed: 1 }, data);
        const g = s.graphs();
        const forward = scansOf(g.forward);
        const gradient = scansOf(g.gradient);
        expect(forward.map((f) => [f.node.reverse, f.depth])).toEqual([[false, 0]]);
        expect(gradient.map((f) => f.node.reverse).sort()).toEqual([false, true]);
        expect(gradient.every((f) => f.depth === 0)).toBe(true);
        // The forward scan's body is the cell step: the recurrent matmul h · W_hhᵀ is in it.
        expect(forward[0]!.node.body!.nodes.some((n) => n.op === "matmul")).toBe(true);
        expect(countNodes(g.gradient)).toBeGreaterThan(countNodes(g.forward));
        expect(g.gradientText).toMatch(/scan\[length=\d+ reverse=true/);
        checkLayout(layoutGraph(g.gradient), `${task}/${cell} gradient`);
        const losses = [s.step(), s.step()];
        expect(losses.every(Number.isFinite)).toBe(true);
        expect(s.steps()).toBe(2);
        const p = s.preview();
        expect(p.kind).toBe(task === "sine" ? "forecast" : "samples");
      });
    }
  }

  it("the sine forecaster learns: its loss after 40 steps is under half its first", () => {
    const s = sessionFor({ task: "sine", cell: "gru", hidden: 16, seed: 0 }, data);
    const losses = Array.from({ length: 40 }, () => s.step());
    expect(losses.slice(-5).reduce((a, b) => a + b) / 5).toBeLessThan(0.5 * losses[0]!);
  });

  it("a run is a pure function of its configuration", () => {
    const run = (): number[] => {
      const s = sessionFor({ task: "names", cell: "lstm", hidden: 8, seed: 5 }, data);
      return Array.from({ length: 3 }, () => s.step());
    };
    expect(run()).toEqual(run());
  });
});
