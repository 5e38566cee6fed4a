/**
 * @file The ONNX schema (npm `onnx-proto`: ONNX v1.10.2's onnx.proto3 compiled for protobufjs) and
 * the small conversions every lowering needs: Rewind dtypes to ONNX element types, and tensors to
 * `TensorProto`s. Nothing here writes protobuf bytes by hand: `ModelProto.encode` does.
 */
import onnxProto from "onnx-proto";
import type { DType, Tensor } from "@rewind/tensor";

/** The generated protobufjs classes of onnx.proto3 (`onnx.ModelProto`, `onnx.NodeProto`, …). */
export const onnx = onnxProto.onnx;
/** An attribute as the generated `onnx.IAttributeProto` type describes it. */
export type AttributeProto = onnxProto.onnx.IAttributeProto;
/** A node as the generated `onnx.INodeProto` type describes it. */
export type NodeProto = onnxProto.onnx.INodeProto;
/** A graph as the generated `onnx.IGraphProto` type describes it. */
export type GraphProto = onnxProto.onnx.IGraphProto;
/** A tensor as the generated `onnx.ITensorProto` type describes it. */
export type TensorProto = onnxProto.onnx.ITensorProto;
/** A typed name as the generated `onnx.IValueInfoProto` type describes it. */
export type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

/** ONNX's element types (TensorProto.DataType) used here; int64 for shapes, axes and indices. */
export const ELEM = { float32: 1, int32: 6, int64: 7, bool: 9, float64: 11 } as const;

/** An element type ONNX tensors of this exporter hold. */
export type ElemName = keyof typeof ELEM;

/**
 * The ONNX element type of a Rewind dtype.
 * @example elemType("float32") // 1
 */
export const elemType = (dtype: DType | "int64"): number => ELEM[dtype];

/**
 * A typed graph input or output of the given dtype and static shape.
 * @example valueInfo("x", "float32", [2, 3]).name // "x"
 */
export const valueInfo = (name: string, dtype: DType | "int64", shape: readonly number[]): ValueInfoProto => ({
  name,
  type: { tensorType: { elemType: elemType(dtype), shape: { dim: shape.map((d) => ({ dimValue: d })) } } },
});

/** The raw little-endian bytes of a typed array (every engine that runs Rewind is little-endian). */
const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();

/**
 * A tensor as an ONNX `TensorProto` named `name`, its data as raw bytes.
 * @example tensorProto("w", tensor([1, 2])).dims // [2]
 */
export const tensorProto = (name: string, t: Tensor): TensorProto => ({
  name,
  dataType: elemType(t.dtype),
  dims: [...t.shape],
  rawData: bytesOf(t.data),
});

/**
 * A constant int64 vector (shapes, axes, pads) as a `TensorProto`.
 * @example int64Proto("s", [2, 3]).dataType // 7
 */
export const int64Proto = (name: string, values: readonly number[], dims: readonly number[] = [values.length]) => ({
  name,
  dataType: ELEM.int64,
  dims: [...dims],
  rawData: bytesOf(BigInt64Array.from(values, (v) => BigInt(v))),
});
