/**
 * @file Buffers that jit's `donate` never detaches, because something other than the caller holds
 * on to them: a compiled runner's planned buffers, its WebAssembly memory and the constants its
 * generated code reads, and every tensor a jit trace captured (its graph's constants and scalar
 * literals). A primitive's impl gets its inputs as views of planned buffers, so an impl passing
 * them to a jitted function with `donate` would otherwise take a runner's memory away for good;
 * and a tensor one jitted function captured may be donated to another, which would otherwise
 * break the first. Skipping a donation never changes a result. Weak: what is garbage-collected
 * takes its entries with it.
 */
const held = new WeakSet<ArrayBufferLike>();

/**
 * Records buffers that something holds on to.
 * @example holdBuffers([planned.buffer, arena])
 */
export const holdBuffers = (buffers: Iterable<ArrayBufferLike>): void => {
  for (const b of buffers) held.add(b);
};

/**
 * Whether a runner or a traced graph holds this buffer.
 * @example isHeld(tensor.data.buffer) // false for a tensor an op returned
 */
export const isHeld = (buffer: ArrayBufferLike): boolean => held.has(buffer);
