/**
 * @file Every built-in cell of @rewind/rnn with its name: the suites that run one case per cell
 * (the laws, the vmap law, the pass snapshots) take them from here, so a new cell is added once.
 */
import {
  elmanRelu,
  elmanTanh,
  gru,
  layerNormLstm,
  lru,
  lstm,
  mgu,
  minGru,
  minLstm,
  peepholeLstm,
  selectiveSsm,
  type AnyCell,
} from "@rewind/rnn";

/** `[name, cell]` for each built-in cell, in the order the README lists them. */
export const BUILTIN_CELLS: ReadonlyArray<readonly [string, AnyCell]> = [
  ["elmanTanh", elmanTanh],
  ["elmanRelu", elmanRelu],
  ["lstm", lstm],
  ["gru", gru],
  ["peepholeLstm", peepholeLstm],
  ["layerNormLstm", layerNormLstm],
  ["mgu", mgu],
  ["minGru", minGru],
  ["minLstm", minLstm],
  ["lru", lru],
  ["selectiveSsm", selectiveSsm],
];
