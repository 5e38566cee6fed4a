/**
 * @file The keys of @rewind/rnn's options objects as the documentation states them, written out
 * here (not imported) so the misspelt-key cases also check that the library knows exactly these.
 */

/** `RnnOptions`: repeatInput, feedOnce (and, with `outputs`, rnn and manyToOne). */
export const RNN_KEYS = [
  "initialCarry",
  "lengths",
  "timeMajor",
  "reverse",
  "key",
  "remat",
  "checkpoint",
  "unroll",
  "truncate",
  "mode",
  "context",
] as const;
/** `RnnCallOptions` and `ManyToOneOptions`: rnn, manyToOne (`RnnOptions` plus `outputs`). */
export const RNN_CALL_KEYS = [...RNN_KEYS, "outputs"] as const;
/** `InitOptions`: every cell's and layer's init, gateWeight, torchRnn(...).init. */
export const INIT_KEYS = ["dtype", "scheme", "forgetBias"] as const;
/** `CellSizes`: a built-in cell's init. */
export const SIZE_KEYS = ["inputSize", "hiddenSize"] as const;
/** `TorchRnnSpec`. */
export const TORCH_SPEC_KEYS = [
  "mode",
  "inputSize",
  "hiddenSize",
  "numLayers",
  "bidirectional",
  "batchFirst",
  "bias",
] as const;
/** `TorchStateDictOptions` (fromTorchStateDict, loadTorchSafetensors); the writers read only the prefix. */
export const STATE_DICT_KEYS = ["prefix", "dtype"] as const;
