/**
 * @file `@rewind/tensor/internal/untrusted`: the readers of untrusted input that the checkpoint
 * reader of @rewind/optim shares with `safetensors.decode` — a brand check for byte arrays and
 * the hostile-input JSON readers (for its `tree` and `config` metadata). Not part of the public
 * API: an architecture test keeps its importers to that reader.
 */
export { bytesOf } from "./check.js";
export { JsonCursor, JsonFailure, quoteKey } from "./jsonCursor.js";
export {
  isJsonObject,
  parseStrictJson,
  type JsonObject,
  type JsonValue,
  type StrictJsonOptions,
} from "./strictJson.js";
