/**
 * @file Public-API fuzz suite of @rewind/autodiff: every runtime export has a spec (a new export
 * fails the first test until it is listed). Ops share the tensor suite's generators and float64
 * references (with autodiff's dtype rules), and every op call also runs under `jit`: the traced
 * and compiled result must equal the eager one, and where the eager call is refused the traced
 * one must be refused too, with a library error. Transforms and tools are called as users call
 * them, with hostile values in every slot.
 */
import { afterAll, expect, test } from "vitest";
import * as A from "@rewind/autodiff";
import * as T from "@rewind/tensor";
import { testMisspeltKeys } from "./options.js";
import { exportsOf, FuzzLedger, isLibraryError } from "./contract.js";
import { expectTensor, runSpec, type Caller, type Spec } from "./common.js";
import { checkGradOnEdges, gradOps } from "./autodiffSpecs/grads.js";
import { autodiffOpSpecs } from "./autodiffSpecs/ops.js";
import { autodiffRegressions } from "./autodiffSpecs/regressions.js";
import { toolSpecs } from "./autodiffSpecs/tools.js";
import { applyPrimitiveSpecs } from "./autodiffSpecs/applyPrimitive.js";
import { transformSpecs } from "./autodiffSpecs/transforms.js";
import { vmapSpecs } from "./autodiffSpecs/vmap.js";
import { randomSpecs } from "./autodiffSpecs/random.js";
import { associativeSpecs } from "./autodiffSpecs/associative.js";
import { binarySpecs, unarySpecs, whereSpec } from "./tensorSpecs/elementwise.js";
import { indexingSpecs } from "./tensorSpecs/indexing.js";
import { movementSpecs } from "./tensorSpecs/movement.js";
import { cumulativeSpecs, linearScanSpec } from "./tensorSpecs/cumulative.js";
import { reduceSpecs, softmaxSpecs, sumToSpec } from "./tensorSpecs/reduce.js";

/** The ops: checked eagerly against the references, then under jit against the eager result. */
const opSpecs: Readonly<Record<string, Spec>> = {
  ...unarySpecs("autodiff"),
  ...binarySpecs("autodiff"),
  where: whereSpec("autodiff"),
  ...reduceSpecs("autodiff"),
  ...softmaxSpecs("autodiff"),
  sumTo: sumToSpec("autodiff"),
  ...cumulativeSpecs("autodiff"),
  linearScan: linearScanSpec("autodiff"),
  ...movementSpecs("autodiff"),
  ...indexingSpecs("autodiff"),
  ...autodiffOpSpecs,
};

const registry: Readonly<Record<string, Spec>> = {
  ...opSpecs,
  ...transformSpecs,
  ...vmapSpecs,
  ...toolSpecs,
  ...applyPrimitiveSpecs,
  ...randomSpecs,
  ...associativeSpecs,
};

/** An export by its dotted name (`random.normal` is a member of the `random` namespace). */
const lookup = (entry: string): unknown =>
  entry.split(".").reduce<unknown>((m, k) => (m as Record<string, unknown>)[k], A);

/** Leaf-by-leaf equality of two results (NaN equals NaN), for eager vs jit. */
const sameResult = (op: string, eager: unknown, traced: unknown): void => {
  const [el, ed] = A.treeFlatten(eager);
  const [tl, td] = A.treeFlatten(traced);
  if (A.treeDefKey(ed) !== A.treeDefKey(td) || el.length !== tl.length)
    throw new Error(`${op}: jit returned another structure than eager`);
  el.forEach((e, i) => {
    const t = e as T.Tensor;
    expectTensor(tl[i], { dtype: t.dtype, shape: t.shape, values: Array.from(t.data) }, {}, `${op} under jit vs eager`);
  });
};

/** Runs an op eagerly and under jit (all tensor leaves of the arguments traced). */
const eagerAndJit =
  (op: string): Caller =>
  (f, args) => {
    // A new jit per case, on purpose: its retrace warning (about doing so in a loop) is silenced.
    const traced = (): unknown => A.jit((...a: unknown[]) => f(...a), { warnRetraces: false })(...args);
    let eager: unknown;
    try {
      eager = f(...args);
    } catch (e) {
      let returnedValue: unknown;
      let refused = false;
      try {
        returnedValue = traced();
      } catch (e2) {
        if (!isLibraryError(e2))
          throw new Error(`${op} under jit: threw a non-library error (${String(e2)})`, { cause: e2 });
        refused = true;
      }
      if (!refused)
        throw new Error(
          `${op}: the eager call was refused (${String(e)}) but the jitted one returned ${JSON.stringify(A.treeLeaves(returnedValue).map((l) => (l as T.Tensor).shape))}`,
          { cause: e },
        );
      throw e;
    }
    sameResult(op, eager, traced());
    return eager;
  };

const ledger = new FuzzLedger("@rewind/autodiff");
afterAll(() => ledger.write());

test("every runtime export of @rewind/autodiff has a fuzz spec", () => {
  expect(exportsOf(A)).toEqual(Object.keys(registry).sort());
});

for (const entry of Object.keys(registry).sort()) {
  test(`fuzz ${entry}`, () =>
    runSpec(entry, lookup(entry), registry[entry]!, ledger, entry in opSpecs ? eagerAndJit(entry) : undefined));
}

for (const [name, op] of Object.entries(gradOps)) {
  test(`gradient on edge shapes: ${name}`, () =>
    ledger.record(`grad on edge shapes: ${name}`, checkGradOnEdges(name, op, 20)));
}

for (const r of autodiffRegressions) {
  test(`regression: ${r.name}`, () => {
    r.run();
    ledger.record("regressions", 1);
  });
}

// Last, after every spec ran: each options slot the library checked for this package's ops met a misspelt key.
testMisspeltKeys(Object.keys(registry));
