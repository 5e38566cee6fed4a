/**
 * @file Root test setup: the fixed fast-check seed (seed.ts) and 50 runs per property.
 */
import fc from "fast-check";
import "@rewind/testing/vitest";
import "./seed.js";

fc.configureGlobal({ ...fc.readConfigureGlobal(), numRuns: 50 });
