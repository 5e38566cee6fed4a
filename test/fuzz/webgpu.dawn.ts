/**
 * @file Public-API fuzz suite of @rewind/webgpu, the half that needs a device: it runs in the
 * Dawn run (`pnpm test:dawn`: packages/webgpu/vitest.dawn.config.ts includes it beside the
 * package's device tests), where `navigator.gpu` is Dawn. Without a device its first spec fails
 * (`webgpu()` rejects): it is never skipped. A machine without any adapter never gets here:
 * scripts/dawn.mjs says so and exits 0 before vitest starts. The device-free half, with the check
 * that every export has a spec, is webgpu.fuzz.test.ts (root `pnpm test`).
 *
 * The ledger is `@rewind/webgpu (Dawn)` (node_modules/.cache/fuzz/_rewind_webgpu__Dawn_.json).
 */
import "../seed.js";
import { afterAll } from "vitest";
import { testEachSpec } from "./apiKit.js";
import { FuzzLedger } from "./contract.js";
import {
  destroyOnDevice,
  device,
  disposeTreeOnDevice,
  GpuArrayOnDevice,
  jitOnDevice,
  treesOnDevice,
  uploadOnDevice,
  webgpuOnDevice,
} from "./webgpuSpecs/onDevice.js";

const registry: Readonly<Record<string, () => number | Promise<number>>> = {
  webgpu: webgpuOnDevice,
  "webgpu().jit": jitOnDevice,
  "webgpu().upload": uploadOnDevice,
  "webgpu().destroy": destroyOnDevice,
  GpuArray: GpuArrayOnDevice,
  readTree: treesOnDevice,
  disposeTree: disposeTreeOnDevice,
};

const ledger = new FuzzLedger("@rewind/webgpu (Dawn)");
afterAll(() => ledger.write());
afterAll(async () => (await device()).destroy());

testEachSpec(registry, ledger);
