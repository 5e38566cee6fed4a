/**
 * @file Public-API fuzz suite of @rewind/onnx: every runtime export has a spec (a new export fails
 * the first test until it is listed). Exports of random small functions run in ONNX Runtime to
 * Rewind's eager result; hostile functions, example arguments and options are refused with a
 * library error naming toOnnx and the argument; unsupported primitives are refused by name.
 */
import { afterAll, expect, test } from "vitest";
import * as X from "@rewind/onnx";
import { testMisspeltKeys } from "./options.js";
import { testEachSpec } from "./apiKit.js";
import { exportsOf, FuzzLedger } from "./contract.js";
import { constantSpec, exportedPrimitivesSpec, toOnnxSpec } from "./onnxSpecs/toOnnx.js";

const registry: Readonly<Record<string, () => number | Promise<number>>> = {
  toOnnx: toOnnxSpec,
  exportedPrimitives: exportedPrimitivesSpec,
  OPSET: constantSpec("OPSET"),
  IR_VERSION: constantSpec("IR_VERSION"),
};

const ledger = new FuzzLedger("@rewind/onnx");
afterAll(() => ledger.write());

test("every runtime export of @rewind/onnx has a fuzz spec", () => {
  expect(exportsOf(X)).toEqual(Object.keys(registry).sort());
});

testEachSpec(registry, ledger);

// Last, after every spec ran: each options slot the library checked for this package's ops met a misspelt key.
testMisspeltKeys(Object.keys(registry));
