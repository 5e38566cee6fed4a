/**
 * @file Pieces every generated kernel shares: the storage type of each dtype (bool is a u32 0/1,
 * since WGSL has no byte arrays), exact literals (bit patterns, so NaN, ±Inf and every float32
 * survive), the one-dimensional launch grid, and row-major index arithmetic.
 */
import type { DType, Shape } from "@rewind/tensor";

/** Threads per workgroup of the elementwise and indexing kernels. */
export const WORKGROUP = 64;
/** WebGPU's default limit on workgroups per grid dimension. */
export const MAX_GROUPS = 65535;

/** The WGSL scalar type a dtype is stored as (float64 never reaches here: it is refused first). */
export const wgslType = (dtype: DType): "f32" | "i32" | "u32" =>
  dtype === "int32" ? "i32" : dtype === "bool" ? "u32" : "f32";

/** Bytes per element on the device (bool is widened to 4). */
export const DEVICE_BYTES = 4;

/**
 * A scalar as an exact WGSL expression of its dtype's storage type.
 * @example literal(0.1, "float32") // "bitcast<f32>(0x3dcccccdu)"
 */
export const literal = (value: number, dtype: DType): string => {
  if (dtype === "bool") return value !== 0 ? "1u" : "0u";
  if (dtype === "int32") return value < 0 ? `(${value | 0})` : `${value | 0}`;
  const bits = new Uint32Array(new Float32Array([value]).buffer)[0]!;
  // Made at run time (`rt_zero`, see `opaqueZero`), never a constant: WGSL refuses NaN and ±Inf in
  // constant expressions, and a shader compiler that knows a factor is 0 folds x·0 to +0 (WGSL lets
  // it assume no NaN or ±Inf), losing NaN·0 = NaN and −x·0 = −0, which skipNonFinite relies on.
  return `bitcast<f32>(0x${bits.toString(16)}u | rt_zero)`;
};

/**
 * The statement that starts every kernel's `main`: `rt_zero` (read by every literal and special
 * value) becomes 0 from a built-in the compiler cannot bound (`id` is below 2^31 in any launch), so
 * no literal is a compile-time constant it could fold through (SwiftShader turns NaN·0, with a
 * known 0, into 0; with this zero it computes NaN, as the CPU does).
 * @example opaqueZero("gid") // "rt_zero = gid.x >> 31u;"
 */
export const opaqueZero = (id: string): string => `rt_zero = ${id}.x >> 31u;`;

/** One input of a kernel: a bound buffer (`name`) or a scalar written into the code (`lit`). */
export interface KernelInput {
  /** The binding's variable name, for a buffer. */
  readonly name?: string;
  /** The WGSL expression of a scalar literal. */
  readonly lit?: string;
  /** Its dtype. */
  readonly dtype: DType;
  /** Its shape. */
  readonly shape: Shape;
}

/** The element `index` of an input (a literal ignores the index). */
export const load = (x: KernelInput, index: string): string => x.lit ?? `${x.name!}[${index}]`;

/**
 * The binding declarations: read-only inputs (buffers only) in order, then the read-write outputs.
 * @example bindings([{ name: "in0", dtype: "float32", shape: [2] }], ["float32"])
 */
export const bindings = (ins: readonly KernelInput[], outs: readonly DType[]): string => {
  // A zero the compiler cannot fold, for NaN and ±Inf values (see `literal`).
  const lines: string[] = ["var<private> rt_zero: u32 = 0u;"];
  let b = 0;
  for (const x of ins)
    if (x.name !== undefined)
      lines.push(`@group(0) @binding(${b++}) var<storage, read> ${x.name}: array<${wgslType(x.dtype)}>;`);
  outs.forEach((d, i) =>
    lines.push(`@group(0) @binding(${b++}) var<storage, read_write> out${i}: array<${wgslType(d)}>;`),
  );
  return lines.join("\n");
};

// The tensor package's shape helpers (one definition of size and row-major strides).
export { sizeOf, stridesOf } from "@rewind/tensor";

/** The grid that covers `n` threads of `WORKGROUP`, folded into y past the per-dimension limit. */
export const grid = (n: number): [number, number, number] => {
  const groups = Math.ceil(n / WORKGROUP);
  const x = Math.min(groups, MAX_GROUPS);
  return [Math.max(1, x), Math.max(1, Math.ceil(groups / MAX_GROUPS)), 1];
};

/**
 * A one-thread-per-element kernel over `n` elements: `body` runs with `i` (u32) the element's
 * flat index; threads past `n` return at once.
 * @example flatKernel(decls, 10, "out0[i] = in0[i];")
 */
export const flatKernel = (decls: string, n: number, body: string, helpers = ""): string => {
  const [gx] = grid(n);
  return `${decls}
${helpers}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${opaqueZero("gid")}
  let i = gid.x + gid.y * ${gx * WORKGROUP}u;
  if (i >= ${n}u) { return; }
${body}
}
`;
};

/**
 * Statements that split the flat index `index` (u32) of `shape` into coordinates `c0, c1, …`
 * (i32, so offsets may step backwards).
 * @example coords([2, 3], "i") // "var r = i;\nlet c1 = i32(r % 3u); r = r / 3u;\nlet c0 = i32(r);"
 */
export const coords = (shape: Shape, index: string, prefix = "c"): string => {
  if (shape.length === 0) return "";
  const lines = [`var r_${prefix} = ${index};`];
  for (let k = shape.length - 1; k > 0; k--) {
    // An empty axis divides by 1: WGSL refuses a constant divisor of 0 even in code that never runs.
    const d = Math.max(1, shape[k]!);
    lines.push(`let ${prefix}${k} = i32(r_${prefix} % ${d}u); r_${prefix} = r_${prefix} / ${d}u;`);
  }
  lines.push(`let ${prefix}0 = i32(r_${prefix});`);
  return lines.join("\n");
};
