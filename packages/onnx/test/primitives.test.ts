/**
 * @file Every primitive with a lowering, exported and run in ONNX Runtime, compared with Rewind
 * eager on random shapes and values (fast-check), in every dtype the case lists.
 */
import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import type { PrimitiveName } from "@rewind/autodiff";
import { exportedPrimitives } from "../src/index.js";
import { cases, Values } from "./cases.js";
import { checkExport, tracedPrimitives } from "./helpers.js";

const shapes = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 });
const lowered = exportedPrimitives().lowered as PrimitiveName[];

describe("every lowered primitive runs in ONNX Runtime and agrees with Rewind", () => {
  it("the cases and the lowering table list the same primitives", () => {
    const withCase = Object.entries(cases)
      .filter(([, c]) => c !== "unsupported")
      .map(([n]) => n);
    expect(withCase.sort()).toEqual([...lowered].sort());
  });

  for (const name of lowered) {
    const c = cases[name];
    if (c === "unsupported") continue;
    for (const dtype of c.dtypes) {
      test.prop([shapes, fc.integer()], { numRuns: 3 })(`${name} (${dtype})`, async (shape, seed) => {
        const args = c.args(new Values(seed), shape, dtype);
        expect(tracedPrimitives(c.f, args).has(name), `the ${name} case uses ${name}`).toBe(true);
        await checkExport(c.f, args);
      });
    }
  }
});
