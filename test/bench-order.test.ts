/**
 * The benchmark harness's round order (bench/peers/harness.ts): a Williams design, in which every
 * contestant follows every other one equally often and holds every position equally often.
 */
import { describe, expect, it } from "vitest";
import { roundOrder } from "../bench/peers/harness.js";

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
