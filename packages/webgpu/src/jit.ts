/**
 * @file The device-jitted function: traced once per signature as `jit` traces (the graph after
 * jit's passes, `makeGraph(f, { optimize: true })`), lowered to a program, its kernels compiled
 * once; each call uploads the tensors among the arguments, uses device arrays in place, and
 * resolves to device arrays. Rank-0 arguments and host-held device arrays start on the host lane
 * (host.ts); which leaves do is part of the signature, so a scalar that comes back from the device
 * compiles a second program once.
 */
import {
  isTracer,
  makeGraph,
  treeDefKey,
  treeLeavesWithPaths,
  treeUnflatten,
  type DeviceJitted,
  type TreeDef,
} from "@rewind/autodiff";
import { isTensor, RewindError, zeros, type Tensor } from "@rewind/tensor";
import { GpuArray, uploadTensor, type Holder } from "./array.js";
import { compileProgram } from "./compile.js";
import { gpuFail } from "./errors.js";
import type { GpuBuffer } from "./gpuTypes.js";
import type { Program } from "./program.js";
import { preparePipelines, runProgram, type PipelineCache } from "./run.js";
import { loweringTable } from "./table.js";
import { hostLeaf } from "./host.js";
import { flattenDevice, isDeviceArray, type DeviceLeaf } from "./tree.js";
import { checkUpload } from "./upload.js";
import { describeArg, optionsProblem } from "@rewind/tensor/internal/check";

/**
 * Options of a WebGPU jit: none yet besides `backend` (what `jit` passes on). `jit`'s CPU options
 * `compile`, `donate` and `warnRetraces` are refused rather than ignored.
 */
export type WebGpuJitOptions = object;

/** The CPU jit's options, which a device jit refuses (naming the option). */
const CPU_ONLY = ["compile", "donate", "warnRetraces"];

/** The device that compiles and runs: a holder with a pipeline cache. */
export interface JitDevice extends Holder {
  /** Compiled pipelines of this device. */
  readonly pipelines: PipelineCache;
}

interface Compiled {
  readonly program: Program;
  /** The captured constants, uploaded once and kept while the function lives (host values stay tensors). */
  readonly consts: readonly (GpuBuffer | Tensor)[];
  readonly outTree: ReturnType<ReturnType<typeof makeGraph>>["outTree"];
}

/**
 * Compiles `f` for `gpu` (what `jit(f, { backend: gpu })` and `gpu.jit(f)` return).
 * @example const g = deviceJit(gpu, (x) => exp(x), {}); await (await g(x)).read()
 */
