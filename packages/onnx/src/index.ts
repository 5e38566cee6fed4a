/**
 * Public surface of @rewind/onnx: `toOnnx` exports a Rewind function (a traced pytree function,
 * scans included) as an ONNX model for ONNX Runtime and every engine that reads ONNX.
 *
 * @module @rewind/onnx
 */
export { toOnnx, OPSET, IR_VERSION, type ToOnnxOptions } from "./export.js";
export { exportedPrimitives, type ExportedPrimitives } from "./table.js";
