/**
 * @file Device-free specs of `webgpu` and of what it returns (`jit`, `upload`, `destroy`,
 * `check`), run in the root `pnpm test` on a stub device (stub.ts) that fails the suite if it is
 * used: hostile options, entry points, functions and call arguments are refused with a library
 * error naming the op and the argument before any work on the device; a destroyed device refuses
 * every later use. What needs a device (results, reads) is in the Dawn suite (webgpu.dawn.ts).
 *
 * Decisions pinned here: `gpu: null` behaves as a runtime without WebGPU; an error thrown by the
 * user's own function while tracing propagates as it is (as for the CPU jit); destroying a device
 * unregisters `"webgpu"` only while it is the registered one.
 */
import { expect } from "vitest";
import * as T from "@rewind/tensor";
import * as A from "@rewind/autodiff";
import * as G from "@rewind/webgpu";
import { NOT_OPTIONS, NOT_TENSORS, rejectPool } from "../apiKit.js";
import { misspeltCases } from "../options.js";
import { expectRejectedAsync, misspeltCasesAsync, rejectEachAsync } from "../workersSpecs/asyncKit.js";
import { stubGpu, STUB_INFO, type StubLog } from "./stub.js";

type V = A.Value;

/** A back end on a stub device (not registered unless asked). */
export const stubBackend = (register = false, log?: StubLog): Promise<G.WebGpu> =>
  G.webgpu({ gpu: stubGpu(log), register });

/** A device array holding a host value (no buffer), as a call's scalar results are held. */
export const hostArray = (gpu: G.WebGpu, t: T.Tensor): G.GpuArray =>
  new G.GpuArray(gpu as unknown as G.Holder, t, t.dtype, t.shape);

/** Awaits the device-lost promise of `gpu`, so its `lost` handlers have run. */
const lostOf = async (gpu: G.WebGpu): Promise<void> => {
  await gpu.device.lost;
  await Promise.resolve();
};

/** What `webgpu` is given when the entry point answers with `adapter` (and a device `device`). */
const entry = (adapter: () => unknown): G.Gpu => ({ requestAdapter: adapter as G.Gpu["requestAdapter"] });

export const webgpuSpec = async (): Promise<number> => {
  const names = ["webgpu"];
  let n = await rejectEachAsync(
    names,
    Object.fromEntries(
      [...NOT_OPTIONS, [], new Date(0)].map((o) => [`options ${String(o)}`, () => G.webgpu(o as never)]),
    ),
  );
  const pools: Record<string, readonly unknown[]> = {
    gpu: [3, "x", {}, { requestAdapter: 3 }, true, []],
    powerPreference: ["fast", "", 1, null, "LOW-POWER", {}],
    register: [1, 0, "yes", null, {}],
  };
  for (const [key, pool] of Object.entries(pools)) {
    for (const v of pool) {
      const e = await expectRejectedAsync(names, () => G.webgpu({ [key]: v }));
      expect(e.message, `options.${key} ${String(v)}`).toContain(`options.${key}`);
      n++;
    }
  }
  n += await misspeltCasesAsync({
    names,
    error: A.GraphException,
    known: ["gpu", "powerPreference", "register"],
    call: (o) => G.webgpu(o),
  });
  // Without WebGPU (root tests run in Node: no navigator.gpu), and with entry points that answer
  // wrongly. Regression: an adapter that is no adapter, a device that is no device, and an entry
  // point that throws used to surface as TypeErrors (or the platform's raw error).
  const stubAdapter = (device: () => unknown) => ({ info: STUB_INFO, limits: {}, requestDevice: device });
  const cases: Record<string, [() => unknown, RegExp]> = {
    "no navigator.gpu": [() => G.webgpu(), /navigator\.gpu is absent: this runtime has no WebGPU.*options\.gpu/s],
    "gpu null": [() => G.webgpu({ gpu: null }), /navigator\.gpu is absent/],
    "no adapter": [() => G.webgpu({ gpu: entry(() => Promise.resolve(null)) }), /found no adapter.*`adapter`/s],
    "adapter undefined": [() => G.webgpu({ gpu: entry(() => undefined) }), /resolved to undefined.*not a GPU adapter/],
    "adapter 3": [() => G.webgpu({ gpu: entry(() => Promise.resolve(3)) }), /resolved to 3.*not a GPU adapter/],
    "adapter {}": [() => G.webgpu({ gpu: entry(() => Promise.resolve({})) }), /not a GPU adapter/],
    "adapter without limits": [
      () => G.webgpu({ gpu: entry(() => Promise.resolve({ requestDevice: () => 1 })) }),
      /not a GPU adapter \(no requestDevice or limits\)/,
    ],
    "requestAdapter throws": [
      () =>
        G.webgpu({
          gpu: entry(() => {
            throw new TypeError("broken");
          }),
        }),
      /requestAdapter\(\) failed: TypeError: broken.*`adapter`/s,
    ],
    "requestAdapter rejects": [
      () => G.webgpu({ gpu: entry(() => Promise.reject(new Error("denied"))) }),
      /requestAdapter\(\) failed: Error: denied/,
    ],
    "requestDevice rejects": [
      () =>
        G.webgpu({
          gpu: entry(() => Promise.resolve(stubAdapter(() => Promise.reject(new Error("OperationError: limits"))))),
        }),
      /requestDevice\(\) failed: Error: OperationError: limits.*`device`/s,
    ],
    "device undefined": [
      () => G.webgpu({ gpu: entry(() => Promise.resolve(stubAdapter(() => Promise.resolve(undefined)))) }),
      /requestDevice\(\) resolved to undefined, which is not a GPU device/,
    ],
    "device {}": [
      () => G.webgpu({ gpu: entry(() => Promise.resolve(stubAdapter(() => Promise.resolve({})))) }),
      /which is not a GPU device/,
    ],
  };
  for (const [label, [call, message]] of Object.entries(cases))
    expect((await expectRejectedAsync(names, call)).message, label).toMatch(message);
  n += Object.keys(cases).length;
  // The options reach the adapter request; the back end says what it is.
  const log: StubLog = { adapterRequests: [] };
  const low = await G.webgpu({ gpu: stubGpu(log), powerPreference: "low-power", register: false });
  await stubBackend(false, log);
  expect(log.adapterRequests).toEqual([{ powerPreference: "low-power" }, {}]);
  expect([low.name, low.adapterInfo, low.lost]).toEqual(["webgpu", STUB_INFO, undefined]);
  return n + 2 + (await registration());
};

