#!/usr/bin/env node
// Prints the one closing line CI reads, "N passed, N failed", from one or more vitest JSON reports
// (the unit tests' and the end-to-end tests'), summed, and exits non-zero when anything failed or
// a report is missing. With several reports, one line per report comes first.
import { readFileSync } from "node:fs";

const files = process.argv.length > 2 ? process.argv.slice(2) : ["node_modules/.cache/vitest-results.json"];
let passed = 0;
let failed = 0;
let ok = true;
for (const file of files) {
  let report;
  try {
    report = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    console.log(`  ${file} — no vitest report (${e.message}): counted as 1 failure`);
    failed += 1;
    ok = false;
    continue;
  }
  const p = report.numPassedTests ?? 0;
  const f = (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0);
  if (files.length > 1) console.log(`  ${file} — ${p} passed, ${f} failed`);
  passed += p;
  failed += f;
  if (f > 0 || report.success === false) ok = false;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(ok && failed === 0 ? 0 : 1);
