/**
 * @file The files of memory.test.ts: the attacks that grew the process to 13–75× the file before
 * headers and metadata were read with limits (issue 13), at sizes large enough to matter, each
 * next to what its reader must say. Valid files of the same kinds measure what a real decode
 * costs: the control that shows the measurement sees allocations at all.
 */
import * as T from "@rewind/tensor";
import { file } from "./files.js";
import { nestNodes, reseal, small, withMeta } from "./checkpointFiles.js";

/** One file to decode in a child, and the outcome its reader must give. */
export interface MemoryCase {
  readonly label: string;
  readonly kind: "safetensors" | "checkpoint";
  readonly bytes: () => Uint8Array;
  /** A pattern the error must match, or "right" for a file that must decode. */
  readonly expect: RegExp | "right";
}

const MB = 1_000_000;
const entry = (shape: string): string => `{"a":{"dtype":"F32","shape":${shape},"data_offsets":[0,4]}}`;
/** `count` copies of `item` joined by commas. */
const many = (item: string, count: number): string => `${item},`.repeat(count - 1) + item;
const emptyTensors = (count: number): string =>
  `{${Array.from({ length: count }, (_, i) => `"t${i}":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`).join(",")}}`;

/** A real checkpoint with its `tree` or `config` metadata replaced, sealed with a valid checksum. */
const checkpointWith = (changes: Readonly<Record<string, string>>): Uint8Array =>
  reseal(small().bytes, withMeta(changes));

export const MEMORY_CASES: readonly MemoryCase[] = [
  // Valid files: what a real decode costs (the first shows the measurement sees allocations).
  {
    label: "valid: one 16 MB float32 tensor",
    kind: "safetensors",
    bytes: () => T.safetensors.encode({ w: T.zeros([4 * MB]) }),
    expect: "right",
  },
  {
    label: "valid: 100,000 empty tensors (the limit)",
    kind: "safetensors",
    bytes: () => file(emptyTensors(100_000)),
    expect: "right",
  },
  // Safetensors headers.
  {
    label: "a shape of 2.7M empty objects (8 MB)",
    kind: "safetensors",
    bytes: () => file(entry(`[${many("{}", 2_666_666)}]`), new Uint8Array(4)),
    expect: /"shape" must be an array of non-negative integers, got \[\{\},\{\}/,
  },
  {
    label: "a shape of 2.7M empty arrays (8 MB)",
    kind: "safetensors",
    bytes: () => file(entry(`[${many("[]", 2_666_666)}]`), new Uint8Array(4)),
    expect: /"shape" must be an array of non-negative integers, got \[\[\],\[\]/,
  },
  {
    label: "a shape of rank 4M (8 MB)",
    kind: "safetensors",
    bytes: () => file(entry(`[${many("1", 4 * MB)}]`), new Uint8Array(4)),
    expect: /"shape" has more than 64 dimensions \(the limit is 64\)/,
  },
  {
    label: "700k metadata keys (8 MB)",
    kind: "safetensors",
    bytes: () => file(`{"__metadata__":{${Array.from({ length: 700_000 }, (_, i) => `"k${i}":""`).join(",")}}}`),
    expect: /"__metadata__" has more than 10000 entries/,
  },
  {
    label: "a metadata string of 4M escapes (8 MB)",
    kind: "safetensors",
    bytes: () => file(`{"__metadata__":{"x":"${"\\n".repeat(4 * MB)}"}}`),
    expect: "right",
  },
  // Checkpoint metadata, behind a valid checksum.
  {
    label: "a tree 300k deep (8 MB)",
    kind: "checkpoint",
    bytes: () => checkpointWith({ tree: nestNodes(300_000, '{"kind":"leaf","name":"params.w"}') }),
    expect: /the structure is nested deeper than 256 levels/,
  },
  {
    label: "a tree of 499,990 static values (20 MB, under the limit)",
    kind: "checkpoint",
    bytes: () =>
      checkpointWith({
        tree: `{"kind":"object","keys":["optState","params"],"children":[{"kind":"array","children":[${many('{"kind":"static","value":{"type":"null"}}', 499_990)}]},{"kind":"object","keys":[],"children":[]}]}`,
      }),
    expect: /the tensors do not match the structure/,
  },
  {
    label: "a config of 2.7M empty objects (8 MB)",
    kind: "checkpoint",
    bytes: () => checkpointWith({ config: `[${many("{}", 2_666_666)}]` }),
    expect: /bad "config" metadata: more than 100000 values/,
  },
];