export const deviceJit = <Args extends unknown[], R>(
  gpu: JitDevice,
  f: (...args: Args) => R,
  options: WebGpuJitOptions = {},
): DeviceJitted<Args, R> => {
  checkJitArgs(f, options);
  const cache = new Map<string, Promise<Compiled>>();
  const compile = async (args: readonly unknown[], hostArgs: readonly boolean[]): Promise<Compiled> => {
    // Tracing needs tensors: device arrays are stood in for by zeros of their shape (once per signature).
    const [leaves, def] = flattenDevice(args);
    const example = treeUnflatten<unknown[]>(
      def,
      leaves.map((l) => (isDeviceArray(l) ? zeros(l.shape, l.dtype) : l)),
    );
    const closed = makeGraph(settled(f), { optimize: true })(...example);
    if (closed.consts.some(isTracer))
      gpuFail(
        "call",
        "f",
        "a device-jitted function was called inside grad, jit or scan",
        "call it on tensors, outside",
      );
    const hostConsts = closed.consts.map((c) => hostLeaf(c as Tensor));
    const program = compileProgram(loweringTable, closed, { host: [...hostConsts, ...hostArgs] });
    await preparePipelines(gpu, gpu.pipelines, program);
    const consts = closed.consts.map((c, i) =>
      hostConsts[i] ? (c as Tensor) : uploadTensor(gpu.device, checkUpload("call", `f's captured constant ${i}`, c)),
    );
    return { program, consts, outTree: closed.outTree };
  };
  const call = async (...args: unknown[]): Promise<unknown> => {
    gpu.check("call");
    const [leaves, def] = flattenDevice(args);
    if (leaves.some(isTracer))
      gpuFail(
        "call",
        "args",
        "a device-jitted function was called on traced values",
        "call it on tensors, outside grad/jit/scan",
      );
    // Every leaf is checked before any work on the device: a hostile argument compiles nothing.
    leaves.forEach((l, i) => {
      if (!isDeviceArray(l)) return void (uploadable(l) || checkPaths(leaves, def));
      if (l.holder !== gpu)
        gpuFail("call", `argument leaf ${i}`, "is a device array of another device", "read it and pass the tensor");
      l.value("call");
    });
    const hostArgs = leaves.map(startsOnHost);
    const signature = leaves.map((l, i) => `${l.dtype}[${l.shape.join(",")}]${hostArgs[i] ? "h" : ""}`);
    const key = `${treeDefKey(def)}|${signature.join(";")}`;
    let entry = cache.get(key);
    if (entry === undefined) {
      entry = compile(args, hostArgs);
      cache.set(key, entry);
      entry.catch(() => cache.delete(key));
    }
    const { program, consts, outTree } = await entry;
    const uploaded: GpuBuffer[] = [];
    try {
      const inputs = leaves.map((l, i): GpuBuffer | Tensor => {
        // Again after compiling: an array disposed meanwhile is refused, never read freed.
        if (isDeviceArray(l)) return l.value("call");
        const t = l as Tensor;
        if (hostArgs[i]) return t;
        const b = uploadTensor(gpu.device, t);
        uploaded.push(b);
        return b;
      });
      const outs = await runProgram(gpu, gpu.pipelines, program, [...consts, ...inputs]);
      return treeUnflatten(
        outTree,
        outs.map((b, i) => new GpuArray(gpu, b, program.outputs[i]!.aval.dtype, program.outputs[i]!.aval.shape)),
      );
    } catch (e) {
      // An argument disposed while the call ran (between two submissions) is the caller's to hear of.
      const gone = leaves.findIndex((l) => isDeviceArray(l) && l.disposed);
      if (gone >= 0 && !(e instanceof RewindError && /disposed/.test(e.message)))
        gpuFail(
          "call",
          `argument leaf ${gone}`,
          "the device array was disposed while the call that reads it ran",
          "dispose an argument after awaiting the calls that read it",
        );
      throw e;
    } finally {
      for (const b of uploaded) b.destroy();
    }
  };
  return Object.assign(call, { cacheSize: () => cache.size }) as unknown as DeviceJitted<Args, R>;
};

/** A tensor a call can take: one WebGPU computes in. */
const uploadable = (l: DeviceLeaf): boolean => isTensor(l) && l.dtype !== "float64";

/** Throws for the first leaf a call cannot take, naming it by its path in the arguments. */
const checkPaths = (leaves: readonly DeviceLeaf[], def: TreeDef): void => {
  const stood = leaves.map((l) => (isDeviceArray(l) ? zeros([]) : l));
  for (const [path, t] of treeLeavesWithPaths(treeUnflatten<unknown[]>(def, stood)))
    checkUpload("call", `args${path}`, t);
};

/** The keys a device jit reads (`backend`, which `jit` passes on) or refuses by name (the CPU jit's). */
const JIT_KEYS = ["backend", ...CPU_ONLY];

/** Refuses what `gpu.jit(f, options)` cannot compile: `f` not a function, options it does not take. */
const checkJitArgs = (f: unknown, options: unknown): void => {
  if (typeof f !== "function")
    gpuFail("jit (webgpu)", "f", `expected a function, got ${describeArg(f)}`, "pass the function to compile");
  const problem = optionsProblem("jit (webgpu)", "options", options, JIT_KEYS);
  if (problem !== undefined) gpuFail("jit (webgpu)", problem.arg, problem.detail, problem.fix);
  for (const key of CPU_ONLY)
    if (Object.prototype.hasOwnProperty.call(options, key))
      gpuFail(
        "jit (webgpu)",
        `options.${key}`,
        `${key} is an option of the CPU jit, not supported on WebGPU yet`,
        "leave it out (device arrays passed back are already used in place)",
      );
};

/**
 * `f`, refusing a result that is a promise: a device program is traced synchronously, so an async
 * function's awaited values would never be traced (its promise used to come back as static data).
 */
const settled =
  (f: (...args: never[]) => unknown) =>
  (...args: never[]): unknown => {
    const r = f(...args);
    if (typeof (r as { then?: unknown } | null)?.then === "function")
      gpuFail(
        "call",
        "f",
        "f returned a promise (an async function?), and a device program is traced synchronously",
        "make f synchronous: await what it needs before calling the jitted function",
      );
    return r;
  };

/** Whether an argument leaf starts on the host lane: a host-held device array, or a rank-0 tensor. */
const startsOnHost = (l: DeviceLeaf): boolean => (isDeviceArray(l) ? l.onHost : hostLeaf(l));
