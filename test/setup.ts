/**
 * @file Root test setup: a fixed fast-check seed so property runs are reproducible.
 */
import fc from "fast-check";
import "@rewind/testing/vitest";

fc.configureGlobal({ seed: 20261128, numRuns: 50 });
