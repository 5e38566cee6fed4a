import {
  add,
  astype,
  broadcastTo,
  div,
  pow,
  sub,
  exp,
  grad,
  makeGraph,
  matmul,
  mul,
  reshape,
  sum,
  tanh,
  transpose,
  type Value,
} from "@rewind/autodiff";
import { fromDataOrThrow, RewindError, scalar, zeros } from "@rewind/tensor";
import { describe, expect, it } from "vitest";
import { compileProgram } from "../src/compile.js";
import { deviceJit, type JitDevice } from "../src/jit.js";
import { MAX_LEAVES } from "../src/fuse.js";
import type { KernelStep, Program } from "../src/program.js";
import { loweringTable } from "../src/table.js";
import { webgpu } from "../src/index.js";
import { coords, grid, literal } from "../src/wgsl/common.js";

const program = (f: (...a: never[]) => unknown, ...args: unknown[]) =>
  compileProgram(loweringTable, makeGraph(f, { optimize: true })(...args));

describe("WGSL text", () => {
  it("writes float32 literals by their bits, all made at run time (none a constant to fold through)", () => {
    expect(literal(0.1, "float32")).toBe("bitcast<f32>(0x3dcccccdu | rt_zero)");
    expect(literal(NaN, "float32")).toBe("bitcast<f32>(0x7fc00000u | rt_zero)");
    expect(literal(-Infinity, "float32")).toBe("bitcast<f32>(0xff800000u | rt_zero)");
    expect(literal(-3, "int32")).toBe("(-3)");
    expect(literal(1, "bool")).toBe("1u");
  });

  it("folds a grid past 65535 workgroups into its second dimension", () => {
    expect(grid(10)).toEqual([1, 1, 1]);
    expect(grid(64 * 65535 + 1)).toEqual([65535, 2, 1]);
  });

  it("splits a flat index into coordinates, guarding empty axes", () => {
    expect(coords([2, 3], "i")).toBe("var r_c = i;\nlet c1 = i32(r_c % 3u); r_c = r_c / 3u;\nlet c0 = i32(r_c);");
    expect(coords([2, 0], "i")).toContain("% 1u");
  });
});

describe("compiling graphs", () => {
  it("matmul's gradients read the transposed operands in place: no transpose kernel runs", () => {
    const a = zeros([3, 4]);
    const b = zeros([4, 5]);
    const p = program(
      grad((x: Value, y: Value) => sum(tanh(matmul(x, y))), { argnums: [0, 1] }),
      a,
      b,
    );
    const kernels = p.steps.map((s) =>
      s.kind === "kernel" ? s.prim : s.kind === "cpu" ? `cpu:${s.eqn.prim.name}` : "scan",
    );
    expect(kernels.filter((k) => k === "matmul")).toHaveLength(3);
    expect(kernels).not.toContain("transpose");
    // A transpose the function asks for, and returns, is still computed.
    expect(program((x: Value) => transpose(x, [1, 0]), a).steps.map((s) => s.kind === "kernel" && s.prim)).toEqual([
      "transpose",
    ]);
  });

  it("a long reduction into few outputs is split into partial results and their reduction", () => {
    const kinds = (n: number) =>
      program((x: Value) => sum(x), zeros([n])).steps.map((s) => (s.kind === "kernel" ? s.prim : s.kind));
    expect(kinds(1024)).toEqual(["sum"]);
    expect(kinds(1025)).toEqual(["sum", "sum"]);
  });

  it("fuses an elementwise chain into one kernel; a value with two consumers is computed once", () => {
    const x = zeros([4]);
    const chain = (v: Value) => tanh(add(mul(v, 2), exp(v)));
    const kinds = (p: Program) => p.steps.map((s) => (s.kind === "kernel" ? s.prim : s.kind));
    const graph = makeGraph(chain, { optimize: true })(x);
    expect(kinds(compileProgram(loweringTable, graph))).toEqual(["tanh"]);
    expect(kinds(compileProgram(loweringTable, graph, { fusing: false }))).toEqual([
      "broadcastTo",
      "mul",
      "exp",
      "add",
      "tanh",
    ]);
    // e = exp(v) has two consumers: one kernel for e, one for the rest.
    const shared = (v: Value) => {
      const e = exp(v);
      return mul(add(e, 1), e);
    };
    expect(kinds(program(shared, x))).toEqual(["exp", "mul"]);
    // A chain through a matmul: the elementwise parts on either side, the matmul on its own.
    expect(kinds(program((a: Value, b: Value) => tanh(matmul(exp(a), b)), zeros([2, 3]), zeros([3, 2])))).toEqual([
      "exp",
      "matmul",
      "tanh",
    ]);
  });

  it("splits a fused tree that would read more buffers than a kernel may bind", () => {
    const xs = Array.from({ length: 9 }, () => zeros([3]));
    const total = (...v: Value[]) => v.reduce((a, b) => add(a, b));
    const p = program(total, ...xs);
    expect(p.steps.every((s) => s.kind === "kernel" && s.reads.length <= MAX_LEAVES)).toBe(true);
    expect(p.steps.length).toBeGreaterThan(1);
  });

  it("a reshape moves nothing: it shares its input's buffer", () => {
    const p = program((x: Value) => reshape(tanh(x), [6]), fromDataOrThrow([1, 2, 3, 4, 5, 6], [2, 3]));
    expect(p.steps).toHaveLength(1);
    expect(p.outputs[0]!.slot).toBe((p.steps[0] as KernelStep).writes[0]);
  });

  it("refuses float64 values inside the graph, naming the primitive and the fix", () => {
    expect(() => program((x: Value) => sum(astype(x, "float64")), zeros([2]))).toThrow(
      /primitive convert produces float64 \[2\].*float32.*CPU jit/s,
    );
  });
});

