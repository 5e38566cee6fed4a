/**
 * @file Public-API fuzz suite of @rewind/webgpu, device-free half: every runtime export and every
 * method of what `webgpu()` returns has a spec (a new export or method fails the first tests until
 * it is listed).
 *
 * How it runs in CI. This file runs in the root `pnpm test`, where Node has no WebGPU: it checks
 * what needs no device — `webgpu`'s options and its errors without WebGPU or with a broken entry
 * point, `loweredPrimitives`, `isDeviceArray`, device arrays holding host values in `readTree` and
 * `disposeTree`, and every refusal of a hostile argument — on a stub device that fails the suite
 * if it is used (webgpuSpecs/stub.ts), so each refusal is shown to come before any device work.
 * Results on a device (random functions against Rewind's eager CPU result, uploads and reads,
 * arrays of another or a destroyed device) need one, so they are in `webgpu.dawn.ts`, which the
 * Dawn run (`pnpm test:dawn`, after `pnpm test` in .ci/run) runs with the package's device tests:
 * there it fails, never skips, when no device comes (scripts/dawn.mjs already says so and exits 0
 * on a machine without any adapter). Each half writes its own ledger: `@rewind/webgpu` here,
 * `@rewind/webgpu (Dawn)` there.
 */
import { afterAll, expect, test } from "vitest";
import * as G from "@rewind/webgpu";
import { testMisspeltKeys } from "./options.js";
import { testEachSpec } from "./apiKit.js";
import { exportsOf, FuzzLedger } from "./contract.js";
import { checkSpec, destroySpec, jitSpec, stubBackend, uploadSpec, webgpuSpec } from "./webgpuSpecs/backend.js";
import {
  disposeTreeSpec,
  GpuArraySpec,
  isDeviceArraySpec,
  loweredPrimitivesSpec,
  readTreeSpec,
} from "./webgpuSpecs/arrays.js";

/** The methods of what `webgpu()` returns, each a fuzz entry of its own. */
const METHODS: Readonly<Record<string, () => number | Promise<number>>> = {
  "webgpu().jit": jitSpec,
  "webgpu().upload": uploadSpec,
  "webgpu().destroy": destroySpec,
  "webgpu().check": checkSpec,
};

const registry: Readonly<Record<string, () => number | Promise<number>>> = {
  webgpu: webgpuSpec,
  GpuArray: GpuArraySpec,
  readTree: readTreeSpec,
  disposeTree: disposeTreeSpec,
  isDeviceArray: isDeviceArraySpec,
  loweredPrimitives: loweredPrimitivesSpec,
  ...METHODS,
};

const ledger = new FuzzLedger("@rewind/webgpu");
afterAll(() => ledger.write());

test("every runtime export of @rewind/webgpu has a fuzz spec", () => {
  expect(exportsOf(G)).toEqual(
    Object.keys(registry)
      .filter((k) => !(k in METHODS))
      .sort(),
  );
});

test("every method of what webgpu() returns has a fuzz spec", async () => {
  const gpu = await stubBackend();
  const members = new Set([...Object.keys(gpu), ...Object.getOwnPropertyNames(Object.getPrototypeOf(gpu) as object)]);
  const methods = [...members].filter((k) => k !== "constructor" && typeof (gpu as never)[k] === "function");
  expect(methods.map((m) => `webgpu().${m}`).sort()).toEqual(Object.keys(METHODS).sort());
});

testEachSpec(registry, ledger);

// Last, after every spec ran: each options slot the library checked for this package's ops met a misspelt key.
testMisspeltKeys(["webgpu", "jit (webgpu)"]);
