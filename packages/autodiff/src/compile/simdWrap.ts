/**
 * @file The JavaScript side of a SIMD loop kernel: a wrapper with the JavaScript loop's signature
 * (`o0, oo0, …, r0, ro0, …, s0, …`) that turns buffer locations into byte addresses in the
 * runner's WebAssembly memory and calls the kernel.
 *
 * Planned float32 buffers live in that memory (`Pool` places them there when the runner has SIMD
 * kernels), so most operands pass straight through as `byteOffset + 4·offset`. An operand held
 * elsewhere (a graph input, a per-call output array) is staged: a read is copied into the staging
 * area first (only the span the loop touches), an output is written there and copied out after.
 * The wrapper text holds generated identifiers and integers only.
 */
import { byteSize } from "@rewind/tensor";
import { int, type LoopSpec } from "./loopgen.js";
import { readSpan, type SimdPlan } from "./simdLoop.js";

/** 16-byte alignment for staged operands, so vector loads of contiguous data stay aligned. */
const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/**
 * Bytes of staging area `spec` needs when every operand is staged.
 * @example stagingBytes(spec, plan) // 4 · (reads' spans + outputs), each rounded up to 16
 */
export const stagingBytes = (spec: LoopSpec, plan: SimdPlan): number => {
  const size = spec.shape.reduce((a, b) => a * b, 1);
  let bytes = spec.stores.length * align16(size * 4);
  spec.reads.forEach((read, r) => {
    const [lo, hi] = readSpan(plan, r);
    bytes += align16((hi - lo) * byteSize[read.dtype]);
  });
  return bytes;
};

/** A loop that kernel threads may split: its parts' kernels (`loopSplit.ts`). */
export interface SplitCall {
  /** The identifier of the first part's kernel (run in this thread). */
  readonly first: string;
  /** The index of the second part's kernel among the module's kernels (run by a kernel thread). */
  readonly second: number;
  /** Elements of each output before the second part's rows. */
  readonly shift: number;
}

/**
 * The wrapper's parameters and body, calling `kernel` (an identifier bound to the exported
 * WebAssembly function). `AB` is the memory's ArrayBuffer, `HF`, `HI` and `HB` a Float32Array,
 * an Int32Array and a Uint8Array over all of it and `stage` the staging area's byte offset, all
 * in scope of the generated module. With `split`, the wrapper first offers the loop to `SL` (the
 * kernel threads' `LoopSplit`, or undefined): the second part to a kernel thread, the first here;
 * when it declines, the whole kernel runs here.
 * @example simdWrapper(spec, plan, "W0", 1048576).body
 */
export const simdWrapper = (
  spec: LoopSpec,
  plan: SimdPlan,
  kernel: string,
  stage: number,
  split?: SplitCall,
): { params: string[]; body: string } => {
  const size = spec.shape.reduce((a, b) => a * b, 1);
  const params = [
    ...spec.stores.flatMap((_, k) => [`o${k}`, `oo${k}`]),
    ...spec.reads.flatMap((_, r) => [`r${r}`, `ro${r}`]),
    ...Array.from({ length: spec.scalars }, (_, s) => `s${s}`),
  ];
  const lines = [`  let st = ${int(stage)};`];
  spec.reads.forEach((read, r) => {
    const [lo, hi] = readSpan(plan, r);
    const e = byteSize[read.dtype];
    // float32 and int32 reads are staged through HF and HI (indexed in elements), bool reads
    // through HB (bytes).
    const into = e === 4 ? (read.dtype === "int32" ? "HI" : "HF") : "HB";
    const at = e === 4 ? "st >> 2" : "st";
    lines.push(`  let b${r};`);
    lines.push(`  if (r${r}.buffer === AB) b${r} = r${r}.byteOffset + ro${r} * ${int(e)};`);
    lines.push(
      `  else { ${into}.set(r${r}.subarray(ro${r} + ${int(lo)}, ro${r} + ${int(hi)}), ${at}); ` +
        `b${r} = st - ${int(lo * e)}; st += ${int(align16((hi - lo) * e))}; }`,
    );
  });
  spec.stores.forEach((_, k) => {
    lines.push(`  let a${k};`);
    lines.push(`  if (o${k}.buffer === AB) a${k} = o${k}.byteOffset + oo${k} * 4;`);
    lines.push(`  else { a${k} = st; st += ${int(align16(size * 4))}; }`);
  });
  const args = [
    ...spec.stores.map((_, k) => `a${k}`),
    ...spec.reads.map((_, r) => `b${r}`),
    ...Array.from({ length: spec.scalars }, (_, s) => `s${s}`),
  ];
  if (split === undefined) lines.push(`  ${kernel}(${args.join(", ")});`);
  else {
    // The second part's outputs start `shift` elements on; its reads' offsets are in its kernel.
    const second = args.map((a, i) => (i < spec.stores.length ? `${a} + ${int(4 * split.shift)}` : a));
    const ints = spec.stores.length + spec.reads.length;
    lines.push(
      `  if (SL === undefined || !SL(${int(split.second)}, ${int(ints)}, [${second.join(", ")}], ` +
        `() => ${split.first}(${args.join(", ")}))) ${kernel}(${args.join(", ")});`,
    );
  }
  spec.stores.forEach((_, k) =>
    lines.push(`  if (o${k}.buffer !== AB) o${k}.set(HF.subarray(a${k} >> 2, (a${k} >> 2) + ${int(size)}), oo${k});`),
  );
  return { params, body: lines.join("\n") + "\n" };
};