describe("the host lane", () => {
  /** The program of `f` with its inputs on the host where `host` says. */
  const placed = (f: (...a: never[]) => unknown, host: boolean[], ...args: unknown[]) =>
    compileProgram(loweringTable, makeGraph(f, { optimize: true })(...args), { host });
  const kinds = (p: Program) =>
    p.steps.map((s) => (s.kind === "kernel" ? `gpu:${s.prim}` : s.kind === "scan" ? "scan" : `cpu:${s.eqn.prim.name}`));

  it("computes a bias correction from a host count on the host, in float64, and the update on the device", () => {
    // Adam's shape: c = 1 − 0.9^t in float64 from an int32 count, rounded to float32, then w − m/c.
    const step = (count: Value, w: Value, m: Value) =>
      sub(w, div(m, astype(sub(1, pow(scalar(0.9, "float64"), astype(count, "float64"))), "float32")));
    const p = placed(step, [true, false, false], scalar(3, "int32"), zeros([4]), zeros([4]));
    expect(kinds(p)).toEqual(["cpu:convert", "cpu:pow", "cpu:sub", "cpu:convert", "gpu:sub"]);
    // The same count on the device: the float64 scalars read it back (a scalar), and still run on the host.
    const q = placed(step, [false, false, false], scalar(3, "int32"), zeros([4]), zeros([4]));
    expect(kinds(q)).toEqual(kinds(p));
  });

  it("keeps arrays made of constants on the device, and refuses float64 arrays computed from device data", () => {
    const p = placed((c: Value) => add(broadcastTo(0, [4, 5]), c), [true], scalar(1));
    expect(kinds(p)).toEqual(["gpu:add"]);
    expect(() => placed((x: Value) => sum(astype(x, "float64")), [false], zeros([2]))).toThrow(
      /primitive convert produces float64 \[2\].*only for scalars.*CPU jit/s,
    );
    // Without the host lane (a scan's body) a float64 scalar is refused too.
    expect(() => program((c: Value) => astype(c, "float64"), scalar(1))).toThrow(/convert produces float64 \[\]/);
  });
});

describe("jit options", () => {
  it("refuses the CPU jit's options on the device instead of ignoring them", () => {
    const device = {} as JitDevice;
    expect(() => deviceJit(device, (x: Value) => tanh(x), { donate: [0] })).toThrow(
      /donate is an option of the CPU jit, not supported on WebGPU yet.*options\.donate.*leave it out/s,
    );
    expect(() => deviceJit(device, (x: Value) => tanh(x), { backend: "webgpu" })).not.toThrow();
  });
});

describe("webgpu() without WebGPU", () => {
  it("rejects in Node, saying the runtime has no WebGPU and what to pass instead", async () => {
    await expect(webgpu()).rejects.toThrow(/navigator\.gpu is absent: this runtime has no WebGPU.*options\.gpu/s);
    // The package's errors are RewindErrors, like every other package's (`instanceof RewindError`).
    await expect(webgpu()).rejects.toBeInstanceOf(RewindError);
  });
});