/** Which back end `jit(f, { backend: "webgpu" })` reaches: its own refusal of a float64 argument says. */
const reached = async (): Promise<"none" | "alive" | "lost"> => {
  let f: (x: T.Tensor) => Promise<unknown>;
  try {
    f = A.jit((x: V) => A.exp(x), { backend: "webgpu" });
  } catch (e) {
    expect(String(e)).toMatch(/no back end is registered as "webgpu"/);
    return "none";
  }
  const e = await expectRejectedAsync(["call"], () => f(T.tensor([1], "float64")));
  return /device was lost/.test(e.message) ? "lost" : "alive";
};

/** `register`: default true, false leaves the name alone; a lost device unregisters only itself. */
const registration = async (): Promise<number> => {
  A.setJitBackend("webgpu", undefined);
  const quiet = await stubBackend(false);
  expect(await reached()).toBe("none");
  const first = await G.webgpu({ gpu: stubGpu() });
  expect(await reached()).toBe("alive");
  quiet.destroy();
  await lostOf(quiet);
  expect(await reached(), "a back end that was never registered unregisters nothing").toBe("alive");
  const second = await G.webgpu({ gpu: stubGpu() });
  first.destroy();
  await lostOf(first);
  // Regression: destroying the first device unregistered the second.
  expect(await reached(), "destroying an older device keeps the newer registered").toBe("alive");
  second.destroy();
  await lostOf(second);
  expect(await reached()).toBe("none");
  return 5;
};

const f = (x: V): V => A.exp(x);

export const jitSpec = async (): Promise<number> => {
  const gpu = await stubBackend();
  const J = ["jit (webgpu)"];
  // Regression: a non-function was accepted, and refused only at the first call, by makeGraph.
  let n = rejectPool(J, [null, undefined, 3, "f", {}, [f], T.ones([2])], (g) => gpu.jit(g as never));
  // Regression: null threw a TypeError, a string was read as keys "0", "1", …
  n += rejectPool(J, [...NOT_OPTIONS, [], new Date(0), [1]], (o) => gpu.jit(f, o as never));
  for (const [key, value] of [
    ["compile", false],
    ["donate", [0]],
    ["warnRetraces", 2],
  ] as const)
    expect(() => gpu.jit(f, { [key]: value })).toThrow(`${key} is an option of the CPU jit`);
  n += 3;
  // Regression: a misspelt key was refused without the key it stands for.
  n += misspeltCases({
    names: J,
    error: A.GraphException,
    known: ["backend", "compile", "donate", "warnRetraces"],
    call: (o) => gpu.jit(f, o),
  });
  expect(gpu.jit(f, { backend: "webgpu" }).cacheSize()).toBe(0);
  expect(A.jit(f, { backend: gpu }).cacheSize()).toBe(0);
  return n + 2 + (await callRefusals(gpu));
};

