/**
 * @file The load reading behind `minMacs: "auto"` of kernel threads: the arithmetic of the cores
 * other processes use, the decision with its hysteresis, and a real busy process seen as one.
 */
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { coresFree, otherCores, readCpu, type CpuReading } from "../src/node/cpuLoad.js";

const reading = (at: number, busyMs: number, ownMs: number, cores = 2): CpuReading => ({ at, busyMs, ownMs, cores });

describe("otherCores", () => {
  it("is the machine's busy time less this process's, per elapsed time", () => {
    expect(otherCores(reading(0, 0, 0), reading(200, 500, 300))).toBeCloseTo(1);
    expect(otherCores(reading(100, 1000, 400), reading(300, 1400, 800))).toBe(0);
  });
  it("reads a small negative difference (counters ticking apart) as no load", () => {
    expect(otherCores(reading(0, 0, 0), reading(100, 190, 200))).toBe(0);
  });
  it("cannot tell without elapsed time or cores, or when the cores changed", () => {
    expect(otherCores(reading(5, 0, 0), reading(5, 10, 0))).toBeUndefined();
    expect(otherCores(reading(0, 0, 0, 0), reading(100, 10, 0, 0))).toBeUndefined();
    expect(otherCores(reading(0, 0, 0, 2), reading(100, 10, 0, 4))).toBeUndefined();
  });
});

describe("coresFree", () => {
  it("needs a core per thread, with half a core of slack", () => {
    expect(coresFree(0, 2, 2, true)).toBe(true);
    expect(coresFree(0.5, 2, 2, true)).toBe(true);
    expect(coresFree(0.6, 2, 2, true)).toBe(false);
    expect(coresFree(1, 2, 2, true)).toBe(false);
    expect(coresFree(5.4, 8, 3, true)).toBe(true);
    expect(coresFree(0, 2, 3, true)).toBe(false); // more threads than cores
  });
  it("once not free, wants the others a quarter core lower before it is free again", () => {
    expect(coresFree(0.4, 2, 2, false)).toBe(false);
    expect(coresFree(0.25, 2, 2, false)).toBe(true);
  });
});

describe("readCpu", () => {
  it("sees a busy process as about one core of other load", async () => {
    const busy = spawn(process.execPath, ["-e", "const end = Date.now() + 4000; while (Date.now() < end);"]);
    try {
      await new Promise((resolve) => setTimeout(resolve, 300)); // let it start
      const before = readCpu();
      await new Promise((resolve) => setTimeout(resolve, 600));
      const others = otherCores(before, readCpu());
      // At least most of a core (other test files running beside this one only add to it).
      expect(others).toBeGreaterThan(0.5);
    } finally {
      busy.kill();
    }
  });
});
