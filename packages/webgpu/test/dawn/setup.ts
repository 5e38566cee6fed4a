/**
 * @file Setup of the Dawn run (vitest.dawn.config.ts): the browser tests run unchanged in Node,
 * with Dawn (npm `webgpu`) as `navigator.gpu` — the WebGPU a Node program gets on a machine with
 * a GPU driver (here, SwiftShader's Vulkan driver; scripts/dawn.mjs finds it).
 */
import { create, globals } from "webgpu";

Object.assign(globalThis, globals);
Object.defineProperty(globalThis, "navigator", { value: { gpu: create([]) }, configurable: true });
