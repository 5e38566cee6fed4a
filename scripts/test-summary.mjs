#!/usr/bin/env node
// Prints the one closing line CI reads, "N passed, N failed", from vitest's JSON report, and
// exits non-zero when anything failed or the report is missing.
import { readFileSync } from "node:fs";

const file = process.argv[2] ?? "node_modules/.cache/vitest-results.json";
let report;
try {
  report = JSON.parse(readFileSync(file, "utf8"));
} catch (e) {
  console.log(`0 passed, 1 failed (no vitest report at ${file}: ${e.message})`);
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
const failed = (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || report.success === false ? 1 : 0);
