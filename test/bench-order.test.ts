/**
 * The benchmark harnesses' orders and ratios: `pnpm bench:peers`'s round order (a Williams design,
 * in which every contestant follows every other one equally often and holds every position
 * equally often) and per-round ratios, and `pnpm bench`'s alternation of a case with its baseline.
 * Nothing here times anything: the tests check which calls are made and how samples combine.
 */
import { describe, expect, it } from "vitest";
import { pairedRatio, roundOrder, type Timing } from "../bench/peers/harness.js";
import { timeGroup, type BenchCase } from "../bench/run.js";

/** How often `a` comes right after `b` within the rounds of one cycle, for every ordered pair. */
const followCounts = (n: number, rounds: number): number[][] => {
  const counts = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let r = 0; r < rounds; r++) {
    const order = roundOrder(r, n);
    for (let k = 1; k < n; k++) counts[order[k]!]![order[k - 1]!]!++;
  }
  return counts;
};

describe("roundOrder", () => {
  for (const n of [2, 3, 4, 5, 6, 7, 8, 9]) {
    const cycle = n % 2 === 0 ? n : 2 * n;

    it(`orders all ${n} contestants once per round, each in every position equally often`, () => {
      const positions = Array.from({ length: n }, () => new Array<number>(n).fill(0));
      for (let r = 0; r < cycle; r++) {
        const order = roundOrder(r, n);
        expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        order.forEach((c, k) => positions[c]![k]!++);
      }
      for (const row of positions) expect(new Set(row)).toEqual(new Set([cycle / n]));
    });

    it(`puts each of ${n} contestants right after every other one equally often over a cycle`, () => {
      const counts = followCounts(n, cycle);
      const each = cycle / n;
      counts.forEach((row, a) => row.forEach((c, b) => expect(c).toBe(a === b ? 0 : each)));
    });
  }

  it("repeats its cycle", () => {
    expect(roundOrder(11, 7)).toEqual(roundOrder(25, 7));
    expect(roundOrder(3, 6)).toEqual(roundOrder(9, 6));
  });
});

describe("pairedRatio", () => {
  const timing = (perRound: readonly (number | null)[]): Timing => {
    const taken = perRound.filter((t) => t !== null);
    return { name: "row", medianMs: 0, minMs: Math.min(...taken), runs: taken.length, inner: 1, perRound, run: "1.1" };
  };

  it("cancels a drift of the machine's speed shared by both rows of a round", () => {
    // The machine runs 1×, 2×, 4×… slower from round to round; the row is always half the reference.
    const drift = [1, 2, 4, 1, 3, 1, 1];
    const ref = drift.map((d) => 10 * d);
    const row = drift.map((d, r) => 5 * d * (r === 1 ? 1.2 : 1)); // one noisy round
    expect(pairedRatio(timing(row), timing(ref))).toBe(0.5);
  });

  it("uses only the rounds both rows took part in", () => {
    expect(pairedRatio(timing([2, null, 6, 8, null, 10]), timing([1, 3, 3, null, 5, 5]))).toBe(2);
  });

  it("gives nothing for rows of different runs or fewer than 3 shared rounds", () => {
    expect(pairedRatio({ ...timing([2, 4, 6]), run: "1.2" }, timing([1, 2, 3]))).toBeUndefined();
    expect(pairedRatio(timing([1, 2, 3]), timing([1, 2, 3, 4]))).toBeUndefined();
    expect(pairedRatio(timing([1, null, 3, null]), timing([1, 2, 3, 4]))).toBeUndefined();
    const { perRound: _, ...withoutRounds } = timing([1, 2, 3]);
    expect(pairedRatio(withoutRounds, timing([1, 2, 3]))).toBeUndefined();
  });
});

describe("timeGroup", () => {
  /** Cases whose calls write their name to one log. */
  const logged = (): { log: string[]; make: (name: string, extra?: Partial<BenchCase>) => BenchCase } => {
    const log: string[] = [];
    const make = (name: string, extra: Partial<BenchCase> = {}): BenchCase => ({
      name,
      minRepeats: 6,
      maxRepeats: 6,
      ...extra,
      setup: () => {
        log.push(`setup ${name}`);
        return () => log.push(name);
      },
    });
    return { log, make };
  };

  it("alternates a case with its baseline, round by round, in alternating order", () => {
    const { log, make } = logged();
    const g = timeGroup("demo", make("base"), [make("case", { baseline: "base" })]);
    expect(g.base.runs).toBe(6);
    expect(g.cases[0]!.runs).toBe(6);
    // Both are set up and warmed before the timed rounds: the last 12 calls are the rounds.
    expect(log.slice(0, 1)).toEqual(["setup base"]);
    expect(log.slice(-12)).toEqual([
      "base",
      "case",
      "case",
      "base",
      "base",
      "case",
      "case",
      "base",
      "base",
      "case",
      "case",
      "base",
    ]);
    expect(Number.isFinite(g.cases[0]!.ratio)).toBe(true);
  });

  it("times several cases with one baseline in the same rounds; a slow one sits out rounds evenly", () => {
    const { log, make } = logged();
    const cases = [make("a", { baseline: "base" }), make("b", { baseline: "base", minRepeats: 3, maxRepeats: 3 })];
    const g = timeGroup("demo", make("base"), cases);
    expect([g.base.runs, g.cases[0]!.runs, g.cases[1]!.runs]).toEqual([6, 6, 3]);
    // Each round in the Williams order of the three; b (3 of 6 rounds) takes rounds 1, 3 and 5.
    const names = ["base", "a", "b"];
    const expected = [0, 1, 2, 3, 4, 5].flatMap((r) =>
      roundOrder(r, 3)
        .map((i) => names[i]!)
        .filter((n) => n !== "b" || r % 2 === 1),
    );
    expect(log.slice(-15)).toEqual(expected);
    expect(g.cases.every((r) => Number.isFinite(r.ratio))).toBe(true);
  });

  it("precedes each timed call of a case with its settling calls", () => {
    const { log, make } = logged();
    const twice = { minRepeats: 2, maxRepeats: 2 };
    const g = timeGroup("demo", make("base", twice), [make("case", { baseline: "base", settle: 2, ...twice })]);
    expect(g.cases[0]!.runs).toBe(2);
    expect(log.slice(-8)).toEqual(["base", "case", "case", "case", "case", "case", "case", "base"]);
  });

  it("times cold-start cases apart, each exactly its repeats", () => {
    const { log, make } = logged();
    const g = timeGroup("demo", make("base"), [make("case", { baseline: "base", warmup: false, minRepeats: 3 })]);
    expect(g.cases[0]!.runs).toBe(3);
    expect(g.cases[0]!.firstMs).toBeDefined();
    expect(log.slice(-3)).toEqual(["case", "case", "case"]);
  });
});
