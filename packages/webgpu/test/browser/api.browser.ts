/**
 * @file The API in the browser: the device and its registration, device arrays kept resident
 * between calls, disposal, the errors (float64, no WebGPU, no adapter, an unregistered back end, a
 * lost device), the CPU fallback, and the bodies lowered inline (remat, customVjp).
 */
import * as A from "@rewind/autodiff";
import type { Value } from "@rewind/autodiff";
import { fromDataOrThrow, tensor, type Tensor } from "@rewind/tensor";
import { afterAll, describe, expect, it } from "vitest";
import { GpuArray, readTree, webgpu } from "../../src/index.js";
import { INLINE_COVERED } from "./coverage.js";
import { compileProgram } from "../../src/compile.js";
import type { JitDevice } from "../../src/jit.js";
import { preparePipelines, runProgram } from "../../src/run.js";
import { loweringTable } from "../../src/table.js";
import { compare, expectMatch, gpuOnce, primitivesOf, seen } from "./helpers.js";

const x = fromDataOrThrow([0.5, -1, 2, 3, -0.25, 1.5], [2, 3], "float32");
const w = fromDataOrThrow([0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8, 0.9], [3, 3], "float32");
const step = (h: Value) => A.tanh(A.matmul(h, w));

describe("the device", () => {
  it('is SwiftShader here, registered as "webgpu" and usable as jit\'s backend three ways', async () => {
    const gpu = await gpuOnce();
    expect(gpu.adapterInfo.vendor).toBe("google");
    const cpu = A.jit(step)(x);
    for (const f of [A.jit(step, { backend: gpu }), A.jit(step, { backend: "webgpu" }), gpu.jit(step)])
      expectMatch(await (await f(x)).read(), cpu, { terms: 3 });
    A.setJitBackend("default", gpu);
    expectMatch(await (await A.jit(step, { backend: "default" })(x)).read(), cpu, { terms: 3 });
    A.setJitBackend("default", undefined);
  });

  it("keeps results on the device: a device array passed back is not uploaded again", async () => {
    const gpu = await gpuOnce();
    const f = gpu.jit(step);
    const h1 = await f(x);
    expect(h1).toBeInstanceOf(GpuArray);
    const queue = gpu.device.queue as { writeBuffer: (...a: unknown[]) => void };
    const write = queue.writeBuffer.bind(queue);
    let writes = 0;
    queue.writeBuffer = (...a: unknown[]) => {
      writes++;
      write(...a);
    };
    try {
      let h = h1;
      for (let i = 0; i < 5; i++) h = await f(h);
      expect(writes).toBe(0);
      const cpu = A.jit(step);
      let c = cpu(x);
      for (let i = 0; i < 5; i++) c = cpu(c);
      expectMatch(await h.read(), c, { terms: 18 });
    } finally {
      delete (queue as { writeBuffer?: unknown }).writeBuffer;
    }
  });

  it("reads trees of results and disposes arrays explicitly", async () => {
    const gpu = await gpuOnce();
    const f = gpu.jit((a: Value, b: { w: Value }) => ({ y: [A.add(a, 1), A.sum(b.w)], k: 3 }));
    const out = await f(x, { w });
    const read = await readTree(out);
    expect(read.k).toBe(3);
    expectMatch(read.y[0]!, A.add(x, 1) as Tensor);
    out.y[0]!.dispose();
    expect(out.y[0]!.disposed).toBe(true);
    await expect(out.y[0]!.read()).rejects.toThrow(/disposed/);
    await expect(f(out.y[0]! as never, { w })).rejects.toThrow(/disposed/);
  });

  it("runs CPU-fallback primitives between submissions, and lowers remat and customVjp bodies inline", async () => {
    await compare((v: Value) => A.cumsum(A.exp(v), { axis: 1 }), [x]);
    // jit's passes inline remat, so its lowering is run here on the graph as traced.
    const gpu = await gpuOnce();
    const closed = A.makeGraph(A.grad((v: Value) => A.sum(A.remat((y: Value) => A.tanh(A.tanh(y)))(v))))(x);
    primitivesOf(closed.graph, seen);
    const program = compileProgram(loweringTable, closed);
    expect(program.steps.every((s) => s.kind === "kernel")).toBe(true);
    const holder = gpu as unknown as JitDevice;
    await preparePipelines(holder, holder.pipelines, program);
    const consts = closed.consts.map((c) => gpu.upload(c as Tensor).buffer("test"));
    const [out] = await runProgram(holder, holder.pipelines, program, [...consts, gpu.upload(x).buffer("test")]);
    const dev = await new GpuArray(holder, out!, "float32", [2, 3]).read();
    expectMatch(dev, A.grad((v: Value) => A.sum(A.tanh(A.tanh(v))))(x));
    const clip = A.customVjp(
      (y: Value) => A.mul(y, 2),
      (y: Value) => [A.mul(y, 2), null],
      (_r: unknown, g: Value) => [A.mul(g, 2)],
    );
    await compare((v: Value) => clip(v), [x]);
  });
});

describe("errors", () => {
  it("refuses float64 arguments and float64 values, naming them and the fix", async () => {
    const gpu = await gpuOnce();
    const f = gpu.jit((v: Value) => A.exp(v));
    await expect(f(tensor([1, 2], "float64") as never)).rejects.toThrow(/float64 \[2\].*float32.*`args\[0\]`.*astype/s);
    const g = gpu.jit((v: Value) => A.sum(A.astype(v, "float64")));
    await expect(g(x)).rejects.toThrow(/primitive convert.*float64.*CPU jit/s);
  });

  it("says what is missing: WebGPU, an adapter, a registered back end", async () => {
    await expect(webgpu({ gpu: null })).rejects.toThrow(/navigator\.gpu.*absent/);
    await expect(webgpu({ gpu: { requestAdapter: () => Promise.resolve(null) } })).rejects.toThrow(/no adapter/);
    expect(() => A.jit(step, { backend: "nope" })).toThrow(/no back end is registered as "nope".*webgpu\(\)/s);
  });

  it("rejects calls and reads after the device is lost, and arrays of another device", async () => {
    const other = await webgpu({ register: false });
    const f = other.jit(step);
    const out = await f(x);
    await expect((await gpuOnce()).jit(step)(out)).rejects.toThrow(/another device/);
    other.destroy();
    await other.device.lost;
    await expect(f(x)).rejects.toThrow(/device was lost \(destroyed/);
    await expect(out.read()).rejects.toThrow(/device was lost/);
  });
});

afterAll(() => {
  for (const p of INLINE_COVERED) expect(seen, p).toContain(p);
});
