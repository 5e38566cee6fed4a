/**
 * @file The float32 matmul kernels on a shared WebAssembly memory, for kernel threads that compute
 * row ranges of one product in the same memory (see `arenaKernels`' note on rows).
 *
 * A module can only be instantiated on a shared memory if its memory import says `shared` (with a
 * maximum), so the modules this package generates (`encodeModule`: unshared, minimum only) are
 * rewritten here rather than in the emitter: only threaded runners need it, and the emitter is
 * part of every browser bundle.
 */
import { wasmApi } from "./api.js";
import { arenaKernels, arenaModuleBytes, type ArenaKernels } from "./matmulArena.js";

/** Reads the unsigned LEB128 at `bytes[at]`: its value and the index after it. */
const readUleb = (bytes: Uint8Array, at: number): [number, number] => {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[at++]!;
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return [value, at];
  }
};

const uleb = (value: number): number[] => {
  const out: number[] = [];
  do {
    let b = value & 0x7f;
    value = Math.floor(value / 128);
    if (value !== 0) b |= 0x80;
    out.push(b);
  } while (value !== 0);
  return out;
};

/** The largest memory a 32-bit WebAssembly module can declare, in 64 KiB pages. */
const MAX_PAGES = 65536;

/**
 * `bytes` (a module from `encodeModule`, importing one memory `env.memory` with a minimum only)
 * with that import declared shared, with the largest maximum, so that it instantiates on any
 * shared memory of at least its minimum.
 * @example new WebAssembly.Module(shareMemoryImport(encodeModule([f], 1))) // imports a shared memory
 */
export const shareMemoryImport = (bytes: Uint8Array): Uint8Array => {
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at]!;
    const [size, start] = readUleb(bytes, at + 1);
    if (id === 2) {
      const content = Array.from(bytes.subarray(start, start + size));
      // One import: count 1, "env" (1 + 3 bytes), "memory" (1 + 6 bytes), kind 2 at 12, limits flag, minimum.
      if (content[12] !== 0x02 || content[13] !== 0x00)
        throw new Error("shareMemoryImport: not an encodeModule module");
      content[13] = 0x03; // shared, with a maximum
      content.push(...uleb(MAX_PAGES));
      const section = [2, ...uleb(content.length), ...content];
      const out = new Uint8Array(at + section.length + bytes.length - (start + size));
      out.set(bytes.subarray(0, at));
      out.set(section, at);
      out.set(bytes.subarray(start + size), at + section.length);
      return out;
    }
    at = start + size;
  }
  throw new Error("shareMemoryImport: the module imports no memory");
};

let sharedModule: object | undefined;

/**
 * The default-shape matmul kernels instantiated on a shared `memory` (a WebAssembly.Memory made
 * with `shared: true`): `arenaKernels` with the kernels' module compiled to import a shared
 * memory (compiled once per thread). Null where the kernels cannot run here.
 * @example sharedArenaKernels(new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }))
 */
export const sharedArenaKernels = (memory: object): ArenaKernels | null => {
  const api = wasmApi();
  if (api === undefined) return null;
  sharedModule ??= new api.Module(shareMemoryImport(arenaModuleBytes()));
  return arenaKernels(memory, sharedModule);
};