/** Hostile call arguments and functions: refused before the (stub) device is used. */
const callRefusals = async (gpu: G.WebGpu): Promise<number> => {
  const g = gpu.jit(f);
  const tree = gpu.jit((p: { w: V; b: V[] }) => A.add(p.w, p.b[0]!));
  const other = await stubBackend();
  const disposed = hostArray(gpu, T.ones([2]));
  disposed.dispose();
  const cyclic: Record<string, unknown> = { w: T.ones([2]) };
  cyclic["self"] = cyclic;
  const forged = { shape: [2], dtype: "float32", disposed: false, read: () => Promise.resolve(T.ones([2])) };
  let fromTrace: Promise<unknown> | undefined;
  const names = ["call", "jit (webgpu)", "exp", "add", "treeFlatten"];
  let n = await rejectEachAsync(
    names,
    Object.fromEntries(
      NOT_TENSORS.filter((v) => typeof v !== "number").map((v) => [
        `argument ${JSON.stringify(v) ?? String(v)}`,
        () => g(v as never),
      ]),
    ),
  );
  const cases: Record<string, [() => unknown, RegExp]> = {
    "a float64 argument": [() => g(T.tensor([1, 2], "float64")), /float64 \[2\].*`args\[0\]`/s],
    "a float64 leaf deep in a tree": [
      () => tree({ w: T.ones([2]), b: [T.zeros([2], "float64")] }),
      /float64 \[2\].*`args\[0\]\.b\[0\]`/s,
    ],
    "a tree that contains itself": [() => tree(cyclic as never), /contains itself/],
    // Regression (these two): the device compiled the function before the argument was refused.
    "an array of another device": [() => g(hostArray(other, T.ones([2]))), /another device.*leaf 0/s],
    "a disposed array": [() => g(disposed), /was disposed/],
    "a forged device array (static data to f)": [() => g(forged as never), /exp: expected a tensor/],
    "traced arguments (inside grad)": [
      () => {
        A.grad((x: V) => {
          fromTrace = g(x as never);
          return A.sum(x);
        })(T.ones([2]));
        return fromTrace;
      },
      /called on traced values/,
    ],
    "a captured float64 array in an op": [
      () => gpu.jit((v: V) => A.add(v, A.sum(T.zeros([300], "float64"))))(T.ones([2])),
      /primitive sum produces float64/,
    ],
    "a captured float64 array returned": [
      () => gpu.jit((_v: V) => T.zeros([300], "float64"))(T.ones([2])),
      /float64 \[300\].*captured constant 0/s,
    ],
    "a donated tensor": [
      () => {
        const donated = T.ones([2]);
        A.jit((v: V) => A.mul(v, 2), { donate: [0] })(donated);
        return g(donated);
      },
      /donated to a jitted call/,
    ],
    // Regression: an async function's promise came back as static data, its values never traced.
    "an async function": [() => gpu.jit(async (x: V) => Promise.resolve(A.exp(x)))(T.ones([2])), /returned a promise/],
  };
  for (const [label, [call, message]] of Object.entries(cases))
    expect((await expectRejectedAsync(names, call)).message, label).toMatch(message);
  n += Object.keys(cases).length;
  // The user's own bug is not the library's to restate: it propagates as it was thrown.
  const throws = gpu.jit((_x: V): V => {
    throw new TypeError("the user's bug");
  });
  const own = await throws(T.ones([2])).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(own).toEqual(new TypeError("the user's bug"));
  return n + 1;
};

export const uploadSpec = async (): Promise<number> => {
  const gpu = await stubBackend();
  const forged = { shape: [4], dtype: "float32", data: new Float32Array(1) };
  const donated = T.ones([2]);
  A.jit((v: V) => A.mul(v, 2), { donate: [0] })(donated);
  // Regression: a donated tensor was "an object"; it is named as donated, with the fix.
  expect(() => gpu.upload(donated)).toThrow(/upload: a float32 tensor of shape \[2\] whose buffer was donated/);
  const pool = [
    ...NOT_TENSORS,
    forged,
    T.tensor([1, 2], "float64"),
    T.scalar(1, "float64"),
    hostArray(gpu, T.ones([2])),
    () => T.ones([2]),
  ];
  // Regression: a value that is no tensor was described only by its typeof ("got object" for null).
  for (const v of pool) expect(() => gpu.upload(v as never), String(v)).toThrow(/`t`/);
  const n = rejectPool(["upload"], pool, (v) => gpu.upload(v as never));
  expect(() => gpu.upload(null as never)).toThrow(/expected a tensor, got null/);
  return n + pool.length + 2;
};

export const destroySpec = async (): Promise<number> => {
  const gpu = await stubBackend();
  const g = gpu.jit(f);
  const held = hostArray(gpu, T.tensor([1, 2]));
  gpu.destroy();
  await lostOf(gpu);
  expect(gpu.lost?.reason).toBe("destroyed");
  const cases: Record<string, () => unknown> = {
    upload: () => gpu.upload(T.ones([2])),
    call: () => g(T.ones([2])),
    read: () => held.read(),
    "call with an array of it": () => g(held),
  };
  for (const [label, call] of Object.entries(cases))
    expect((await expectRejectedAsync(["upload", "call", "read"], call)).message, label).toMatch(
      /device was lost \(destroyed\).*`device`.*webgpu\(\) again/s,
    );
  // Idempotent, and a jit made after the loss refuses at its call.
  gpu.destroy();
  await expectRejectedAsync(["call"], () => gpu.jit(f)(T.ones([2])));
  return Object.keys(cases).length + 2;
};

export const checkSpec = async (): Promise<number> => {
  const gpu = (await stubBackend()) as unknown as G.WebGpu & G.Holder;
  for (const op of ["call", "read", "a user's op"]) expect(() => gpu.check(op)).not.toThrow();
  gpu.destroy();
  await lostOf(gpu);
  for (const op of ["call", "read", "a user's op"])
    expect(() => gpu.check(op)).toThrow(new RegExp(`^${op}: the WebGPU device was lost`));
  return 6;
};
