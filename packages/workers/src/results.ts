/**
 * @file A worker's result, packed into one `ArrayBuffer` that is transferred (moved) to the main
 * thread: a JSON header (the pytree structure and each leaf's dtype and shape) followed by the
 * leaves' data, 8-byte aligned. Only data that survives JSON may sit in the structure besides
 * tensors (numbers, strings, booleans, null; arrays, plain objects and Immutable lists).
 */
import * as T from "@rewind/tensor";
import type { DType, Tensor } from "@rewind/tensor";
import { isTensor } from "@rewind/tensor";
import { fromBuffer } from "@rewind/tensor/internal/buffers";
import { treeFlatten, treeUnflatten, type TreeDef } from "@rewind/autodiff";
import { structureProblem } from "./layout.js";
import { align8, BYTES, viewOf } from "./views.js";

interface Header {
  readonly def: TreeDef;
  readonly leaves: ReadonlyArray<{ readonly dtype: DType; readonly shape: readonly number[]; readonly offset: number }>;
}

/** Numbers JSON cannot hold, and `undefined`, as tagged strings. */
const encodeStatic = (v: unknown): unknown =>
  v === undefined
    ? { $special: "undefined" }
    : typeof v === "number" && (!Number.isFinite(v) || Object.is(v, -0))
      ? { $special: Object.is(v, -0) ? "-0" : String(v) }
      : v;
const decodeStatic = (v: unknown): unknown => {
  const special = (v as { $special?: string } | null)?.$special;
  return special === undefined ? v : special === "undefined" ? undefined : Number(special);
};

const mapStatics = (def: TreeDef, f: (v: unknown) => unknown): TreeDef => {
  switch (def.kind) {
    case "leaf":
      return def;
    case "static":
      return { kind: "static", value: f(def.value) };
    case "record":
      return def;
    default:
      return { ...def, children: def.children.map((c) => mapStatics(c, f)) };
  }
};

/**
 * Packs `result` (a pytree of tensors) into one buffer, for `Piscina.move` (worker side).
 * @example const buffer = packResult({ loss, grads }, "pmap", 0)
 */
export const packResult = (result: unknown, op: string): ArrayBuffer => {
  const [values, def] = treeFlatten(result);
  const problem = structureProblem(def, "the result");
  if (problem !== undefined)
    T.fail({
      _tag: "ValueError",
      op,
      arg: "f's result",
      detail: problem,
      fix: "return tensors in arrays and plain objects (numbers, strings and booleans may sit beside them)",
    });
  let offset = 0;
  const leaves = values.map((v, j) => {
    if (!isTensor(v))
      T.fail({
        _tag: "ValueError",
        op,
        arg: `f's result leaf ${j}`,
        detail: "is a traced value",
        fix: "return tensors",
      });
    const t = v as Tensor;
    const leaf = { dtype: t.dtype, shape: [...t.shape], offset };
    offset = align8(offset + t.data.length * BYTES[t.dtype]);
    return leaf;
  });
  const header = new TextEncoder().encode(JSON.stringify({ def: mapStatics(def, encodeStatic), leaves }));
  const start = align8(4 + header.length);
  const buffer = new ArrayBuffer(start + offset);
  new DataView(buffer).setUint32(0, header.length, true);
  new Uint8Array(buffer, 4, header.length).set(header);
  values.forEach((v, j) => {
    const t = v as Tensor;
    viewOf(t.dtype, buffer, start + leaves[j]!.offset, t.data.length).set(t.data);
  });
  return buffer;
};

/** A result unpacked on the main thread: its structure and its leaves. */
export interface UnpackedResult {
  readonly def: TreeDef;
  readonly leaves: readonly Tensor[];
}

/**
 * Reads a buffer made by `packResult` (main thread). The leaves are views of `buffer`, which the
 * main thread owns once it has been transferred: never write it afterwards.
 * @example const { def, leaves } = unpackResult(buffer)
 */
export const unpackResult = (buffer: ArrayBuffer): UnpackedResult => {
  const length = new DataView(buffer).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 4, length))) as Header;
  const start = align8(4 + length);
  // The buffer was transferred here: nothing else can write it, so the tensors wrap it (a copy
  // would cost a fresh allocation per leaf per call, slow to first touch on some machines).
  const leaves = header.leaves.map((l) =>
    fromBuffer(
      l.dtype,
      l.shape,
      viewOf(
        l.dtype,
        buffer,
        start + l.offset,
        l.shape.reduce((a, b) => a * b, 1),
      ),
    ),
  );
  return { def: mapStatics(header.def, decodeStatic), leaves };
};

/** Rebuilds the pytree of an unpacked result. */
export const rebuild = (r: UnpackedResult, leaves: readonly Tensor[] = r.leaves): unknown =>
  treeUnflatten(r.def, leaves);
