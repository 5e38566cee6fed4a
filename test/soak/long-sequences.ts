/**
 * @file Soak run of the long-sequence checks (not part of `pnpm test`; about a minute on an idle
 * 2-core machine): BPTT through the support LSTM over T = 100,000 steps under "all", "carries" and
 * `{ every: 100 }`, eagerly and compiled, each in its own `node --expose-gc` child that measures
 * live memory. Checks the same memory promises as long-sequences.test.ts does at T = 10,000 and
 * that the gradients agree across policies, prints a table, records the figures under `soak` in
 * node_modules/.cache/fuzz/long-sequences.json, and exits non-zero if anything is broken.
 *
 *     npx tsx test/soak/long-sequences.ts [T]
 */
import type { MemoryReport } from "../long-sequences.child.js";
import { measure, memoryViolations, recordFigures } from "../long-sequences.figures.js";

const length = Number(process.argv[2] ?? 100_000);
const POLICIES = [
  ["all", "all"],
  ["carries", "carries"],
  ["every100", { every: 100 }],
] as const;
/** Float32 sums over 100,000 steps in different orders: ~√T·eps ≈ 2e-5 of a leaf's scale; allow 1e-4. */
const GAP = 1e-4;

const gap = (a: MemoryReport["grads"], b: MemoryReport["grads"]): number =>
  Math.max(
    ...Object.keys(a).map((k) => {
      const scale = Math.max(...a[k]!.map(Math.abs));
      return Math.max(...a[k]!.map((v, i) => Math.abs(v - b[k]![i]!))) / scale;
    }),
  );

const run = async (jit: boolean): Promise<Record<string, MemoryReport>> => {
  const out: Record<string, MemoryReport> = {};
  // One at a time: the timings are then the machine's, not shared.
  for (const [key, policy] of POLICIES) out[key] = await measure(policy, length, jit);
  return out;
};

const eager = await run(false);
const compiled = await run(true);
const problems = memoryViolations(
  { all: eager["all"]!, carries: eager["carries"]!, every: eager["every100"]! },
  length,
);
for (const [key] of POLICIES) {
  const g = gap(eager["all"]!.grads, eager[key]!.grads);
  if (g > GAP) problems.push(`${key}: eager gradient differs from "all" by ${g.toExponential(2)} of a leaf (> ${GAP})`);
  const c = gap(eager[key]!.grads, compiled[key]!.grads);
  if (c > 0)
    problems.push(`${key}: compiled gradient differs from eager by ${c.toExponential(2)} (must be bit-identical)`);
}

const mb = (b: number | null): string => (b === null ? "—" : `${(b / 1e6).toFixed(2)} MB`);
console.log(`BPTT over T = ${length} (LSTM, batch 2, 4 → 8)`);
console.log("policy    scan estimate  held (eager)  peak (eager)  peak (jit)  eager s  jit s");
for (const [key] of POLICIES) {
  const [e, j] = [eager[key]!, compiled[key]!];
  console.log(
    [
      key.padEnd(9),
      mb(e.scanEstimate).padStart(13),
      mb(e.held).padStart(12),
      mb(e.backwardPeak).padStart(12),
      mb(j.backwardPeak).padStart(10),
      ((e.forwardMs + e.backwardMs) / 1000).toFixed(1).padStart(7),
      (j.backwardMs / 1000).toFixed(1).padStart(6),
    ].join("  "),
  );
}
const strip = (r: MemoryReport) => {
  const { grads: _grads, ...figures } = r;
  return figures;
};
recordFigures({
  soak: {
    bpttLength: length,
    eager: Object.fromEntries(POLICIES.map(([key]) => [key, strip(eager[key]!)])),
    jit: Object.fromEntries(POLICIES.map(([key]) => [key, strip(compiled[key]!)])),
  },
});
if (problems.length > 0) {
  console.error(`\n${problems.length} problem(s):\n${problems.join("\n")}`);
  process.exit(1);
}
console.log("\nall memory promises hold; gradients agree across policies and between eager and compiled");
