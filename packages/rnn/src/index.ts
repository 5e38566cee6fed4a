/**
 * @file Public surface of @rewind/rnn: cells as scan step functions and every shape of recurrent
 * layer. There is no backward code here: every gradient comes from differentiating `scan`.
 */
export type { Cell, CellSizes, InitOptions, InitScheme, ParamsOf, CarryOf } from "./Cell.js";
export { uniformInit, glorotInit, orthogonalInit, gateWeight } from "./init.js";
export { elmanTanh, elmanRelu } from "./cells/elman.js";
export { lstm, type LstmCarry } from "./cells/lstm.js";
export { gru } from "./cells/gru.js";
export type { TorchCellParams } from "./cells/common.js";
export { rnn, type RnnOptions, type RnnResult } from "./rnn.js";
export { validateLengths, stepMask, reverseValid } from "./lengths.js";
