/**
 * @file Public-API fuzz suite of @rewind/testing: every runtime export has a spec (a new export
 * fails the first test until it is listed). Its contract extends `contract.ts` locally (see
 * testingSpecs/errors.ts): a test library reports law violations and invalid arguments with a
 * plain `Error` naming the law or function, so any runner shows it. Each law must hold for
 * Rewind's implementations and fail for a deliberately broken one; closeness follows NumPy's
 * rule; arbitraries respect their documented bounds; no wrong-typed argument may throw a
 * TypeError from inside, crash fast-check, allocate without bound, or turn a check into one that
 * checks nothing.
 */
import { afterAll, expect, test } from "vitest";
import * as X from "@rewind/testing";
import { testMisspeltKeys } from "./options.js";
import { exportsOf, FuzzLedger } from "./contract.js";
import { testEachSpec, type Spec } from "./apiKit.js";
import {
  arbCellCaseSpec,
  arbVmapCaseSpec,
  bidirectionalPaddingLawSpec,
  bpttLawForCellSpec,
  cellCaseSpec,
  cellLawChecksSpec,
  cellLawConfigsSpec,
  cellLawNamesSpec,
  cellLawPropertiesSpec,
  cellLawsReportSpec,
  cellLawsSpec,
  defaultLengthsSpec,
  describeCaseSpec,
  invarianceLawForCellSpec,
  paddingLawSpec,
  parallelLawForCellSpec,
  reverseLawForCellSpec,
  rnnUnrolledSpec,
  stackingLawSpec,
} from "./testingSpecs/cells.js";
import {
  allCloseSpec,
  arbBroadcastShapesSpec,
  arbKeySpec,
  arbPyTreeSpec,
  arbRaggedBatchSpec,
  arbScanProblemSpec,
  arbShapeSpec,
  arbTensorSpec,
  assertAllCloseSpec,
  checkGradsSpec,
  closeWithPathsSpec,
  lawPropertiesSpec,
  lawsSpec,
  lawTolerancesSpec,
  readoutSpec,
  scanCaseSpec,
  scanFamiliesSpec,
  scanProblemSpec,
  scanUnrolledSpec,
  toBeAllCloseSpec,
} from "./testingSpecs/numeric.js";
import { sequenceLawChecksSpec, sequenceLawPropertiesSpec } from "./testingSpecs/sequence.js";

const registry: Readonly<Record<string, Spec>> = {
  allClose: allCloseSpec,
  closeWithPaths: closeWithPathsSpec,
  assertAllClose: assertAllCloseSpec,
  toBeAllClose: toBeAllCloseSpec,
  checkGrads: checkGradsSpec,
  arbShape: arbShapeSpec,
  arbBroadcastShapes: arbBroadcastShapesSpec,
  arbTensor: arbTensorSpec,
  arbPyTree: arbPyTreeSpec,
  arbKey: arbKeySpec,
  arbRaggedBatch: arbRaggedBatchSpec,
  arbScanProblem: arbScanProblemSpec,
  scanProblem: scanProblemSpec,
  scanFamilies: scanFamiliesSpec,
  readout: readoutSpec,
  scanUnrolled: scanUnrolledSpec,
  laws: lawsSpec,
  LAW_TOLERANCES: lawTolerancesSpec,
  lawProperties: lawPropertiesSpec,
  scanCase: scanCaseSpec,
  cellCase: cellCaseSpec,
  arbCellCase: arbCellCaseSpec,
  arbVmapCase: arbVmapCaseSpec,
  describeCase: describeCaseSpec,
  defaultLengths: defaultLengthsSpec,
  rnnUnrolled: rnnUnrolledSpec,
  cellLawChecks: cellLawChecksSpec,
  cellLawNames: cellLawNamesSpec,
  cellLawConfigs: cellLawConfigsSpec,
  cellLaws: cellLawsSpec,
  cellLawsReport: cellLawsReportSpec,
  bpttLawForCell: bpttLawForCellSpec,
  reverseLawForCell: reverseLawForCellSpec,
  invarianceLawForCell: invarianceLawForCellSpec,
  paddingLaw: paddingLawSpec,
  bidirectionalPaddingLaw: bidirectionalPaddingLawSpec,
  stackingLaw: stackingLawSpec,
  parallelLawForCell: parallelLawForCellSpec,
  cellLawProperties: cellLawPropertiesSpec,
  sequenceLawChecks: sequenceLawChecksSpec,
  sequenceLawProperties: sequenceLawPropertiesSpec,
};

const ledger = new FuzzLedger("@rewind/testing");
afterAll(() => ledger.write());

test("every runtime export of @rewind/testing has a fuzz spec", () => {
  expect(exportsOf(X)).toEqual(Object.keys(registry).sort());
});

testEachSpec(registry, ledger);

// Last, after every spec ran: each options slot the library checked for this package's ops met a misspelt key.
testMisspeltKeys(Object.keys(registry));
