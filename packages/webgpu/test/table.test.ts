import { registry } from "@rewind/autodiff";
import { describe, expect, it } from "vitest";
import { loweredPrimitives } from "../src/index.js";
import {
  CUMULATIVE_COVERED,
  ELEMENTWISE_COVERED,
  INLINE_COVERED,
  RANDOM_COVERED,
  SCAN_COVERED,
  STRUCTURE_COVERED,
} from "./browser/coverage.js";

describe("the lowering table", () => {
  it("has an entry for every primitive of the registry", () => {
    const { lowered, cpu } = loweredPrimitives();
    expect([...lowered, ...cpu].sort()).toEqual(Object.keys(registry).sort());
  });

  it("every WGSL lowering is compared with the CPU by one of the browser test files", () => {
    const covered = [
      ...ELEMENTWISE_COVERED,
      ...STRUCTURE_COVERED,
      ...CUMULATIVE_COVERED,
      ...RANDOM_COVERED,
      ...SCAN_COVERED,
      ...INLINE_COVERED,
    ].sort();
    expect(covered).toEqual(loweredPrimitives().lowered.sort());
  });

  it("lists the CPU fallbacks the README lists", () => {
    expect(loweredPrimitives().cpu.sort()).toEqual(["keySplit", "keyFoldIn"].sort());
  });
});
