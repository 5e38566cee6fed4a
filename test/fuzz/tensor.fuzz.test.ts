/**
 * @file Public-API fuzz suite of @rewind/tensor: every runtime export has a spec (a new export
 * fails the first test until it is listed), and every spec's calls must give the reference
 * answer or throw a TensorException naming the op — never a TypeError, RangeError, hang or a
 * silently wrong result.
 */
import { afterAll, expect, test } from "vitest";
import * as T from "@rewind/tensor";
import { testMisspeltKeys } from "./options.js";
import { exportsOf, FuzzLedger } from "./contract.js";
import { runSpec, type Spec } from "./common.js";
import { constructSpecs, dtypeSpecs } from "./tensorSpecs/construct.js";
import { binarySpecs, unarySpecs, whereSpec } from "./tensorSpecs/elementwise.js";
import { indexingSpecs } from "./tensorSpecs/indexing.js";
import { movementSpecs } from "./tensorSpecs/movement.js";
import { randomSpecs, safetensorsSpecs } from "./tensorSpecs/random.js";
import { cumulativeSpecs, linearScanSpec } from "./tensorSpecs/cumulative.js";
import { reduceSpecs, softmaxSpecs, sumToSpec } from "./tensorSpecs/reduce.js";
import { tensorRegressions } from "./tensorSpecs/regressions.js";
import { shapeSpecs } from "./tensorSpecs/shapes.js";

const registry: Readonly<Record<string, Spec>> = {
  ...unarySpecs("tensor"),
  ...binarySpecs("tensor"),
  where: whereSpec("tensor"),
  ...reduceSpecs("tensor"),
  ...softmaxSpecs("tensor"),
  sumTo: sumToSpec("tensor"),
  ...cumulativeSpecs("tensor"),
  linearScan: linearScanSpec("tensor"),
  ...movementSpecs("tensor"),
  ...indexingSpecs("tensor"),
  ...constructSpecs,
  ...dtypeSpecs,
  ...shapeSpecs,
  ...randomSpecs,
  ...safetensorsSpecs,
};

const ledger = new FuzzLedger("@rewind/tensor");
afterAll(() => ledger.write());

const lookup = (entry: string): unknown =>
  entry.split(".").reduce<unknown>((m, k) => (m as Record<string, unknown>)[k], T);

test("every runtime export of @rewind/tensor has a fuzz spec", () => {
  expect(exportsOf(T)).toEqual(Object.keys(registry).sort());
});

for (const entry of Object.keys(registry).sort()) {
  test(`fuzz ${entry}`, () => runSpec(entry, lookup(entry), registry[entry]!, ledger));
}

for (const r of tensorRegressions) {
  test(`regression: ${r.name}`, () => {
    r.run();
    ledger.record("regressions", 1);
  });
}

// Last, after every spec ran: each options slot the library checked for this package's ops met a misspelt key.
testMisspeltKeys(Object.keys(registry));
