/**
 * @file `--smoke` only: an untrained char-rnn sampler written to a temporary folder, so the smoke
 * run (examples are tests) exercises the serving path without a trained model. This is the one
 * place serve-onnx loads Rewind, to make the model; serving it stays ONNX Runtime alone.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { random } from "@rewind/tensor";
import { checkConfig, DEFAULTS, SMOKE } from "../char-rnn/config.js";
import { cellOf, initParams } from "../char-rnn/model.js";
import { exportSampler } from "../char-rnn/onnx.js";

/** Writes model.onnx and model.json of an untrained LSTM sampler; returns the folder. */
export const writeSmokeModel = (): string => {
  const config = checkConfig({ ...DEFAULTS, ...SMOKE });
  const vocab = [...new Set("Call me Ishmael. Some years ago")].sort();
  const { bytes, info } = exportSampler(cellOf(config.cell), initParams(random.key(0), config, vocab.length), vocab);
  const dir = mkdtempSync(join(tmpdir(), "serve-onnx-smoke-"));
  writeFileSync(join(dir, "model.onnx"), bytes);
  writeFileSync(join(dir, "model.json"), JSON.stringify(info));
  return dir;
};
