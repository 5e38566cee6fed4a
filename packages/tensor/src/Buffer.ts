/**
 * @file Read-only views of typed arrays: the type-level half of Rewind's immutability contract.
 *
 * Typed arrays cannot be frozen (`Object.freeze` throws on views with elements), so a tensor's
 * buffer is immutable by type and by discipline: kernels allocate a fresh buffer, fill it, wrap it
 * in a tensor and never touch it again. These interfaces remove every mutating method and make
 * the index signature read-only (the workaround from microsoft/TypeScript#37792).
 */

/** The methods that write a typed array in place, removed from the read-only views below. */
type Mutators = "copyWithin" | "fill" | "reverse" | "set" | "sort";

/** A `Float32Array` that cannot be written through this type. */
export interface ReadonlyFloat32Array extends Omit<Float32Array, Mutators> {
  readonly [index: number]: number;
}

/** A `Float64Array` that cannot be written through this type. */
export interface ReadonlyFloat64Array extends Omit<Float64Array, Mutators> {
  readonly [index: number]: number;
}

/** An `Int32Array` that cannot be written through this type. */
export interface ReadonlyInt32Array extends Omit<Int32Array, Mutators> {
  readonly [index: number]: number;
}

/** A `Uint8Array` (the storage of `bool` tensors) that cannot be written through this type. */
export interface ReadonlyUint8Array extends Omit<Uint8Array, Mutators> {
  readonly [index: number]: number;
}

/** Any tensor buffer, read-only. */
export type ReadonlyTypedArray = ReadonlyFloat32Array | ReadonlyFloat64Array | ReadonlyInt32Array | ReadonlyUint8Array;

/** A freshly allocated, still writable buffer. Only kernels hold one, and only until they return. */
export type WritableTypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;
