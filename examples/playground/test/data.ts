/**
 * @file Small data for the playground's Node tests (the page bundles the real data sets).
 */
import type { Datasets } from "../src/tasks/index.js";

/** A few names and a short text: enough for every task to build, trace and take steps. */
export const data: Datasets = {
  names: ["Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "John", "Kathleen", "Niklaus"],
  mobyDick: {
    text: "Call me Ishmael. Some years ago—never mind how long precisely—having little or no money in my purse, and nothing particular to interest me on shore, I thought I would sail about a little and see the watery part of the world.",
    source: "Moby Dick, the first sentences",
  },
};
