/**
 * @file The compiled runner's planned buffers (`Pool`): allocated once per runner and handed out
 * by liveness, the float32 and bool ones laid out in its WebAssembly memory (the arena).
 */
import { allocate, byteSize, type DType } from "@rewind/tensor";

const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;
/** The dtypes planned in the runner's WebAssembly memory. */
const IN_ARENA: ReadonlySet<DType> = new Set<DType>(["float32", "bool"]);

/**
 * Planned buffers: allocated once per compiled runner and handed out by liveness. A request
 * takes the smallest free buffer of its dtype that is large enough, else grows the largest free
 * one, else adds a buffer.
 * @example
 * const pool = new Pool();
 * const a = pool.alloc("float32", 8);
 * pool.free(a);
 * pool.alloc("float32", 4) === a // true
 */
export class Pool {
  readonly #entries: Array<{ readonly dtype: DType; size: number; busy: boolean }> = [];

  alloc(dtype: DType, size: number): number {
    let best = -1;
    this.#entries.forEach((e, i) => {
      if (!e.busy && e.dtype === dtype && e.size >= size && (best < 0 || e.size < this.#entries[best]!.size)) best = i;
    });
    if (best < 0) {
      // Grow the largest free buffer of this dtype rather than adding one more.
      this.#entries.forEach((e, i) => {
        if (!e.busy && e.dtype === dtype && (best < 0 || e.size > this.#entries[best]!.size)) best = i;
      });
      if (best >= 0) this.#entries[best]!.size = size;
    }
    if (best < 0) {
      best = this.#entries.length;
      this.#entries.push({ dtype, size, busy: false });
    }
    this.#entries[best]!.busy = true;
    return best;
  }

  free(id: number): void {
    this.#entries[id]!.busy = false;
  }

  /** Number of planned buffers. */
  get count(): number {
    return this.#entries.length;
  }

  static bufName(id: number): string {
    return `B${id}`;
  }

  /**
   * The buffers, allocated now; with an `arena`, the float32 and bool ones (the dtypes SIMD loops
   * read) are views into it, 16-byte aligned from byte 0 (see `arenaBytes`).
   */
  buffers(arena?: ArrayBuffer): unknown[] {
    let at = 0;
    return this.#entries.map((e) => {
      if (arena === undefined || !IN_ARENA.has(e.dtype)) return allocate(e.dtype, e.size);
      const view = e.dtype === "float32" ? new Float32Array(arena, at, e.size) : new Uint8Array(arena, at, e.size);
      at += align16(e.size * byteSize[e.dtype]);
      return view;
    });
  }

  /** Bytes the float32 and bool buffers take in an arena. */
  arenaBytes(): number {
    return this.#entries.reduce((n, e) => n + (IN_ARENA.has(e.dtype) ? align16(e.size * byteSize[e.dtype]) : 0), 0);
  }

  /** Total bytes of planned buffers. */
  bytes(): number {
    return this.#entries.reduce((n, e) => n + e.size * byteSize[e.dtype], 0);
  }
}
